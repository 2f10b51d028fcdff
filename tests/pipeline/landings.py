"""One valid row for each raw event table, and landing it now: what the pipeline tests that
need "a new landing in table X" share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

W1 = "f0000000-0000-4000-8000-000000000001"
C1 = "c0000000-0000-4000-8000-000000000001"

AT = "2026-05-03 10:00:00+00"
NUMBER, CALLER = "+15550001111", "+15557770001"

# One valid row per event table, on 2026-05-03 in W1 (its `_loaded_at` is the statement's now()).
LANDINGS: dict[str, dict[str, object]] = {
    "ai_usage_events": {
        "event_id": "e0000000-0000-4000-8000-0000000000da", "workspace_id": W1, "chat_id": None,
        "source": "chat_message", "provider": "openai", "model": "gpt-4o", "model_type": "chat",
        "prompt_tokens": 1, "completion_tokens": 1, "cached_tokens": 0, "audio_input_tokens": 0,
        "audio_output_tokens": 0, "credits": "0.000001", "recorded_at": AT,
    },
    "messages": {
        "message_id": "d0000000-0000-4000-8000-0000000000da", "workspace_id": W1, "chat_id": C1,
        "sender_member_id": None, "role": "assistant", "channel": "web", "created_at": AT,
    },
    "chats": {
        "chat_id": "c0000000-0000-4000-8000-0000000000da", "workspace_id": W1, "owner_member_id": None,
        "created_at": AT,
    },
    "sms_messages": {
        "sms_id": "SM-DATA-AS-OF", "workspace_id": W1, "direction": "inbound", "workspace_number": NUMBER,
        "remote_number": CALLER, "body": "hi", "carrier_segments": None, "sent_at": AT,
    },
    "call_events": {
        "call_id": "CA-DATA-AS-OF", "workspace_id": W1, "direction": "inbound", "workspace_number": NUMBER,
        "remote_number": CALLER, "status": "completed", "started_at": AT,
        "ended_at": "2026-05-03 10:01:00+00", "answered_by": "human", "updated_at": "2026-05-03 10:01:00+00",
    },
    "stt_events": {
        "event_id": "b0000000-0000-4000-8000-0000000000da", "workspace_id": W1, "call_id": None,
        "provider": "deepgram", "model": "nova-2", "duration_seconds": "1.500", "recorded_at": AT,
    },
    "tts_events": {
        "event_id": "b1000000-0000-4000-8000-0000000000da", "workspace_id": W1, "call_id": None,
        "provider": "elevenlabs", "model": "eleven_turbo_v2", "characters": 12, "recorded_at": AT,
    },
}  # fmt: skip


def land(conn: psycopg.Connection[Any], table: str) -> datetime:
    """Insert the table's row, landed now; its `_loaded_at`."""
    return land_row(conn, table, LANDINGS[table])


def land_row(conn: psycopg.Connection[Any], table: str, row: dict[str, object]) -> datetime:
    """Insert `row` (column: value) into raw table `table`, landed now; its `_loaded_at`."""
    columns = sql.SQL(", ").join(map(sql.Identifier, [*row, "_loaded_at"]))
    values = sql.SQL(", ").join([*(sql.Placeholder() for _ in row), sql.SQL("now()")])
    statement = sql.SQL("insert into raw.{} ({}) values ({}) returning _loaded_at").format(
        sql.Identifier(table), columns, values
    )
    (landed,) = conn.execute(statement, list(row.values())).fetchone()  # type: ignore[misc]
    return landed  # type: ignore[no-any-return]
