"""Every report of the API against an independent oracle worked out from raw (CONTRACT §3-§6).

The demo generator (scripts/generate_demo_data.py) fills raw for three workspaces over the 25 UTC
days 2024-02-25 .. 2024-03-20 (New York springs forward on 2024-03-10), its invalid rows
included, and a full build follows. Then rows land late, as an at-least-once pipeline delivers
them: re-deliveries that change values, move an event to another day or a chat to another owner,
or turn invalid; stale copies that landed before the copy they compete with; late and tied call
states; SMS bodies on every segment boundary; events on the local midnights of the zones. An
incremental `dbt build` takes them (§4 "Late rows": as a full rebuild would).

A second round re-delivers some of those rows again (one event reaches a third day, a chat
returns to its owner), repairs the generator's invalid rows, moves rows months back, and adds
rows around New York's 25-hour 2023-11-05; a second incremental build takes it.

The oracle reads raw with psycopg and works every report out in plain Python from the contract's
rules alone: no project SQL, macro or module computes any of it (the GSM alphabet below is typed
in from 3GPP TS 23.038, not taken from the generator, which only writes raw). The API, through
Flask's test client and a real key, must give exactly the oracle's numbers: totals and every
list, in UTC, America/New_York, Asia/Kolkata (+5:30) and Asia/Kathmandu (+5:45), over ranges
around both changes and beyond the data, as JSON and as CSV.

Where the contract leaves a choice open the oracle says so beside the rule (copies landing at the
same instant, names' order, a member's day "with activity", the CSV lines' order) and either
asserts that the data never meets it or takes the reading the README documents.
"""

from __future__ import annotations

import csv
import io
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from api import create_app
from tests.api.conftest import Key, body, create_key_with_cli
from tests.warehouse import PROJECT_ROOT, connect, dbt, recreate_database

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from generate_demo_data import generate  # the loader of raw, never an oracle

DATABASE = "usage_reports_test_oracle"
END = date(2024, 3, 20)
DAYS = 25  # 2024-02-25 .. 2024-03-20 (UTC)
WORKSPACES = 3
ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")  # DST; +5:30; +5:45
RANGES = {
    "wide": (date(2024, 2, 20), date(2024, 3, 25)),  # everything, and empty days on both sides
    "generated": (date(2024, 2, 25), date(2024, 3, 20)),  # the UTC days: local zones cut both ends
    "dst": (date(2024, 3, 8), date(2024, 3, 12)),  # New York's 23-hour day inside
    "dst_day": (date(2024, 3, 10), date(2024, 3, 10)),  # 23 hours in New York
    "ties": (date(2024, 3, 23), date(2024, 3, 23)),  # after the generated days: land_ties alone
    "early": (date(2023, 11, 1), date(2024, 1, 31)),  # before them: FALL_BACK and rows moved there
    "after": (date(2024, 3, 24), date(2024, 3, 31)),  # after every row: zeros, empty lists (§5)
    "empty": (date(2023, 6, 1), date(2023, 6, 30)),  # before every row
    "fall_day": (date(2023, 11, 5), date(2023, 11, 5)),  # 25 hours in New York
}
LATE = datetime(2024, 3, 21, 1, 0, tzinfo=UTC)  # late rows land from here on, a second apart
NAMESPACE = uuid.UUID("6f7261636c652d2d7265706f7274732d")  # ids of the rows this module lands


Row = dict[str, Any]  # one raw row: column -> value


# --------------------------------------------------------------------------------------------
# The contract's vocabulary (§3)
# --------------------------------------------------------------------------------------------

DIRECTIONS = frozenset({"inbound", "outbound"})
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
CALL_STATUSES = FINAL_STATUSES | {"queued", "ringing", "in-progress"}
TOKEN_COLUMNS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
)
EVENT_TABLES = (
    "chats",
    "messages",
    "ai_usage_events",
    "sms_messages",
    "call_events",
    "stt_events",
    "tts_events",
)
ID_COLUMNS = {
    "chats": "chat_id",
    "messages": "message_id",
    "ai_usage_events": "event_id",
    "sms_messages": "sms_id",
    "call_events": "call_id",
    "stt_events": "event_id",
    "tts_events": "event_id",
}

# 3GPP TS 23.038 §6.2.1: the GSM 7-bit default alphabet, code 0x00 to 0x7F, sixteen per line.
# 0x1B is the escape to the extension table, not a character (dropped below). §4: `Ç` (0x09) is
# in it, `ç` is not; no national shift tables.
GSM_DEFAULT_LINES = (
    "@£$¥èéùìòÇ\nØø\rÅå",
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1bÆæßÉ",  # Δ_ΦΓΛΩΠΨΣΘΞ ESC ÆæßÉ
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
)
assert all(len(line) == 16 for line in GSM_DEFAULT_LINES)
GSM_DEFAULT = frozenset("".join(GSM_DEFAULT_LINES)) - {"\x1b"}
# §6.2.1.1, the extension table: form feed 0x0A, ^ 0x14, { 0x28, } 0x29, \ 0x2F, [ 0x3C, ~ 0x3D,
# ] 0x3E, | 0x40, € 0x65 (each sent as ESC + code: two septets).
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")


# --------------------------------------------------------------------------------------------
# The oracle: valid, de-duplicated facts (§3, §4)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AiEvent:
    workspace: UUID
    chat: UUID | None
    provider: str
    model: str
    model_type: str
    prompt: int
    completion: int
    cached: int
    audio_in: int
    audio_out: int
    credits: Decimal
    at: datetime

    @classmethod
    def from_row(cls, row: Row) -> AiEvent:
        return cls(
            row["workspace_id"], row["chat_id"], row["provider"], row["model"], row["model_type"],
            row["prompt_tokens"], row["completion_tokens"], row["cached_tokens"], row["audio_input_tokens"],
            row["audio_output_tokens"], row["credits"], row["recorded_at"],
        )  # fmt: skip


@dataclass(frozen=True)
class Sms:
    workspace: UUID
    direction: str
    number: str
    characters: int
    segments: int
    at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Sms:
        # §4: `characters` counts Unicode code points (len of a Python str)
        segments = sms_segments(row["body"], row["carrier_segments"])
        return cls(
            row["workspace_id"],
            row["direction"],
            row["workspace_number"],
            len(row["body"]),
            segments,
            row["sent_at"],
        )


@dataclass(frozen=True)
class Call:
    workspace: UUID
    direction: str
    number: str
    seconds: int
    at: datetime  # started_at: §4 "UTC days", a call's day is that of its start

    @classmethod
    def from_row(cls, row: Row) -> Call:
        length = call_seconds(row["started_at"], row["ended_at"])
        return cls(row["workspace_id"], row["direction"], row["workspace_number"], length, row["started_at"])


@dataclass(frozen=True)
class Speech:
    workspace: UUID
    provider: str
    model: str
    amount: Decimal | int  # STT: seconds of audio; TTS: characters
    at: datetime

    @classmethod
    def from_row(cls, row: Row, amount: str) -> Speech:
        return cls(row["workspace_id"], row["provider"], row["model"], row[amount], row["recorded_at"])


@dataclass(frozen=True)
class Chat:
    workspace: UUID
    owner: UUID | None
    at: datetime


@dataclass(frozen=True)
class Message:
    workspace: UUID
    sender: UUID | None
    at: datetime


@dataclass(frozen=True)
class Facts:
    """The valid, de-duplicated events of raw, as the contract defines them."""

    ai: list[AiEvent]
    sms: list[Sms]
    calls: list[Call]
    stt: list[Speech]
    tts: list[Speech]
    chats: dict[UUID, Chat]
    messages: list[Message]
    data_as_of: datetime


def content(row: Row) -> Row:
    """A copy's values apart from when it landed."""
    return {column: value for column, value in row.items() if column != "_loaded_at"}


