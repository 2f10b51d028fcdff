"""Reports as CSV (CONTRACT §6): ``format=csv`` or ``Accept: text/csv``.

UTF-8 without a byte-order mark, a header line, RFC 4180 (Python's ``csv``
module: fields holding a comma, a quote or a line break are quoted, quotes
doubled; lines end with CRLF). Numbers are written as in the JSON body (exact
decimals, trailing zeros dropped: ``0.1``, ``12.5``, ``3``), dates
``YYYY-MM-DD``, a missing value as an empty field. Every line is one row of
the report's finest grouping, so the lines add up exactly to the JSON totals.

Columns (snake_case), and the order of the lines:

* ``ai-usage``: ``date, provider, model, type, prompt_tokens,
  completion_tokens, total_tokens, cached_tokens, audio_input_tokens,
  audio_output_tokens, credits``: one line per day, provider, model and
  model type with usage, by date, provider, model, type. (``total_messages``
  is not attributed to a provider or model and is not in the file.)
* ``sms-usage``: ``date, phone_number, inbound, outbound, characters,
  segments, inbound_segments, outbound_segments``: the body's ``rows``.
* ``phone-usage``: ``date, phone_number, inbound, outbound,
  total_duration_seconds``: the body's ``rows``.
* ``voice-usage``: ``date, kind, provider, model, messages,
  duration_seconds, characters``: ``sttRows`` (``kind`` ``stt``, no
  ``characters``) and ``ttsRows`` (``kind`` ``tts``, no
  ``duration_seconds``), by date, kind, provider, model.
* ``member-usage``: ``date, chats, messages, credits, tokens``: one line per
  day with activity, by date.

The file name is ``<report>_<workspace_id>[_<member_id>]_<start>_<end>[_<tz>].csv``
(member usage names the member; a zone other than UTC is added with ``/``
written ``-``: ``America-Los_Angeles``).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response

from api.jsonenc import decimal_literal
from api.params import DateRange
from api.zones import Zone

CONTENT_TYPE = "text/csv; charset=utf-8"

AI_COLUMNS = (
    "date",
    "provider",
    "model",
    "type",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "credits",
)
SMS_COLUMNS = (
    "date",
    "phone_number",
    "inbound",
    "outbound",
    "characters",
    "segments",
    "inbound_segments",
    "outbound_segments",
)
PHONE_COLUMNS = ("date", "phone_number", "inbound", "outbound", "total_duration_seconds")
VOICE_COLUMNS = ("date", "kind", "provider", "model", "messages", "duration_seconds", "characters")
MEMBER_COLUMNS = ("date", "chats", "messages", "credits", "tokens")


@dataclass(frozen=True)
class CsvTable:
    columns: Sequence[str]
    lines: Sequence[Mapping[str, Any]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render(table: CsvTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for line in table.lines:
        writer.writerow([_text(line.get(column)) for column in table.columns])
    return out.getvalue()


def _snake(rows: Iterable[Mapping[str, Any]], names: Mapping[str, str], **extra: Any) -> list[dict[str, Any]]:
    return [{**extra, **{column: row[field] for field, column in names.items()}} for row in rows]


def sms_table(body: Mapping[str, Any]) -> CsvTable:
    names = {
        "date": "date",
        "phoneNumber": "phone_number",
        "inbound": "inbound",
        "outbound": "outbound",
        "characters": "characters",
        "segments": "segments",
        "inboundSegments": "inbound_segments",
        "outboundSegments": "outbound_segments",
    }
    return CsvTable(SMS_COLUMNS, _snake(body["rows"], names))


def phone_table(body: Mapping[str, Any]) -> CsvTable:
    names = {
        "date": "date",
        "phoneNumber": "phone_number",
        "inbound": "inbound",
        "outbound": "outbound",
        "totalDurationSeconds": "total_duration_seconds",
    }
    return CsvTable(PHONE_COLUMNS, _snake(body["rows"], names))


def voice_table(body: Mapping[str, Any]) -> CsvTable:
    common = {"date": "date", "provider": "provider", "model": "model", "messages": "messages"}
    stt = _snake(body["sttRows"], {**common, "durationSeconds": "duration_seconds"}, kind="stt")
    tts = _snake(body["ttsRows"], {**common, "characters": "characters"}, kind="tts")

    def order(line: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple((line[name] is None, line[name] or "") for name in ("date", "kind", "provider", "model"))

    return CsvTable(VOICE_COLUMNS, sorted(stt + tts, key=order))


def ai_table(lines: Sequence[Mapping[str, Any]]) -> CsvTable:
    return CsvTable(AI_COLUMNS, lines)


def member_table(lines: Sequence[Mapping[str, Any]]) -> CsvTable:
    return CsvTable(MEMBER_COLUMNS, lines)


def filename(
    report: str, workspace_id: uuid.UUID, dates: DateRange, zone: Zone, member_id: uuid.UUID | None = None
) -> str:
    parts = [report, str(workspace_id)]
    if member_id is not None:
        parts.append(str(member_id))
    parts += [dates.start.isoformat(), dates.end.isoformat()]
    if not zone.is_utc:
        parts.append(zone.name.replace("/", "-"))
    return "_".join(parts) + ".csv"


def csv_response(table: CsvTable, name: str) -> Response:
    response = Response(render(table).encode("utf-8"), status=200)
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
