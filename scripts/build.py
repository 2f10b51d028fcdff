"""`make build`: one `dbt build` at a time against the warehouse.

Takes a PostgreSQL advisory lock (on its own connection, held for the whole
run) before starting dbt, so two builds started at once (two cron entries,
an operator and cron) never interleave: the second waits for the first, up
to BUILD_LOCK_WAIT_SECONDS (default 3600), then exits 75 with a message.
If a build is killed, its connection closes, PostgreSQL rolls back its open
transaction and releases the lock; the marts keep their last committed state.

    python scripts/build.py [dbt build arguments, e.g. --full-refresh]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An arbitrary constant naming "the usage marts build" among advisory locks.
BUILD_LOCK_KEY = 7_305_118_042
EX_TEMPFAIL = 75


def acquire(conn: psycopg.Connection, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        (locked,) = conn.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()  # type: ignore[misc]
        if locked:
            return True
        if not announced:
            print("another build is running; waiting for it to finish", file=sys.stderr, flush=True)
            announced = True
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)


def main(argv: list[str]) -> int:
    wait_seconds = float(os.environ.get("BUILD_LOCK_WAIT_SECONDS", "3600"))
    with psycopg.connect(autocommit=True, application_name="usage_reports build lock") as conn:
        if not acquire(conn, wait_seconds):
            print(
                f"another build still holds the lock after {wait_seconds:.0f}s; not starting (exit {EX_TEMPFAIL})",
                file=sys.stderr,
            )
            return EX_TEMPFAIL
        dbt = PROJECT_ROOT / ".venv" / "bin" / "dbt"
        return subprocess.call([str(dbt), "build", *argv], cwd=PROJECT_ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
