"""The small pieces on their own: number writing, rounding, dates, ranges, tokens."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from psycopg.conninfo import conninfo_to_dict

from api import config, keystore
from api.errors import ApiError
from api.jsonenc import decimal_literal, encode, rounded, timestamp_text
from api.params import current_month, last_30_days, month_to_date, parse_date, parse_uuid
from tests.api.conftest import PROJECT_ROOT


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12.500000"), "12.5"),
        (Decimal("0.300000"), "0.3"),
        (Decimal("3.000000"), "3"),
        (Decimal("0E-6"), "0"),
        (Decimal("-0.000"), "0"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal("-2.250"), "-2.25"),
        (Decimal("1234567890123456.123456"), "1234567890123456.123456"),  # beyond float precision
    ],
)
def test_decimals_are_written_from_their_digits(value: Decimal, text: str) -> None:
    assert decimal_literal(value) == text
    assert json.loads(text, parse_float=Decimal) == value


def test_negative_decimals_are_json_numbers() -> None:
    # credits are signed (an adjustment or refund is a valid event): a negative total is a number
    text = encode({"total_credits": Decimal("-0.250000"), "rows": [Decimal("-3"), Decimal("-1E+3")]})
    assert text == '{"total_credits":-0.25,"rows":[-3,-1000]}'
    assert json.loads(text, parse_float=Decimal) == {"total_credits": Decimal("-0.25"), "rows": [-3, -1000]}


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        decimal_literal(Decimal("NaN"))
    with pytest.raises(ValueError):
        encode(float("inf"))


def test_encode_keeps_key_order_and_types() -> None:
    assert (
        encode({"b": 1, "a": [True, None, Decimal("0.10"), "Zoë", 2.5]})
        == '{"b":1,"a":[true,null,0.1,"Zoë",2.5]}'
    )


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("0.0000005"), 6, Decimal("0.000001")),  # halves up
        (Decimal("0.0000004"), 6, Decimal("0.000000")),
        (Decimal("1.0005"), 3, Decimal("1.001")),
        (None, 6, Decimal(0)),
        (7, 3, Decimal("7.000")),
    ],
)
def test_rounding(value: Decimal | int | None, places: int, expected: Decimal) -> None:
    assert rounded(value, places) == expected


def test_timestamps_are_utc_with_microseconds() -> None:
    moment = datetime(2026, 11, 25, 13, 34, 56, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp_text(moment) == "2026-11-25T12:34:56.123456Z"
    assert timestamp_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"


def test_dates() -> None:
    assert parse_date("2024-02-29", "start_date") == date(2024, 2, 29)
    assert parse_date("9999-12-31", "end_date") == date(9999, 12, 31)
    with pytest.raises(ApiError) as raised:
        parse_date("2023-02-29", "end_date")
    assert (raised.value.status, raised.value.message) == (400, "end_date is not a real calendar date.")


def test_uuids() -> None:
    assert (
        str(parse_uuid("A1000000-0000-4000-8000-00000000000F", "member_id"))
        == "a1000000-0000-4000-8000-00000000000f"
    )
    for value in ("urn:uuid:a1000000-0000-4000-8000-000000000001", "a1000000000040008000000000000001", ""):
        with pytest.raises(ApiError):
            parse_uuid(value, "member_id")


@pytest.mark.parametrize(
    ("today", "ai", "month", "to_date"),
    [
        (
            date(2026, 11, 25),
            ("2026-10-26", "2026-11-25"),
            ("2026-11-01", "2026-11-30"),
            ("2026-11-01", "2026-11-25"),
        ),
        (
            date(2024, 2, 29),
            ("2024-01-30", "2024-02-29"),
            ("2024-02-01", "2024-02-29"),
            ("2024-02-01", "2024-02-29"),
        ),
        (
            date(2026, 3, 1),
            ("2026-01-30", "2026-03-01"),
            ("2026-03-01", "2026-03-31"),
            ("2026-03-01", "2026-03-01"),
        ),
        (
            date(2026, 12, 31),
            ("2026-12-01", "2026-12-31"),
            ("2026-12-01", "2026-12-31"),
            ("2026-12-01", "2026-12-31"),
        ),
    ],
)
def test_default_ranges(
    today: date, ai: tuple[str, str], month: tuple[str, str], to_date: tuple[str, str]
) -> None:
    def text(dates) -> tuple[str, str]:  # type: ignore[no-untyped-def]
        return (dates.start.isoformat(), dates.end.isoformat())

    assert text(last_30_days(today)) == ai
    assert text(current_month(today)) == month
    assert text(month_to_date(today)) == to_date


def test_tokens_have_256_random_bits_and_a_prefix() -> None:
    tokens = {keystore.new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert keystore.TOKEN_PATTERN.fullmatch(token)
        assert len(token) == len("urk_") + 43  # 43 base64url characters carry 256 bits
    assert len(keystore.token_digest(next(iter(tokens)))) == 32
    assert keystore.new_key_id().startswith("key_")


def test_dbt_and_the_api_default_to_the_same_user_and_database() -> None:
    """With PGHOST set and PGUSER/PGDATABASE unset, dbt (profiles.example.yml) and the API
    (and its operator commands) connect as the same user to the same database."""
    profile = (PROJECT_ROOT / "profiles.example.yml").read_text()
    dbt_defaults = dict(re.findall(r"env_var\('(PGUSER|PGDATABASE)', '([^']+)'\)", profile))
    for as_api_role in (True, False):
        params = conninfo_to_dict(
            config.conninfo_from_env({"PGHOST": "db.internal"}, as_api_role=as_api_role)
        )
        assert (params["user"], params["dbname"]) == (dbt_defaults["PGUSER"], dbt_defaults["PGDATABASE"])
        assert params["host"] == "db.internal"
    # and every make target (scripts/pgenv.py: the build lock, psql, the flask commands)
    printed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "pgenv.py"), "--print-env"],
        env={"PATH": os.environ["PATH"], "PGHOST": "db.internal"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert f"PGUSER={dbt_defaults['PGUSER']}" in printed
    assert f"PGDATABASE={dbt_defaults['PGDATABASE']}" in printed
    api_role = config.conninfo_from_env({"PGHOST": "db", "API_PGUSER": "reader"}, as_api_role=True)
    assert conninfo_to_dict(api_role)["user"] == "reader"
