"""Helpers the test suites share: a scratch database per suite, dbt runs
against it, and raw fixture loading. Everything is real: the PostgreSQL
server `make test` points PG* at, and the project's own dbt models."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
DBT = str(PROJECT_ROOT / ".venv" / "bin" / "dbt")

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from fresh_database import recreate_database  # noqa: E402
from load_fixture import load  # noqa: E402

__all__ = ["connect", "dbt", "fresh_warehouse", "load_fixture", "recreate_database"]


# dbt's target/ and logs/ for the test suites: their own folder, so tests never
# race a build (or a benchmark) using the project's target/. Removed when the process
# ends (a run leaves ~60 MB of manifests and logs there; a failing dbt call has printed
# its output already).
DBT_SCRATCH = Path(tempfile.mkdtemp(prefix="usage-reports-tests-dbt-"))
atexit.register(shutil.rmtree, DBT_SCRATCH, ignore_errors=True)


def database_env(name: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PGDATABASE"] = name
    env["DBT_PROFILES_DIR"] = str(PROJECT_ROOT / ".dbt")
    env["DBT_TARGET_PATH"] = str(DBT_SCRATCH / "target")
    env["DBT_LOG_PATH"] = str(DBT_SCRATCH / "logs")
    return env


def dbt(database: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run dbt against `database`; on failure show its output."""
    result = subprocess.run(
        [DBT, "--no-use-colors", *args],
        cwd=PROJECT_ROOT,
        env=database_env(database),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-3000:])
        raise AssertionError(f"dbt {' '.join(args)} exited {result.returncode}")
    return result


def load_fixture(database: str, *names: str, append: bool = False) -> None:
    with psycopg.connect(dbname=database) as conn:
        load(conn, [FIXTURES / name for name in names], append=append)


@contextmanager
def connect(database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dbname=database, autocommit=True, options="-c TimeZone=UTC") as conn:
        yield conn


def fresh_warehouse(database: str, *fixtures: str) -> None:
    """A new database with the raw schema, the fixtures loaded and the marts built."""
    recreate_database(database)
    dbt(database, "run-operation", "create_raw_tables")
    load_fixture(database, *fixtures)
    dbt(database, "build", "--full-refresh")
