"""`make build`: one `dbt build` at a time against the warehouse.

Takes a PostgreSQL advisory lock (on its own connection, held for the whole
run) before starting dbt, so two builds started at once (two cron entries,
an operator and cron) never interleave: the second waits for the first, up
to BUILD_LOCK_WAIT_SECONDS (default 3600), then exits 75 with a message.
If a build is killed, its connection closes, PostgreSQL rolls back its open
transaction and releases the lock; the marts keep their last committed state.
dbt runs as a child that the kernel kills when this process dies (Linux
PR_SET_PDEATHSIG), so killing this process never leaves a dbt running
without the lock. Its own messages carry a UTC timestamp (cron appends many
runs to one log); a warehouse it cannot reach, one without the raw tables, a
missing dbt profile or a bad BUILD_LOCK_WAIT_SECONDS is one line and exit 1,
not a traceback. Otherwise it exits with dbt's status (128 + N when dbt was
killed by signal N, as a shell reports it). After dbt it names each writing
transaction still open that began before the build read raw (a loader idle in
a transaction): until it ends, every build reads again what landed since it
began. dbt reads the project's profile
(.dbt/, from `make setup`) unless DBT_PROFILES_DIR says otherwise, so the
script runs the same from cron as through make.

    python scripts/build.py [dbt build arguments, e.g. --full-refresh]
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An arbitrary constant naming "the usage marts build" among advisory locks.
BUILD_LOCK_KEY = 7_305_118_042
EX_TEMPFAIL = 75


PR_SET_PDEATHSIG = 1
RAW_TABLES_SQL = "select to_regclass('raw.members') is not null as present"
BUILD_STATE_SQL = "select 1 where to_regclass('build_state.staging_horizons') is not null"
# Writing transactions still open that began before this build read raw: the horizon it
# recorded is theirs, so every build reads again what landed since they began, until they end.
# Transaction ids are the server's, not the database's: one open in any database holds it back.
HELD_BACK_SQL = """
select
    activity.pid, activity.datname, activity.usename, activity.application_name, activity.state,
    activity.xact_start
from pg_stat_activity as activity
where activity.backend_xid is not null
    and activity.pid <> pg_backend_pid()
    and activity.xact_start < (select min(recorded_at) from build_state.staging_horizons)
order by activity.xact_start
"""


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def say(message: str) -> None:
    """One line on standard error, stamped with the UTC time."""
    # one write of the whole line: print() writes the newline apart, and a process dbt left
    # behind, writing to the same stderr, could put its own text between the two
    sys.stderr.write(f"{utc_text(datetime.now(UTC))} build: {message}\n")
    sys.stderr.flush()


def die_with_parent() -> None:
    """In the dbt child, before it runs: SIGKILL when this process dies."""
    with_errno = ctypes.CDLL(None, use_errno=True)
    with_errno.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def acquire(conn: psycopg.Connection, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        (locked,) = conn.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()  # type: ignore[misc]
        if locked:
            return True
        if not announced:
            say("another build is running; waiting for it to finish")
            announced = True
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)


def lock_wait_seconds() -> float | None:
    """BUILD_LOCK_WAIT_SECONDS (default 3600): a finite number of seconds, at least 0."""
    text = os.environ.get("BUILD_LOCK_WAIT_SECONDS", "3600")
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def profiles_dir() -> Path:
    """Where dbt reads profiles.yml: DBT_PROFILES_DIR, else the project's .dbt/ (from make
    setup); absolute, since dbt runs from the project root and the caller may not."""
    return Path(os.environ.get("DBT_PROFILES_DIR") or PROJECT_ROOT / ".dbt").resolve()


def exit_status(status: int) -> int:
    """subprocess's status as a shell reports it: a signal N (negative) is 128 + N."""
    return 128 - status if status < 0 else status


def main(argv: list[str]) -> int:
    wait_seconds = lock_wait_seconds()
    if wait_seconds is None:
        say("BUILD_LOCK_WAIT_SECONDS must be a number of seconds, at least 0")
        return 1
    profiles = profiles_dir()
    if not (profiles / "profiles.yml").is_file():
        say(f"no dbt profile in {profiles}: run make setup")
        return 1
    env = {**os.environ, "DBT_PROFILES_DIR": str(profiles)}
    try:
        conn = psycopg.connect(autocommit=True, application_name="usage_reports build lock")
    except psycopg.OperationalError as error:
        say(f"cannot connect to the warehouse: {' '.join(str(error).split())}")
        return 1
    with conn:
        try:
            if not acquire(conn, wait_seconds):
                say(
                    f"another build still holds the lock after {wait_seconds:.0f}s; not starting (exit {EX_TEMPFAIL})"
                )
                return EX_TEMPFAIL
            found = conn.execute(RAW_TABLES_SQL).fetchone()
        except psycopg.Error as error:  # no USAGE on schema raw for this user, a connection lost ...
            say(f"the build's checks failed (as user {conn.info.user}): {' '.join(str(error).split())}")
            return 1
        if found is None or not found[0]:
            say(f"no raw tables in database {conn.info.dbname}: run make raw, then load them")
            return 1
        say(f"started: dbt build {' '.join(argv)}".rstrip())
        dbt = PROJECT_ROOT / ".venv" / "bin" / "dbt"
        status = exit_status(
            subprocess.call([str(dbt), "build", *argv], cwd=PROJECT_ROOT, env=env, preexec_fn=die_with_parent)
        )
        say(f"finished: exit {status}")
        warn_of_open_transactions(conn)
        return status


def warn_of_open_transactions(conn: psycopg.Connection) -> None:
    """Name each transaction holding back where builds read raw (README, "For the pipeline
    that loads raw"). Only the sessions this user may see (its own; all of them for a
    superuser or a member of pg_read_all_stats)."""
    try:
        held = conn.execute(HELD_BACK_SQL).fetchall() if conn.execute(BUILD_STATE_SQL).fetchone() else []
    except psycopg.Error:
        return
    for pid, database, user, application, state, started in held:
        since = utc_text(started)
        named = " ".join((application or "").split())[:60]  # one line in the log, whatever the client set
        say(
            f"a transaction open since {since} (pid {pid}, database {database}, user {user}, "
            f"application '{named}', {state}) "
            "holds back where builds read raw: each one reads again all that landed since it began, "
            "until it ends"
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