def latest_copies(rows: Iterable[Row], id_column: str) -> list[Row]:
    """§4 "Duplicates": a row delivered twice (same id) counts once; if the copies differ, the one
    that landed last (`_loaded_at`) wins. The contract orders copies of these tables by landing
    alone, so copies that landed at the same instant must not differ (checked, not guessed)."""
    winners: dict[Any, Row] = {}
    for row in rows:
        assert row[id_column] is not None, f"a row without {id_column}: outside the contract"
        current = winners.get(row[id_column])
        if current is None or row["_loaded_at"] > current["_loaded_at"]:
            winners[row[id_column]] = row
        elif row["_loaded_at"] == current["_loaded_at"]:
            assert content(row) == content(current), f"copies of {row[id_column]} tie on _loaded_at"
    return list(winners.values())


def call_state_rank(row: Row) -> tuple[datetime, datetime, bool]:
    """§3 call_events: the state row with the latest `updated_at` is the call's state; on a tie,
    the one that landed last; then a final status over a non-final one."""
    return (row["updated_at"], row["_loaded_at"], row["status"] in FINAL_STATUSES)


def call_states(rows: Iterable[Row]) -> list[Row]:
    """One state row per call (§3); a tie the contract's three keys leave open must not matter."""
    by_call: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        assert row["call_id"] is not None and row["updated_at"] is not None, "outside the contract"
        by_call[row["call_id"]].append(row)
    states = []
    for call_id, candidates in by_call.items():
        ranked = sorted(candidates, key=call_state_rank, reverse=True)
        if len(ranked) > 1 and call_state_rank(ranked[0]) == call_state_rank(ranked[1]):
            assert content(ranked[0]) == content(ranked[1]), f"call {call_id}: a tie beyond §3's rules"
        states.append(ranked[0])
    return states


def sms_units(body: str) -> tuple[list[int], int, int]:
    """§4 "SMS segments": GSM-7 when every character is in the default alphabet or the
    extension table (an extension character costs two septets; 160 in one segment, else parts
    of at most 153); otherwise UCS-2 in UTF-16 code units (a character outside the BMP costs
    two; 70, else at most 67). Returns each character's units, the single and the part size."""
    if all(char in GSM_DEFAULT or char in GSM_EXTENSION for char in body):
        return [2 if char in GSM_EXTENSION else 1 for char in body], 160, 153
    return [len(char.encode("utf-16-le")) // 2 for char in body], 70, 67


def sms_segments(body: str, carrier_segments: int | None) -> int:
    """§4: `carrier_segments` when present and > 0; the empty body is one segment; a longer
    body is cut into parts, and a part never ends between the two units of one character (an
    extension pair, a surrogate pair): a character that does not fit opens the next part."""
    if carrier_segments is not None and carrier_segments > 0:
        return carrier_segments
    units, single, part = sms_units(body)
    if sum(units) <= single:
        return 1  # the empty body included
    parts, used = 1, 0
    for unit in units:
        if used + unit > part:
            parts, used = parts + 1, 0
        used += unit
    return parts


def call_seconds(started: datetime, ended: datetime) -> int:
    """§4 "Phone": `ended_at - started_at` rounded to the nearest whole second, halves up."""
    microseconds = (ended - started) // timedelta(microseconds=1)
    return (microseconds + 500_000) // 1_000_000


def has_workspace(row: Row) -> bool:
    """§4 "Invalid rows": a missing workspace (every table)."""
    return row["workspace_id"] is not None


def ai_is_valid(row: Row) -> bool:
    """§4 "Invalid rows": negative token counts."""
    return has_workspace(row) and all(row[column] >= 0 for column in TOKEN_COLUMNS)


def sms_is_valid(row: Row) -> bool:
    """§3: a direction other than inbound/outbound; §4: a null body."""
    return has_workspace(row) and row["direction"] in DIRECTIONS and row["body"] is not None


def call_is_valid(row: Row) -> bool:
    """§3/§4: a direction or status outside the lists, judged on the call's state row (§3: "any
    other value makes the call invalid")."""
    return has_workspace(row) and row["direction"] in DIRECTIONS and row["status"] in CALL_STATUSES


def call_is_finished(row: Row) -> bool:
    """§4 "Phone": state `completed`, both times set, `ended_at >= started_at`."""
    started, ended = row["started_at"], row["ended_at"]
    return row["status"] == "completed" and started is not None and ended is not None and ended >= started


def stt_is_valid(row: Row) -> bool:
    """§4 "Invalid rows": negative durations."""
    return has_workspace(row) and row["duration_seconds"] >= 0


def read_raw(conn: psycopg.Connection[Any], table: str) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql.SQL("select * from raw.{}").format(sql.Identifier(table))).fetchall()


def facts_from_raw(conn: psycopg.Connection[Any]) -> Facts:
    """De-duplicate (§4) and drop the invalid rows (§4) of every event table, straight from raw."""
    raw = {table: read_raw(conn, table) for table in EVENT_TABLES}

    def valid(table: str, is_valid: Callable[[Row], bool]) -> list[Row]:
        return [row for row in latest_copies(raw[table], ID_COLUMNS[table]) if is_valid(row)]

    calls = [row for row in call_states(raw["call_events"]) if call_is_valid(row) and call_is_finished(row)]
    chats = {
        row["chat_id"]: Chat(row["workspace_id"], row["owner_member_id"], row["created_at"])
        for row in valid("chats", has_workspace)
    }
    messages = [
        Message(row["workspace_id"], row["sender_member_id"], row["created_at"])
        for row in valid("messages", has_workspace)
    ]
    # §5: `data_as_of`, the time of the newest raw row the marts were built from
    newest = max(row["_loaded_at"] for rows in raw.values() for row in rows)
    return Facts(
        ai=[AiEvent.from_row(row) for row in valid("ai_usage_events", ai_is_valid)],
        sms=[Sms.from_row(row) for row in valid("sms_messages", sms_is_valid)],
        calls=[Call.from_row(row) for row in calls],
        stt=[Speech.from_row(row, "duration_seconds") for row in valid("stt_events", stt_is_valid)],
        tts=[Speech.from_row(row, "characters") for row in valid("tts_events", has_workspace)],
        chats=chats,
        messages=messages,
        data_as_of=newest,
    )


# --------------------------------------------------------------------------------------------
# The oracle: reports (§4, §5, §6)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A report's workspace, zone and inclusive range of calendar days in that zone (§4, §6)."""

    workspace: UUID
    zone: str
    start: date
    end: date

    def day(self, moment: datetime) -> date | None:
        """§4/§6: an event's day is the calendar date of its time in the zone (UTC by default);
        None when outside the range."""
        local = moment.astimezone(ZoneInfo(self.zone)).date()
        return local if self.start <= local <= self.end else None


Event = TypeVar("Event", AiEvent, Sms, Call, Speech, Message)


def in_window(window: Window, events: Iterable[Event]) -> Iterator[tuple[str, Event]]:
    """The workspace's events in the range, each with its day (ISO text)."""
    for event in events:
        if event.workspace == window.workspace and (day := window.day(event.at)) is not None:
            yield day.isoformat(), event


def credits(value: Decimal | int) -> Decimal:
    """§5: credits are rounded to 6 decimals (the raw values already have at most 6)."""
    return Decimal(value).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def seconds(value: Decimal | int) -> Decimal:
    """§5 voice: seconds with up to 3 decimals."""
    return Decimal(value).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def envelope(window: Window, *, camel: bool) -> dict[str, Any]:
    """§5: every report carries its resolved range; §6: and the zone, unless it is UTC."""
    names = ("workspaceId", "startDate", "endDate") if camel else ("workspace_id", "start_date", "end_date")
    head: dict[str, Any] = dict(
        zip(names, (str(window.workspace), window.start.isoformat(), window.end.isoformat()), strict=True)
    )
    if window.zone != "UTC":
        head["tz"] = window.zone
    return head


@dataclass
class AiSums:
    prompt: int = 0
    completion: int = 0
    cached: int = 0
    audio_in: int = 0
    audio_out: int = 0
    credits: Decimal = Decimal(0)

    def add(self, event: AiEvent) -> None:
        self.prompt += event.prompt
        self.completion += event.completion
        self.cached += event.cached
        self.audio_in += event.audio_in
        self.audio_out += event.audio_out
        self.credits += event.credits

    @property
    def tokens(self) -> int:
        """§4 "AI": `total_tokens` = prompt + completion tokens; audio tokens apart."""
        return self.prompt + self.completion

    def breakdown(self) -> dict[str, Any]:
        return {
            "total_tokens": self.tokens,
            "total_cached_tokens": self.cached,
            "total_audio_input_tokens": self.audio_in,
            "total_audio_output_tokens": self.audio_out,
            "total_credits": credits(self.credits),
        }


