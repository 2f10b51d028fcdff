"""scripts/fresh_database.py: the scratch databases `make test-dbt`, the suites and the
benchmark drop and recreate, on the real server the PG* variables name."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from tests.warehouse import recreate_database


@pytest.mark.parametrize("name", ["usage_reports", "postgres", "template1", ""])
def test_the_warehouse_and_the_servers_own_databases_are_never_recreated(name: str) -> None:
    # make test TEST_DATABASE=usage_reports would otherwise drop the marts and every key
    with pytest.raises(ValueError, match="refusing to recreate"):
        recreate_database(name)


def test_the_warehouse_make_was_given_is_never_recreated(monkeypatch: pytest.MonkeyPatch) -> None:
    # on an existing warehouse: PGDATABASE=analytics make test TEST_DATABASE=analytics
    monkeypatch.setenv("WAREHOUSE_DATABASE", "analytics_test_guard")
    with pytest.raises(ValueError, match="refusing to recreate"):
        recreate_database("analytics_test_guard")


def test_a_name_that_needs_quoting_is_one_database() -> None:
    name = 'usage_reports_test_"odd"; name'
    try:
        recreate_database(name)
        recreate_database(name)  # dropped and made again
        with psycopg.connect(dbname="postgres") as conn:
            found = conn.execute("select count(*) from pg_database where datname = %s", (name,)).fetchone()
        assert found == (1,)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
