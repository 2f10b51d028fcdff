"""Statements that write long lists as JSON text (``api.jsonsql``): the SMS, phone and
voice endpoints, the UTC reads of the prepared ``marts.*_daily_lists``, and the rows per day
and workspace number that SMS and phone share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from flask import Response

from api import csvexport
from api.jsonenc import RawJSON, with_values
from api.jsonsql import COUNT, DATE, TEXT, Field, json_array, sort_key
from api.params import DateRange
from api.reports.common import (
    FRESHNESS,
    csv_statement,
    fetch_csv,
    fetch_reading,
    report_request,
    respond,
    total_row,
)
from api.zones import Zone, day_rows, with_zone


def lists_report(
    report: str,
    workspace_id: str,
    default: Callable[[date], DateRange],
    body: Callable[[uuid.UUID, DateRange, Zone, bool], dict[str, Any]],
    csv: Callable[[uuid.UUID, DateRange, Zone], csvexport.CsvTable],
) -> Response:
    """An endpoint whose body keeps the warehouse's list texts (``raw``): SMS, phone, voice."""
    workspace, query = report_request(workspace_id, default)
    return respond(
        report,
        workspace,
        query,
        lambda: body(workspace, query.dates, query.zone, True),
        lambda: csv(workspace, query.dates, query.zone),
    )


def lists_body(
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
    rows = fetch_reading(lambda planned: statement(zone, planned), workspace_id, dates, zone)
    body = with_zone(shape(workspace_id, dates, rows), zone)
    return body if raw else with_values(body)


def day_texts(rows: Sequence[dict[str, Any]], column: str) -> str:
    """The JSON list of the day rows' ``column`` texts, in date order: a UTC statement that
    reads prepared day lists (phone, voice) returns its head row, then one row per day."""
    return "[" + ",".join(row[column] for row in rows[1:] if row[column] is not None) + "]"


def list_text(row: dict[str, Any], column: str) -> RawJSON:
    """A list the statement wrote as JSON text into ``column`` of ``row`` (``[]`` when none)."""
    return RawJSON(row.get(column) or "[]")


def listed(rows: Sequence[dict[str, Any]], day_column: str, list_column: str) -> RawJSON:
    """A day list of a phone or voice body: joined from the day rows' ``day_column`` texts
    after a UTC statement's head row (``day_texts``), else the one row's ``list_column``."""
    total = total_row(rows)
    if day_column in total:
        return RawJSON(day_texts(rows, day_column))
    return list_text(total, list_column)


# The lookups of a UTC statement over a prepared mart (``marts.*_daily_lists``: a row per
# workspace and day with activity, its texts and running totals).
THROUGH_END = "<= %(end_date)s"
BEFORE_START = "< %(start_date)s"


def last_list_row(table: str, columns: str, bound: str) -> str:
    """``columns`` of the workspace's last row of ``table`` whose day is ``bound``
    (``THROUGH_END`` or ``BEFORE_START``): the running totals a range's sums are the
    difference of (none: nothing yet)."""
    return f"""select {columns}
    from {table} as lists
    where lists.workspace_id = %(workspace_id)s and lists.usage_date {bound}
    order by lists.usage_date desc
    limit 1"""


def head_then_day_texts(head: str, table: str, texts: str) -> str:
    """``head`` (one row: totals, freshness), then one row per day of the range with
    ``texts`` (the day text columns of ``table``), in date order: ``day_texts`` joins them."""
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


def number_lists_utc_sql(table: str, measures: Sequence[str], names: Sequence[str]) -> str:
    """The UTC statement of the SMS or phone report over ``table``, the prepared
    ``marts.*_daily_lists`` (macros/number_day_lists.sql: each day's rows as JSON text and
    the workspace's running totals): the head row (the sums of ``measures`` as ``names``,
    two rows' totals apart, and freshness), then the texts of the range's days."""
    totals = ", ".join(
        f"later.running_{column} - coalesce(earlier.running_{column}, 0) as {name}"
        for column, name in zip(measures, names, strict=True)
    )
    return head_then_day_texts(
        f"""select
        {totals},
        {FRESHNESS}
    from (select) as one
    left join lateral ({last_list_row(table, "lists.*", THROUGH_END)}) as later on true
    left join lateral ({last_list_row(table, "lists.*", BEFORE_START)}) as earlier on true""",
        table,
        "lists.rows_json as day_json",
    )


NUMBER_DIMS = ("phone_number",)  # SMS and phone: per workspace number


def number_day_fields(inbound: str, outbound: str) -> tuple[Field, ...]:
    """What opens each SMS and phone row: the day, the workspace number, its traffic each way."""
    return (
        Field("date", "usage_day", DATE),
        Field("phoneNumber", "phone_number", TEXT),
        Field("inbound", inbound, COUNT),
        Field("outbound", outbound, COUNT),
    )


# SMS and phone ``rows``: date, then phone number.
BY_DATE_AND_NUMBER = (sort_key("usage_day", DATE), sort_key("phone_number"))


# An SMS or phone statement in another zone: one row, the sums of the range's day rows and
# the rows themselves as one JSON list.
NUMBER_DAY_TEMPLATE = """
select
    {sums},
    {freshness},
    {rows_json} as rows_json
from (
    {day_rows}
) as days
"""


def number_day_sql(
    mart: str,
    measures: Sequence[str],
    names: Sequence[str],
    fields: Sequence[Field],
    zone: Zone,
    planned: bool,
) -> str:
    """An SMS or phone statement: one pass of ``NUMBER_DAY_TEMPLATE`` over the range's rows per
    day and workspace number (``day_rows``) that sums ``measures`` (as ``names``, what the
    report's ``shape_*`` reads) and writes the rows into ``rows_json`` (``fields``, by date
    then number)."""
    return NUMBER_DAY_TEMPLATE.format(
        sums=",\n    ".join(
            f"sum({measure}) as {name}" for measure, name in zip(measures, names, strict=True)
        ),
        day_rows=day_rows(mart, zone, planned, NUMBER_DIMS, measures),
        freshness=FRESHNESS,
        rows_json=json_array(fields, BY_DATE_AND_NUMBER),
    )


def number_day_csv(
    columns: Sequence[str],
    mart: str,
    measures: Sequence[str],
    fields: Sequence[Field],
    workspace_id: uuid.UUID,
    dates: DateRange,
    zone: Zone,
) -> csvexport.CsvTable:
    """An SMS or phone CSV: the body's ``rows`` (``fields`` of ``day_rows``, by date then
    number), a line each (one statement)."""

    def statement(zone: Zone, planned: bool) -> str:
        return csv_statement(day_rows(mart, zone, planned, NUMBER_DIMS, measures), fields, BY_DATE_AND_NUMBER)

    return fetch_csv(columns, statement, workspace_id, dates, zone)
