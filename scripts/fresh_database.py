"""Drop and recreate the database PGDATABASE names (for `make test-dbt` and
the test suites), connecting to the server's `postgres` database to do it."""

from __future__ import annotations

import os
import sys

import psycopg

PROTECTED = {"", "postgres", "template0", "template1"}


def recreate_database(name: str) -> None:
    """Drop (ending its sessions) and create `name` on the server the PG* variables name."""
    if name in PROTECTED:
        raise ValueError(f"refusing to recreate database {name!r}")
    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')


if __name__ == "__main__":
    database = os.environ.get("PGDATABASE", "")
    try:
        recreate_database(database)
    except ValueError as error:
        sys.exit(str(error))
    print(f"database {database} recreated")