def grouped_ai(window: Window, facts: Facts, key: Callable[[str, AiEvent], Any]) -> dict[Any, AiSums]:
    groups: dict[Any, AiSums] = defaultdict(AiSums)
    for day, event in in_window(window, facts.ai):
        groups[key(day, event)].add(event)
    return groups


def ai_report(window: Window, facts: Facts) -> dict[str, Any]:
    """§4 "AI" and §5: totals, `by_provider` and `by_type` (credits highest first, ties by name),
    `top_models` (model, provider and type; at most 10, credits highest first, ties by model name
    then provider). Names compare by code point (Python's str order): §5 names no collation; the
    README ("The report API": "code-point order by the names' UTF-8 bytes") documents this one."""
    total = AiSums()
    for _, event in in_window(window, facts.ai):
        total.add(event)
    by_provider = grouped_ai(window, facts, lambda _, event: event.provider)
    by_type = grouped_ai(window, facts, lambda _, event: event.model_type)
    by_model = grouped_ai(window, facts, lambda _, event: (event.model, event.provider, event.model_type))
    # (§5 leaves a tie in model and provider open: no model here has two types)
    top = sorted(by_model.items(), key=lambda item: (-item[1].credits, item[0][0], item[0][1]))
    return {
        **envelope(window, camel=False),
        # §4: `total_messages` counts raw.messages, every role and channel
        "total_messages": sum(1 for _ in in_window(window, facts.messages)),
        "total_tokens": total.tokens,
        "total_prompt_tokens": total.prompt,
        "total_completion_tokens": total.completion,
        "total_cached_tokens": total.cached,
        "total_audio_input_tokens": total.audio_in,
        "total_audio_output_tokens": total.audio_out,
        "total_credits": credits(total.credits),
        "by_provider": [
            {"provider": name, **sums.breakdown()}
            for name, sums in sorted(by_provider.items(), key=lambda item: (-item[1].credits, item[0]))
        ],
        "by_type": [
            {"type": name, **sums.breakdown()}
            for name, sums in sorted(by_type.items(), key=lambda item: (-item[1].credits, item[0]))
        ],
        "top_models": [
            {
                "model": model,
                "provider": provider,
                "type": kind,
                "total_tokens": sums.tokens,
                "total_credits": credits(sums.credits),
            }
            for (model, provider, kind), sums in top[:10]
        ],
    }


def ai_csv(window: Window, facts: Facts) -> list[tuple[Any, ...]]:
    """§6: one line per day, provider, model and type, with tokens and credits (README's columns)."""
    groups = grouped_ai(
        window, facts, lambda day, event: (day, event.provider, event.model, event.model_type)
    )
    return sorted(
        (
            *key,
            sums.prompt,
            sums.completion,
            sums.tokens,
            sums.cached,
            sums.audio_in,
            sums.audio_out,
            credits(sums.credits),
        )
        for key, sums in groups.items()
    )


def sms_rows(window: Window, facts: Facts) -> list[dict[str, Any]]:
    """§5 SMS `rows`: per day and workspace number, only those with activity, sorted by date and
    number; the message's segments (§4) counted by direction."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for day, message in in_window(window, facts.sms):
        row = rows.setdefault(
            (day, message.number),
            {
                "date": day,
                "phoneNumber": message.number,
                "inbound": 0,
                "outbound": 0,
                "characters": 0,
                "segments": 0,
                "inboundSegments": 0,
                "outboundSegments": 0,
            },
        )
        row[message.direction] += 1
        row["characters"] += message.characters
        row["segments"] += message.segments
        row[f"{message.direction}Segments"] += message.segments
    return [rows[key] for key in sorted(rows)]


def sms_report(window: Window, facts: Facts) -> dict[str, Any]:
    rows = sms_rows(window, facts)

    def total(field: str) -> int:
        return sum(row[field] for row in rows)

    return {
        **envelope(window, camel=True),
        "totalMessages": total("inbound") + total("outbound"),
        "totalInbound": total("inbound"),
        "totalOutbound": total("outbound"),
        "totalCharacters": total("characters"),
        "totalSegments": total("segments"),
        "totalInboundSegments": total("inboundSegments"),
        "totalOutboundSegments": total("outboundSegments"),
        "rows": rows,
    }


def phone_rows(window: Window, facts: Facts) -> list[dict[str, Any]]:
    """§4 "Phone": finished calls by the day of `started_at` and workspace number; each call's
    seconds rounded on their own (call_seconds), then summed."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for day, call in in_window(window, facts.calls):
        row = rows.setdefault(
            (day, call.number),
            {"date": day, "phoneNumber": call.number, "inbound": 0, "outbound": 0, "totalDurationSeconds": 0},
        )
        row[call.direction] += 1
        row["totalDurationSeconds"] += call.seconds
    return [rows[key] for key in sorted(rows)]


def phone_report(window: Window, facts: Facts) -> dict[str, Any]:
    rows = phone_rows(window, facts)
    inbound = sum(row["inbound"] for row in rows)
    outbound = sum(row["outbound"] for row in rows)
    return {
        **envelope(window, camel=True),
        "totalCalls": inbound + outbound,
        "totalInbound": inbound,
        "totalOutbound": outbound,
        "totalDurationSeconds": sum(row["totalDurationSeconds"] for row in rows),
        "rows": rows,
    }


def speech_sums(window: Window, events: list[Speech], by_day: bool) -> dict[tuple[str, ...], list[Any]]:
    """§4 "Voice": amount and number of events per provider and model (and day)."""
    sums: dict[tuple[str, ...], list[Any]] = {}
    for day, event in in_window(window, events):
        key = (day, event.provider, event.model) if by_day else (event.provider, event.model)
        entry = sums.setdefault(key, [0, 0])
        entry[0] += event.amount
        entry[1] += 1
    return dict(sorted(sums.items()))


def voice_report(window: Window, facts: Facts) -> dict[str, Any]:
    """§5 voice: STT seconds (3 decimals) and TTS characters, by provider and model and per day;
    lists sorted by (date,) provider and model."""

    def entries(events: list[Speech], amount: str, by_day: bool) -> list[dict[str, Any]]:
        names = ("date", "provider", "model") if by_day else ("provider", "model")
        return [
            {
                **dict(zip(names, key, strict=True)),
                amount: seconds(total) if amount == "durationSeconds" else total,
                "messages": count,
            }
            for key, (total, count) in speech_sums(window, events, by_day).items()
        ]

    stt = [event for _, event in in_window(window, facts.stt)]
    tts = [event for _, event in in_window(window, facts.tts)]
    return {
        **envelope(window, camel=True),
        "totalSttDurationSeconds": seconds(sum((Decimal(event.amount) for event in stt), Decimal(0))),
        "totalSttMessages": len(stt),
        "totalTtsCharacters": sum(int(event.amount) for event in tts),
        "totalTtsMessages": len(tts),
        "sttByProvider": entries(facts.stt, "durationSeconds", by_day=False),
        "ttsByProvider": entries(facts.tts, "characters", by_day=False),
        "sttRows": entries(facts.stt, "durationSeconds", by_day=True),
        "ttsRows": entries(facts.tts, "characters", by_day=True),
    }


def voice_csv(window: Window, facts: Facts) -> list[tuple[Any, ...]]:
    """§6: STT and TTS rows with a `kind` column (README: STT lines leave `characters` empty, TTS
    lines `duration_seconds`)."""
    lines: list[tuple[Any, ...]] = [
        (day, "stt", provider, model, count, seconds(total), None)
        for (day, provider, model), (total, count) in speech_sums(window, facts.stt, by_day=True).items()
    ]
    lines += [
        (day, "tts", provider, model, count, None, total)
        for (day, provider, model), (total, count) in speech_sums(window, facts.tts, by_day=True).items()
    ]
    return sorted(lines, key=line_order)


@dataclass
class MemberDay:
    chats: int = 0
    messages: int = 0
    credits: Decimal = Decimal(0)
    tokens: int = 0
    ai_events: int = 0


