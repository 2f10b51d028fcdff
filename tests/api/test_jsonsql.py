"""The report lists the warehouse writes as JSON text (``api.jsonsql``) are exactly the
bytes ``api.jsonenc.encode`` writes for the same objects, in the same order."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from flask import Flask
from psycopg.conninfo import make_conninfo

from api.jsonenc import RawJSON, encode, rounded, with_values
from api.jsonsql import COUNT, DATE, DECIMAL, TEXT, Field, json_array, sort_key
from tests.api import name_data
from tests.api.conftest import BOTH, ApiClient, Warehouse, create_key_with_cli

# Names a provider, model or phone number could carry: JSON's own characters, every kind
# of control character, non-ASCII in and beyond the BMP, line and paragraph separators.
AWKWARD_TEXTS = [
    "plain",
    'quote " inside',
    "back\\slash",
    "tab\tnew\nline\rreturn",
    "bell\x07form\x0cbackspace\x08unit\x1fdel\x7f",
    "écoute",
    "Zürich ☎",
    "emoji 😀 and 𝄞",
    "separators \u2028 \u2029",
    "",
    "a",
    "B",
    "Z",
    "é",
    None,
]

FIELDS = (
    Field("date", "day", DATE),
    Field("name", "name", TEXT),
    Field("count", "n", COUNT),
    Field("seconds", "seconds", DECIMAL, 3),
)

ROWS_SQL = """
select
    {array} as listed
