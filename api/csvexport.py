"""Reports as CSV (CONTRACT §6): ``format=csv`` or ``Accept: text/csv``.

UTF-8 without a byte-order mark, a header line, RFC 4180 (fields holding a
comma, a quote or a line break are quoted, quotes doubled; lines end with
CRLF, as Python's ``csv`` module writes them). Numbers are written as in the
JSON body (exact decimals, trailing zeros dropped: ``0.1``, ``12.5``, ``3``),
dates ``YYYY-MM-DD``, a missing value as an empty field. Every line is one
row of the report's finest grouping, so the lines add up exactly to the JSON
totals. The warehouse writes the lines (``api.csvsql``); this module adds the
header, the file name and the headers of the response.

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

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Response

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
    lines: str  # the lines after the header, each ending CRLF (``api.csvsql.csv_lines``)


def render(table: CsvTable) -> str:
    return ",".join(table.columns) + "\r\n" + table.lines


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
