#!/usr/bin/env python3
"""Deterministic demo and benchmark data for the raw landing tables (CONTRACT §3).

Loads workspaces, roles, members, chats, messages, AI usage, SMS, call state changes and STT/TTS
events into the existing ``raw.*`` tables with ``COPY`` (one transaction), and prints what it
loaded::

    python scripts/pgenv.py -- python scripts/generate_demo_data.py --seed 7 --replace

(``make demo-key`` picks the members that get keys from the built marts, not from here.)

Determinism. Everything comes from ``random.Random`` instances seeded from ``--seed`` (one per
workspace, day and kind of activity, one per chat and per call), so the same ``--seed``,
``--scale``, ``--days``, ``--workspaces`` and ``--end-date`` give byte-identical rows, ids and
``_loaded_at`` included, as long as the end date lies in the past.

The end date and "now". Events cover ``--days`` UTC days ending with ``--end-date`` (today by
default) and never lie after the *cutoff*:

* end date before today (UTC): the cutoff is 00:00 UTC of the next day, so the end date is a
  full day and nothing depends on the clock;
* end date today: the cutoff is the current time rounded down to the hour (to the second during
  the first hour of the day), so nothing is in the future, and two runs in the same hour are
  identical. Today's volume is the share of a day's activity that falls before the cutoff.

``_loaded_at`` is at most the cutoff minus 1 ms. It is normally the event time plus seconds to
minutes; ~1% of rows land 1-5 days late and ~0.5% are delivered twice (an identical row with a
later ``_loaded_at``), both clamped to the cutoff. The first workspace always gets, on the end
date, chats, messages and AI usage of its demo admin and demo member, an inbound and an outbound
SMS, and a completed AI-answered call with STT and TTS events, so every report has data for its
default range.

Sizing. Workspace 0 carries ~40% of the activity (the others share the rest, decreasing), and
row counts grow linearly with ``--scale``, ``--days`` and ``--workspaces`` (~550 rows per
workspace-day at scale 1). Measured on 2 cores: the defaults (4 workspaces, 90 days, scale 1)
load ~200k rows in ~4 s; ``--workspaces 10 --days 365 --scale 1`` loads ~2.0M rows in ~36 s; and
``--workspaces 10 --days 365 --scale 5`` loads ~10.1M rows (workspace 0: 40%) in ~3.5 minutes.
Rows are produced by generators, one workspace-day at a time (chats and calls are re-derived
from their seeds for each table), so memory stays flat (~50 MB) at any scale.

``--invalid-rows`` adds a handful of rows the contract calls invalid (negative tokens and
durations, unknown direction or status, null workspace or SMS body, a call ending before it
started). Without ``--replace`` rows are appended to whatever the tables hold.
"""

# The SMS bodies and names below are deliberately non-ASCII (GSM and UCS-2 test text).
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import bisect
import math
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Row = tuple[Any, ...]
Usage = tuple[int, int, int, int, int]  # prompt, completion, cached, audio input, audio output tokens
Timed = tuple[Row, int]  # a row without _loaded_at, and the event time it is loaded after (ms)

# Expected events per workspace-day at --scale 1 for a workspace of average size.
RATES = {"chats": 19.0, "calls": 27.0, "sms": 145.0, "realtime": 5.0, "stt": 11.0, "tts": 11.0}
LATE_RATE = 0.01
DUPLICATE_RATE = 0.005
FIRST_WORKSPACE_SHARE = 0.4

TABLES: dict[str, tuple[str, ...]] = {
    "workspaces": ("workspace_id", "name", "created_at"),
    "roles": ("role_id", "workspace_id", "name"),
    "role_scopes": ("role_id", "scope"),
    "members": ("member_id", "workspace_id", "role_id", "display_name", "created_at", "deleted_at"),
    "chats": ("chat_id", "workspace_id", "owner_member_id", "created_at"),
    "messages": (
        "message_id",
        "workspace_id",
        "chat_id",
        "sender_member_id",
        "role",
        "channel",
        "created_at",
    ),
    "ai_usage_events": (
        "event_id",
        "workspace_id",
        "chat_id",
        "source",
        "provider",
        "model",
        "model_type",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "audio_input_tokens",
        "audio_output_tokens",
        "credits",
        "recorded_at",
    ),
    "sms_messages": (
        "sms_id",
        "workspace_id",
        "direction",
        "workspace_number",
        "remote_number",
        "body",
        "carrier_segments",
        "sent_at",
    ),
    "call_events": (
        "call_id",
        "workspace_id",
        "direction",
        "workspace_number",
        "remote_number",
        "status",
        "started_at",
        "ended_at",
        "answered_by",
        "updated_at",
    ),
    "stt_events": (
        "event_id",
        "workspace_id",
        "call_id",
        "provider",
        "model",
        "duration_seconds",
        "recorded_at",
    ),
    "tts_events": ("event_id", "workspace_id", "call_id", "provider", "model", "characters", "recorded_at"),
}

# --------------------------------------------------------------------------------------------
# Catalogues
# --------------------------------------------------------------------------------------------

WORKSPACE_NAMES = (
    "Acme Dental Group",
    "Northwind Logistics",
    "Bluebird Realty",
    "Harbor City Clinic",
    "Summit Legal Partners",
    "Evergreen Home Services",
    "Lakeside Auto Repair",
    "Copperleaf Insurance",
    "Riverbend Veterinary",
    "Pinecrest Property Management",
    "Brightside Tutoring",
    "Maple Street Bakery",
)
FIRST_NAMES = (
    "Ava", "Liam", "Sofía", "Noah", "Chloé", "Mateo", "Zoë", "Ethan", "Amara", "Lucas", "Łukasz",
    "Priya", "Søren", "Mei", "Omar", "Hana", "Diego", "Fatima", "Jonas", "Elif", "Kwame", "Ingrid",
    "Rafael", "Yuki", "Aisha", "Björn", "Camila", "Dmitri", "Grace", "Tomás",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "García", "Müller", "Nguyen", "Okafor", "Rossi", "Kowalski", "Johansson", "Patel",
    "Kim", "Dubois", "Silva", "O'Brien", "Novak", "Haddad", "Tanaka", "Larsen", "Moreno", "Cohen",
    "Schmidt", "Ivanova", "Fernández", "Brown", "Yılmaz",
)  # fmt: skip

DEFAULT_ROLES = (("admin", "Admin"), ("manager", "Manager"), ("member", "Member"))
ROLE_SCOPES = {
    "admin": ("analytics:read", "members:read"),
    "manager": ("analytics:read", "members:read"),
    "member": ("members:read",),
}
CUSTOM_ROLE_SCOPES = ("analytics:read",)
# Roles of members beyond the first four (who are admin, manager, member, analyst).
EXTRA_ROLE_WEIGHTS = (("admin", 8), ("manager", 15), ("member", 67), ("analyst", 10))


@dataclass(frozen=True, slots=True)
class Model:
    provider: str
    name: str
    kind: str  # chat | realtime
    popularity: float
    # Credits per million tokens: prompt, cached prompt, completion, audio input, audio output.
    prices: tuple[float, float, float, float, float]