def member_days(window: Window, facts: Facts, member: UUID) -> dict[str, MemberDay]:
    """§4 "Member usage" of M per day: chats owned by M created that day; messages M sent; credits
    and prompt + completion tokens of the workspace's AI events (every source) whose chat is
    owned by M, by the event's day. A chat without owner (agent-only, scheduled, system) belongs
    to no member; a chat's owner is that of its latest copy (§4 "Duplicates"), and a chat of
    another workspace (or of none) makes no event of this one M's."""
    days: dict[str, MemberDay] = defaultdict(MemberDay)
    for chat in facts.chats.values():
        if chat.owner == member and chat.workspace == window.workspace and (day := window.day(chat.at)):
            days[day.isoformat()].chats += 1
    for day_text, message in in_window(window, facts.messages):
        if message.sender == member:
            days[day_text].messages += 1
    for day_text, event in in_window(window, facts.ai):
        owned = facts.chats.get(event.chat) if event.chat else None
        if owned is not None and owned.owner == member and owned.workspace == event.workspace:
            days[day_text].credits += event.credits
            days[day_text].tokens += event.prompt + event.completion
            days[day_text].ai_events += 1
    return dict(sorted(days.items()))


def member_report(window: Window, facts: Facts, member: UUID) -> dict[str, Any]:
    days = member_days(window, facts, member).values()
    head = envelope(window, camel=True)
    return {
        "workspaceId": head.pop("workspaceId"),
        "memberId": str(member),
        **head,
        "totalChats": sum(day.chats for day in days),
        "totalMessages": sum(day.messages for day in days),
        "totalCredits": credits(sum((day.credits for day in days), Decimal(0))),
        "totalTokens": sum(day.tokens for day in days),
    }


def member_csv(window: Window, facts: Facts, member: UUID) -> list[tuple[Any, ...]]:
    """README's member CSV: one line per day with activity. The contract does not say what
    activity is for a member; read here as a chat, a message or an AI event on that day."""
    return [
        (day_text, day.chats, day.messages, credits(day.credits), day.tokens)
        for day_text, day in member_days(window, facts, member).items()
    ]


# --------------------------------------------------------------------------------------------
# The scenario: demo data, then two rounds of late rows
# --------------------------------------------------------------------------------------------


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Instants on either side of the local midnights the zones cut 2024-03-09 .. 2024-03-11 at.
BOUNDARIES = (
    moment("2024-03-09 18:14:59.999999"),  # Kathmandu (+5:45): still 03-09
    moment("2024-03-09 18:15:00"),  # Kathmandu: 03-10 begins
    moment("2024-03-09 18:29:59.999999"),  # Kolkata (+5:30): still 03-09
    moment("2024-03-09 18:30:00"),  # Kolkata: 03-10 begins
    moment("2024-03-10 04:59:59.999999"),  # New York (EST, -5): still 03-09
    moment("2024-03-10 05:00:00"),  # New York: 03-10 begins
    moment("2024-03-10 07:00:00"),  # New York: 03:00 EDT, just after the skipped hour
    moment("2024-03-10 23:59:59.999999"),  # UTC: last instant of 03-10
    moment("2024-03-11 03:59:59.999999"),  # New York: last instant of the 23-hour 03-10
    moment("2024-03-11 04:00:00"),  # New York (EDT, -4): 03-11 begins
)
FIRST_INSTANT = moment("2024-02-25 00:00:00")  # of the generated days
LAST_INSTANT = moment("2024-03-20 23:59:59.999999")
# Around New York's 25-hour 2023-11-05 (EDT until 06:00 UTC, the hour 01:00-02:00 twice).
FALL_BACK = (
    moment("2023-11-05 03:59:59.999999"),  # New York: still 11-04
    moment("2023-11-05 04:00:00"),  # 11-05 begins (EDT, -4)
    moment("2023-11-05 05:30:00"),  # 01:30 EDT
    moment("2023-11-05 06:30:00"),  # 01:30 EST, the same wall clock again
    moment("2023-11-06 04:59:59.999999"),  # last instant of the 25-hour day
    moment("2023-11-06 05:00:00"),  # 11-06 begins (EST, -5)
    moment("2023-11-05 18:14:59.999999"),  # Kathmandu: still 11-05
    moment("2023-11-05 18:30:00"),  # Kolkata: 11-06 begins
)
EARLY = moment("2024-01-15 03:00:00")  # in the "early" range (New York: 2024-01-14)
TIES_AT = moment("2024-03-23 12:00:00")  # the "ties" range: 2024-03-23 in all three zones

# SMS bodies on the segment boundaries of §4, with the segments worked by hand.
SMS_BODIES: tuple[tuple[str, int | None, int], ...] = (
    ("", None, 1),  # the empty body is one segment
    ("A" * 160, None, 1),
    ("A" * 161, None, 2),  # 153 + 8
    ("€" * 80, None, 1),  # 160 septets
    ("A" * 159 + "€", None, 2),  # 161 septets: 153 + 8
    ("A" * 152 + "€" + "A" * 152, None, 3),  # 306 septets, but the pair may not straddle 153: 152 | 153 | 1
    ("A" * 306, None, 2),
    ("Ç" * 160, None, 1),  # Ç is GSM
    ("ç" * 70, None, 1),  # ç is not: UCS-2
    ("ç" * 71, None, 2),
    ("Ж" * 66 + "😀" + "Ж" * 66, None, 3),  # 134 units, the pair may not straddle 67: 66 | 67 | 1
    ("Ж" * 134, None, 2),
    ("😀" * 35, None, 1),  # 70 units
    ("😀" * 36, None, 2),  # 72 units: 33 pairs (66) | 3 pairs
    ("Hello `world`", None, 1),  # the backtick is not GSM: UCS-2, 13 units
    ("Line\r\nnext\fpage", None, 1),  # CR, LF (default alphabet), form feed (extension)
    ("{" * 81, None, 2),  # 162 septets: 76 pairs (152) | 5 pairs
    ("x", 4, 4),  # the carrier's count wins when > 0
    ("x" * 200, 0, 2),  # a carrier count of 0 is no count: 153 | 47
    ("y" * 161, -2, 2),  # nor is a negative one
    ("\u0394\u03a6\u0393 \u03b4", None, 1),  # ΔΦΓ are GSM, δ (lower case) is not: UCS-2
    ("\u0391\u0392\u0393", None, 1),  # Greek capital Alpha and Beta are no GSM characters (Γ is)
    ("¤@£¥§¿¡" * 23, None, 2),  # all GSM: 161 septets
    ("A" * 158 + "€", None, 1),  # 160 septets exactly
    ("Ж" * 69 + "😀", None, 2),  # 71 units: 67 | 4
    ("Ж" + "😀" * 100, None, 4),  # 201 units: 1 + 33 pairs | 33 pairs | 33 pairs | 1 pair
    ("\uffff" * 66 + "😀" + "Ж" * 66, None, 3),  # U+FFFF is one unit like any BMP character
    ("\x01" + "A" * 200, None, 3),  # U+0001 is not GSM: UCS-2, 201 units
    ("Cafe\u0301", None, 1),  # a combining accent is a code point of its own, not GSM: 5 units
    ("\u00a0" * 70, None, 1),  # no-break space: UCS-2, 70 units
)

# Call lengths on the rounding edges of §4 "Phone", and the whole seconds they count as.
CALL_LENGTHS = (
    (timedelta(0), 0),
    (timedelta(microseconds=500_000), 1),  # a half: up
    (timedelta(seconds=1, microseconds=499_999), 1),
    (timedelta(seconds=2, microseconds=500_000), 3),
    (timedelta(seconds=150, microseconds=500_000), 151),
    (timedelta(seconds=59, microseconds=999_999), 60),
    (timedelta(hours=1, microseconds=500_001), 3601),
    (timedelta(seconds=10, microseconds=499_999), 10),
    (timedelta(microseconds=499_999), 0),
    (timedelta(minutes=20, microseconds=999_999), 1201),
)

