"""A workspace of its own (WN, "Nameco") whose voice providers and models carry awkward
names: JSON's own characters, control characters, non-ASCII in and beyond the BMP, and
names that sort differently by code point than by a linguistic collation. The build writes
the voice report's UTC day lists from them (marts.voice_usage_daily_lists); the tests in
test_jsonsql.py check the report's bytes. WN also has a few AI events (``AI_EVENTS``) for
the AI report's edge cases (test_csv.py). Nothing else in the suite reads WN."""

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


# provider, model, type, prompt tokens, credits, recorded_at. The range the test asks for is
# 2025-06-01..2025-06-02: gpt-x is used as chat and as realtime both before it and in it (each
# type's totals are its own); alpha and zulu cost the same and their providers sort the other
# way round from their names; gratis costs nothing but its tokens count.
AI_EVENTS = [
    ("openai", "gpt-x", "chat", 10, Decimal("1.000000"), "2025-05-30T10:00:00+00:00"),
    ("openai", "gpt-x", "realtime", 40, Decimal("4.000000"), "2025-05-30T11:00:00+00:00"),
    ("openai", "gpt-x", "chat", 20, Decimal("2.000000"), "2025-06-01T10:00:00+00:00"),
    ("openai", "gpt-x", "realtime", 30, Decimal("3.000000"), "2025-06-02T10:00:00+00:00"),
    ("zeta", "alpha", "chat", 5, Decimal("0.500000"), "2025-06-01T12:00:00+00:00"),
    ("alpha", "zulu", "chat", 6, Decimal("0.500000"), "2025-06-01T13:00:00+00:00"),
    ("free", "gratis", "chat", 7, Decimal("0.000000"), "2025-06-02T12:00:00+00:00"),
]


def _ai_rows() -> list[tuple[Any, ...]]:
    """``AI_EVENTS`` as raw rows: prompt tokens only, no chat."""
    rows: list[tuple[Any, ...]] = []
    for number, (provider, model, kind, prompt, credits, at) in enumerate(AI_EVENTS, start=1):
        source = "chat_message" if kind == "chat" else "realtime"
        tokens = (prompt, 0, 0, 0, 0)
        rows.append(
            (
                _uuid("f6900000", number),
                WN,
                None,
                source,
                provider,
                model,
                kind,
                *tokens,
                credits,
                at,
                BASE_LOADED,
            )
        )
    return rows


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
        "ai_usage_events": _ai_rows(),
    }


def load(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        for table, values in rows().items():
            insert(conn, table, values)
