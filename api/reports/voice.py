"""``/voice-usage``: speech-to-text seconds and text-to-speech characters by provider and model."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask import Response

from api import csvexport
from api.jsonsql import COUNT, DATE, DECIMAL, TEXT, Field, json_array, sort_key
from api.params import DateRange
from api.reports.common import (
    FRESHNESS,
    SECONDS_PLACES,
    VOICE_DEFAULT_RANGE,
    as_count,
    as_seconds,
    bp,
    camel_envelope,
    csv_statement,
    fetch_csv,
    total_row,
)
from api.reports.lists import (
    BEFORE_START,
    THROUGH_END,
    head_then_day_texts,
    last_list_row,
    list_text,
    listed,
    lists_body,
    lists_report,
)
from api.zones import UTC_ZONE, Zone, day_rows

VOICE_USAGE_TEMPLATE = """
with days as materialized (
    {day_rows}
),

models as (
    select
        kind,
        provider,
        model,
        sum(event_count) as event_count,
        sum(duration_seconds) as duration_seconds,
        sum(characters) as characters
    from days
    group by kind, provider, model
    having sum(event_count) <> 0
)

select
    by_model.*,
    {freshness},
    by_day.*
from (
    {by_model}
) as by_model
cross join (
    select {by_day_lists}
    from days
) as by_day
"""

VOICE_DIMS = ("kind", "provider", "model")
VOICE_MEASURES = ("event_count", "duration_seconds", "characters")


def _voice_fields(kind: str, per_day: bool) -> tuple[Field, ...]:
    measure = (
        Field("durationSeconds", "duration_seconds", DECIMAL, SECONDS_PLACES)
        if kind == "stt"
        else Field("characters", "characters", COUNT)
    )
    fields = (Field("provider", "provider", TEXT), Field("model", "model", TEXT), measure)
    day = (Field("date", "usage_day", DATE),) if per_day else ()
    return (*day, *fields, Field("messages", "event_count", COUNT))


# ``sttByProvider`` / ``ttsByProvider``: provider, model; ``sttRows`` / ``ttsRows``: date first.
BY_MODEL = (sort_key("provider"), sort_key("model"))
BY_DATE_AND_MODEL = (sort_key("usage_day", DATE), *BY_MODEL)


def _voice_lists(name: str, per_day: bool) -> str:
    """The STT and TTS lists ``stt_<name>_json`` and ``tts_<name>_json`` (each of its kind's rows)."""
    return ",\n        ".join(
        json_array(
            _voice_fields(kind, per_day),
            BY_DATE_AND_MODEL if per_day else BY_MODEL,
            f"kind = '{kind}'",
        )
        + f" as {kind}_{name}_json"
        for kind in ("stt", "tts")
    )


def _voice_by_model(extra: str = "") -> str:
    """The totals and the per-model lists, from the statement's ``models`` (and ``extra`` columns)."""
    return f"""select
        sum(duration_seconds) filter (where kind = 'stt') as stt_duration_seconds,
        sum(event_count) filter (where kind = 'stt') as stt_messages,
        sum(characters) filter (where kind = 'tts') as tts_characters,
        sum(event_count) filter (where kind = 'tts') as tts_messages,
        {_voice_lists("by_model", False)}{extra}
    from models"""


# The UTC voice statement reads ``marts.voice_usage_daily_lists``, which the build prepares
# from the daily mart: each day's list entries as JSON text, and every model's running totals
# since the workspace's first day. A range's per-model sums are the totals of its last row on
# or before the end less those of its last row before the start; its lists, the texts of its
# days. The head row (totals, per-model lists, freshness) comes first, then one row per day
# (``day_texts``), joined by ``shape_voice_usage``: PostgreSQL's ``string_agg`` over texts of
# that size costs more than the rest of the statement. One table, so one snapshot of it is
# always whole, a build running or not.
VOICE_LISTS = "marts.voice_usage_daily_lists"
_VOICE_TOTALS = (
    "model_kinds, model_providers, model_names, running_event_counts, running_duration_seconds,"
    " running_characters"
)
_VOICE_HEAD = _voice_by_model(f",\n        {FRESHNESS}")
_VOICE_DAY_TEXTS = "lists.stt_rows_json as stt_day_json, lists.tts_rows_json as tts_day_json"
VOICE_USAGE_UTC_SQL = f"""
with through_end as (
    {last_list_row(VOICE_LISTS, _VOICE_TOTALS, THROUGH_END)}
),

before_start as (
    {last_list_row(VOICE_LISTS, _VOICE_TOTALS, BEFORE_START)}
),

models as (
    select
        later.kind,
        later.provider,
        later.model,
        later.event_count - coalesce(earlier.event_count, 0) as event_count,
        later.duration_seconds - coalesce(earlier.duration_seconds, 0) as duration_seconds,
        later.characters - coalesce(earlier.characters, 0) as characters
    from through_end
    cross join lateral unnest({_VOICE_TOTALS}) as later (
        kind, provider, model, event_count, duration_seconds, characters
    )
    left join (
        select totals.*
        from before_start
        cross join lateral unnest({_VOICE_TOTALS}) as totals (
            kind, provider, model, event_count, duration_seconds, characters
        )
    ) as earlier
        on earlier.kind = later.kind and earlier.provider = later.provider and earlier.model = later.model
    where later.event_count <> coalesce(earlier.event_count, 0)
)

{head_then_day_texts(_VOICE_HEAD, VOICE_LISTS, _VOICE_DAY_TEXTS)}"""


def voice_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The voice statement for ``zone``. UTC: ``VOICE_USAGE_UTC_SQL`` (its head row, then a
    row per day). Another zone, or UTC while a build runs (not ``planned``: the daily
    mart): one row. ``days`` (its day rows) once, then the per-model
    sums (a few dozen rows) from it, and from those the totals and per-model lists; the
    day lists are written straight from ``days``, so each list crosses the wire once."""
    if zone.is_utc and planned:
        return VOICE_USAGE_UTC_SQL
    return VOICE_USAGE_TEMPLATE.format(
        day_rows=day_rows("voice_usage", zone, planned, VOICE_DIMS, VOICE_MEASURES),
        freshness=FRESHNESS,
        by_model=_voice_by_model(),
        by_day_lists=_voice_lists("rows", True),
    )


VOICE_USAGE_SQL = voice_usage_sql(UTC_ZONE)


def shape_voice_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``rows``: the one row of totals and lists (none: an empty body), or (UTC) the head
    row and then the day rows whose texts make the day lists."""
    row = total_row(rows)

    return {
        **camel_envelope(workspace_id, dates, row.get("data_as_of")),
        "totalSttDurationSeconds": as_seconds(row.get("stt_duration_seconds")),
        "totalSttMessages": as_count(row.get("stt_messages")),
        "totalTtsCharacters": as_count(row.get("tts_characters")),
        "totalTtsMessages": as_count(row.get("tts_messages")),
        "sttByProvider": list_text(row, "stt_by_model_json"),
        "ttsByProvider": list_text(row, "tts_by_model_json"),
        "sttRows": listed(rows, "stt_day_json", "stt_rows_json"),
        "ttsRows": listed(rows, "tts_day_json", "tts_rows_json"),
    }


def voice_usage_report(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, raw: bool = False
) -> dict[str, Any]:
    """The voice report's body (one statement, then ``shape_voice_usage``); the caller has authorized."""
    return lists_body(voice_usage_sql, shape_voice_usage, workspace_id, dates, zone, raw)


# The CSV: ``sttRows`` and ``ttsRows`` as lines of one file (``kind`` says which; an STT
# line has no characters, a TTS line no seconds), by date, kind, provider and model.
VOICE_CSV_FIELDS = (
    Field("date", "usage_day", DATE),
    Field("kind", "kind", TEXT),
    Field("provider", "provider", TEXT),
    Field("model", "model", TEXT),
    Field("messages", "event_count", COUNT),
    Field("duration_seconds", "case when kind = 'stt' then duration_seconds end", DECIMAL, SECONDS_PLACES),
    Field("characters", "case when kind = 'tts' then characters end", COUNT),
)
VOICE_CSV_ORDER = (sort_key("usage_day", DATE), sort_key("kind"), *BY_MODEL)


def voice_usage_csv_sql(zone: Zone, planned: bool = True) -> str:
    rows = day_rows("voice_usage", zone, planned, VOICE_DIMS, VOICE_MEASURES)
    return csv_statement(rows, VOICE_CSV_FIELDS, VOICE_CSV_ORDER)


def voice_usage_csv(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> csvexport.CsvTable:
    """The voice report's CSV: its ``sttRows`` and ``ttsRows``, a line each; the caller has authorized."""
    return fetch_csv(csvexport.VOICE_COLUMNS, voice_usage_csv_sql, workspace_id, dates, zone)


@bp.get("/voice-usage")
def voice_usage(workspace_id: str) -> Response:
    """Speech-to-text seconds and text-to-speech characters by provider and model (default: this month)."""
    return lists_report("voice-usage", workspace_id, VOICE_DEFAULT_RANGE, voice_usage_report, voice_usage_csv)