# The "ties" day: twelve models of equal credits, so every order §5 gives decides. Providers
# `Zeta`, `alpha`, `beta` tie at 6 credits each, types `chat` and `realtime` at 9; names are
# compared by code point ("Zeta" < "alpha", "modèle" after "m-z"), the order the README
# documents (§5 says "ties by name" and names no collation).
TIE_MODELS = (
    ("alpha", "shared", "chat"), ("beta", "shared", "chat"), ("Zeta", "shared", "chat"),
    ("alpha", "m-b", "chat"), ("beta", "m-a", "chat"), ("Zeta", "M-c", "chat"),
    ("alpha", "modèle", "realtime"), ("beta", "zz", "realtime"), ("Zeta", "aa", "realtime"),
    ("alpha", "ab", "realtime"), ("beta", "Ab", "realtime"), ("Zeta", "m-z", "realtime"),
)  # fmt: skip


def uid(name: str) -> UUID:
    return uuid.uuid5(NAMESPACE, name)


class Landing:
    """Lands rows in raw, each a second after the previous one unless told when."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.clock = LATE

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def insert(self, table: str, row: Row, loaded_at: datetime | None = None) -> None:
        values = {**content(row), "_loaded_at": loaded_at or self.tick()}
        statement = sql.SQL("insert into raw.{} ({}) values ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)),
        )
        self.conn.execute(statement, list(values.values()))

    def latest(self, table: str, row_id: Any) -> Row:
        """The copy of `row_id` that landed last (of a call: its latest state row)."""
        order = "updated_at desc, _loaded_at desc" if table == "call_events" else "_loaded_at desc"
        query = sql.SQL("select * from raw.{} where {} = %s order by {} limit 1").format(
            sql.Identifier(table), sql.Identifier(ID_COLUMNS[table]), sql.SQL(order)
        )
        with self.conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, (row_id,)).fetchone()
        assert row is not None, (table, row_id)
        return row

    def redeliver(self, table: str, row_id: Any, **changes: Any) -> Row:
        """A later copy of the row with some values changed (§4 "Duplicates": it wins)."""
        row = {**self.latest(table, row_id), **changes}
        self.insert(table, row)
        return row

    def stale_copy(self, table: str, row_id: Any, **changes: Any) -> None:
        """A differing copy stamped a minute before the latest one, committed now: it loses."""
        latest = self.latest(table, row_id)
        self.insert(table, {**latest, **changes}, loaded_at=latest["_loaded_at"] - timedelta(minutes=1))


def pick(conn: psycopg.Connection[Any], query: str, *params: Any) -> list[Any]:
    """The first column of a query's rows (ordered by id in the query: deterministic picks)."""
    return [row[0] for row in conn.execute(query, params).fetchall()]


def members_of(conn: psycopg.Connection[Any], workspace: UUID) -> list[UUID]:
    return pick(
        conn, "select distinct member_id from raw.members where workspace_id = %s order by 1", workspace
    )


@dataclass(frozen=True)
class Picks:
    """Generated rows of one workspace that the late rows re-deliver, chosen by id."""

    workspace: UUID
    position: int
    members: list[UUID]
    chats: list[UUID]  # owned, with AI events
    ai: list[UUID]  # in a chat
    messages: list[UUID]  # sent by a member
    sms: list[str]  # valid, outbound
    numbers: list[str]  # the workspace's SMS numbers
    stt: list[UUID]
    tts: list[UUID]
    stuck_calls: list[str]  # whose latest state is in-progress
    completed_calls: list[str]


def choose(conn: psycopg.Connection[Any], workspace: UUID, position: int) -> Picks:
    def ids(table: str, where: str, limit: int) -> list[Any]:
        column = ID_COLUMNS[table]
        query = f"select {column} from raw.{table} where workspace_id = %s and {where} group by 1 order by 1 limit {limit}"
        return pick(conn, query, workspace)

    states = conn.execute(
        """select distinct on (call_id) call_id, status from raw.call_events where workspace_id = %s
           order by call_id, updated_at desc, _loaded_at desc""",
        (workspace,),
    ).fetchall()
    in_chats = "exists (select from raw.ai_usage_events as ai where ai.chat_id = chats.chat_id)"
    return Picks(
        workspace=workspace,
        position=position,
        members=members_of(conn, workspace),
        chats=ids("chats", f"owner_member_id is not null and {in_chats}", 5),
        ai=ids("ai_usage_events", "chat_id is not null", 7),
        messages=ids("messages", "sender_member_id is not null", 4),
        sms=ids("sms_messages", "direction = 'outbound' and body is not null", 5),
        numbers=pick(
            conn,
            "select distinct workspace_number from raw.sms_messages where workspace_id = %s order by 1",
            workspace,
        ),
        stt=ids("stt_events", "duration_seconds >= 0", 3),
        tts=ids("tts_events", "true", 3),
        stuck_calls=[call_id for call_id, status in states if status == "in-progress"][:3],
        completed_calls=[call_id for call_id, status in states if status == "completed"][:6],
    )


def land_first_round(landing: Landing, picks: Picks) -> None:
    """Late rows after the first build: each exercises one rule of §3/§4."""
    redeliver_chats_and_ai(landing, picks)
    redeliver_messages_and_sms(landing, picks)
    redeliver_calls(landing, picks)
    redeliver_speech(landing, picks)
    land_new_events(landing, picks, BOUNDARIES, "dst")


def redeliver_chats_and_ai(landing: Landing, picks: Picks) -> None:
    chats, events, members = picks.chats, picks.ai, picks.members
    # Re-deliveries of chats: the owner moves to another member, or to nobody (the chat's AI
    # usage moves with it, §4 "Member usage"), or the chat moves to another day.
    owner = landing.latest("chats", chats[0])["owner_member_id"]
    landing.redeliver("chats", chats[0], owner_member_id=next(m for m in members if m != owner))
    landing.redeliver("chats", chats[1], owner_member_id=None)
    landing.redeliver("chats", chats[2], created_at=BOUNDARIES[5 + picks.position])
    landing.stale_copy("chats", chats[3], owner_member_id=None)  # stamped before: loses
    landing.redeliver("chats", chats[4], workspace_id=None)  # now invalid: its AI usage is nobody's
    # AI: the later copy's tokens, credits and model count; a copy may move the event to another
    # day, make it invalid (it drops out), or land twice; a copy stamped earlier loses.
    changed = {
        "prompt_tokens": 4321,
        "credits": Decimal("1.234567"),
        "model": "gpt-4.1",
        "model_type": "chat",
    }
    landing.redeliver("ai_usage_events", events[0], provider="openai", **changed)
    landing.redeliver("ai_usage_events", events[1], recorded_at=BOUNDARIES[4])
    landing.redeliver("ai_usage_events", events[2], completion_tokens=-1)
    landing.redeliver("ai_usage_events", events[3], workspace_id=None)
    landing.stale_copy("ai_usage_events", events[4], credits=Decimal(999))
    twice = landing.redeliver("ai_usage_events", events[5], cached_tokens=7)
    landing.redeliver("ai_usage_events", events[5], cached_tokens=twice["cached_tokens"] + 5)
    # §4 "Late rows": a chat that lands after its AI events
    chat_id = uid(f"late-chat-{picks.workspace}")
    template = landing.latest("ai_usage_events", events[6])
    landing.insert(
        "ai_usage_events", {**template, "event_id": uid(f"ai-late-{picks.workspace}"), "chat_id": chat_id}
    )
    landing.insert("chats", {"chat_id": chat_id, "workspace_id": picks.workspace, "owner_member_id": members[1],
                             "created_at": BOUNDARIES[3]})  # fmt: skip


def redeliver_messages_and_sms(landing: Landing, picks: Picks) -> None:
    messages, members, sms, numbers = picks.messages, picks.members, picks.sms, picks.numbers
    landing.redeliver("messages", messages[0], sender_member_id=members[0])
    landing.redeliver("messages", messages[1], created_at=BOUNDARIES[8 - picks.position])
    landing.redeliver("messages", messages[2], workspace_id=None)  # now invalid
    landing.stale_copy("messages", messages[3], sender_member_id=None)
    landing.redeliver("sms_messages", sms[0], body="ça va? " * 30, carrier_segments=None)  # now UCS-2
    landing.redeliver("sms_messages", sms[1], workspace_number=numbers[-1], direction="inbound")
    landing.redeliver("sms_messages", sms[2], direction="sideways")  # now invalid
    landing.redeliver("sms_messages", sms[3], body=None)  # now invalid
    landing.stale_copy("sms_messages", sms[4], body="x" * 500, carrier_segments=None)