MODELS = (
    Model("openai", "gpt-4o", "chat", 5, (250, 125, 1000, 0, 0)),
    Model("openai", "gpt-4o-mini", "chat", 8, (15, 7.5, 60, 0, 0)),
    Model("openai", "gpt-4.1", "chat", 4, (200, 50, 800, 0, 0)),
    Model("openai", "gpt-4.1-mini", "chat", 4, (40, 10, 160, 0, 0)),
    Model("openai", "o3-mini", "chat", 2, (110, 55, 440, 0, 0)),
    Model("openai", "gpt-4o-realtime-preview", "realtime", 5, (500, 250, 2000, 4000, 8000)),
    Model("openai", "gpt-4o-mini-realtime-preview", "realtime", 3, (60, 30, 240, 1000, 2000)),
    Model("anthropic", "claude-sonnet-4", "chat", 6, (300, 30, 1500, 0, 0)),
    Model("anthropic", "claude-haiku-3.5", "chat", 5, (80, 8, 400, 0, 0)),
    Model("anthropic", "claude-opus-4", "chat", 1, (1500, 150, 7500, 0, 0)),
    Model("google", "gemini-2.5-pro", "chat", 3, (125, 31, 1000, 0, 0)),
    Model("google", "gemini-2.5-flash", "chat", 5, (30, 7.5, 250, 0, 0)),
    Model("google", "gemini-2.0-flash-live", "realtime", 2, (35, 0, 150, 210, 850)),
    Model("aws", "amazon.nova-pro", "chat", 2, (80, 20, 320, 0, 0)),
    Model("aws", "amazon.nova-lite", "chat", 3, (6, 1.5, 24, 0, 0)),
    Model("aws", "amazon.nova-sonic", "realtime", 1, (6, 0, 24, 340, 1360)),
)
PROVIDERS = ("openai", "anthropic", "google", "aws")
SUMMARY_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-3.5",
    "google": "gemini-2.5-flash",
    "aws": "amazon.nova-lite",
}
MODELS_BY_NAME = {model.name: model for model in MODELS}

STT_MODELS = (
    ("deepgram", "nova-3", 5),
    ("deepgram", "nova-2", 2),
    ("openai", "whisper-1", 3),
    ("openai", "gpt-4o-transcribe", 3),
    ("google", "chirp-2", 2),
    ("aws", "transcribe-standard", 1),
)
TTS_MODELS = (
    ("elevenlabs", "eleven_flash_v2_5", 5),
    ("elevenlabs", "eleven_multilingual_v2", 2),
    ("openai", "tts-1", 3),
    ("openai", "gpt-4o-mini-tts", 3),
    ("google", "neural2", 2),
    ("aws", "polly-neural", 1),
)

# Share of a day's activity per UTC hour (US and European business hours overlap).
HOUR_WEIGHTS = (3, 2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 6, 7, 7.5, 7.5, 8, 9, 10, 10, 9.5, 9, 8, 7, 6, 5, 4)
WEEKDAY_FACTORS = (1.1, 1.15, 1.15, 1.1, 1.0, 0.55, 0.45)
US_AREA_CODES = ("212", "415", "512", "617", "303", "206", "312", "404", "305", "702")
REMOTE_COUNTRIES = (("+1", 10, 70), ("+44", 10, 8), ("+49", 11, 5), ("+33", 9, 4), ("+52", 10, 5),
                    ("+34", 9, 3), ("+61", 9, 3), ("+81", 10, 2))  # fmt: skip

# --------------------------------------------------------------------------------------------
# SMS bodies and segments (GSM 03.38 default alphabet and extension table, 3GPP TS 23.038)
# --------------------------------------------------------------------------------------------

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

SHORT_TEMPLATES = (
    "Hi {first}, your appointment is confirmed for {day} at {clock}. Reply C to confirm or R to reschedule.",
    "Your verification code is {code}.",
    "Thanks! We received your message and will get back to you shortly.",
    "Running 10 min late, sorry!",
    "Yes",
    "OK",
    "STOP",
    "Can you call me back?",
    "Your order #{number} has shipped. Track it at https://example.com/t/{code}",
    "Reminder: {first}, your payment of ${amount} is due on {day}.",
    "Is the {clock} slot still free on {day}?",
    "Got it, thanks {first}.\nSee you {day}.",
)
LONG_SENTENCES = (
    "Hi {first}, this is a reminder from our office about your visit on {day} at {clock}.",
    "Please bring your ID card and arrive ten minutes early so we can complete the paperwork.",
    "If you need to reschedule, reply with a new date or call us during business hours.",
    "Parking is available behind the building; the entrance is on the left side.",
    "We have also attached the invoice #{number} for the last visit, total ${amount}.",
    "Our support team is available from 8am to 6pm, Monday to Friday.",
    "Thank you for choosing us, and have a great day!",
)
EXTENSION_TEMPLATES = (
    "Your balance is €{amount} [ref {code}]",
    "Use code {{SAVE20}} at checkout ~ 20% off ^_^",
    "Files are in C:\\Users\\{first}\\invoices | ask if missing",
    "Menu: [1] book [2] cancel [3] talk to a human",
    "Total ~€{amount} | paid",
)
EMOJI_TEMPLATES = (
    "Thanks {first}! 😀",
    "See you {day} 👋🏼",
    "Great job 🎉🎉🎉",
    "On my way 🚗💨",
    "Love it ❤️",
    "👍",
)
UNICODE_TEMPLATES = (
    "您好，您的预约已确认。",
    "Здравствуйте! Ваш заказ готов к выдаче.",
    "Merci, ça marche pour {day}.",
    "Dziękuję bardzo, {first}!",
    "Teşekkürler, yarın görüşürüz.",
    "Ευχαριστώ πολύ!",
    "ありがとうございます。",
    "شكرا لك",
    "Olá {first}, a consulta está confirmada às {clock}. Obrigado!",
)
LONG_UNICODE_TEMPLATES = (
    "Здравствуйте, {first}! Напоминаем, что ваш визит назначен на {day} в {clock}. "
    "Пожалуйста, возьмите с собой паспорт и приходите за десять минут.",
    "您好！提醒您，您的预约时间是{day} {clock}。如需更改时间，请回复本短信或在工作时间致电我们。谢谢！"
    "我们期待您的光临，祝您生活愉快。请记得携带身份证件。停车场位于大楼后面。",
)
GSM_ACCENT_TEMPLATES = (
    "Señor {last}, su cita es el {day} a las {clock}. ¿Confirma?",
    "Ärztin Müller bestätigt den Termin um {clock}. Grüße!",
    "Café à {clock}? Ça me va, à bientôt",
    "Ñandú Δ=5 Øre ÅÆ ß é è ù ì ò",
    "Größe: 42, Farbe: grün, Preis: £{amount}",
)
BOUNDARY_BODIES = (
    "A" * 160,
    "A" * 161,
    "A" * 152 + "€" + "A" * 10,
    "€" * 80,
    "Ж" * 70,
    "Ж" * 71,
    "Ж" * 66 + "😀" + "Ж" * 10,
    "😀" * 35,
)
BODY_KINDS = (
    ("short", 50),
    ("long", 10),
    ("extension", 6),
    ("emoji", 7),
    ("unicode", 8),
    ("long_unicode", 2),
    ("gsm_accent", 8),
    ("empty", 1.5),
    ("boundary", 2.5),
)


