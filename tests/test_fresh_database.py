"""scripts/fresh_database.py: the scratch databases `make test-dbt`, the suites and the
benchmark drop and recreate, on the real server the PG* variables name."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest
from psycopg import sql

from tests.api.conftest import PROJECT_ROOT
from tests.api.fixture_data import W1
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


def test_demo_data_leaves_a_warehouse_pghost_names_alone_unless_asked() -> None:
    # make demo / make demo-data empty schema raw: on a server PGHOST names (someone's real
    # events) they stop before anything runs, unless REPLACE_RAW=yes
    env = {"PATH": os.environ["PATH"], "PGHOST": "/nonexistent-socket-dir", "PGDATABASE": "analytics"}
    for target in ("demo-data", "demo"):
        done = subprocess.run(["make", target], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 2
        assert "would replace every row of schema raw in database analytics on /nonexistent-socket-dir" in (
            done.stderr
        )
        assert "REPLACE_RAW=yes" in done.stderr
        assert "dbt" not in done.stdout  # refused before `make raw`
    planned = subprocess.run(
        ["make", "-n", "demo-data", "REPLACE_RAW=yes"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert planned.returncode == 0 and "generate_demo_data.py --replace" in planned.stdout
    # PGHOST naming the private server's own socket (as `pgenv.py --print-env` exports it) is no warehouse
    private = {"PATH": os.environ["PATH"], "PGHOST": str(PROJECT_ROOT / ".pgdata" / "data")}
    planned = subprocess.run(
        ["make", "-n", "demo-data"], cwd=PROJECT_ROOT, env=private, capture_output=True, text=True
    )
    assert planned.returncode == 0 and "generate_demo_data.py --replace" in planned.stdout


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"PGSERVICE": "elsewhere"}, "PGSERVICE is set, but dbt's profile does not read service files"),
        ({"PGHOSTADDR": "10.0.0.1"}, "PGHOSTADDR is set without PGHOST"),
    ],
)
def test_settings_that_would_split_dbt_from_the_rest_are_refused(
    setting: dict[str, str], message: str
) -> None:
    # libpq lets a service file override PGHOST and PGDATABASE, and PGHOSTADDR replace the host's
    # address; dbt's profile reads neither, so the demo loader or the build lock would reach
    # another server than dbt: every make target stops first (pgenv.py), and so do the commands
    env = {"PATH": os.environ["PATH"], **setting}
    for command in (
        ["make", "demo-data"],
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "scripts/pgenv.py", "--", "true"],
        [str(PROJECT_ROOT / ".venv" / "bin" / "flask"), "--app", "api", "keys", "list", "--workspace", W1],
    ):
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 2, (command, done.stderr)
        assert message in done.stderr, command
