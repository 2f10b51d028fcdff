"""`make freshness` (README, "Is the loader keeping up?"): dbt's source freshness over the
raw event tables, by their newest `_loaded_at` (models/staging/product/_product__sources.yml:
a warning after 6 hours, an error after 48), so a cron job or a monitor can tell a stalled
loader from a quiet day. It only reads raw: the project's hooks create and grant nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from psycopg import sql

from tests.warehouse import PROJECT_ROOT, connect, database_env, dbt, recreate_database

DATABASE = "usage_reports_test_freshness"
EVENT_TABLES = (
    "ai_usage_events",
    "call_events",
    "chats",
    "messages",
    "sms_messages",
    "stt_events",
    "tts_events",
)
# The dimension tables change when people are added, not with usage: never checked.
DIMENSION_TABLES = ("workspaces", "roles", "role_scopes", "members")
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")


# An analysts' role (var reader_roles): a build's hook grants it schemas staging and marts.
READER = "usage_reports_test_freshness_reader"


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    recreate_database(DATABASE)
    dbt(DATABASE, "run-operation", "create_raw_tables")
    with connect(DATABASE) as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(READER)))
        conn.execute(sql.SQL("create role {}").format(sql.Identifier(READER)))
    yield DATABASE
    with connect(DATABASE) as conn:
        conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(READER)))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(READER)))


def land(database: str, table: str, hours_ago: float | None) -> None:
    """Leave `table` holding one row that landed `hours_ago` hours ago (None: no row at all)."""
    with connect(database) as conn:
        conn.execute(sql.SQL("truncate raw.{}").format(sql.Identifier(table)))
        if hours_ago is not None:
            conn.execute(
                sql.SQL("insert into raw.{} (_loaded_at) values (now() - make_interval(secs => %s))").format(
                    sql.Identifier(table)
                ),
                (hours_ago * 3600,),
            )


def run_freshness(database: str, *make_options: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`make freshness` as an operator runs it: not as a sub-make of the `make test` running
    this suite (a parent's -j would make it warn about the jobserver)."""
    own = {name: value for name, value in database_env(database).items() if name not in MAKE_VARIABLES}
    return subprocess.run(
        ["make", "--no-print-directory", *make_options, "freshness"],
        cwd=PROJECT_ROOT,
        env={**own, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def freshness(database: str) -> tuple[int, dict[str, str]]:
    """`make freshness`'s exit status and each checked table's verdict (PASS, WARN, ERROR STALE)."""
    done = run_freshness(database)
    verdicts: dict[str, str] = {}
    for line in done.stdout.splitlines():
        for verdict in ("PASS", "WARN", "ERROR STALE"):
            marker = f" {verdict} freshness of product."
            if marker in line:
                verdicts[line.split(marker)[1].split()[0]] = verdict
    return done.returncode, verdicts


def test_every_event_table_that_landed_recently_passes(warehouse: str) -> None:
    for table in EVENT_TABLES:
        land(warehouse, table, 1)
    status, verdicts = freshness(warehouse)
    assert status == 0
    assert verdicts == dict.fromkeys(EVENT_TABLES, "PASS")
    assert not set(DIMENSION_TABLES) & set(verdicts)
    # as the README's cron line runs it: nothing to mail while the loader keeps up
    quiet = run_freshness(warehouse, "-s", DBT_LOG_LEVEL="warn")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_table_quiet_for_over_six_hours_warns_without_failing(warehouse: str) -> None:
    for table in EVENT_TABLES:
        land(warehouse, table, 1)
    land(warehouse, "sms_messages", 7)
    land(warehouse, "stt_events", 5.9)
    status, verdicts = freshness(warehouse)
    assert status == 0
    assert verdicts == {**dict.fromkeys(EVENT_TABLES, "PASS"), "sms_messages": "WARN"}
    quiet = run_freshness(warehouse, "-s", DBT_LOG_LEVEL="warn")
    assert quiet.returncode == 0
    assert "WARN freshness of product.sms_messages" in quiet.stdout


def test_a_table_quiet_for_over_two_days_or_never_loaded_fails(warehouse: str) -> None:
    for table in EVENT_TABLES:
        land(warehouse, table, 1)
    land(warehouse, "tts_events", 49)
    land(warehouse, "call_events", 47)
    land(warehouse, "messages", None)
    status, verdicts = freshness(warehouse)
    assert status != 0
    assert verdicts == {
        **dict.fromkeys(EVENT_TABLES, "PASS"),
        "tts_events": "ERROR STALE",
        "call_events": "WARN",
        "messages": "ERROR STALE",
    }


def test_the_check_creates_and_grants_nothing(warehouse: str) -> None:
    # a build's hooks make schema build_state and grant the analysts' roles the schemas that
    # exist; this check runs none of them, even with a role to grant and a schema to grant it
    with connect(warehouse) as conn:
        conn.execute("drop schema if exists build_state cascade")
        conn.execute("create schema if not exists marts")
        before = conn.execute("select count(*) from pg_namespace").fetchone()
    run_freshness(warehouse, USAGE_REPORTS_READER_ROLES=READER)
    with connect(warehouse) as conn:
        assert conn.execute("select to_regnamespace('build_state')").fetchone() == (None,)
        assert conn.execute("select count(*) from pg_namespace").fetchone() == before
        granted = conn.execute("select has_schema_privilege(%s, 'marts', 'usage')", (READER,)).fetchone()
        assert granted == (False,)
