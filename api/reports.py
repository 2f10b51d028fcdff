"""The usage reports (CONTRACT §4 and §5): ``/api/v2/w/<workspace_id>/reports/...``.

Each endpoint is: authenticate -> parse and validate -> authorize -> one SQL
statement over the marts -> shape the JSON. Each statement reads the mart
through its primary key (``workspace_id``, ``usage_date``, ...) with bound
parameters, sums the range in one pass (the lists of day rows are written in
that pass; breakdowns come from ``grouping sets``) and reads
``marts.data_freshness`` in the same statement, so a report is one
consistent snapshot even while a build runs.

Every report also takes ``tz`` and ``format`` (CONTRACT §6). The statements
are templates with a slot for the rows they read (``api.zones.range_rows``,
``rows_by_day`` and ``day_rows``): with UTC the daily marts by ``usage_date``,
exactly as before; with another zone the quarter-hourly twins where the zone's local
days cut UTC dates and the daily marts for the rest, each row on its local
day. A day, provider or model that nets to no activity there (a count of
zero: a zoned statement also sees the empty side of a UTC date it splits) is
left out by ``having``. CSV (``api.csvexport``) lists each report's finest rows; ``ETag``
and ``If-None-Match`` are in ``api.caching``.

Lists are sorted by Unicode code point (the same order whatever collation
or encoding the warehouse uses), nulls last:

* AI ``by_provider`` / ``by_type``: credits descending, then name;
  ``top_models``: credits descending, then model, provider and type; at most 10.
  Sorted here, in Python (a few dozen items).
* SMS and phone ``rows``: date, then phone number.
* Voice ``sttRows`` / ``ttsRows``: date, provider, model;
  ``sttByProvider`` / ``ttsByProvider``: provider, model.
  These run to thousands of items: the statement writes each as JSON text
  (``api.jsonsql``), exactly as ``api.jsonenc`` would, in the same pass that
  sums the day rows (``api.zones.day_rows``).

Credits are rounded half up to 6 decimals, voice seconds to 3; both are
written as exact JSON numbers (see ``api.jsonenc``). Counts are integers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import auth, caching, csvexport
from api.buildlock import BUILD_RUNNING, running_at_start
from api.db import get_db
from api.errors import ApiError
from api.jsonenc import RawJSON, rounded, with_values
from api.jsonsql import COUNT, DATE, DECIMAL, TEXT, Field, json_array, sort_key
from api.params import DateRange, current_month, last_30_days, month_to_date, parse_uuid
from api.reportquery import CSV, ReportQuery, report_query
from api.zones import (
    UTC_ZONE,
    Zone,
    day_rows,
    known_to_the_warehouse,
    range_rows,
    reading,
    rows_by_day,
    with_zone,
)

bp = Blueprint("reports", __name__, url_prefix="/api/v2/w/<workspace_id>/reports")

CREDIT_PLACES = 6
SECONDS_PLACES = 3
TOP_MODELS_LIMIT = 10

DATA_AS_OF = "(select data_as_of from marts.data_freshness where freshness_id = 1)"
# What the answer's ETag derives from (``api.caching``), read in the same statement.
DATA_VERSION = "(select version_at from marts.data_freshness where freshness_id = 1)"
# Every report statement's freshness columns (``caching.note_version`` reads them): whether a
# build runs while it reads decides how its ETag is made.
FRESHNESS = (
    f"{DATA_AS_OF} as data_as_of,\n    {DATA_VERSION} as data_version,\n"
    f"    {caching.MART_TABLE_IDS} as mart_tables,\n    {BUILD_RUNNING} as building"
)

# Each report's range when ``start_date`` / ``end_date`` are not given (CONTRACT §4).
AI_DEFAULT_RANGE = last_30_days
SMS_DEFAULT_RANGE = current_month
PHONE_DEFAULT_RANGE = current_month
VOICE_DEFAULT_RANGE = current_month
MEMBER_DEFAULT_RANGE = month_to_date


def _count(value: Any) -> int:
    return int(value or 0)


def _credits(value: Any) -> Decimal:
    return rounded(value, CREDIT_PLACES)


def _seconds(value: Any) -> Decimal:
    return rounded(value, SECONDS_PLACES)


def _text_key(value: str | None) -> tuple[bool, str]:
    return (value is None, value or "")


def _camel_envelope(workspace_id: uuid.UUID, dates: DateRange, data_as_of: Any) -> dict[str, Any]:
    """The fields that open the SMS, phone and voice bodies, in documented order."""
    return {
        "workspaceId": str(workspace_id),
        "startDate": dates.start.isoformat(),
        "endDate": dates.end.isoformat(),
        "dataAsOf": data_as_of,
    }


def _total_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The one row of an SMS, phone or voice statement (or ``{}``)."""
    return rows[0] if rows else {}