def sms_segments(body: str) -> int:
    """Segments as a carrier splits the body (CONTRACT §4)."""
    if not body:
        return 1
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in body):
        units = [2 if char in GSM_EXTENSION else 1 for char in body]
        single, multi = 160, 153
    else:
        units = [2 if ord(char) > 0xFFFF else 1 for char in body]
        single, multi = 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for unit in units:
        if used + unit > multi:
            segments, used = segments + 1, 0
        used += unit
    return segments


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

_DAY_PREFIXES: dict[int, str] = {}
_CLOCKS: list[str] = []  # "HH:MM:SS" for every second of a day, built on first use
_MILLIS = [f".{millis:03d}+00" for millis in range(SECOND)]


def ts(ms: int) -> str:
    """A timestamptz literal for milliseconds since the epoch (UTC); the hottest function here."""
    day, rest = divmod(ms, DAY)
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:
        prefix = _DAY_PREFIXES[day] = f"{date.fromordinal(EPOCH.date().toordinal() + day).isoformat()} "
    if not _CLOCKS:
        _CLOCKS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY // SECOND))
    seconds, millis = divmod(rest, SECOND)
    return prefix + _CLOCKS[seconds] + _MILLIS[millis]


def ts_or_none(ms: int | None) -> str | None:
    return None if ms is None else ts(ms)


def to_ms(moment: datetime | date) -> int:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def decimal_text(units: int, places: int) -> str:
    """``units`` / 10**places as exact decimal text (``units`` may be negative)."""
    sign, units = ("-", -units) if units < 0 else ("", units)
    whole, fraction = divmod(units, 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def stochastic_round(rng: random.Random, expected: float) -> int:
    return int(expected + rng.random())


class Picker:
    """Weighted choice with precomputed cumulative weights."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cum.append(total)

    def __call__(self, rng: random.Random) -> Any:
        index = bisect.bisect_right(self.cum, rng.random() * self.cum[-1])
        return self.items[min(index, len(self.items) - 1)]


BODY_KIND = Picker([kind for kind, _ in BODY_KINDS], [weight for _, weight in BODY_KINDS])


class DayProfile:
    """How a day's activity spreads over the UTC hours, possibly cut off before midnight."""

    def __init__(self, weights: Sequence[float]) -> None:
        self.weights = list(weights)
        self.cum = [0.0]
        for weight in weights:
            self.cum.append(self.cum[-1] + weight)
        self.total = self.cum[-1]

    def share(self, limit: int) -> float:
        """Share of a day's activity before ``limit`` ms after midnight."""
        hour, rest = divmod(limit, HOUR)
        if hour >= 24:
            return 1.0
        return (self.cum[hour] + self.weights[hour] * rest / HOUR) / self.total

    def sample(self, rng: random.Random, limit: int) -> int:
        """A time of day in [0, limit) ms."""
        point = rng.random() * self.share(limit) * self.total
        hour = min(bisect.bisect_right(self.cum, point) - 1, 23)
        offset = hour * HOUR + int((point - self.cum[hour]) / self.weights[hour] * HOUR)
        return min(offset, limit - 1)


PROFILE = DayProfile(HOUR_WEIGHTS)

# --------------------------------------------------------------------------------------------
# Configuration, world (workspaces, members, numbers)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    seed: int
    scale: float
    days: int
    end_date: date
    workspaces: int
    invalid_rows: bool
    start_ms: int  # 00:00 UTC of the first day
    cutoff_ms: int  # every event lies before this; _loaded_at at most cutoff_ms - 1

    @property
    def cap_ms(self) -> int:
        return self.cutoff_ms - 1

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def day_start(self, day: int) -> int:
        return self.start_ms + day * DAY

    def day_limit(self, day: int) -> int:
        """Milliseconds of day ``day`` that lie before the cutoff."""
        return min(DAY, self.cutoff_ms - self.day_start(day))

    def day_factor(self, day: int) -> float:
        weekday = (self.end_date - timedelta(days=self.days - 1 - day)).weekday()
        growth = 0.75 + 0.5 * day / max(1, self.days - 1)
        return WEEKDAY_FACTORS[weekday] * growth * PROFILE.share(self.day_limit(day))


def resolve_cutoff(end_date: date, now: datetime) -> int:
    """The moment (ms) every generated event precedes; see the module docstring."""
    day_start = to_ms(end_date)
    elapsed = to_ms(now) - day_start
    if elapsed < 0:
        raise ValueError(f"end date {end_date} is in the future (UTC)")
    if elapsed >= DAY:
        return day_start + DAY
    unit = HOUR if elapsed >= HOUR else SECOND
    return day_start + max(elapsed // unit * unit, 1)


@dataclass(slots=True)
class Member:
    member_id: str
    role_id: str
    display_name: str
    created_ms: int
    deleted_ms: int | None
    weight: float


@dataclass(slots=True)
class Workspace:
    index: int
    workspace_id: str
    name: str
    created_ms: int
    factor: float  # share of the activity relative to an average workspace
    analyst_role: str
    members: list[Member]
    numbers: Picker
    contacts: list[str]
    chat_models: Picker
    realtime_models: Picker
    stt_models: Picker
    tts_models: Picker

    def active_members(self, start: int, end: int) -> Picker | None:
        active = [m for m in self.members if m.created_ms < start and (m.deleted_ms or end) >= end]
        return Picker(active, [m.weight for m in active]) if active else None


def workspace_shares(count: int) -> list[float]:
    """Workspace 0 gets ~40%, the others share the rest in decreasing sizes."""
    if count == 1:
        return [1.0]
    first = max(FIRST_WORKSPACE_SHARE, 1 / count)
    raw = [1 / (index + 1) for index in range(1, count)]
    return [first] + [(1 - first) * weight / sum(raw) for weight in raw]


def phone_number(rng: random.Random) -> str:
    code, digits, _ = REMOTE_PICKER(rng)
    return code + str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))


REMOTE_PICKER = Picker(REMOTE_COUNTRIES, [weight for *_, weight in REMOTE_COUNTRIES])


def workspace_numbers(rng: random.Random, index: int) -> Picker:
    """2-4 E.164 numbers (fictional ranges: NANP 555-01xx, Ofcom 020 7946 0xxx)."""
    numbers = []
    for position in range(rng.randint(2, 4)):
        if index % 3 == 2 and position == 1:
            numbers.append(f"+44207946{rng.randint(0, 999):04d}")
        else:
            area = US_AREA_CODES[(index * 3 + position) % len(US_AREA_CODES)]
            numbers.append(f"+1{area}55501{rng.randint(0, 99):02d}")
    return Picker(numbers, [6.0] + [2.0] * (len(numbers) - 1))