def call_row(call_id: str, workspace: UUID, number: str, status: str, updated: datetime, **times: Any) -> Row:
    return {
        "call_id": call_id, "workspace_id": workspace, "direction": "inbound", "workspace_number": number,
        "remote_number": "+15551230000", "status": status, "started_at": times.get("started_at"),
        "ended_at": times.get("ended_at"), "answered_by": "ai", "updated_at": updated,
    }  # fmt: skip


def redeliver_calls(landing: Landing, picks: Picks) -> None:
    workspace, completed, number = picks.workspace, picks.completed_calls, picks.numbers[0]
    # §4 "Phone": a call that finishes after its day was built is counted by the next build
    for index, call_id in enumerate(picks.stuck_calls):
        state = landing.latest("call_events", call_id)
        ended = state["started_at"] + CALL_LENGTHS[index + 3][0]
        landing.insert("call_events", {**state, "status": "completed", "ended_at": ended,
                                       "updated_at": ended + timedelta(seconds=1)})  # fmt: skip
    # §3: an older state landing last loses to the later `updated_at`
    older = landing.latest("call_events", completed[0])["updated_at"] - timedelta(minutes=5)
    landing.redeliver("call_events", completed[0], status="ringing", ended_at=None, updated_at=older)
    # the same `updated_at`, landed last: it wins, with its own end, or even as a non-final state
    final = landing.latest("call_events", completed[1])
    landing.redeliver("call_events", completed[1], ended_at=final["started_at"] + CALL_LENGTHS[4][0])
    landing.redeliver("call_events", completed[2], status="in-progress", ended_at=None)  # finished in round 2
    landing.redeliver("call_events", completed[5], status="in-progress", ended_at=None)  # stays unfinished
    landing.redeliver("call_events", completed[3], direction="sideways")  # now invalid
    landing.stale_copy("call_events", completed[4], ended_at=None)  # stamped before: loses
    # §3: a tie on `updated_at` and on landing: the final status wins
    at, landed = BOUNDARIES[7], landing.tick()
    for status, ended in (("in-progress", None), ("completed", at + timedelta(seconds=42.5))):
        tied = call_row(
            f"CAoracle-tie-{picks.position}", workspace, number, status, at, started_at=at, ended_at=ended
        )
        landing.insert("call_events", tied, loaded_at=landed)
    # §4 "Phone": completed without a start is left out
    no_start = call_row(f"CAoracle-nostart-{picks.position}", workspace, number, "completed", at, ended_at=at)
    landing.insert("call_events", no_start)


def redeliver_speech(landing: Landing, picks: Picks) -> None:
    stt, tts = picks.stt, picks.tts
    landing.redeliver("stt_events", stt[0], duration_seconds=Decimal("12.345"), model="whisper-oracle")
    landing.redeliver("stt_events", stt[1], duration_seconds=Decimal("-1.000"))  # now invalid
    landing.stale_copy("stt_events", stt[2], duration_seconds=Decimal("9999.999"))
    landing.redeliver("tts_events", tts[0], characters=777, provider="azure", model="neural-oracle")
    landing.redeliver("tts_events", tts[1], recorded_at=BOUNDARIES[2 + picks.position])
    landing.stale_copy("tts_events", tts[2], characters=1)


def land_new_events(landing: Landing, picks: Picks, instants: Sequence[datetime], tag: str) -> None:
    """New rows of every kind at `instants` (each beside a local midnight), landing late: chats
    and their AI events (or AI events in the chat whose owner moved), messages of every role,
    SMS with every body of SMS_BODIES, calls of every length of CALL_LENGTHS, STT and TTS."""
    workspace, members, number = picks.workspace, picks.members, picks.numbers[0]
    ai_template = landing.latest("ai_usage_events", picks.ai[6])
    message_template = landing.latest("messages", picks.messages[0])
    for index, at in enumerate(instants):
        key = f"{tag}-{picks.position}-{index}"
        chat = uid(f"chat-{key}") if index % 2 == 0 else picks.chats[0]
        if index % 2 == 0:
            landing.insert("chats", {"chat_id": chat, "workspace_id": workspace,
                                     "owner_member_id": members[index % 3], "created_at": at})  # fmt: skip
        landing.insert("ai_usage_events", {
            **ai_template, "event_id": uid(f"ai-{key}"), "chat_id": chat, "recorded_at": at,
            "prompt_tokens": 100 + index, "completion_tokens": 10 * index, "credits": Decimal("0.000001") * (index + 1),
        })  # fmt: skip
        landing.insert("messages", {
            **message_template, "message_id": uid(f"msg-{key}"), "created_at": at,
            "sender_member_id": members[index % 3], "role": ("user", "tool", "system")[index % 3],
        })  # fmt: skip
        call_id, (length, _) = f"CAoracle-{key}", CALL_LENGTHS[index % len(CALL_LENGTHS)]
        landing.insert(
            "call_events", call_row(call_id, workspace, number, "ringing", at - timedelta(seconds=3))
        )
        landing.insert("call_events", call_row(call_id, workspace, number, "in-progress", at, started_at=at))
        done = call_row(
            call_id, workspace, number, "completed", at + length, started_at=at, ended_at=at + length
        )
        landing.insert("call_events", done)
        speech = {"workspace_id": workspace, "call_id": call_id, "recorded_at": at}
        landing.insert("stt_events", {**speech, "event_id": uid(f"stt-{key}"), "provider": "deepgram",
                                      "model": "nova-3", "duration_seconds": Decimal("0.001") * (index * 37 + 1)})  # fmt: skip
        landing.insert("tts_events", {**speech, "event_id": uid(f"tts-{key}"), "provider": "openai",
                                      "model": "tts-1", "characters": index * 11})  # fmt: skip
    for index, (text, carrier, _) in enumerate(SMS_BODIES):
        landing.insert("sms_messages", {
            "sms_id": f"SMoracle-{tag}-{picks.position}-{index}", "workspace_id": workspace,
            "direction": ("inbound", "outbound")[index % 2], "workspace_number": picks.numbers[index % len(picks.numbers)],
            "remote_number": "+447700900123", "body": text, "carrier_segments": carrier,
            "sent_at": instants[index % len(instants)],
        })  # fmt: skip


def land_ties(landing: Landing, workspace: UUID) -> None:
    """The "ties" day (TIE_MODELS) for AI; for voice and SMS, names whose order is by code point."""
    for index, (provider, model, kind) in enumerate(TIE_MODELS):
        landing.insert("ai_usage_events", {
            "event_id": uid(f"tie-{index}"), "workspace_id": workspace, "chat_id": None, "source": "realtime",
            "provider": provider, "model": model, "model_type": kind, "prompt_tokens": index,
            "completion_tokens": 1, "cached_tokens": 0, "audio_input_tokens": 2, "audio_output_tokens": 3,
            "credits": Decimal("1.5"), "recorded_at": TIES_AT,
        })  # fmt: skip
        event = {
            "workspace_id": workspace,
            "call_id": None,
            "provider": provider,
            "model": model,
            "recorded_at": TIES_AT,
        }
        landing.insert(
            "stt_events", {**event, "event_id": uid(f"tie-stt-{index}"), "duration_seconds": Decimal("0.5")}
        )
        landing.insert("tts_events", {**event, "event_id": uid(f"tie-tts-{index}"), "characters": 5})
        landing.insert("sms_messages", {
            "sms_id": f"SMtie-{index}", "workspace_id": workspace, "direction": "outbound",
            "workspace_number": ("+15550100001", "+447700900001", "+4930123")[index % 3],
            "remote_number": "+15550100999", "body": "tie", "carrier_segments": None, "sent_at": TIES_AT,
        })  # fmt: skip