def _report_request(workspace_id: str, default: Callable[[date], DateRange]) -> tuple[uuid.UUID, ReportQuery]:
    """Steps 1-3 of every workspace report: 401, then 400, then 403 (see ``api.auth``)."""
    caller = auth.authenticate()
    workspace = parse_uuid(workspace_id, "workspace_id")
    query = report_query(request.args, default, request.accept_mimetypes)
    auth.authorize(caller, workspace, auth.ANALYTICS_READ)
    return workspace, query


def statement_reading(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone, by_day: bool = True
) -> tuple[bool, dict[str, Any]]:
    """Whether a report's statement (the API's or the page's) may take whole UTC dates from the
    daily marts (``api.zones.reading``; not while a build runs), and its parameters."""
    mixed = zone.is_utc or not running_at_start(get_db())
    read = reading(dates, zone, by_day, mixed)
    return read.planned, {"workspace_id": workspace_id, **read.params}


def _respond(
    report: str,
    workspace: uuid.UUID,
    query: ReportQuery,
    json_body: Callable[[], dict[str, Any]],
    csv_table: Callable[[], csvexport.CsvTable],
    member: uuid.UUID | None = None,
) -> Response:
    """The last step, once the caller may have the answer: 304 when ``If-None-Match``
    still matches (without running the report), else the report as JSON or CSV,
    with its ``ETag`` and caching headers (see ``api.caching``)."""
    parameters = {
        "workspace_id": workspace,
        "member_id": member,
        "start_date": query.dates.start,
        "end_date": query.dates.end,
        "tz": query.zone.name,
        "format": query.format,
    }
    building = running_at_start(get_db())
    if caching.is_conditional() and not building:
        version = caching.read_version()
        tag = caching.etag(report, parameters, version)
        if not version.building and caching.matches(tag):
            return caching.not_modified(tag)
    with known_to_the_warehouse(query.zone):
        if query.format == CSV:
            table = csv_table()
            name = csvexport.filename(report, workspace, query.dates, query.zone, member)
            response = csvexport.csv_response(table, name)
        else:
            response = jsonify(json_body())
    version = caching.noted_version()
    if building or version.building:
        # a build ran while the statement did (seen as the request began, or as it ended)
        tag = caching.body_etag(report, parameters, response.get_data())
        if caching.matches(tag):
            return caching.not_modified(tag)
        return caching.cacheable(response, tag)
    return caching.cacheable(response, caching.etag(report, parameters, version))


def _lists_report(
    report: str,
    workspace_id: str,
    default: Callable[[date], DateRange],
    body: Callable[[uuid.UUID, DateRange, Zone, bool], dict[str, Any]],
    table: Callable[[dict[str, Any]], csvexport.CsvTable],
) -> Response:
    """An endpoint whose CSV lists its body's rows (SMS, phone, voice): the JSON keeps
    the warehouse's list texts (``raw``), the CSV reads them as values."""
    workspace, query = _report_request(workspace_id, default)
    return _respond(
        report,
        workspace,
        query,
        lambda: body(workspace, query.dates, query.zone, True),
        lambda: table(body(workspace, query.dates, query.zone, False)),
    )


def _lists_body(
    statement: Callable[[Zone, bool], str],
    shape: Callable[[uuid.UUID, DateRange, Sequence[dict[str, Any]]], dict[str, Any]],
    workspace_id: uuid.UUID,
    dates: DateRange,
    zone: Zone,
    raw: bool,
) -> dict[str, Any]:
    """A body whose lists the statement wrote (``api.jsonsql``): as the endpoint writes it
    (``raw``: the lists as the warehouse's JSON text) or with the lists as Python values
    (the page and CSV)."""
    planned, params = statement_reading(workspace_id, dates, zone)
    rows = get_db().fetch_all(statement(zone, planned), params)
    caching.note_version(rows)
    body = with_zone(shape(workspace_id, dates, rows), zone)
    return body if raw else with_values(body)


