"""The API suite's own small raw dataset, written by hand.

Historical rows sit in February-April 2024 (UTC), far from "today", so exact
numbers can be asserted with explicit ranges; a handful of rows are placed
relative to the UTC date the session starts on, for the default ranges.
Every expected number in the tests is worked out from the rows below.

Workspaces: W1 (the one most tests read), W2 (another tenant: isolation,
foreign keys and members, the top-10 cap), W3 (members whose role or
workspace the tests change while the API runs), W4 (where a member moves to).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

W1 = "10000000-0000-4000-8000-000000000001"
W2 = "20000000-0000-4000-8000-000000000002"
W3 = "30000000-0000-4000-8000-000000000003"
W4 = "40000000-0000-4000-8000-000000000004"

# W1 members
ADA = "a1000000-0000-4000-8000-000000000001"  # Ada Admin, role admin (analytics:read, members:read)
BEN = "a1000000-0000-4000-8000-000000000002"  # Ben Analyst, custom W1 role "Analyst" (analytics:read only)
CLEO = "a1000000-0000-4000-8000-000000000003"  # Cleo Member, role member (members:read only)
EVE = "a1000000-0000-4000-8000-000000000005"  # Eve Deleted, admin, deleted in a later copy
GUS = "a1000000-0000-4000-8000-000000000007"  # Gus Viewer, role viewer (no scope at all)
ZOE = "a1000000-0000-4000-8000-000000000008"  # Zoë, given W2's custom role: holds nothing in W1
ADA_TWIN = "a1000000-0000-4000-8000-000000000009"  # a second "Ada Admin", role member
# W2
HAL = "b2000000-0000-4000-8000-000000000001"  # Hal Other, admin of W2
# W3 (mutated by tests/api/test_auth.py)
DAN = "c3000000-0000-4000-8000-000000000001"  # Dan Demoted: admin, demoted to member by a test
FAY = "c3000000-0000-4000-8000-000000000002"  # Fay Leaving: admin, deleted by a test
IVY = "c3000000-0000-4000-8000-000000000003"  # Ivy Mover: admin, moved to W4 by a test

N1 = "+15550000001"
N2 = "+15550000002"

BASE_LOADED = "2024-06-01T00:00:00+00:00"
LATER_LOADED = "2024-06-02T00:00:00+00:00"


def _id(prefix: str, number: int) -> str:
    return f"{prefix}-0000-4000-8000-{number:012d}"


def chat(number: int) -> str:
    return _id("c0000000", number)


C1, C2, C3, C4, C5, C_TODAY = chat(1), chat(2), chat(3), chat(4), chat(5), chat(6)


def recent_loaded_at(today: date) -> datetime:
    """The landing time of every row placed relative to today: the newest in the dataset,
    so it is the ``data_as_of`` every report must show."""
    return datetime.combine(today, datetime.min.time(), UTC) + timedelta(seconds=5, microseconds=123456)


def month_end(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _at(day: date, hour: int = 0, minute: int = 0, second: int = 1) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC).isoformat()


# fmt: off
def rows(today: date) -> dict[str, list[tuple[Any, ...]]]:
    """Raw rows per table, in column order of ``COLUMNS`` (``_loaded_at`` last)."""
    recent = recent_loaded_at(today).isoformat()
    eom = month_end(today)
    before_month = today.replace(day=1) - timedelta(days=1)
    return {
        "workspaces": [
            (W1, "Acme", "2023-01-01T00:00:00+00:00", BASE_LOADED),
            (W2, "Globex", "2023-01-01T00:00:00+00:00", BASE_LOADED),
            (W3, "Initech", "2023-01-01T00:00:00+00:00", BASE_LOADED),
        ],
        "roles": [
            ("admin", None, "Admin", BASE_LOADED),
            ("member", None, "Member", BASE_LOADED),
            ("viewer", None, "Viewer", BASE_LOADED),
            ("w1-analyst", W1, "Analyst", BASE_LOADED),
            ("w2-auditor", W2, "Auditor", BASE_LOADED),
        ],
        "role_scopes": [
            ("admin", "analytics:read", BASE_LOADED),
            ("admin", "members:read", BASE_LOADED),
            ("admin", "analytics:read", LATER_LOADED),  # re-delivered pair
            ("member", "members:read", BASE_LOADED),
            ("w1-analyst", "analytics:read", BASE_LOADED),
            ("w2-auditor", "analytics:read", BASE_LOADED),
            ("w2-auditor", "members:read", BASE_LOADED),
        ],
        "members": [
            # member_id, workspace_id, role_id, display_name, created_at, deleted_at, _loaded_at
            (ADA_TWIN, W1, "member", "Ada Admin", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (ADA, W1, "admin", "Ada Admin", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (BEN, W1, "w1-analyst", "Ben Analyst", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (BEN, W1, "w1-analyst", "Ben Analyst", "2023-02-01T00:00:00+00:00", None, LATER_LOADED),
            (CLEO, W1, "member", "Cleo Member", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (EVE, W1, "admin", "Eve Deleted", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (EVE, W1, "admin", "Eve Deleted", "2023-02-01T00:00:00+00:00", "2024-05-01T00:00:00+00:00", LATER_LOADED),
            (GUS, W1, "viewer", "Gus Viewer", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (ZOE, W1, "w2-auditor", "Zoë Foreign-Role", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (HAL, W2, "admin", "Hal Other", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (DAN, W3, "admin", "Dan Demoted", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (FAY, W3, "admin", "Fay Leaving", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
            (IVY, W3, "admin", "Ivy Mover", "2023-02-01T00:00:00+00:00", None, BASE_LOADED),
        ],
        "chats": [
            # chat_id, workspace_id, owner_member_id, created_at, _loaded_at
            (C1, W1, ADA, "2024-03-03T10:00:00+00:00", BASE_LOADED),
            (C2, W1, ADA, "2024-03-04T23:30:00+00:00", BASE_LOADED),
            (C3, W1, BEN, "2024-03-03T09:00:00+00:00", BASE_LOADED),
            (C4, W1, None, "2024-03-03T09:00:00+00:00", BASE_LOADED),  # agent-only
            (C5, W2, HAL, "2024-03-03T09:00:00+00:00", BASE_LOADED),
            (C_TODAY, W1, ADA, _at(today), recent),
        ],
        "messages": [
            # message_id, workspace_id, chat_id, sender_member_id, role, channel, created_at, _loaded_at
            (_id("d0000000", 1), W1, C1, ADA, "user", "web", "2024-03-03T10:00:01+00:00", BASE_LOADED),
            (_id("d0000000", 1), W1, C1, ADA, "user", "web", "2024-03-03T10:00:01+00:00", LATER_LOADED),
            (_id("d0000000", 2), W1, C1, None, "assistant", "web", "2024-03-03T10:00:05+00:00", BASE_LOADED),
            # a member's message of another role than user: still theirs (any role counts)
            (_id("d0000000", 3), W1, C1, ADA, "tool", "sms", "2024-03-05T08:00:00+00:00", BASE_LOADED),
            (_id("d0000000", 4), W1, C3, BEN, "user", "web", "2024-03-03T09:00:01+00:00", BASE_LOADED),
            (_id("d0000000", 5), W1, C4, None, "system", "api", "2024-03-04T12:00:00+00:00", BASE_LOADED),
            (_id("d0000000", 6), W1, C1, ADA, "user", "web", "2024-04-01T00:00:00+00:00", BASE_LOADED),
            (_id("d0000000", 7), W2, C5, HAL, "user", "web", "2024-03-03T09:00:01+00:00", BASE_LOADED),
            (_id("d0000000", 8), W1, C_TODAY, ADA, "user", "web", _at(today), recent),
            (_id("d0000000", 9), W1, C_TODAY, ADA, "user", "web", _at(eom, 23, 0, 0), recent),
        ],
        "ai_usage_events": [
            # event_id, workspace_id, chat_id, source, provider, model, model_type,
            # prompt, completion, cached, audio_in, audio_out, credits, recorded_at, _loaded_at
            (_id("e0000000", 1), W1, C1, "chat_message", "openai", "gpt-4o", "chat",
             100, 50, 10, 0, 0, Decimal("0.100000"), "2024-03-03T10:05:00+00:00", BASE_LOADED),
            (_id("e0000000", 2), W1, C1, "chat_message", "openai", "gpt-4o", "chat",
             200, 100, 20, 0, 0, Decimal("0.200000"), "2024-03-03T11:00:00+00:00", BASE_LOADED),
            # e3 arrives twice and the copies differ: the one that landed last counts
            (_id("e0000000", 3), W1, C3, "chat_message", "anthropic", "claude-sonnet", "chat",
             999, 999, 0, 0, 0, Decimal("9.999999"), "2024-03-03T12:00:00+00:00", BASE_LOADED),
            (_id("e0000000", 3), W1, C3, "chat_message", "anthropic", "claude-sonnet", "chat",
             300, 0, 0, 0, 0, Decimal("0.300000"), "2024-03-03T12:00:00+00:00", LATER_LOADED),
            (_id("e0000000", 4), W1, None, "realtime", "openai", "gpt-4o-realtime", "realtime",
             10, 5, 0, 1000, 2000, Decimal("0.250000"), "2024-03-04T09:00:00+00:00", BASE_LOADED),
            (_id("e0000000", 5), W1, C2, "chat_message", "google", "gemini-pro", "chat",
             1, 2, 0, 0, 0, Decimal("0.550000"), "2024-03-04T23:59:59.999+00:00", BASE_LOADED),
            (_id("e0000000", 6), W1, C1, "chat_summary", "openai", "gpt-4o-mini", "chat",
             40, 10, 5, 0, 0, Decimal("0.000001"), "2024-03-05T00:00:00+00:00", BASE_LOADED),
            (_id("e0000000", 7), W1, C4, "chat_message", "azure", "gpt-4o", "chat",
             1000, 500, 100, 0, 0, Decimal("0.300000"), "2024-03-06T08:00:00+00:00", BASE_LOADED),
            # 2024-03-31 23:30 in UTC-5 is 2024-04-01 UTC
            (_id("e0000000", 8), W1, C1, "chat_message", "openai", "gpt-4o", "chat",
             1, 1, 0, 0, 0, Decimal("7.000000"), "2024-03-31T23:30:00-05:00", BASE_LOADED),
            # 2024-03-01 01:00 in UTC+2 is 2024-02-29 (leap day) UTC
            (_id("e0000000", 9), W1, C1, "chat_message", "openai", "gpt-4o", "chat",
             1, 1, 0, 0, 0, Decimal("8.000000"), "2024-03-01T01:00:00+02:00", BASE_LOADED),
            # invalid: negative tokens
            (_id("e0000000", 10), W1, C1, "chat_message", "openai", "gpt-4o", "chat",
             -5, 1, 0, 0, 0, Decimal("5.000000"), "2024-03-03T13:00:00+00:00", BASE_LOADED),
            # relative to today, for the default range (today - 30 days .. today)
            (_id("e0000000", 11), W1, C_TODAY, "chat_message", "openai", "gpt-4o", "chat",
             1, 1, 0, 0, 0, Decimal("0.010000"), _at(today), recent),
            (_id("e0000000", 12), W1, None, "realtime", "anthropic", "claude-sonnet", "chat",
             1, 1, 0, 0, 0, Decimal("0.020000"), _at(today - timedelta(days=30)), recent),
            (_id("e0000000", 13), W1, None, "realtime", "openai", "gpt-4o", "chat",
             1, 1, 0, 0, 0, Decimal("0.040000"), _at(today - timedelta(days=31), 12), recent),
            # W2: thirteen models on a day W1 also has usage; m12 and m13 tie at 12 credits. m01's
            # chat id is W1's C1 (Ada's): a chat of another workspace, so it is nobody's usage
            *[
                (_id("e2000000", k), W2, C1 if k == 1 else None, "chat_message", "openai", f"m{k:02d}", "chat",
                 k, 0, 0, 0, 0, Decimal(min(k, 12)), "2024-03-03T15:00:00+00:00", BASE_LOADED)
                for k in range(1, 14)
            ],
            # W2 again: realtime outspends chat on 2024-03-05 (by_type is by credits, not by name);
            # on 2024-03-06 they tie (then by name)
            (_id("e3000000", 1), W2, None, "realtime", "openai", "gpt-4o-realtime", "realtime",
             0, 0, 0, 40, 60, Decimal("0.500000"), "2024-03-05T12:00:00+00:00", BASE_LOADED),
            (_id("e3000000", 2), W2, None, "chat_message", "openai", "gpt-4o", "chat",
             7, 3, 0, 0, 0, Decimal("0.200000"), "2024-03-05T13:00:00+00:00", BASE_LOADED),
            (_id("e3000000", 3), W2, None, "realtime", "openai", "gpt-4o-realtime", "realtime",
             0, 0, 0, 1, 1, Decimal("0.300000"), "2024-03-06T12:00:00+00:00", BASE_LOADED),
            (_id("e3000000", 4), W2, None, "chat_message", "anthropic", "claude-sonnet", "chat",
             1, 1, 0, 0, 0, Decimal("0.300000"), "2024-03-06T13:00:00+00:00", BASE_LOADED),
        ],
        "sms_messages": [
            # sms_id, workspace_id, direction, workspace_number, remote_number, body, carrier_segments,
            # sent_at, _loaded_at
            ("s4", W1, "outbound", N1, "+15551110004", "Hi", 3, "2024-03-04T10:00:00+00:00", BASE_LOADED),
            ("s1", W1, "outbound", N1, "+15551110001", "Hello", None, "2024-03-03T10:00:00+00:00", BASE_LOADED),
            ("s1", W1, "outbound", N1, "+15551110001", "Hello", None, "2024-03-03T10:00:00+00:00", LATER_LOADED),
            ("s2", W1, "inbound", N1, "+15551110002", "a" * 161, None, "2024-03-03T11:00:00+00:00", BASE_LOADED),
            ("s3", W1, "outbound", N2, "+15551110003", "Olá ç", None, "2024-03-03T12:00:00+00:00", BASE_LOADED),
            ("s5", W1, "inbound", N2, "+15551110005", "", None, "2024-03-04T11:00:00+00:00", BASE_LOADED),
            ("s6", W1, "outbound", N1, "+15551110006", "€", 0, "2024-03-04T12:00:00+00:00", BASE_LOADED),
            ("s7", W1, "sideways", N1, "+15551110007", "bad", None, "2024-03-04T13:00:00+00:00", BASE_LOADED),
            ("s8", W1, "outbound", N1, "+15551110008", "x", None, "2024-04-01T00:00:00+00:00", BASE_LOADED),
            ("s9", W2, "outbound", N1, "+15551110009", "W2", None, "2024-03-03T10:00:00+00:00", BASE_LOADED),
            ("s10", W1, "outbound", N1, "+15551110010", "ok", None, _at(today), recent),
            ("s11", W1, "inbound", N2, "+15551110011", "yo", None, _at(eom, 23, 0, 0), recent),
            ("s12", W1, "outbound", N1, "+15551110012", "no", None, _at(before_month, 12), recent),
        ],
        "call_events": [
            # call_id, workspace_id, direction, workspace_number, remote_number, status, started_at,
            # ended_at, answered_by, updated_at, _loaded_at
            ("k1", W1, "outbound", N1, "+15552220001", "queued", None, None, None,
             "2024-03-03T09:59:58+00:00", BASE_LOADED),
            ("k1", W1, "outbound", N1, "+15552220001", "in-progress", "2024-03-03T10:00:00+00:00", None, "human",
             "2024-03-03T10:00:01+00:00", BASE_LOADED),
            ("k1", W1, "outbound", N1, "+15552220001", "completed", "2024-03-03T10:00:00+00:00",
             "2024-03-03T10:01:30.5+00:00", "human", "2024-03-03T10:01:31+00:00", BASE_LOADED),
            ("k2", W1, "inbound", N1, "+15552220002", "completed", "2024-03-03T11:00:00+00:00",
             "2024-03-03T11:00:10.4+00:00", "ai", "2024-03-03T11:00:11+00:00", BASE_LOADED),
            ("k3", W1, "inbound", N2, "+15552220003", "completed", "2024-03-03T23:59:50+00:00",
             "2024-03-04T00:00:20+00:00", "ai", "2024-03-04T00:00:21+00:00", BASE_LOADED),
            ("k4", W1, "outbound", N1, "+15552220004", "in-progress", "2024-03-04T08:00:00+00:00", None, "human",
             "2024-03-04T08:00:01+00:00", BASE_LOADED),
            ("k5", W1, "inbound", N1, "+15552220005", "busy", None, None, None,
             "2024-03-04T08:30:00+00:00", BASE_LOADED),
            ("k6", W1, "outbound", N2, "+15552220006", "completed", "2024-03-04T12:00:00+00:00", None, "human",
             "2024-03-04T12:05:00+00:00", BASE_LOADED),
            ("k7", W1, "outbound", N1, "+15552220007", "completed", "2024-03-04T09:00:00+00:00",
             "2024-03-04T09:00:00.5+00:00", "human", "2024-03-04T09:00:01+00:00", BASE_LOADED),
            # started 2024-03-31 22:00 in UTC-7: 2024-04-01 UTC
            ("k8", W1, "inbound", N1, "+15552220008", "completed", "2024-03-31T22:00:00-07:00",
             "2024-03-31T22:01:00-07:00", "ai", "2024-03-31T22:01:01-07:00", BASE_LOADED),
            ("k9", W2, "outbound", N1, "+15552220009", "completed", "2024-03-03T10:00:00+00:00",
             "2024-03-03T10:01:00+00:00", "human", "2024-03-03T10:01:01+00:00", BASE_LOADED),
            ("k10", W1, "outbound", N1, "+15552220010", "completed", _at(today),
             _at(today, 0, 0, 11), "human", _at(today, 0, 0, 12), recent),
        ],
        "stt_events": [
            # event_id, workspace_id, call_id, provider, model, duration_seconds, recorded_at, _loaded_at
            (_id("50000000", 1), W1, "k1", "deepgram", "nova-2", Decimal("12.500"), "2024-03-03T10:00:10+00:00", BASE_LOADED),
            (_id("50000000", 2), W1, "k1", "deepgram", "nova-2", Decimal("0.250"), "2024-03-03T10:00:20+00:00", BASE_LOADED),
            (_id("50000000", 3), W1, "k7", "openai", "whisper-1", Decimal("60.125"), "2024-03-04T09:00:00+00:00", BASE_LOADED),
            (_id("50000000", 4), W1, "k2", "openai", "whisper-1", Decimal("1.100"), "2024-03-03T11:00:05+00:00", BASE_LOADED),
            (_id("50000000", 5), W1, None, "azure", "speech", Decimal("0.100"), "2024-03-05T10:00:00+00:00", BASE_LOADED),
            (_id("50000000", 6), W1, None, "azure", "speech", Decimal("0.200"), "2024-03-05T11:00:00+00:00", BASE_LOADED),
            (_id("50000000", 7), W1, None, "azure", "speech", Decimal("-1.000"), "2024-03-05T12:00:00+00:00", BASE_LOADED),
            (_id("50000000", 8), W2, None, "deepgram", "nova-2", Decimal("100.000"), "2024-03-03T10:00:00+00:00", BASE_LOADED),
            (_id("50000000", 9), W1, "k10", "deepgram", "nova-2", Decimal("2.500"), _at(today), recent),
        ],
        "tts_events": [
            # event_id, workspace_id, call_id, provider, model, characters, recorded_at, _loaded_at
            (_id("70000000", 1), W1, "k1", "elevenlabs", "turbo", 100, "2024-03-03T10:00:15+00:00", BASE_LOADED),
            (_id("70000000", 2), W1, "k7", "elevenlabs", "turbo", 50, "2024-03-04T09:00:00+00:00", BASE_LOADED),
            (_id("70000000", 3), W1, None, "openai", "tts-1", 7, "2024-03-04T10:00:00+00:00", BASE_LOADED),
            (_id("70000000", 4), W1, "k10", "openai", "tts-1", 9, _at(today), recent),
        ],
    }
# fmt: on


COLUMNS = {
    "workspaces": "workspace_id, name, created_at, _loaded_at",
    "roles": "role_id, workspace_id, name, _loaded_at",
    "role_scopes": "role_id, scope, _loaded_at",
    "members": "member_id, workspace_id, role_id, display_name, created_at, deleted_at, _loaded_at",
    "chats": "chat_id, workspace_id, owner_member_id, created_at, _loaded_at",
    "messages": "message_id, workspace_id, chat_id, sender_member_id, role, channel, created_at, _loaded_at",
    "ai_usage_events": "event_id, workspace_id, chat_id, source, provider, model, model_type, prompt_tokens, "
    "completion_tokens, cached_tokens, audio_input_tokens, audio_output_tokens, credits, recorded_at, _loaded_at",
    "sms_messages": "sms_id, workspace_id, direction, workspace_number, remote_number, body, carrier_segments, "
    "sent_at, _loaded_at",
    "call_events": "call_id, workspace_id, direction, workspace_number, remote_number, status, started_at, "
    "ended_at, answered_by, updated_at, _loaded_at",
    "stt_events": "event_id, workspace_id, call_id, provider, model, duration_seconds, recorded_at, _loaded_at",
    "tts_events": "event_id, workspace_id, call_id, provider, model, characters, recorded_at, _loaded_at",
}


def insert(conn: psycopg.Connection[Any], table: str, values: list[tuple[Any, ...]]) -> None:
    columns = COLUMNS[table]
    placeholders = ", ".join(["%s"] * len(columns.split(",")))
    with conn.cursor() as cursor:
        cursor.executemany(f"insert into raw.{table} ({columns}) values ({placeholders})", values)


def load(conn: psycopg.Connection[Any], today: date) -> None:
    with conn.transaction():
        for table, values in rows(today).items():
            insert(conn, table, values)


def add_member_copy(
    conn: psycopg.Connection[Any],
    member_id: str,
    workspace_id: str,
    role_id: str,
    display_name: str,
    *,
    deleted_at: str | None = None,
) -> None:
    """Land a newer copy of a member (a role change, a deletion, a move), as the pipeline would."""
    conn.execute(
        f"insert into raw.members ({COLUMNS['members']}) "
        "values (%s, %s, %s, %s, '2023-02-01T00:00:00+00:00', %s, clock_timestamp())",
        (member_id, workspace_id, role_id, display_name, deleted_at),
    )