def land_second_round(conn: psycopg.Connection[Any], landing: Landing, picks: Picks) -> None:
    """Late rows after the second build: copies of first-round rows again (a third day for one
    event, the owner back), and invalid rows repaired (they count again)."""
    landing.redeliver("ai_usage_events", picks.ai[1], recorded_at=FIRST_INSTANT)
    landing.redeliver("ai_usage_events", picks.ai[2], completion_tokens=55)
    landing.redeliver("chats", picks.chats[0], owner_member_id=picks.members[-1])
    landing.redeliver("chats", picks.chats[1], owner_member_id=picks.members[2])
    landing.redeliver("messages", picks.messages[2], workspace_id=picks.workspace, created_at=LAST_INSTANT)
    landing.redeliver("sms_messages", picks.sms[0], sent_at=LAST_INSTANT)
    landing.redeliver("sms_messages", picks.sms[2], direction="outbound", sent_at=FIRST_INSTANT)
    landing.redeliver("stt_events", picks.stt[1], duration_seconds=Decimal("3.210"))
    # a call's final state again, started a day earlier (it moves a day; its length grows a day)
    final = landing.latest("call_events", f"CAoracle-dst-{picks.position}-4")
    landing.redeliver("call_events", final["call_id"], started_at=final["started_at"] - timedelta(days=1))
    # the call whose non-final state won a tie finishes at last
    state = landing.latest("call_events", picks.completed_calls[2])
    ended = state["started_at"] + timedelta(seconds=61.5)
    landing.insert("call_events", {**state, "status": "completed", "ended_at": ended,
                                   "updated_at": state["updated_at"] + timedelta(hours=1)})  # fmt: skip
    # moved far back, before every range but "early" (a key used only before a range is not in it)
    landing.redeliver("ai_usage_events", picks.ai[0], recorded_at=EARLY, model="legacy-model")
    landing.redeliver("messages", picks.messages[0], created_at=EARLY)
    landing.redeliver("sms_messages", picks.sms[1], sent_at=EARLY)
    landing.redeliver("stt_events", picks.stt[0], recorded_at=EARLY)
    landing.redeliver("call_events", f"CAoracle-dst-{picks.position}-3", started_at=EARLY)
    land_new_events(landing, picks, FALL_BACK, "fall")
    if picks.position == 0:
        repair_generated_invalid_rows(conn, landing, picks.workspace)


def repair_generated_invalid_rows(conn: psycopg.Connection[Any], landing: Landing, workspace: UUID) -> None:
    """The generator's invalid rows (§4), each delivered again valid: they count from now on."""
    repairs = (
        ("ai_usage_events", "prompt_tokens < 0", {"prompt_tokens": 120}),
        ("ai_usage_events", "workspace_id is null", {"workspace_id": workspace}),
        ("sms_messages", "direction not in ('inbound', 'outbound')", {"direction": "inbound"}),
        ("sms_messages", "body is null", {"body": "Back again €"}),
        ("call_events", "status = 'exploded'", {"status": "completed", "direction": "outbound"}),
        ("stt_events", "duration_seconds < 0", {"duration_seconds": Decimal("4.250")}),
    )
    for table, where, changes in repairs:
        query = f"select {ID_COLUMNS[table]} from raw.{table} where {where} and _loaded_at < %s order by 1 limit 1"
        (row_id,) = pick(conn, query, LATE)
        if table == "call_events":  # completed needs both times: a 90.5 s call
            at = landing.latest(table, row_id)["updated_at"]
            changes = {**changes, "started_at": at - timedelta(seconds=90.5), "ended_at": at}
        landing.redeliver(table, row_id, **changes)


def land_late_rows(
    conn: psycopg.Connection[Any], landing: Landing, picks: list[Picks], round_: int, ties_workspace: UUID
) -> None:
    """One round of late rows in one transaction (committed before the next build reads raw)."""
    with conn.transaction():
        for workspace_picks in picks:
            if round_ == 1:
                land_first_round(landing, workspace_picks)
            else:
                land_second_round(conn, landing, workspace_picks)
        if round_ == 1:
            land_ties(landing, ties_workspace)
        else:  # the newest landing of all (§5 `data_as_of`) is a valid row
            landing.insert("sms_messages", {
                "sms_id": "SMoracle-last", "workspace_id": picks[0].workspace, "direction": "inbound",
                "workspace_number": "+15550009999", "remote_number": "+15557654321", "body": "Last",
                "carrier_segments": None, "sent_at": LAST_INSTANT,
            })  # fmt: skip


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    facts: Facts
    workspaces: list[UUID]
    members: dict[UUID, list[UUID]]
    keys: dict[UUID, Key]
    client: FlaskClient


def build_warehouse() -> list[UUID]:
    """Demo data (with its invalid rows) and a full build, as other pipeline tests do; then two
    rounds of late rows, each taken by an incremental build (§4 "Late rows")."""
    recreate_database(DATABASE)
    dbt(DATABASE, "run-operation", "create_raw_tables")
    with connect(DATABASE) as conn:
        generate(conn, seed=18, scale=0.3, days=DAYS, end_date=END, workspaces=WORKSPACES, replace=True,
                 invalid_rows=True)  # fmt: skip
        workspaces = pick(conn, "select workspace_id from raw.workspaces order by created_at, workspace_id")
        # the late rows are about the two first workspaces; the third keeps the "ties" day
        picks = [choose(conn, workspace, position) for position, workspace in enumerate(workspaces[:2])]
    dbt(DATABASE, "build", "--full-refresh", "--exclude-resource-type", "unit_test")
    with connect(DATABASE) as conn:
        landing = Landing(conn)
        for round_ in (1, 2):
            land_late_rows(conn, landing, picks, round_, ties_workspace=workspaces[2])
            dbt(DATABASE, "build", "--exclude-resource-type", "unit_test")
    return workspaces


def admin_of(conn: psycopg.Connection[Any], workspace: UUID) -> UUID:
    """A member of the workspace whose role holds analytics:read (the generator's admins)."""
    admins = pick(
        conn,
        """select member_id from raw.members where workspace_id = %s and role_id = 'admin'
           group by member_id having bool_and(deleted_at is null) order by member_id""",
        workspace,
    )
    return admins[0]


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    workspaces = build_warehouse()
    app: Flask = create_app(
        {
            "TESTING": True,
            "DATABASE_CONNINFO": make_conninfo(dbname=DATABASE),
            "ADMIN_CONNINFO": make_conninfo(dbname=DATABASE),
        }
    )
    with connect(DATABASE) as conn:
        facts = facts_from_raw(conn)
        members = {workspace: members_of(conn, workspace) for workspace in workspaces}
        admins = {workspace: admin_of(conn, workspace) for workspace in workspaces}
    keys = {
        workspace: create_key_with_cli(
            app, str(workspace), str(admins[workspace]), "Oracle", ["analytics:read", "members:read"]
        )
        for workspace in workspaces
    }
    yield Scenario(facts, workspaces, members, keys, app.test_client())
    app.extensions["usage_reports_db"].close()


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


