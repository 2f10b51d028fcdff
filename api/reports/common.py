"""What every report endpoint shares: the blueprint, the steps before and after its
statement (authenticate, parse, authorize; 304, JSON or CSV with an ``ETag``), the
freshness columns every statement reads, default ranges, and how values are written."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import auth, caching, csvexport
from api.buildlock import MARTS_UNSETTLED, note_unsettled, reads_unsettled
from api.csvsql import csv_lines
from api.db import get_db
from api.jsonenc import rounded
from api.jsonsql import Field
from api.params import DateRange, current_month, last_30_days, month_to_date, parse_uuid
from api.reportquery import CSV, ReportQuery, report_query
from api.zones import Zone, known_to_the_warehouse, reading

bp = Blueprint("reports", __name__, url_prefix="/api/v2/w/<workspace_id>/reports")

CREDIT_PLACES = 6
SECONDS_PLACES = 3

DATA_AS_OF = "(select data_as_of from marts.data_freshness where freshness_id = 1)"
# What the answer's ETag derives from (``api.caching``), read in the same statement.
DATA_VERSION = "(select version_at from marts.data_freshness where freshness_id = 1)"
# Every report statement's freshness columns (``caching.note_version`` reads them): whether the
# marts are unsettled as it reads (a build runs, or the last one stopped part-way) decides how
# its ETag is made, and whether it runs again reading other marts (``fetch_reading``).
FRESHNESS = (
    f"{DATA_AS_OF} as data_as_of,\n    {DATA_VERSION} as data_version,\n"
    f"    {caching.MART_TABLE_IDS} as mart_tables,\n    {MARTS_UNSETTLED} as building"
)

# Each report's range when ``start_date`` / ``end_date`` are not given (CONTRACT §4).
AI_DEFAULT_RANGE = last_30_days
SMS_DEFAULT_RANGE = current_month
PHONE_DEFAULT_RANGE = current_month
VOICE_DEFAULT_RANGE = current_month
MEMBER_DEFAULT_RANGE = month_to_date


def as_count(value: Any) -> int:
    return int(value or 0)


def as_credits(value: Any) -> Decimal:
    return rounded(value, CREDIT_PLACES)


def as_seconds(value: Any) -> Decimal:
    return rounded(value, SECONDS_PLACES)


def text_key(value: str | None) -> tuple[bool, str]:
    return (value is None, value or "")


def camel_envelope(workspace_id: uuid.UUID, dates: DateRange, data_as_of: Any) -> dict[str, Any]:
    """The fields that open the SMS, phone and voice bodies, in documented order."""
    return {
        "workspaceId": str(workspace_id),
        "startDate": dates.start.isoformat(),
        "endDate": dates.end.isoformat(),
        "dataAsOf": data_as_of,
    }


def total_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The one row of an SMS, phone or voice statement (or ``{}``)."""
    return rows[0] if rows else {}


def report_request(workspace_id: str, default: Callable[[date], DateRange]) -> tuple[uuid.UUID, ReportQuery]:
    """Steps 1-3 of every workspace report: 401, then 400, then 403 (see ``api.auth``)."""
    caller = auth.authenticate()
    workspace = parse_uuid(workspace_id, "workspace_id")
    query = report_query(request.args, default, request.accept_mimetypes)
    auth.authorize(caller, workspace, auth.ANALYTICS_READ)
    return workspace, query


def csv_statement(rows: str, fields: Sequence[Field], order_by: Sequence[str]) -> str:
    """A report's CSV statement: one row with the freshness columns and ``csv_lines``, the
    lines ``api.csvsql`` writes from ``rows`` (a query for the report's finest rows)."""
    return f"""select
    {FRESHNESS},
    (select {csv_lines(fields, order_by)} from ({rows}) as lines) as csv_lines"""


def fetch_csv(
    columns: Sequence[str],
    statement: Callable[[Zone, bool], str],
    workspace_id: uuid.UUID,
    dates: DateRange,
    zone: Zone,
    **params: Any,
) -> csvexport.CsvTable:
    """A report's CSV: run its statement (``statement(zone, planned)``, a ``csv_statement``)
    for the range, with ``params`` beside the range's own, and keep its version for the
    ``ETag``. The caller has authorized."""
    rows = fetch_reading(lambda planned: statement(zone, planned), workspace_id, dates, zone, params=params)
    return csvexport.CsvTable(columns, rows[0]["csv_lines"])


def fetch_reading(
    statement: Callable[[bool], str],
    workspace_id: uuid.UUID,
    dates: DateRange,
    zone: Zone,
    *,
    by_day: bool = True,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A report statement's rows (``statement(planned)``, read as ``statement_reading``
    says, with ``params`` beside the range's own), its version kept for the ``ETag``.

    A statement that read the marts as settled and found them not (its ``building``
    column, ``MARTS_UNSETTLED``: a build has started since the request began, or the last
    one stopped part-way, leaving marts older than those they are made from) runs again as
    while a build runs when that reads other marts, and the rest of the request reads as
    it does (``note_unsettled``): then the report's JSON and its CSV read the same marts
    until a build finishes."""
    database = get_db()
    settled = not reads_unsettled(database)
    planned, reading_params = statement_reading(workspace_id, dates, zone, by_day)
    text = statement(planned)
    rows = database.fetch_all(text, {**reading_params, **(params or {})})
    if settled and rows and rows[0].get("building"):
        note_unsettled()
        planned, unsettled_params = statement_reading(workspace_id, dates, zone, by_day)
        again = statement(planned)
        if again != text or unsettled_params != reading_params:
            rows = database.fetch_all(again, {**unsettled_params, **(params or {})})
    caching.note_version(rows)
    return rows


def statement_reading(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone, by_day: bool = True
) -> tuple[bool, dict[str, Any]]:
    """Whether a report's statement (the API's or the page's) may read what a build derives
    from other marts, and its parameters. With UTC: the prepared lists and running totals
    (``marts.*_daily_lists``, ``ai_usage_running_totals``), made from the daily marts;
    with another zone: whole UTC dates from the daily marts, made from the quarter-hourly
    ones (``api.zones.reading``). Neither while a build runs, nor once a statement of
    the request found that one stopped part-way (``reads_unsettled``, ``fetch_reading``):
    a build commits each mart on its own, one after the other, so a statement then reads
    the marts the others are made from (UTC: the daily marts, as the CSV does; another
    zone: the quarter hours alone), and a report's JSON and CSV agree throughout."""
    building = reads_unsettled(get_db())
    read = reading(dates, zone, by_day, mixed=not building)
    planned = not building if zone.is_utc else read.planned
    return planned, {"workspace_id": workspace_id, **read.params}


def respond(
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
    building = reads_unsettled(get_db())
    if caching.is_conditional() and not building:
        version = caching.read_version()
        tag = caching.etag(report, parameters, version)
        if not version.building and caching.matches(tag):
            return caching.not_modified(tag)
        if version.building:
            note_unsettled()  # the report's statement reads as while a build runs at once
    with known_to_the_warehouse(query.zone):
        if query.format == CSV:
            table = csv_table()
            name = csvexport.filename(report, workspace, query.dates, query.zone, member)
            response = csvexport.csv_response(table, name)
        else:
            response = jsonify(json_body())
    version = caching.noted_version()
    if building or version.building:
        # the marts were unsettled as the statement read them (a build ran, seen as the request
        # began or as it ended, or the last one stopped part-way)
        tag = caching.body_etag(report, parameters, response.get_data())
        if caching.matches(tag):
            return caching.not_modified(tag)
        return caching.cacheable(response, tag)
    return caching.cacheable(response, caching.etag(report, parameters, version))