def _day_texts(rows: Sequence[dict[str, Any]], column: str) -> str:
    """The JSON list of the day rows' ``column`` texts, in date order: a UTC statement that
    reads prepared day lists (phone, voice) returns its head row, then one row per day."""
    return "[" + ",".join(row[column] for row in rows[1:] if row[column] is not None) + "]"


def _listed(rows: Sequence[dict[str, Any]], day_column: str, list_column: str) -> RawJSON:
    """A day list of a phone or voice body: joined from the day rows' ``day_column`` texts
    after a UTC statement's head row (``_day_texts``), else the one row's ``list_column``."""
    total = _total_row(rows)
    if day_column in total:
        return RawJSON(_day_texts(rows, day_column))
    return RawJSON(total.get(list_column) or "[]")


# The lookups of a UTC statement over a prepared mart (``marts.*_daily_lists``: a row per
# workspace and day with activity, its texts and running totals).
THROUGH_END = "<= %(end_date)s"
BEFORE_START = "< %(start_date)s"


def _last_list_row(table: str, columns: str, bound: str) -> str:
    """``columns`` of the workspace's last row of ``table`` whose day is ``bound``
    (``THROUGH_END`` or ``BEFORE_START``): the running totals a range's sums are the
    difference of (none: nothing yet)."""
    return f"""select {columns}
    from {table} as lists
    where lists.workspace_id = %(workspace_id)s and lists.usage_date {bound}
    order by lists.usage_date desc
    limit 1"""


def _head_then_day_texts(head: str, table: str, texts: str) -> str:
    """``head`` (one row: totals, freshness), then one row per day of the range with
    ``texts`` (the day text columns of ``table``), in date order: ``_day_texts`` joins them."""
    return f"""select head.*, day_texts.*
from (
    {head}
) as head
full join (
    select lists.usage_date as text_date, {texts}
    from {table} as lists
    where lists.workspace_id = %(workspace_id)s and lists.usage_date between %(start_date)s and %(end_date)s
) as day_texts on false
order by day_texts.text_date nulls first
"""


# --- AI ---------------------------------------------------------------------

AI_DIMS = ("provider", "model", "model_type")
AI_MEASURES = (
    "event_count",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "credits",
)

AI_USAGE_TEMPLATE = """
with usage as (
    {usage_rows}
)

select
    grouping(provider) as provider_grouped,
    grouping(model) as model_grouped,
    grouping(model_type) as type_grouped,
    {day_column} as usage_date,
    provider,
    model,
    model_type,
    sum(prompt_tokens) as prompt_tokens,
    sum(completion_tokens) as completion_tokens,
    sum(total_tokens) as total_tokens,
    sum(cached_tokens) as cached_tokens,
    sum(audio_input_tokens) as audio_input_tokens,
    sum(audio_output_tokens) as audio_output_tokens,
    sum(credits) as credits,
    (
        select sum(message_counts.message_count)
        from ({message_rows}) as message_counts
    ) as total_messages,
    {freshness}
from usage
group by grouping sets ({grouping_sets})
{having}
"""


def ai_usage_sql(zone: Zone, per_day: bool = False, planned: bool = True) -> str:
    """The AI statement for ``zone``; ``per_day`` groups by day, provider, model and type
    instead (the CSV lines, with the grand total row for ``data_as_of``). The body only
    totals the range (``range_rows``); the CSV lines need the days (``rows_by_day``)."""
    return AI_USAGE_TEMPLATE.format(
        usage_rows=rows_by_day("ai_usage", zone, planned, AI_DIMS, AI_MEASURES)
        if per_day
        else _ai_by_model(zone, planned),
        message_rows=range_rows("message_counts", zone, ("message_count",), planned=planned),
        having="having grouping(usage_day) = 1 or sum(event_count) <> 0" if per_day else "",
        day_column="usage_day" if per_day else "null::date",
        grouping_sets="(), (usage_day, provider, model, model_type)"
        if per_day
        else "(), (provider), (model_type), (provider, model, model_type)",
        freshness=FRESHNESS,
    )


