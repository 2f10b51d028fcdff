"""Drop and recreate the database PGDATABASE names (for `make test-dbt` and
the test suites), connecting to the server's `postgres` database to do it."""

from __future__ import annotations

import os
import sys

import psycopg
from psycopg import sql

# The server's own databases and the project's warehouse (what PGDATABASE defaults to, so
# a forgotten TEST_DATABASE never drops the marts and keys).
PROTECTED = {"", "postgres", "template0", "template1", "usage_reports"}


def recreate_database(name: str) -> None:
    """Drop (ending its sessions) and create `name` on the server the PG* variables name.
    Never one of ``PROTECTED``, nor the warehouse ``WAREHOUSE_DATABASE`` names (`make
    test-dbt` passes the PGDATABASE it was given: on an existing warehouse, `make test
    TEST_DATABASE=<the warehouse>` is refused)."""
    if name in PROTECTED or name == os.environ.get("WAREHOUSE_DATABASE"):
        raise ValueError(f"refusing to recreate database {name!r}")
    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    database = os.environ.get("PGDATABASE", "")
    try:
        recreate_database(database)
    except ValueError as error:
        sys.exit(str(error))
    print(f"database {database} recreated")