def differences(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """Where `actual` (the API's JSON, non-integers as Decimal) differs from `expected`. A count
    must be a JSON integer; a Decimal (credits, seconds) any JSON number of the same value."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return [
                f"{path}: keys {sorted(actual) if isinstance(actual, dict) else actual!r} != {sorted(expected)}"
            ]
        return [line for key in expected for line in differences(actual[key], expected[key], f"{path}.{key}")]
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: {actual!r} is no list"]
        found = [
            line
            for index, (a, e) in enumerate(zip(actual, expected, strict=False))
            for line in differences(a, e, f"{path}[{index}]")
        ]
        if len(actual) != len(expected):
            found.append(
                f"{path}: {len(actual)} items != {len(expected)}; extra: "
                f"{actual[len(expected) :][:3]!r} missing: {expected[len(actual) :][:3]!r}"
            )
        return found
    if isinstance(expected, Decimal):
        if isinstance(actual, int | Decimal) and not isinstance(actual, bool) and Decimal(actual) == expected:
            return []
    elif type(actual) is type(expected) and actual == expected:
        return []
    return [f"{path}: API {actual!r} != oracle {expected!r}"]


def assert_matches(actual: Any, expected: Any, context: str) -> None:
    found = differences(actual, expected)
    assert not found, f"{context}: {len(found)} differences\n" + "\n".join(found[:25])


def request(scenario: Scenario, workspace: UUID, path: str, window: Window, fmt: str = "json") -> Any:
    query = {"start_date": window.start.isoformat(), "end_date": window.end.isoformat(), "tz": window.zone}
    if fmt == "csv":
        query["format"] = "csv"
    response = scenario.client.get(
        f"/api/v2/w/{workspace}/reports/{path}", query_string=query, headers=scenario.keys[workspace].header
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True) if fmt == "csv" else body(response)


def checked_json(scenario: Scenario, workspace: UUID, path: str, window: Window) -> Any:
    """The report's JSON with `data_as_of` checked (§5: the newest raw row) and set aside."""
    payload = request(scenario, workspace, path, window)
    name = "data_as_of" if "data_as_of" in payload else "dataAsOf"
    assert datetime.fromisoformat(payload.pop(name)) == scenario.facts.data_as_of, (path, window)
    return payload


def windows(zone: str, range_name: str, workspaces: Iterable[UUID]) -> Iterator[Window]:
    start, end = RANGES[range_name]
    for workspace in workspaces:
        yield Window(workspace, zone, start, end)


# The CSV columns (README, "Time zones, CSV and caching"), and how the oracle types each field.
AI_CSV_COLUMNS = (
    "date", "provider", "model", "type", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens",
    "audio_input_tokens", "audio_output_tokens", "credits",
)  # fmt: skip
SMS_CSV_COLUMNS = (
    "date", "phone_number", "inbound", "outbound", "characters", "segments", "inbound_segments",
    "outbound_segments",
)  # fmt: skip
PHONE_CSV_COLUMNS = ("date", "phone_number", "inbound", "outbound", "total_duration_seconds")
VOICE_CSV_COLUMNS = ("date", "kind", "provider", "model", "messages", "duration_seconds", "characters")
MEMBER_CSV_COLUMNS = ("date", "chats", "messages", "credits", "tokens")
CSV_DECIMALS = frozenset({"credits", "duration_seconds"})
CSV_TEXTS = frozenset({"date", "provider", "model", "type", "phone_number", "kind"})


def csv_value(name: str, value: str) -> Any:
    """A CSV field as the oracle writes it: numbers typed, voice's other-kind column None."""
    if value == "" and name in ("duration_seconds", "characters"):
        return None
    if name in CSV_TEXTS:
        return value
    return Decimal(value) if name in CSV_DECIMALS else int(value)


def line_order(line: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(value) for value in line[:4])


def csv_lines(text: str, header: Sequence[str]) -> list[tuple[Any, ...]]:
    """The file's lines as typed tuples, sorted (the contract promises the lines, not their order)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    assert next(reader) == list(header)
    lines = [
        tuple(csv_value(name, value) for name, value in zip(header, line, strict=True)) for line in reader
    ]
    return sorted(lines, key=line_order)


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------

ZONE_RANGES = [(zone, name) for zone in ZONES for name in RANGES]


def test_the_oracle_segments_bodies_as_worked_by_hand() -> None:
    """The oracle's own SMS rule (§4) against counts worked by hand, so the comparison below
    rests on a checked oracle."""
    for text, carrier, expected in SMS_BODIES:
        assert sms_segments(text, carrier) == expected, (text[:20], len(text))
    assert sms_units("Ç€😀")[0] == [1, 1, 2]  # UCS-2: € is one unit, the emoji two
    assert sms_units("Ç€")[0] == [1, 2]  # GSM-7: € is an extension character, two septets


def test_the_scenario_exercises_the_rules(scenario: Scenario) -> None:
    """Not vacuous: raw holds the rows the rules are about, every report has data in every zone
    and range around the change, the "ties" day ties, and the "empty" range is empty."""
    facts = scenario.facts
    with connect(DATABASE) as conn:
        redelivered = pick(
            conn, "select count(distinct event_id) from raw.ai_usage_events where _loaded_at > %s", LATE
        )
        invalid = pick(
            conn,
            "select count(*) from raw.sms_messages where direction <> 'inbound' and direction <> 'outbound' or body is null",
        )
    assert redelivered[0] >= 30 and invalid[0] >= 6
    for zone in ZONES:
        for name in ("wide", "generated", "dst", "dst_day"):
            for window in windows(zone, name, scenario.workspaces[:2]):
                assert ai_report(window, facts)["top_models"] and voice_report(window, facts)["sttRows"], (
                    window
                )
                assert sms_report(window, facts)["rows"] and phone_report(window, facts)["rows"], window
                assert any(
                    member_report(window, facts, m)["totalCredits"]
                    for m in scenario.members[window.workspace]
                )
        ties = ai_report(Window(scenario.workspaces[2], zone, *RANGES["ties"]), facts)
        assert {row["total_credits"] for row in ties["by_provider"] + ties["by_type"]} == {6, 9}
        assert len(ties["top_models"]) == 10 and {row["total_credits"] for row in ties["top_models"]} == {
            Decimal("1.5")
        }
        early = ai_report(Window(scenario.workspaces[0], zone, *RANGES["early"]), facts)
        assert "legacy-model" in {row["model"] for row in early["top_models"]}
        for name in ("after", "empty"):
            nothing = Window(scenario.workspaces[0], zone, *RANGES[name])
            assert not any(sms_report(nothing, facts)["rows"] + ai_report(nothing, facts)["by_type"])


WORKSPACE_REPORTS: dict[str, Callable[[Window, Facts], dict[str, Any]]] = {
    "ai-usage": ai_report,
    "sms-usage": sms_report,
    "phone-usage": phone_report,
    "voice-usage": voice_report,
}


@pytest.mark.parametrize("report", list(WORKSPACE_REPORTS))
@pytest.mark.parametrize(("zone", "range_name"), ZONE_RANGES)
def test_workspace_report(scenario: Scenario, report: str, zone: str, range_name: str) -> None:
    for window in windows(zone, range_name, scenario.workspaces):
        expected = WORKSPACE_REPORTS[report](window, scenario.facts)
        assert_matches(
            checked_json(scenario, window.workspace, report, window), expected, f"{report} {window}"
        )


@pytest.mark.parametrize(("zone", "range_name"), ZONE_RANGES)
def test_member_usage_of_every_member(scenario: Scenario, zone: str, range_name: str) -> None:
    for window in windows(zone, range_name, scenario.workspaces):
        for member in scenario.members[window.workspace]:
            expected = member_report(window, scenario.facts, member)
            actual = checked_json(scenario, window.workspace, f"member-usage/{member}", window)
            assert_matches(actual, expected, f"{window} member {member}")


CsvOracle = Callable[[Window, Facts], list[tuple[Any, ...]]]
CSV_REPORTS: dict[str, tuple[tuple[str, ...], CsvOracle]] = {
    "ai-usage": (AI_CSV_COLUMNS, ai_csv),
    "sms-usage": (
        SMS_CSV_COLUMNS,
        lambda window, facts: [tuple(row.values()) for row in sms_rows(window, facts)],
    ),
    "phone-usage": (
        PHONE_CSV_COLUMNS,
        lambda window, facts: [tuple(row.values()) for row in phone_rows(window, facts)],
    ),
    "voice-usage": (VOICE_CSV_COLUMNS, voice_csv),
}


@pytest.mark.parametrize("report", [*CSV_REPORTS, "member-usage"])
@pytest.mark.parametrize(("zone", "range_name"), ZONE_RANGES)
def test_csv_lines(scenario: Scenario, report: str, zone: str, range_name: str) -> None:
    """§6: the report's rows as CSV, one line per row of its finest grouping."""
    for window in windows(zone, range_name, scenario.workspaces):
        if report == "member-usage":
            for member in scenario.members[window.workspace][:4]:
                text = request(scenario, window.workspace, f"member-usage/{member}", window, "csv")
                lines = csv_lines(text, MEMBER_CSV_COLUMNS)
                assert_matches(lines, member_csv(window, scenario.facts, member), f"{window} member {member}")
            continue
        header, oracle = CSV_REPORTS[report]
        lines = csv_lines(request(scenario, window.workspace, report, window, "csv"), header)
        expected = sorted(oracle(window, scenario.facts), key=line_order)
        assert_matches(lines, expected, f"{report} {window}")