def model_picker(rng: random.Random, primary: str, kind: str) -> Picker:
    models = [model for model in MODELS if model.kind == kind]
    weights = [m.popularity * (4 if m.provider == primary else 1) * rng.uniform(0.5, 1.5) for m in models]
    return Picker(models, weights)


def voice_picker(rng: random.Random, catalogue: Sequence[tuple[str, str, int]], index: int) -> Picker:
    primary = catalogue[(index * 2) % len(catalogue)][0]
    weights = [w * (5 if provider == primary else 1) * rng.uniform(0.5, 1.5) for provider, _, w in catalogue]
    return Picker([(provider, model) for provider, model, _ in catalogue], weights)


def build_members(cfg: Config, rng: random.Random, ws_created: int, count: int) -> list[Member]:
    """At least one active admin, manager, member and analyst first; some later joiners and leavers."""
    roles = Picker([role for role, _ in EXTRA_ROLE_WEIGHTS], [weight for _, weight in EXTRA_ROLE_WEIGHTS])
    window = cfg.cutoff_ms - cfg.start_ms
    members = []
    for position in range(count):
        role = ("admin", "manager", "member", "analyst")[position] if position < 4 else roles(rng)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        created = ws_created + rng.randint(0, max(1, cfg.start_ms - ws_created - DAY))
        if position >= 4 and rng.random() < 0.25:
            created = cfg.start_ms + rng.randint(0, max(1, window * 3 // 4))
        deleted = None
        if position >= 4 and rng.random() < 0.12:
            deleted = min(cfg.cap_ms, max(created, cfg.start_ms) + rng.randint(DAY, max(DAY, window)))
        weight = rng.paretovariate(1.6) if position >= 4 else 1.5
        members.append(Member(new_uuid(rng), role, name, created, deleted, weight))
    return members


def build_world(cfg: Config) -> list[Workspace]:
    rng = cfg.rng("world")
    world = []
    shares = workspace_shares(cfg.workspaces)
    for index, share in enumerate(shares):
        workspace_id = new_uuid(rng)
        name = WORKSPACE_NAMES[index % len(WORKSPACE_NAMES)]
        if index >= len(WORKSPACE_NAMES):
            name = f"{name} {index // len(WORKSPACE_NAMES) + 1}"
        created = cfg.start_ms - rng.randint(30, 400) * DAY - rng.randint(0, DAY - 1)
        member_count = max(5, round(40 * cfg.scale * share / shares[0]))
        members = build_members(cfg, rng, created, member_count)
        analyst_role = f"analyst-{workspace_id[:8]}"
        for member in members:
            if member.role_id == "analyst":
                member.role_id = analyst_role
        primary = PROVIDERS[index % len(PROVIDERS)]
        contacts = [phone_number(rng) for _ in range(max(40, int(250 * share * cfg.workspaces * cfg.scale)))]
        world.append(
            Workspace(
                index=index,
                workspace_id=workspace_id,
                name=name,
                created_ms=created,
                factor=share * cfg.workspaces,
                analyst_role=analyst_role,
                members=members,
                numbers=workspace_numbers(rng, index),
                contacts=contacts,
                chat_models=model_picker(rng, primary, "chat"),
                realtime_models=model_picker(rng, primary, "realtime"),
                stt_models=voice_picker(rng, STT_MODELS, index),
                tts_models=voice_picker(rng, TTS_MODELS, index),
            )
        )
    return world


def demo_members(ws: Workspace) -> tuple[Member, Member]:
    """The first workspace's demo admin and plain member (never deleted, created before the window)."""
    return ws.members[0], ws.members[2]


def day_count(cfg: Config, ws: Workspace, day: int, rng: random.Random, kind: str) -> int:
    expected = RATES[kind] * cfg.scale * ws.factor * cfg.day_factor(day) * rng.uniform(0.85, 1.15)
    return stochastic_round(rng, expected)


def is_anchor_day(cfg: Config, ws: Workspace, day: int) -> bool:
    return ws.index == 0 and day == cfg.days - 1


def anchor_time(cfg: Config, day: int, fraction: float) -> int:
    return cfg.day_start(day) + int(cfg.day_limit(day) * fraction)


def timeline(offsets: Iterable[int], start: int, cutoff: int, squeeze: bool) -> Callable[[int], int | None]:
    """Maps offsets after ``start`` to times before the cutoff: squeezed to fit, or None when too late."""
    last = max(offsets, default=0)
    room = cutoff - 1 - start
    if squeeze and last > room:
        return lambda offset: start + offset * room // last
    return lambda offset: start + offset if start + offset < cutoff else None


# --------------------------------------------------------------------------------------------
# Load times
# --------------------------------------------------------------------------------------------


class Loader:
    """Draws each row's _loaded_at: seconds to minutes after the event, sometimes days late or twice."""

    def __init__(self, rng: random.Random, cap_ms: int, late: float, duplicate: float) -> None:
        self.rng = rng
        self.cap_ms = cap_ms
        self.late = late
        self.duplicate = duplicate

    def times(self, event_ms: int) -> tuple[int, ...]:
        rng = self.rng
        if rng.random() < self.late:
            delay = rng.randint(DAY, 5 * DAY)
        else:
            delay = SECOND + int(rng.expovariate(1 / (45 * SECOND)))
        first = min(event_ms + delay, self.cap_ms)
        if rng.random() < self.duplicate:
            return first, min(first + rng.randint(30 * SECOND, 6 * HOUR), self.cap_ms)
        return (first,)


# --------------------------------------------------------------------------------------------
# Dimensions
# --------------------------------------------------------------------------------------------


def workspace_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    for ws in world:
        yield (ws.workspace_id, ws.name, ts(ws.created_ms)), ws.created_ms


def role_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    first = min(ws.created_ms for ws in world)
    for role_id, name in DEFAULT_ROLES:
        yield (role_id, None, name), first - DAY
    for ws in world:
        yield (ws.analyst_role, ws.workspace_id, "Analyst"), ws.created_ms + DAY


def role_scope_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    first = min(ws.created_ms for ws in world)
    for role_id, scopes in ROLE_SCOPES.items():
        for scope in scopes:
            yield (role_id, scope), first - DAY
    for ws in world:
        for scope in CUSTOM_ROLE_SCOPES:
            yield (ws.analyst_role, scope), ws.created_ms + DAY


def member_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    """One row per member; a deleted member also has its earlier, still active version."""
    for ws in world:
        for m in ws.members:
            row = (m.member_id, ws.workspace_id, m.role_id, m.display_name, ts(m.created_ms), None)
            yield row, m.created_ms
            if m.deleted_ms is not None:
                yield (*row[:5], ts(m.deleted_ms)), m.deleted_ms


# --------------------------------------------------------------------------------------------
# Chats, messages, AI usage
# --------------------------------------------------------------------------------------------

MEMBER_CHANNELS = Picker(("web", "api", "voice", "sms"), (78, 8, 8, 6))
AGENT_CHANNELS = Picker(("api", "sms", "voice", "web"), (35, 35, 20, 10))


@dataclass(slots=True)
class ChatPlan:
    chat_id: str
    created_ms: int
    owner_id: str | None
    channel: str
    model: Model
    turns: int
    seed: int
    squeeze: bool  # anchor chats are squeezed to fit before the cutoff


def plan_chat(
    rng: random.Random, ws: Workspace, created: int, owner: Member | None, channel: str
) -> ChatPlan:
    model = ws.realtime_models(rng) if channel == "voice" else ws.chat_models(rng)
    if owner is None and channel == "api":
        turns = rng.randint(1, 2)
    else:
        turns = min(20, 1 + int(rng.expovariate(1 / 2.2)))
    owner_id = owner.member_id if owner else None
    return ChatPlan(new_uuid(rng), created, owner_id, channel, model, turns, rng.getrandbits(64), False)


def anchor_chats(cfg: Config, ws: Workspace, day: int, rng: random.Random) -> list[ChatPlan]:
    """Activity the demo admin and demo member always have on the end date."""
    admin, member = demo_members(ws)
    chats = [
        plan_chat(rng, ws, anchor_time(cfg, day, 0.1), admin, "web"),
        plan_chat(rng, ws, anchor_time(cfg, day, 0.3), member, "web"),
        plan_chat(rng, ws, anchor_time(cfg, day, 0.5), member, "voice"),
        plan_chat(rng, ws, anchor_time(cfg, day, 0.7), None, "sms"),
    ]
    for chat in chats:
        chat.turns = max(chat.turns, 2)
        chat.squeeze = True
    return chats


def day_chats(cfg: Config, ws: Workspace, day: int) -> list[ChatPlan]:
    rng = cfg.rng(ws.index, day, "chats")
    start, limit = cfg.day_start(day), cfg.day_limit(day)
    members = ws.active_members(start, start + DAY)
    chats = []
    for _ in range(day_count(cfg, ws, day, rng, "chats")):
        created = start + PROFILE.sample(rng, limit)
        owner = members(rng) if members and rng.random() < 0.75 else None
        channel = MEMBER_CHANNELS(rng) if owner else AGENT_CHANNELS(rng)
        chats.append(plan_chat(rng, ws, created, owner, channel))
    if is_anchor_day(cfg, ws, day):
        chats.extend(anchor_chats(cfg, ws, day, rng))
    return chats


def credits(model: Model, usage: Usage) -> str:
    prompt, completion, cached, audio_in, audio_out = usage
    price_in, price_cached, price_out, price_audio_in, price_audio_out = model.prices
    per_million = (
        (prompt - cached) * price_in
        + cached * price_cached
        + completion * price_out
        + audio_in * price_audio_in
        + audio_out * price_audio_out
    )
    return decimal_text(round(per_million), 6)  # credits per million tokens -> micro-credits per token


def chat_usage(rng: random.Random, context: int, previous: int, tool_call: bool) -> Usage:
    completion = rng.randint(15, 120) if tool_call else min(4000, int(rng.lognormvariate(5.3, 0.7)))
    cached = int(previous * rng.uniform(0.5, 0.95)) if previous and rng.random() < 0.7 else 0
    return context, completion, min(cached, context), 0, 0


def realtime_usage(rng: random.Random, context: int, previous: int) -> Usage:
    completion = rng.randint(15, 250)
    cached = int(previous * rng.uniform(0.3, 0.9)) if previous and rng.random() < 0.5 else 0
    return context, completion, min(cached, context), rng.randint(40, 800), rng.randint(60, 1200)


@dataclass(slots=True)
class Step:
    offset: int  # ms after the chat was created
    item_id: str
    role: str  # a message role, or "ai" for a usage event
    source: str = ""
    model: Model | None = None
    usage: Usage = (0, 0, 0, 0, 0)


def assistant_turn(
    rng: random.Random, chat: ChatPlan, steps: list[Step], offset: int, state: list[int]
) -> int:
    """One assistant reply (maybe after tool calls); ``state`` is [context tokens, previous context]."""
    realtime = chat.model.kind == "realtime"
    tool_calls = 0 if realtime else (1 if rng.random() < 0.22 else 0) + (1 if rng.random() < 0.05 else 0)
    for position in range(tool_calls + 1):
        tool_call = position < tool_calls
        offset += rng.randint(800, 6000) if tool_call else rng.randint(1000, 20000)
        if realtime:
            usage = realtime_usage(rng, state[0], state[1])
        else:
            usage = chat_usage(rng, state[0], state[1], tool_call)
        source = "realtime" if realtime else "chat_message"
        steps.append(Step(offset, new_uuid(rng), "assistant"))
        steps.append(Step(offset + rng.randint(5, 900), new_uuid(rng), "ai", source, chat.model, usage))
        state[1] = state[0]
        state[0] += usage[1]
        if tool_call:
            offset += rng.randint(200, 3000)
            steps.append(Step(offset, new_uuid(rng), "tool"))
            state[0] += rng.randint(80, 2500)
    return offset


def chat_script(chat: ChatPlan) -> list[Step]:
    """Messages and AI usage events of a chat, as offsets from its creation."""
    rng = random.Random(chat.seed)
    steps: list[Step] = []
    if chat.owner_id is None or rng.random() < 0.3:
        steps.append(Step(0, new_uuid(rng), "system"))
    state = [rng.randint(250, 2500), 0]
    offset = 0
    for turn in range(chat.turns):
        offset += rng.randint(300, 3000) if turn == 0 else int(rng.lognormvariate(10.5, 1.0))
        steps.append(Step(offset, new_uuid(rng), "user"))
        state[0] += rng.randint(10, 400)
        offset = assistant_turn(rng, chat, steps, offset, state)
    messages = sum(1 for step in steps if step.role != "ai")
    if chat.model.kind == "chat" and messages >= 6 and rng.random() < 0.6:
        summary_model = MODELS_BY_NAME[SUMMARY_MODELS[chat.model.provider]]
        usage = (state[0], rng.randint(80, 400), 0, 0, 0)
        at = offset + rng.randint(2000, 60000)
        steps.append(Step(at, new_uuid(rng), "ai", "chat_summary", summary_model, usage))
    return steps


def placed_steps(cfg: Config, chat: ChatPlan) -> Iterator[tuple[Step, int]]:
    steps = chat_script(chat)
    at = timeline((step.offset for step in steps), chat.created_ms, cfg.cutoff_ms, chat.squeeze)
    for step in steps:
        when = at(step.offset)
        if when is not None:
            yield step, when


def chat_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    for ws in world:
        for day in range(cfg.days):
            for chat in day_chats(cfg, ws, day):
                yield (chat.chat_id, ws.workspace_id, chat.owner_id, ts(chat.created_ms)), chat.created_ms


def message_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    for ws in world:
        for day in range(cfg.days):
            for chat in day_chats(cfg, ws, day):
                for step, at in placed_steps(cfg, chat):
                    if step.role == "ai":
                        continue
                    sender = chat.owner_id if step.role == "user" else None
                    yield (
                        (
                            step.item_id,
                            ws.workspace_id,
                            chat.chat_id,
                            sender,
                            step.role,
                            chat.channel,
                            ts(at),
                        ),
                        at,
                    )


def ai_row(
    ws: Workspace, event_id: str, chat_id: str | None, source: str, model: Model, usage: Usage, at: int
) -> Row:
    return (event_id, ws.workspace_id, chat_id, source, model.provider, model.name, model.kind, *usage,
            credits(model, usage), ts(at))  # fmt: skip


def standalone_realtime(cfg: Config, ws: Workspace, day: int) -> Iterator[Timed]:
    """Realtime turns of the phone agent that belong to no chat."""
    rng = cfg.rng(ws.index, day, "realtime")
    start, limit = cfg.day_start(day), cfg.day_limit(day)
    count = day_count(cfg, ws, day, rng, "realtime") + (1 if is_anchor_day(cfg, ws, day) else 0)
    for _ in range(count):
        at = start + PROFILE.sample(rng, limit)
        model = ws.realtime_models(rng)
        usage = realtime_usage(rng, rng.randint(300, 3000), 0)
        yield ai_row(ws, new_uuid(rng), None, "realtime", model, usage, at), at


def ai_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    for ws in world:
        for day in range(cfg.days):
            for chat in day_chats(cfg, ws, day):
                for step, at in placed_steps(cfg, chat):
                    if step.role == "ai" and step.model is not None:
                        row = ai_row(ws, step.item_id, chat.chat_id, step.source, step.model, step.usage, at)
                        yield row, at
            yield from standalone_realtime(cfg, ws, day)


# --------------------------------------------------------------------------------------------
# SMS
# --------------------------------------------------------------------------------------------


class TemplateFields(dict[str, str]):
    """Values for SMS template placeholders, drawn only when a template uses them."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key == "first":
            value = rng.choice(FIRST_NAMES)
        elif key == "last":
            value = rng.choice(LAST_NAMES)
        elif key == "day":
            value = rng.choice(("Monday", "Tuesday", "Friday", "tomorrow", "12/03", "June 5"))
        elif key == "clock":
            value = f"{rng.randint(8, 17)}:{rng.choice(('00', '15', '30', '45'))}"
        elif key == "code":
            value = f"{rng.getrandbits(20) % 1000000:06d}"
        elif key == "number":
            value = str(rng.randint(10000, 99999))
        else:  # amount
            value = f"{rng.randint(5, 900)}.{rng.getrandbits(7) % 100:02d}"
        self[key] = value
        return value


def fill(rng: random.Random, template: str) -> str:
    return template.format_map(TemplateFields(rng))


def sms_body(rng: random.Random, kind: str) -> str:
    if kind == "long":
        body = ""
        while len(body) <= 160 + rng.randint(0, 200):
            body += fill(rng, rng.choice(LONG_SENTENCES)) + " "
        return body.strip()
    if kind == "empty":
        return ""
    if kind == "boundary":
        return rng.choice(BOUNDARY_BODIES)
    templates = {
        "short": SHORT_TEMPLATES,
        "extension": EXTENSION_TEMPLATES,
        "emoji": EMOJI_TEMPLATES,
        "unicode": UNICODE_TEMPLATES,
        "long_unicode": LONG_UNICODE_TEMPLATES,
        "gsm_accent": GSM_ACCENT_TEMPLATES,
    }[kind]
    return fill(rng, rng.choice(templates))


def carrier_segments(rng: random.Random, body: str) -> int | None:
    """The carrier reports its own count for ~20% of messages, nearly always our count."""
    if rng.random() >= 0.2:
        return None
    roll = rng.random()
    if roll < 0.02:
        return 0
    return sms_segments(body) + (1 if roll > 0.97 else 0)


def sms_row(rng: random.Random, ws: Workspace, direction: str, kind: str, at: int) -> Row:
    body = sms_body(rng, kind)
    sms_id = f"SM{rng.getrandbits(128):032x}"
    number, remote = ws.numbers(rng), rng.choice(ws.contacts)
    return sms_id, ws.workspace_id, direction, number, remote, body, carrier_segments(rng, body), ts(at)


def sms_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    for ws in world:
        for day in range(cfg.days):
            rng = cfg.rng(ws.index, day, "sms")
            start, limit = cfg.day_start(day), cfg.day_limit(day)
            for _ in range(day_count(cfg, ws, day, rng, "sms")):
                at = start + PROFILE.sample(rng, limit)
                direction = "outbound" if rng.random() < 0.62 else "inbound"
                yield sms_row(rng, ws, direction, BODY_KIND(rng), at), at
            if is_anchor_day(cfg, ws, day):
                for fraction, direction, kind in ((0.2, "inbound", "emoji"), (0.6, "outbound", "short")):
                    at = anchor_time(cfg, day, fraction)
                    yield sms_row(rng, ws, direction, kind, at), at


# --------------------------------------------------------------------------------------------
# Calls, STT, TTS
# --------------------------------------------------------------------------------------------

OUTCOMES = ("completed", "no-answer", "busy", "canceled", "failed", "stuck-ringing", "stuck-in-progress")
INBOUND_OUTCOMES = Picker(OUTCOMES, (78, 6, 2, 6, 2.5, 1.5, 2))
OUTBOUND_OUTCOMES = Picker(OUTCOMES, (60, 15, 8, 4, 6, 1.5, 2))


@dataclass(slots=True)
class CallPlan:
    call_id: str
    direction: str
    number: str
    remote: str
    start_ms: int  # first state change (queued or ringing)
    outcome: str
    seed: int
    squeeze: bool


@dataclass(slots=True)
class CallState:
    offset: int
    status: str
    started: int | None = None
    ended: int | None = None
    answered_by: str | None = None


@dataclass(slots=True)
class Speech:
    offset: int
    kind: str  # stt | tts
    event_id: str
    provider: str
    model: str
    amount: int  # stt: milliseconds of audio, tts: characters


def plan_call(rng: random.Random, ws: Workspace, start: int, direction: str, outcome: str | None) -> CallPlan:
    if outcome is None:
        outcome = (INBOUND_OUTCOMES if direction == "inbound" else OUTBOUND_OUTCOMES)(rng)
    call_id = f"CA{rng.getrandbits(128):032x}"
    number, remote = ws.numbers(rng), rng.choice(ws.contacts)
    return CallPlan(call_id, direction, number, remote, start, outcome, rng.getrandbits(64), False)


def day_calls(cfg: Config, ws: Workspace, day: int) -> list[CallPlan]:
    rng = cfg.rng(ws.index, day, "calls")
    start, limit = cfg.day_start(day), cfg.day_limit(day)
    calls = []
    for _ in range(day_count(cfg, ws, day, rng, "calls")):
        direction = "inbound" if rng.random() < 0.55 else "outbound"
        calls.append(plan_call(rng, ws, start + PROFILE.sample(rng, limit), direction, None))
    if is_anchor_day(cfg, ws, day):
        anchor = plan_call(rng, ws, anchor_time(cfg, day, 0.15), "inbound", "completed")
        anchor.squeeze = True
        calls.append(anchor)
    return calls


def call_duration(rng: random.Random) -> int:
    """Milliseconds: a few seconds to ~20 minutes, some exactly on a half second."""
    if rng.random() < 0.06:
        return rng.randint(3, 600) * SECOND + 500
    return int(min(1200.0, max(3.0, rng.lognormvariate(math.log(75), 1.0))) * SECOND)


def answered_by(rng: random.Random, call: CallPlan, squeeze: bool) -> str | None:
    roll = rng.random()
    if squeeze:
        return "ai"
    if call.direction == "inbound":
        return "ai" if roll < 0.65 else "human"
    return "human" if roll < 0.7 else ("ai" if roll < 0.85 else None)


def unanswered_states(rng: random.Random, call: CallPlan, states: list[CallState], ring: int) -> None:
    outcome = call.outcome
    if outcome == "no-answer":
        states.append(CallState(ring + rng.randint(15, 45) * SECOND, "no-answer"))
    elif outcome == "busy":
        states.append(CallState(ring + rng.randint(500, 5000), "busy"))
    elif outcome in ("canceled", "failed"):
        states.append(CallState(ring + rng.randint(300, 20000), outcome))


def call_script(call: CallPlan, ws: Workspace, speech: bool) -> tuple[list[CallState], list[Speech]]:
    """State changes and (if ``speech``) speech events of a call, as offsets from its first state change."""
    rng = random.Random(call.seed)
    states: list[CallState] = []
    ring = 0
    if call.direction == "outbound":
        states.append(CallState(0, "queued"))
        ring = rng.randint(300, 2500)
        if call.outcome in ("failed", "canceled") and rng.random() < 0.6:
            unanswered_states(rng, call, states, 0)
            return states, []
    states.append(CallState(ring, "ringing"))
    if call.outcome not in ("completed", "stuck-in-progress"):
        unanswered_states(rng, call, states, ring)
        return states, []
    who = answered_by(rng, call, call.squeeze)
    started = ring + (rng.randint(500, 4000) if who == "ai" else rng.randint(2000, 25000))
    states.append(CallState(started, "in-progress", started, None, who))
    if call.outcome == "stuck-in-progress":
        return states, []
    ended = started + call_duration(rng)
    states.append(CallState(ended + rng.randint(0, 1500), "completed", started, ended, who))
    if not speech:
        return states, []  # speech is drawn last, so skipping it changes nothing else
    return states, call_speech(rng, ws, who, started, ended, call.squeeze)


def call_speech(
    rng: random.Random, ws: Workspace, who: str | None, started: int, ended: int, force: bool
) -> list[Speech]:
    """AI-answered calls: one STT and one TTS event per turn; human calls: sometimes a transcript."""
    stt_provider, stt_model = ws.stt_models(rng)
    tts_provider, tts_model = ws.tts_models(rng)
    speech: list[Speech] = []
    length = ended - started
    if who == "ai":
        turns = max(1, min(60, int(length / (rng.uniform(12, 30) * SECOND))))
        for turn in range(turns):
            at = started + length * turn // turns
            utterance = min(rng.randint(600, 12000), max(1, length // turns))
            speech.append(Speech(at + utterance, "stt", new_uuid(rng), stt_provider, stt_model, utterance))
            reply_at = min(ended, at + utterance + rng.randint(300, 1500))
            characters = rng.randint(15, 400)
            speech.append(Speech(reply_at, "tts", new_uuid(rng), tts_provider, tts_model, characters))
    elif force or rng.random() < 0.35:
        at = ended + rng.randint(2, 60) * SECOND
        speech.append(Speech(at, "stt", new_uuid(rng), stt_provider, stt_model, length))
    return speech


def placed_call(
    cfg: Config, call: CallPlan, ws: Workspace, speech: bool = True
) -> tuple[list[Row], list[tuple[Speech, int]]]:
    """State changes (status, started_at, ended_at, answered_by, updated_at) and speech before the cutoff."""
    states, events = call_script(call, ws, speech)
    offsets = [state.offset for state in states] + [event.offset for event in events]
    at = timeline(offsets, call.start_ms, cfg.cutoff_ms, call.squeeze)
    rows: list[Row] = []
    for state in states:
        when = at(state.offset)
        if when is None:
            break  # the call's later states have not happened yet
        started = None if state.started is None else at(state.started)
        ended = None if state.ended is None else at(state.ended)
        rows.append((state.status, ts_or_none(started), ts_or_none(ended), state.answered_by, when))
    placed_speech = [(event, when) for event in events if (when := at(event.offset)) is not None]
    return rows, placed_speech


def call_event_rows(cfg: Config, world: list[Workspace]) -> Iterator[Timed]:
    for ws in world:
        for day in range(cfg.days):
            for call in day_calls(cfg, ws, day):
                states, _ = placed_call(cfg, call, ws, speech=False)
                for status, started, ended, who, at in states:
                    row = (call.call_id, ws.workspace_id, call.direction, call.number, call.remote, status,
                           started, ended, who, ts(at))  # fmt: skip
                    yield row, at


def speech_row(ws: Workspace, call_id: str | None, event: Speech, at: int) -> Row:
    amount = decimal_text(event.amount, 3) if event.kind == "stt" else event.amount
    return event.event_id, ws.workspace_id, call_id, event.provider, event.model, amount, ts(at)


def standalone_speech(cfg: Config, ws: Workspace, day: int, kind: str) -> Iterator[Timed]:
    """Voice notes (STT) and read-aloud replies (TTS) outside calls."""
    rng = cfg.rng(ws.index, day, kind)
    start, limit = cfg.day_start(day), cfg.day_limit(day)
    for _ in range(day_count(cfg, ws, day, rng, kind)):
        at = start + PROFILE.sample(rng, limit)
        provider, model = (ws.stt_models if kind == "stt" else ws.tts_models)(rng)
        amount = rng.randint(800, 90 * SECOND) if kind == "stt" else rng.randint(20, 1500)
        event = Speech(0, kind, new_uuid(rng), provider, model, amount)
        yield speech_row(ws, None, event, at), at


def speech_rows(cfg: Config, world: list[Workspace], kind: str) -> Iterator[Timed]:
    for ws in world:
        for day in range(cfg.days):
            for call in day_calls(cfg, ws, day):
                _, speech = placed_call(cfg, call, ws)
                for event, at in speech:
                    if event.kind == kind:
                        yield speech_row(ws, call.call_id, event, at), at
            yield from standalone_speech(cfg, ws, day, kind)


# --------------------------------------------------------------------------------------------
# Invalid rows (--invalid-rows)
# --------------------------------------------------------------------------------------------


def invalid_time(cfg: Config, position: int) -> int:
    return min(cfg.day_start(cfg.days // 2) + 12 * HOUR + position * MINUTE, cfg.cap_ms)


def invalid_rows(cfg: Config, world: list[Workspace], table: str) -> Iterator[Timed]:
    """A handful of rows the contract calls invalid, all in the first workspace's timeline."""
    if not cfg.invalid_rows:
        return
    rng = cfg.rng("invalid", table)
    ws = world[0]
    at = invalid_time(cfg, 0)
    if table == "ai_usage_events":
        model = MODELS_BY_NAME["gpt-4o"]
        yield ai_row(ws, new_uuid(rng), None, "chat_message", model, (-120, 40, 0, 0, 0), at), at
        row = ai_row(ws, new_uuid(rng), None, "chat_message", model, (100, 40, 0, 0, 0), at)
        yield (row[0], None, *row[2:]), at
    elif table == "sms_messages":
        sideways = sms_row(rng, ws, "sideways", "short", at)
        null_body = sms_row(rng, ws, "outbound", "short", at)
        null_workspace = sms_row(rng, ws, "inbound", "short", at)
        yield sideways, at
        yield (*null_body[:5], None, *null_body[6:]), at
        yield (null_workspace[0], None, *null_workspace[2:]), at
    elif table == "call_events":
        yield from invalid_calls(rng, ws, at)
    elif table == "stt_events":
        event = Speech(0, "stt", new_uuid(rng), "deepgram", "nova-3", -4250)
        yield speech_row(ws, None, event, at), at


def invalid_calls(rng: random.Random, ws: Workspace, at: int) -> Iterator[Timed]:
    number, remote = ws.numbers(rng), rng.choice(ws.contacts)
    base = (ws.workspace_id, "inbound", number, remote)
    yield (f"CA{rng.getrandbits(128):032x}", ws.workspace_id, "sideways", number, remote, "completed",
           ts(at - 60 * SECOND), ts(at), "human", ts(at)), at  # fmt: skip
    yield (f"CA{rng.getrandbits(128):032x}", *base, "exploded", None, None, None, ts(at)), at
    backwards = (ts(at), ts(at - 30 * SECOND))  # ended_at before started_at
    yield (f"CA{rng.getrandbits(128):032x}", *base, "completed", *backwards, "ai", ts(at)), at


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

Producer = Callable[[Config, list[Workspace]], Iterator[Timed]]
PRODUCERS: dict[str, tuple[Producer, bool]] = {  # table -> (rows, is an event stream)
    "workspaces": (workspace_rows, False),
    "roles": (role_rows, False),
    "role_scopes": (role_scope_rows, False),
    "members": (member_rows, False),
    "chats": (chat_rows, True),
    "messages": (message_rows, True),
    "ai_usage_events": (ai_rows, True),
    "sms_messages": (sms_rows, True),
    "call_events": (call_event_rows, True),
    "stt_events": (lambda cfg, world: speech_rows(cfg, world, "stt"), True),
    "tts_events": (lambda cfg, world: speech_rows(cfg, world, "tts"), True),
}


def copy_table(
    cur: psycopg.Cursor[Any], table: str, segments: Iterable[tuple[Iterable[Timed], Loader]]
) -> int:
    columns = ", ".join((*TABLES[table], "_loaded_at"))
    count = 0
    with cur.copy(f"copy raw.{table} ({columns}) from stdin") as copy:
        for rows, loader in segments:
            for row, event_ms in rows:
                for loaded in loader.times(event_ms):
                    copy.write_row((*row, ts(loaded)))
                    count += 1
    return count


def table_segments(cfg: Config, world: list[Workspace], table: str) -> list[tuple[Iterable[Timed], Loader]]:
    producer, is_events = PRODUCERS[table]
    late, duplicate = (LATE_RATE, DUPLICATE_RATE) if is_events else (0.0, 0.0)
    loader = Loader(cfg.rng(table, "loaded_at"), cfg.cap_ms, late, duplicate)
    exact = Loader(cfg.rng(table, "invalid", "loaded_at"), cfg.cap_ms, 0.0, 0.0)
    return [(producer(cfg, world), loader), (invalid_rows(cfg, world, table), exact)]


def make_config(
    *, seed: int, scale: float, days: int, end_date: date, workspaces: int, invalid: bool, now: datetime
) -> Config:
    if days < 1 or workspaces < 1 or scale <= 0:
        raise ValueError("days and workspaces must be at least 1 and scale positive")
    start = to_ms(end_date - timedelta(days=days - 1))
    cutoff = resolve_cutoff(end_date, now)
    return Config(seed, scale, days, end_date, workspaces, invalid, start, cutoff)


def generate(
    conn: psycopg.Connection[Any],
    *,
    seed: int = 42,
    scale: float = 1.0,
    days: int = 90,
    end_date: date | None = None,
    workspaces: int = 4,
    replace: bool = False,
    invalid_rows: bool = False,
    now: datetime | None = None,
    progress: Callable[[str, int, float], None] | None = None,
) -> dict[str, Any]:
    """Load demo rows into raw.* in one transaction; returns row counts per table and the demo ids.

    ``now`` (default: the clock) only matters when ``end_date`` is today; see the module docstring.
    """
    now = now or datetime.now(UTC)
    end_date = end_date or now.date()
    cfg = make_config(
        seed=seed,
        scale=scale,
        days=days,
        end_date=end_date,
        workspaces=workspaces,
        invalid=invalid_rows,
        now=now,
    )
    world = build_world(cfg)
    counts: dict[str, int] = {}
    with conn.transaction(), conn.cursor() as cur:
        if replace:
            cur.execute("truncate table " + ", ".join(f"raw.{table}" for table in TABLES))
        for table in TABLES:
            started = time.perf_counter()
            counts[table] = copy_table(cur, table, table_segments(cfg, world, table))
            if progress:
                progress(table, counts[table], time.perf_counter() - started)
    admin, member = demo_members(world[0])
    return {
        "rows": counts,
        "total_rows": sum(counts.values()),
        "demo_workspace": world[0].workspace_id,
        "demo_admin_member": admin.member_id,
        "demo_member": member.member_id,
        "start": ts(cfg.start_ms),
        "cutoff": ts(cfg.cutoff_ms),
    }


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--scale", type=float, default=1.0, help="row counts scale linearly (default 1.0)")
    parser.add_argument("--days", type=int, default=90, help="UTC days of activity (default 90)")
    parser.add_argument("--end-date", type=date.fromisoformat, help="last day (default: today, UTC)")
    parser.add_argument("--workspaces", type=int, default=4, help="number of workspaces (default 4)")
    parser.add_argument("--replace", action="store_true", help="truncate the raw tables first")
    parser.add_argument("--invalid-rows", action="store_true", help="add a handful of invalid rows")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    try:
        with psycopg.connect() as conn:
            result = generate(
                conn,
                seed=args.seed,
                scale=args.scale,
                days=args.days,
                end_date=args.end_date,
                workspaces=args.workspaces,
                replace=args.replace,
                invalid_rows=args.invalid_rows,
                progress=lambda table, _rows, elapsed: seconds.__setitem__(table, elapsed),
            )
    except ValueError as error:
        print(f"generate_demo_data: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"loaded {result['total_rows']:,} rows in {time.perf_counter() - started:.1f} s "
              f"(events from {result['start']} to before {result['cutoff']})")  # fmt: skip
        for table, rows in result["rows"].items():
            print(f"  {table:<16} {rows:>10,}  {seconds[table]:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
