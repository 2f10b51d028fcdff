"""Upgrading a warehouse (README, "Upgrading"): a version whose rules an incremental build
cannot apply to stored rows bumps var `refresh_generation`, and builds then stop, naming the
command, until one full refresh of every model (macros/refresh_generation.sql)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import yaml

from tests.pipeline.landings import LANDINGS, land
from tests.warehouse import PROJECT_ROOT, connect, dbt, fresh_warehouse, load_fixture, recreate_database

DATABASE = "usage_reports_test_upgrades"
CURRENT = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["refresh_generation"]
NEXT = json.dumps({"refresh_generation": CURRENT + 1})
AI_CREDITS = "select coalesce(sum(credits), 0) from marts.ai_usage_daily where workspace_id = %s"
W1 = LANDINGS["ai_usage_events"]["workspace_id"]


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    fresh_warehouse(DATABASE, "raw_base.sql")
    yield DATABASE


def records(database: str) -> tuple[int | None, int | None]:
    """The generation in the marts schema's comment, and in build_state.refresh_generation."""
    with connect(database) as conn:
        row = conn.execute(
            "select substring(obj_description(to_regnamespace('marts'), 'pg_namespace')"
            " from 'refresh generation ([0-9]+)')::int,"
            " (select generation from build_state.refresh_generation)"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def same(generation: int | None) -> str:
    """``--vars`` for a version of the generation the warehouse holds (an earlier test moved it)."""
    assert generation is not None
    return json.dumps({"refresh_generation": generation})


def recorded(database: str) -> int | None:
    """The generation both records hold (they agree after every build)."""
    comment, table = records(database)
    assert comment == table
    return comment


def credits(database: str) -> Decimal:
    with connect(database) as conn:
        (total,) = conn.execute(AI_CREDITS, (W1,)).fetchone()  # type: ignore[misc]
    return total  # type: ignore[no-any-return]


def test_a_build_over_rows_of_an_older_generation_stops_until_a_full_refresh(warehouse: str) -> None:
    assert recorded(warehouse) == CURRENT  # the full build recorded its rules
    with connect(warehouse) as conn:
        land(conn, "ai_usage_events")  # 0.000001 credits in W1, landed after that build
    before = credits(warehouse)

    refused = dbt(warehouse, "build", "--vars", NEXT, check=False)
    assert refused.returncode != 0
    said = " ".join(refused.stdout.split())
    assert (
        f"The stored tables were built by refresh generation {CURRENT}, and this version (refresh "
        f"generation {CURRENT + 1}) changed rules that incremental builds cannot apply to rows already "
        "stored. Nothing was built. Rebuild everything once: make build DBT_ARGS=--full-refresh"
    ) in said
    assert credits(warehouse) == before  # nothing built: the landed row is not in the marts

    # a full refresh of some models leaves the others by the old rules: still refused
    dbt(warehouse, "run", "--full-refresh", "--select", "stg_product__ai_usage_events+", "--vars", NEXT)
    assert recorded(warehouse) == CURRENT
    assert dbt(warehouse, "run", "--vars", NEXT, check=False).returncode != 0

    # one whole full refresh, and incremental builds go on
    dbt(warehouse, "run", "--full-refresh", "--vars", NEXT)
    assert recorded(warehouse) == CURRENT + 1
    assert credits(warehouse) == before + Decimal("0.000001")
    with connect(warehouse) as conn:
        land(conn, "tts_events")
    dbt(warehouse, "run", "--vars", NEXT)


def test_a_restore_that_kept_one_record_builds_on_and_puts_back_the_other(warehouse: str) -> None:
    # pg_dump or pg_restore --no-comments leaves out the schema's comment; a restore without
    # schema build_state (or one from before the table) its row: the other one is enough
    generation = recorded(warehouse)
    for lost in ("comment on schema marts is null", "delete from build_state.refresh_generation"):
        with connect(warehouse) as conn:
            conn.execute(lost)
        assert None in records(warehouse)
        dbt(warehouse, "run", "--select", "ai_usage_daily", "--vars", same(generation))
        assert records(warehouse) == (generation, generation), lost
    # staging and build_state restored without the marts: a build of staging alone puts the
    # schema back with its comment, and the marts come back whole
    with connect(warehouse) as conn:
        conn.execute("drop schema marts cascade")
    dbt(warehouse, "run", "--select", "stg_product__ai_usage_events", "--vars", same(generation))
    assert records(warehouse) == (generation, generation)
    dbt(warehouse, "run", "--vars", same(generation))
    assert credits(warehouse) > 0


def test_records_that_disagree_stop_an_incremental_build(warehouse: str) -> None:
    generation = recorded(warehouse)
    assert generation is not None
    with connect(warehouse) as conn:
        conn.execute("update build_state.refresh_generation set generation = %s", (generation - 1,))
    refused = dbt(warehouse, "run", "--select", "ai_usage_daily", "--vars", same(generation), check=False)
    assert refused.returncode != 0
    assert (
        f"The stored tables were built by refresh generation {generation - 1}, and this version"
        in " ".join(refused.stdout.split())
    )
    dbt(warehouse, "run", "--full-refresh", "--vars", same(generation))
    assert recorded(warehouse) == generation


def test_tables_from_before_the_record_stop_an_incremental_build(warehouse: str) -> None:
    with connect(warehouse) as conn:
        # as a version without the record left them (or a dump without comments nor build_state)
        conn.execute("comment on schema marts is null")
        conn.execute("delete from build_state.refresh_generation")
    refused = dbt(warehouse, "run", "--select", "ai_usage_daily", check=False)
    assert refused.returncode != 0
    said = " ".join(refused.stdout.split())
    assert (
        "The stored tables carry no record of the rules they follow (built by an older version of this "
        "project, which did not record them, or restored from a dump that left out both the schema "
        "comments and schema build_state)"
    ) in said
    assert "Nothing was built. Rebuild everything once: make build DBT_ARGS=--full-refresh" in said


def test_a_new_warehouse_records_its_generation_at_its_first_build() -> None:
    # nothing stored is by other rules: the first build, even a partial one and not a full
    # refresh, records the generation, and later incremental builds run
    database = DATABASE + "_new"
    recreate_database(database)
    dbt(database, "run-operation", "create_raw_tables")
    load_fixture(database, "raw_base.sql")
    dbt(database, "run", "--select", "stg_product__chats")
    assert recorded(database) == CURRENT
    dbt(database, "build")
    assert recorded(database) == CURRENT


def test_a_new_warehouse_whose_first_full_refresh_stops_half_way_builds_on() -> None:
    # `make demo` starts with a full refresh; one that fails half-way leaves tables of this
    # version: the generation was recorded as it began, so the next build is not refused
    database = DATABASE + "_new_full"
    recreate_database(database)
    dbt(database, "run-operation", "create_raw_tables")
    load_fixture(database, "raw_base.sql")
    with connect(database) as conn:
        conn.execute("alter table raw.tts_events rename to tts_events_away")
    failed = dbt(database, "run", "--full-refresh", check=False)
    assert failed.returncode != 0 and "tts_events" in failed.stdout
    assert recorded(database) == CURRENT
    with connect(database) as conn:
        conn.execute("alter table raw.tts_events_away rename to tts_events")
    dbt(database, "build")
    assert recorded(database) == CURRENT
