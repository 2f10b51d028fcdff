"""`data_as_of` (CONTRACT §5: "the time of the newest raw row the marts were built from")
follows a landing in every event table the marts read, not only the busiest ones.

Each case lands one valid row, the newest landing of all, in one raw table, builds what
reads that table, and expects every report's `data_as_of` (marts.data_freshness) to be
that row's `_loaded_at`. A table left out of data_freshness would keep the previous
landing: a client polling the reports would see new numbers under an old `data_as_of`
(and, while `version_at` also stays, an ETag that does not move)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.pipeline.landings import LANDINGS, land
from tests.warehouse import connect, dbt, fresh_warehouse

DATABASE = "usage_reports_test_data_as_of"


@pytest.fixture(scope="module")
def warehouse() -> str:
    fresh_warehouse(DATABASE, "raw_base.sql")
    return DATABASE


@pytest.mark.parametrize("table", list(LANDINGS))
def test_a_landing_in_any_event_table_moves_data_as_of(warehouse: str, table: str) -> None:
    with connect(warehouse) as conn:
        (before,) = conn.execute("select data_as_of from marts.data_freshness").fetchone()  # type: ignore[misc]
        landed = land(conn, table)
    assert isinstance(landed, datetime) and landed > before  # the newest landing of all
    # what reads the table (its staging model, the marts over it and data_freshness)
    dbt(warehouse, "run", "--select", f"stg_product__{table}+")
    with connect(warehouse) as conn:
        assert conn.execute("select data_as_of from marts.data_freshness").fetchone() == (landed,), table