# The UTC range's sums per provider, model and type from ``marts.ai_usage_running_totals``:
# the totals of the workspace's last day on or before the end less those of its last day
# before the start (two days' rows, whatever the range). A key used by then but not in the
# range nets to no events and is left out, as the daily rows would leave it.
AI_RANGE_FROM_RUNNING_TOTALS = f"""select
        later.provider,
        later.model,
        later.model_type,
        {", ".join(f"later.running_{m} - coalesce(earlier.running_{m}, 0) as {m}" for m in AI_MEASURES)}
    from marts.ai_usage_running_totals as later
    left join marts.ai_usage_running_totals as earlier
        on
            earlier.workspace_id = later.workspace_id
            and earlier.provider = later.provider
            and earlier.model = later.model
            and earlier.model_type = later.model_type
            and earlier.usage_date = (
                select max(totals.usage_date) from marts.ai_usage_running_totals as totals
                where totals.workspace_id = %(workspace_id)s and totals.usage_date < %(start_date)s
            )
    where
        later.workspace_id = %(workspace_id)s
        and later.usage_date = (
            select max(totals.usage_date) from marts.ai_usage_running_totals as totals
            where totals.workspace_id = %(workspace_id)s and totals.usage_date <= %(end_date)s
        )
        and later.running_event_count <> coalesce(earlier.running_event_count, 0)"""


def _ai_by_model(zone: Zone, planned: bool) -> str:
    """The range's rows summed per provider, model and type first: the grouping sets then
    run over a few dozen rows instead of every day's (90 days: 1,400 rows, three hash
    tables of eight sums each). In UTC, two days of the running totals."""
    if zone.is_utc:
        return AI_RANGE_FROM_RUNNING_TOTALS
    sums = ", ".join(f"sum({measure}) as {measure}" for measure in AI_MEASURES)
    rows = range_rows("ai_usage", zone, (*AI_DIMS, *AI_MEASURES), planned=planned)
    return f"select {', '.join(AI_DIMS)}, {sums} from ({rows}) as range_rows group by {', '.join(AI_DIMS)}"


AI_USAGE_SQL = ai_usage_sql(UTC_ZONE)


def _ai_breakdown(label: str, name: str | None, row: dict[str, Any]) -> dict[str, Any]:
    return {
        label: name,
        "total_tokens": _count(row["total_tokens"]),
        "total_cached_tokens": _count(row["cached_tokens"]),
        "total_audio_input_tokens": _count(row["audio_input_tokens"]),
        "total_audio_output_tokens": _count(row["audio_output_tokens"]),
        "total_credits": _credits(row["credits"]),
    }