from (
    select
        (%(day)s::date + (ordinality::int %% 3)) as day,
        name,
        (ordinality * 1000000000000)::numeric as n,
        seconds,
        ordinality %% 2 = 0 as kept
    from unnest(%(names)s::text[], %(seconds)s::numeric[]) with ordinality as t (name, seconds)
) as rows
"""

SECONDS = [
    Decimal("0.0005"),  # half up to 0.001
    Decimal("1.2345"),  # half up to 1.235
    Decimal("1.2344"),
    Decimal("2.000"),
    Decimal("0"),
    Decimal("123456789012345.9999"),  # carries into the integer part
    Decimal("0.1"),
    Decimal("10.500"),
]


def _python_list(names: list[str | None], kept_only: bool) -> list[dict[str, Any]]:
    objects = []
    for index, name in enumerate(names, start=1):
        if kept_only and index % 2 != 0:
            continue
        objects.append(
            {
                "date": (date(2024, 2, 28) + timedelta(days=index % 3)).isoformat(),
                "name": name,
                "count": index * 1000000000000,
                "seconds": rounded(SECONDS[index % len(SECONDS)], 3),
            }
        )
    objects.sort(key=lambda item: (item["date"], item["name"] is None, item["name"] or ""))
    return objects


@pytest.mark.parametrize("kept_only", [False, True])
def test_a_warehouse_list_is_the_bytes_python_writes(warehouse: Warehouse, kept_only: bool) -> None:
    array = json_array(FIELDS, (sort_key("day", DATE), sort_key("name")), "kept" if kept_only else "true")
    seconds = [SECONDS[index % len(SECONDS)] for index in range(1, len(AWKWARD_TEXTS) + 1)]
    with warehouse.connect() as conn:
        (text,) = conn.execute(
            ROWS_SQL.format(array=array), {"day": "2024-02-28", "names": AWKWARD_TEXTS, "seconds": seconds}
        ).fetchone()
    expected = _python_list(AWKWARD_TEXTS, kept_only)
    assert text == encode(expected)
    assert json.loads(text, parse_float=Decimal) == json.loads(encode(expected), parse_float=Decimal)
    # code-point order, which a linguistic collation would not give
    names = [item["name"] for item in json.loads(text) if item["date"] == "2024-02-29"]
    assert names == sorted(names, key=lambda name: (name is None, name or ""))


def test_an_empty_list_is_an_empty_array(warehouse: Warehouse) -> None:
    array = json_array(FIELDS, (sort_key("day", DATE),), "false")
    with warehouse.connect() as conn:
        (text,) = conn.execute(
            ROWS_SQL.format(array=array), {"day": "2024-02-28", "names": ["x"], "seconds": [Decimal(1)]}
        ).fetchone()
    assert text == "[]"


def test_raw_json_is_written_as_it_is_and_read_back_exactly() -> None:
    """Raw texts go in whole; a string shaped like a mark stays a string."""
    listed = RawJSON('[{"a":1,"b":"\\u0000r0\\u0000 is text","c":0.100}]')
    body = {"n": Decimal("1.50"), "list": listed, "other": RawJSON("[]"), "s": "\x00r1\x00"}
    assert encode(body) == (
        '{"n":1.5,"list":[{"a":1,"b":"\\u0000r0\\u0000 is text","c":0.100}],"other":[],"s":"\\u0000r1\\u0000"}'
    )
    assert with_values(body)["list"] == [{"a": 1, "b": "\x00r0\x00 is text", "c": Decimal("0.100")}]
    assert with_values(body)["n"] == Decimal("1.50")


def test_text_is_in_code_point_order_in_any_encoding(warehouse: Warehouse) -> None:
    """In a WIN1252 database, byte order ("C") puts the euro sign (0x80) before é (0xE9);
    code-point order (U+20AC after U+00E9) is what Python and the reports use."""
    names = ["z", "é", "€", "Œ", "a"]
    scratch = "usage_reports_test_win1252"
    admin = make_conninfo(warehouse.conninfo, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"drop database if exists {scratch}")
        conn.execute(f"create database {scratch} encoding 'WIN1252' locale 'C' template template0")
    try:
        array = json_array((Field("name", "name", TEXT),), (sort_key("name"),), "true")
        with psycopg.connect(make_conninfo(warehouse.conninfo, dbname=scratch), autocommit=True) as conn:
            (text,) = conn.execute(f"select {array} from unnest(%s::text[]) as t (name)", (names,)).fetchone()
            by_bytes = [
                row[0]
                for row in conn.execute(
                    'select n from unnest(%s::text[]) as t (n) order by n collate "C"', (names,)
                )
            ]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {scratch}")
    assert [item["name"] for item in json.loads(text)] == sorted(names) == ["a", "z", "é", "Œ", "€"]
    assert by_bytes != sorted(names)  # what ordering by the database's own bytes would have given


def test_voice_day_lists_the_build_writes_are_the_bytes_python_writes(
    app: Flask, api: ApiClient, warehouse: Warehouse
) -> None:
    """The UTC voice report's sttRows and ttsRows come from texts the build wrote
    (marts.voice_usage_daily_lists); with awkward names they are still exactly what
    api.jsonenc.encode writes, in code-point order, and the same bytes the statement
    that reads the daily mart writes (the report in Etc/UTC, a zone with UTC's days)."""
    key = create_key_with_cli(app, name_data.WN, name_data.NORA, "Nameco", BOTH)
    events = warehouse.voice_events(name_data.WN)
    assert len(events) == 2 * len(name_data.DAYS) * len(name_data.PROVIDERS) * len(name_data.MODELS)
    measure = {"stt": "durationSeconds", "tts": "characters"}
    expected = {
        f"{kind}Rows": [
            {
                "date": day.isoformat(),
                "provider": provider,
                "model": model,
                measure[kind]: rounded(amount, 3),
                "messages": count,
            }
            for _, day, provider, model, count, amount in sorted(
                (event for event in events if event[0] == kind), key=lambda event: event[1:4]
            )
        ]
        for kind in ("stt", "tts")
    }
    query = {"start_date": name_data.DAYS[1], "end_date": name_data.DAYS[-1]}
    url = f"/api/v2/w/{name_data.WN}/reports/voice-usage"
    utc = api.get(url, key, query).get_data(as_text=True)
    same_days = api.get(url, key, {**query, "tz": "Etc/UTC"}).get_data(as_text=True)
    for name, rows in expected.items():
        inside = [row for row in rows if row["date"] >= query["start_date"]]
        assert inside and len(inside) < len(rows)
        assert f'"{name}":{encode(inside)}' in utc
    assert same_days.replace(',"tz":"Etc/UTC"', "") == utc
