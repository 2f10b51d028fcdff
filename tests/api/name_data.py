"""A workspace of its own (WN, "Nameco") whose voice providers and models carry awkward
names: JSON's own characters, control characters, non-ASCII in and beyond the BMP, and
names that sort differently by code point than by a linguistic collation. The build writes
the voice report's UTC day lists from them (marts.voice_usage_daily_lists); the tests in
test_jsonsql.py check the report's bytes. Nothing else in the suite reads WN."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg

from tests.api.fixture_data import BASE_LOADED, insert

WN = "f6000000-0000-4000-8000-000000000006"
NORA = "f6000000-0000-4000-8000-0000000000a1"  # admin of WN

PROVIDERS = [
    'quote " inside',
    "back\\slash",
    "tab\tnew\nline",
    "écoute",
    "Zürich ☎",
    "emoji 😀 and 𝄞",
    "é",
    "Z",
    "a",
]
MODELS = ["separators \u2028 \u2029", "bell\x07del\x7f", "plain"]
DAYS = ["2025-06-01", "2025-06-02", "2025-06-04"]


def _uuid(prefix: str, number: int) -> str:
    return f"{prefix}-0000-4000-8000-{number:012d}"


def rows() -> dict[str, list[tuple[Any, ...]]]:
    """One STT and one TTS event per day, provider and model, with amounts that differ."""
    stt: list[tuple[Any, ...]] = []
    tts: list[tuple[Any, ...]] = []
    number = 0
    for day in DAYS:
        for provider in PROVIDERS:
            for model in MODELS:
                number += 1
                at = f"{day}T{number % 24:02d}:00:00+00:00"
                stt.append(
                    (
                        _uuid("f6500000", number),
                        WN,
                        None,
                        provider,
                        model,
                        Decimal(number) / 8,
                        at,
                        BASE_LOADED,
                    )
                )
                tts.append((_uuid("f6700000", number), WN, None, provider, model, number, at, BASE_LOADED))
    return {
        "workspaces": [(WN, "Nameco", "2023-01-01T00:00:00+00:00", BASE_LOADED)],
        "members": [(NORA, WN, "admin", "Nora Name", "2023-02-01T00:00:00+00:00", None, BASE_LOADED)],
        "stt_events": stt,
        "tts_events": tts,
    }


def load(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        for table, values in rows().items():
            insert(conn, table, values)