def _by_credits_then(*names: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        return (-item["total_credits"], *(_text_key(item[name]) for name in names))

    return key


def shape_ai_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    total: dict[str, Any] = {}
    data_as_of = None
    total_messages = 0
    by_provider: list[dict[str, Any]] = []
    by_type: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    for row in rows:
        data_as_of = row["data_as_of"]
        total_messages = _count(row["total_messages"])
        grouped = (row["provider_grouped"], row["model_grouped"], row["type_grouped"])
        if grouped == (1, 1, 1):
            total = row
        elif grouped == (0, 1, 1):
            by_provider.append(_ai_breakdown("provider", row["provider"], row))
        elif grouped == (1, 1, 0):
            by_type.append(_ai_breakdown("type", row["model_type"], row))
        else:
            models.append(
                {
                    "model": row["model"],
                    "provider": row["provider"],
                    "type": row["model_type"],
                    "total_tokens": _count(row["total_tokens"]),
                    "total_credits": _credits(row["credits"]),
                }
            )
    return {
        "workspace_id": str(workspace_id),
        "start_date": dates.start.isoformat(),
        "end_date": dates.end.isoformat(),
        "data_as_of": data_as_of,
        "total_messages": total_messages,
        "total_tokens": _count(total.get("total_tokens")),
        "total_prompt_tokens": _count(total.get("prompt_tokens")),
        "total_completion_tokens": _count(total.get("completion_tokens")),
        "total_cached_tokens": _count(total.get("cached_tokens")),
        "total_audio_input_tokens": _count(total.get("audio_input_tokens")),
        "total_audio_output_tokens": _count(total.get("audio_output_tokens")),
        "total_credits": _credits(total.get("credits")),
        "by_provider": sorted(by_provider, key=_by_credits_then("provider")),
        "by_type": sorted(by_type, key=_by_credits_then("type")),
        "top_models": sorted(models, key=_by_credits_then("model", "provider", "type"))[:TOP_MODELS_LIMIT],
    }


def ai_usage_report(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    """The AI report's body (one statement, then ``shape_ai_usage``); the caller has authorized."""
    planned, params = statement_reading(workspace_id, dates, zone, by_day=False)
    rows = get_db().fetch_all(ai_usage_sql(zone, planned=planned), params)
    caching.note_version(rows)
    return with_zone(shape_ai_usage(workspace_id, dates, rows), zone)


def ai_usage_lines(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> csvexport.CsvTable:
    """The AI report's CSV: one line per day, provider, model and type (one statement)."""
    planned, params = statement_reading(workspace_id, dates, zone)
    rows = get_db().fetch_all(ai_usage_sql(zone, per_day=True, planned=planned), params)
    caching.note_version(rows)
    lines = [
        {
            "date": row["usage_date"],
            "provider": row["provider"],
            "model": row["model"],
            "type": row["model_type"],
            "prompt_tokens": _count(row["prompt_tokens"]),
            "completion_tokens": _count(row["completion_tokens"]),
            "total_tokens": _count(row["total_tokens"]),
            "cached_tokens": _count(row["cached_tokens"]),
            "audio_input_tokens": _count(row["audio_input_tokens"]),
            "audio_output_tokens": _count(row["audio_output_tokens"]),
            "credits": _credits(row["credits"]),
        }
        for row in rows
        if row["usage_date"] is not None
    ]
    lines.sort(
        key=lambda line: (line["date"], *(_text_key(line[name]) for name in ("provider", "model", "type")))
    )
    return csvexport.ai_table(lines)


@bp.get("/ai-usage")
def ai_usage(workspace_id: str) -> Response:
    """AI usage: tokens and credits by provider, by model type and top models (default: last 30 days)."""
    workspace, query = _report_request(workspace_id, AI_DEFAULT_RANGE)
    return _respond(
        "ai-usage",
        workspace,
        query,
        lambda: ai_usage_report(workspace, query.dates, query.zone),
        lambda: ai_usage_lines(workspace, query.dates, query.zone),
    )


# --- SMS --------------------------------------------------------------------

SMS_USAGE_TEMPLATE = """
select
    sum(message_count) as messages,
    sum(inbound_messages) as inbound,
    sum(outbound_messages) as outbound,
    sum(characters) as characters,
    sum(segments) as segments,
    sum(inbound_segments) as inbound_segments,
    sum(outbound_segments) as outbound_segments,
    {freshness},
    {rows_json} as rows_json
from (
    {day_rows}
) as days
"""


NUMBER_DIMS = ("phone_number",)  # SMS and phone: per workspace number
SMS_MEASURES = (
    "message_count",
    "inbound_messages",
    "outbound_messages",
    "characters",
    "segments",
    "inbound_segments",
    "outbound_segments",
)


def _number_day_fields(inbound: str, outbound: str) -> tuple[Field, ...]:
    """What opens each SMS and phone row: the day, the workspace number, its traffic each way."""
    return (
        Field("date", "usage_day", DATE),
        Field("phoneNumber", "phone_number", TEXT),
        Field("inbound", inbound, COUNT),
        Field("outbound", outbound, COUNT),
    )


SMS_ROW_FIELDS = (
    *_number_day_fields("inbound_messages", "outbound_messages"),
    Field("characters", "characters", COUNT),
    Field("segments", "segments", COUNT),
    Field("inboundSegments", "inbound_segments", COUNT),
    Field("outboundSegments", "outbound_segments", COUNT),
)
# SMS and phone ``rows``: date, then phone number.
BY_DATE_AND_NUMBER = (sort_key("usage_day", DATE), sort_key("phone_number"))


def _number_day_sql(
    template: str, mart: str, measures: Sequence[str], fields: Sequence[Field], zone: Zone, planned: bool
) -> str:
    """An SMS or phone statement: one pass of ``template`` over the range's rows per day and
    workspace number (``day_rows``) that sums them and writes them into ``rows_json``
    (``fields``, by date then number)."""
    return template.format(
        day_rows=day_rows(mart, zone, planned, NUMBER_DIMS, measures),
        freshness=FRESHNESS,
        rows_json=json_array(fields, BY_DATE_AND_NUMBER),
    )


def sms_usage_sql(zone: Zone, planned: bool = True) -> str:
    return _number_day_sql(SMS_USAGE_TEMPLATE, "sms_usage", SMS_MEASURES, SMS_ROW_FIELDS, zone, planned)


SMS_USAGE_SQL = sms_usage_sql(UTC_ZONE)


def shape_sms_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    total = _total_row(rows)
    return {
        **_camel_envelope(workspace_id, dates, total.get("data_as_of")),
        "totalMessages": _count(total.get("messages")),
        "totalInbound": _count(total.get("inbound")),
        "totalOutbound": _count(total.get("outbound")),
        "totalCharacters": _count(total.get("characters")),
        "totalSegments": _count(total.get("segments")),
        "totalInboundSegments": _count(total.get("inbound_segments")),
        "totalOutboundSegments": _count(total.get("outbound_segments")),
        "rows": RawJSON(total.get("rows_json") or "[]"),
    }


def sms_usage_report(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, raw: bool = False
) -> dict[str, Any]:
    """The SMS report's body (one statement, then ``shape_sms_usage``); the caller has authorized."""
    return _lists_body(sms_usage_sql, shape_sms_usage, workspace_id, dates, zone, raw)


@bp.get("/sms-usage")
def sms_usage(workspace_id: str) -> Response:
    """SMS messages, characters and segments per day and workspace number (default: this month)."""
    return _lists_report("sms-usage", workspace_id, SMS_DEFAULT_RANGE, sms_usage_report, csvexport.sms_table)


# --- Phone ------------------------------------------------------------------

PHONE_USAGE_TEMPLATE = """
select
    sum(call_count) as calls,
    sum(inbound_calls) as inbound,
    sum(outbound_calls) as outbound,
    sum(duration_seconds) as duration_seconds,
    {freshness},
    {rows_json} as rows_json
from (
    {day_rows}
) as days
"""


PHONE_MEASURES = ("call_count", "inbound_calls", "outbound_calls", "duration_seconds")


PHONE_ROW_FIELDS = (
    *_number_day_fields("inbound_calls", "outbound_calls"),
    Field("totalDurationSeconds", "duration_seconds", COUNT),
)


# UTC: ``marts.phone_usage_daily_lists``, which the build prepares from the daily mart (each
# day's rows as JSON text and the workspace's running totals): the totals are two rows' apart,
# the rows the texts of the range's days (the head row, then a row per day, as the UTC voice
# statement; ``shape_phone_usage`` joins them).
PHONE_LISTS = "marts.phone_usage_daily_lists"
_PHONE_TOTALS = ", ".join(
    f"later.running_{column} - coalesce(earlier.running_{column}, 0) as {name}"
    for column, name in zip(PHONE_MEASURES, ("calls", "inbound", "outbound", "duration_seconds"), strict=True)
)
PHONE_USAGE_UTC_SQL = _head_then_day_texts(
    f"""select
        {_PHONE_TOTALS},
        {FRESHNESS}
    from (select) as one
    left join lateral ({_last_list_row(PHONE_LISTS, "lists.*", THROUGH_END)}) as later on true
    left join lateral ({_last_list_row(PHONE_LISTS, "lists.*", BEFORE_START)}) as earlier on true""",
    PHONE_LISTS,
    "lists.rows_json as day_json",
)


def phone_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The phone statement for ``zone``: UTC, ``PHONE_USAGE_UTC_SQL``; another zone, one row."""
    if zone.is_utc:
        return PHONE_USAGE_UTC_SQL
    return _number_day_sql(
        PHONE_USAGE_TEMPLATE, "phone_usage", PHONE_MEASURES, PHONE_ROW_FIELDS, zone, planned
    )


PHONE_USAGE_SQL = phone_usage_sql(UTC_ZONE)


def shape_phone_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``rows``: the one row of totals and the list, or (UTC) the head row and the day rows."""
    total = _total_row(rows)
    return {
        **_camel_envelope(workspace_id, dates, total.get("data_as_of")),
        "totalCalls": _count(total.get("calls")),
        "totalInbound": _count(total.get("inbound")),
        "totalOutbound": _count(total.get("outbound")),
        "totalDurationSeconds": _count(total.get("duration_seconds")),
        "rows": _listed(rows, "day_json", "rows_json"),
    }


def phone_usage_report(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, raw: bool = False
) -> dict[str, Any]:
    """The phone report's body (one statement, then ``shape_phone_usage``); the caller has authorized."""
    return _lists_body(phone_usage_sql, shape_phone_usage, workspace_id, dates, zone, raw)


@bp.get("/phone-usage")
def phone_usage(workspace_id: str) -> Response:
    """Finished calls and their rounded durations per day and workspace number (default: this month)."""
    return _lists_report(
        "phone-usage", workspace_id, PHONE_DEFAULT_RANGE, phone_usage_report, csvexport.phone_table
    )


# --- Voice ------------------------------------------------------------------

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
    {_last_list_row(VOICE_LISTS, _VOICE_TOTALS, THROUGH_END)}
),

before_start as (
    {_last_list_row(VOICE_LISTS, _VOICE_TOTALS, BEFORE_START)}
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

{_head_then_day_texts(_VOICE_HEAD, VOICE_LISTS, _VOICE_DAY_TEXTS)}"""


def voice_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The voice statement for ``zone``. UTC: ``VOICE_USAGE_UTC_SQL`` (its head row, then a
    row per day). Another zone: one row. ``days`` (its day rows) once, then the per-model
    sums (a few dozen rows) from it, and from those the totals and per-model lists; the
    day lists are written straight from ``days``, so each list crosses the wire once."""
    if zone.is_utc:
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
    row = _total_row(rows)

    def listed(name: str) -> RawJSON:
        return RawJSON(row.get(name) or "[]")

    return {
        **_camel_envelope(workspace_id, dates, row.get("data_as_of")),
        "totalSttDurationSeconds": _seconds(row.get("stt_duration_seconds")),
        "totalSttMessages": _count(row.get("stt_messages")),
        "totalTtsCharacters": _count(row.get("tts_characters")),
        "totalTtsMessages": _count(row.get("tts_messages")),
        "sttByProvider": listed("stt_by_model_json"),
        "ttsByProvider": listed("tts_by_model_json"),
        "sttRows": _listed(rows, "stt_day_json", "stt_rows_json"),
        "ttsRows": _listed(rows, "tts_day_json", "tts_rows_json"),
    }


def voice_usage_report(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, raw: bool = False
) -> dict[str, Any]:
    """The voice report's body (one statement, then ``shape_voice_usage``); the caller has authorized."""
    return _lists_body(voice_usage_sql, shape_voice_usage, workspace_id, dates, zone, raw)


@bp.get("/voice-usage")
def voice_usage(workspace_id: str) -> Response:
    """Speech-to-text seconds and text-to-speech characters by provider and model (default: this month)."""
    return _lists_report(
        "voice-usage", workspace_id, VOICE_DEFAULT_RANGE, voice_usage_report, csvexport.voice_table
    )


# --- Member -----------------------------------------------------------------

MEMBER_IN_WORKSPACE_SQL = """
select workspace_id
from staging.stg_product__members
where member_id = %(member_id)s
"""

MEMBER_USAGE_TEMPLATE = """
select
    {day_column} as usage_date,
    sum(chats_created) as chats,
    sum(messages_sent) as messages,
    sum(credits) as credits,
    sum(total_tokens) as total_tokens,
    {freshness}
from (
    {member_rows}
) as member_usage
group by grouping sets ({grouping_sets})
{having}
"""

MEMBER_MEASURES = ("chats_created", "messages_sent", "ai_event_count", "credits", "total_tokens")


def member_usage_sql(zone: Zone, per_day: bool = False, planned: bool = True) -> str:
    """The member statement for ``zone``: one row (the totals, from ``range_rows``), or
    with ``per_day`` also one row per day with activity (the CSV lines)."""
    return MEMBER_USAGE_TEMPLATE.format(
        member_rows=rows_by_day("member_usage", zone, planned, (), MEMBER_MEASURES, key="member_id")
        if per_day
        else range_rows("member_usage", zone, MEMBER_MEASURES, key="member_id", planned=planned),
        having="having grouping(usage_day) = 1 or sum(chats_created + messages_sent + ai_event_count) <> 0"
        if per_day
        else "",
        day_column="usage_day" if per_day else "null::date",
        grouping_sets="(), (usage_day)" if per_day else "()",
        freshness=FRESHNESS,
    )


MEMBER_USAGE_SQL = member_usage_sql(UTC_ZONE)


def shape_member_usage(
    workspace_id: uuid.UUID, member_id: uuid.UUID, dates: DateRange, row: dict[str, Any] | None
) -> dict[str, Any]:
    row = row or {}
    return {
        "workspaceId": str(workspace_id),
        "memberId": str(member_id),
        "startDate": dates.start.isoformat(),
        "endDate": dates.end.isoformat(),
        "dataAsOf": row.get("data_as_of"),
        "totalChats": _count(row.get("chats")),
        "totalMessages": _count(row.get("messages")),
        "totalCredits": _credits(row.get("credits")),
        "totalTokens": _count(row.get("total_tokens")),
    }


def member_usage_report(
    workspace_id: uuid.UUID, member_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE
) -> dict[str, Any]:
    """One member's usage body (one statement, then ``shape_member_usage``); the caller has authorized."""
    planned, params = statement_reading(workspace_id, dates, zone, by_day=False)
    row = get_db().fetch_one(member_usage_sql(zone, planned=planned), {**params, "member_id": member_id})
    caching.note_version([row] if row else [])
    return with_zone(shape_member_usage(workspace_id, member_id, dates, row), zone)


def member_usage_lines(
    workspace_id: uuid.UUID, member_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE
) -> csvexport.CsvTable:
    """One member's CSV: one line per day with activity (one statement)."""
    planned, params = statement_reading(workspace_id, dates, zone)
    rows = get_db().fetch_all(
        member_usage_sql(zone, per_day=True, planned=planned), {**params, "member_id": member_id}
    )
    caching.note_version(rows)
    lines = [
        {
            "date": row["usage_date"],
            "chats": _count(row["chats"]),
            "messages": _count(row["messages"]),
            "credits": _credits(row["credits"]),
            "tokens": _count(row["total_tokens"]),
        }
        for row in rows
        if row["usage_date"] is not None
    ]
    lines.sort(key=lambda line: line["date"])
    return csvexport.member_table(lines)


@bp.get("/member-usage/<member_id>")
def member_usage(workspace_id: str, member_id: str) -> Response:
    """One member's chats, messages, credits and tokens (default: this month to today).

    Checks, in order: 401 (key), 400 (``workspace_id``, ``member_id``, dates),
    403 (workspace; own usage needs ``members:read`` or ``analytics:read``,
    anyone else's ``analytics:read``, decided before the member is looked up),
    then 404 when the member is not in this workspace: unknown, or (in the
    live staging view) a member of another workspace. A *deleted* member of
    this workspace is still reported: their past usage is part of the
    workspace's bill, and deletion only stops their own keys from working.
    """
    caller = auth.authenticate()
    workspace = parse_uuid(workspace_id, "workspace_id")
    member = parse_uuid(member_id, "member_id")
    query = report_query(request.args, MEMBER_DEFAULT_RANGE, request.accept_mimetypes)
    auth.authorize_member_usage(caller, workspace, member)
    if member != caller.member_id:
        found = get_db().fetch_one(MEMBER_IN_WORKSPACE_SQL, {"member_id": member})
        if found is None or found["workspace_id"] != workspace:
            raise ApiError(404, "member_not_found", "There is no member with this id in this workspace.")
    return _respond(
        "member-usage",
        workspace,
        query,
        lambda: member_usage_report(workspace, member, query.dates, query.zone),
        lambda: member_usage_lines(workspace, member, query.dates, query.zone),
        member=member,
    )
