"""A workspace of its own (WZ, "Zoneco") for the time-zone, CSV and caching tests.

One event of every kind at each of 17 instants placed on the edges of local
days (CONTRACT §6). Each instant has a weight, a distinct power of two, and
every event at it carries that weight: AI credits and prompt tokens, SMS
carrier segments, call seconds, TTS characters, STT seconds (weight / 8, so
exact to 3 decimals). A day's sum therefore names exactly which instants fell
in it (255 = the eight lightest, 1 + 2 + ... + 128). Each instant also has one
message and one SMS and one call; every event is the member Maya's (chat ZC1).

The rows land with the suite's BASE_LOADED time, older than the rows placed
around today, so every report's ``data_as_of`` stays the one of the main
fixture. Nothing else in the suite reads WZ.

Local times, worked out by hand (UTC offsets: Australia/Eucla +8:45,
Asia/Kathmandu +5:45, Asia/Kolkata +5:30, America/Los_Angeles -7 (PDT),
America/New_York -5 (EST) until 2026-03-08 07:00Z and from 2026-11-01 06:00Z,
-4 (EDT) between):

=====  ========================  =====  ===============================================
name   UTC                       weight local day(s) that differ from the UTC day
=====  ========================  =====  ===============================================
A1     2026-04-30 15:14:59       1      Eucla 04-30 23:59:59 (last second of 04-30)
A2     2026-04-30 15:15:00       2      Eucla 05-01 00:00 (first of 05-01)
A3     2026-04-30 18:14:59       4      Kathmandu 04-30 23:59:59; Eucla 05-01
A4     2026-04-30 18:15:00       8      Kathmandu 05-01 00:00; Eucla 05-01
A5     2026-04-30 18:29:59       16     Kolkata 04-30 23:59:59; Kathmandu, Eucla 05-01
A6     2026-04-30 18:30:00       32     Kolkata 05-01 00:00; Kathmandu, Eucla 05-01
A7     2026-05-01 05:00:00       64     Los Angeles 04-30 22:00 (the call of CONTRACT §4)
A8     2026-05-01 06:59:59       128    Los Angeles 04-30 23:59:59
A9     2026-05-01 07:00:00       256    (Los Angeles 05-01 00:00, as UTC)
N1     2026-03-08 04:59:59       512    New York 03-07 23:59:59 EST
N2     2026-03-08 05:00:00       1024   (New York 03-08 00:00 EST, the start of a 23-hour day)
N3     2026-03-09 03:59:59       2048   New York 03-08 23:59:59 EDT
N4     2026-03-09 04:00:00       4096   (New York 03-09 00:00 EDT; with EST it would be 03-08)
F1     2026-11-01 03:59:59       8192   New York 10-31 23:59:59 EDT
F2     2026-11-01 04:00:00       16384  (New York 11-01 00:00 EDT, the start of a 25-hour day)
F3     2026-11-02 04:59:59       32768  New York 11-01 23:59:59 EST (with EDT it would be 11-02)
F4     2026-11-02 05:00:00       65536  (New York 11-02 00:00 EST)
=====  ========================  =====  ===============================================

A7's AI model is ``gpt-4o, "mini"`` and its SMS and call use the workspace
number ``+1 555 0100, "main"``: a comma and quotes for the CSV tests. Chats
owned by Maya are created at A1 (ZC1, which holds every AI event), A9, N2 and F3.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from tests.api.fixture_data import BASE_LOADED, insert

WZ = "f5000000-0000-4000-8000-000000000005"
MAYA = "f5000000-0000-4000-8000-0000000000a1"  # admin of WZ

NUMBER = "+15550100000"
ODD_NUMBER = '+1 555 0100, "main"'
MODEL = "gpt-4o"
ODD_MODEL = 'gpt-4o, "mini"'

INSTANTS: dict[str, tuple[str, int]] = {
    "A1": ("2026-04-30T15:14:59+00:00", 1),
    "A2": ("2026-04-30T15:15:00+00:00", 2),
    "A3": ("2026-04-30T18:14:59+00:00", 4),
    "A4": ("2026-04-30T18:15:00+00:00", 8),
    "A5": ("2026-04-30T18:29:59+00:00", 16),
    "A6": ("2026-04-30T18:30:00+00:00", 32),
    "A7": ("2026-05-01T05:00:00+00:00", 64),
    "A8": ("2026-05-01T06:59:59+00:00", 128),
    "A9": ("2026-05-01T07:00:00+00:00", 256),
    "N1": ("2026-03-08T04:59:59+00:00", 512),
    "N2": ("2026-03-08T05:00:00+00:00", 1024),
    "N3": ("2026-03-09T03:59:59+00:00", 2048),
    "N4": ("2026-03-09T04:00:00+00:00", 4096),
    "F1": ("2026-11-01T03:59:59+00:00", 8192),
    "F2": ("2026-11-01T04:00:00+00:00", 16384),
    "F3": ("2026-11-02T04:59:59+00:00", 32768),
    "F4": ("2026-11-02T05:00:00+00:00", 65536),
}
TOTAL_WEIGHT = 2**17 - 1


def _uuid(prefix: str, number: int) -> str:
    return f"{prefix}-0000-4000-8000-{number:012d}"


ZC1, ZC2, ZC3, ZC4 = (_uuid("f5c00000", n) for n in range(1, 5))
CHATS = {ZC1: "A1", ZC2: "N2", ZC3: "F3", ZC4: "A9"}


def _later(instant: str, seconds: int) -> str:
    return (datetime.fromisoformat(instant) + timedelta(seconds=seconds)).isoformat()


def rows() -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {
        "workspaces": [(WZ, "Zoneco", "2023-01-01T00:00:00+00:00", BASE_LOADED)],
        "members": [(MAYA, WZ, "admin", "Maya Zone", "2023-02-01T00:00:00+00:00", None, BASE_LOADED)],
        "chats": [(chat, WZ, MAYA, INSTANTS[name][0], BASE_LOADED) for chat, name in CHATS.items()],
        "messages": [],
        "ai_usage_events": [],
        "sms_messages": [],
        "call_events": [],
        "stt_events": [],
        "tts_events": [],
    }
    for number, (name, (at, weight)) in enumerate(INSTANTS.items(), start=1):
        odd = name == "A7"
        phone = ODD_NUMBER if odd else NUMBER
        tables["messages"].append((_uuid("f5d00000", number), WZ, ZC1, MAYA, "user", "web", at, BASE_LOADED))
        tables["ai_usage_events"].append(
            (_uuid("f5e00000", number), WZ, ZC1, "chat_message", "openai", ODD_MODEL if odd else MODEL, "chat",
             weight, 0, 0, 0, 0, Decimal(weight), at, BASE_LOADED)
        )  # fmt: skip
        tables["sms_messages"].append(
            (f"z-sms-{name}", WZ, "outbound", phone, "+15559990000", "hi", weight, at, BASE_LOADED)
        )
        tables["call_events"].append(
            (f"z-call-{name}", WZ, "inbound", phone, "+15559990000", "completed", at, _later(at, weight), "ai",
             _later(at, weight + 1), BASE_LOADED)
        )  # fmt: skip
        tables["stt_events"].append(
            (_uuid("f5500000", number), WZ, None, "deepgram", "nova-2", Decimal(weight) / 8, at, BASE_LOADED)
        )
        # a TTS provider that sorts before the STT one: voice CSV lines go by kind before provider
        tables["tts_events"].append(
            (_uuid("f5700000", number), WZ, None, "azure", "turbo", weight, at, BASE_LOADED)
        )
    return tables


def load(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        for table, values in rows().items():
            insert(conn, table, values)
