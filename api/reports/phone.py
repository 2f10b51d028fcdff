"""``/phone-usage``: finished calls and their rounded durations per day and workspace number."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask import Response

from api import csvexport
from api.jsonsql import COUNT, Field
from api.params import DateRange
from api.reports.common import PHONE_DEFAULT_RANGE, as_count, bp, camel_envelope, total_row
from api.reports.lists import (
    listed,
    lists_body,
    lists_report,
    number_day_csv,
    number_day_fields,
    number_day_sql,
    number_lists_utc_sql,
)
from api.zones import UTC_ZONE, Zone

PHONE_MEASURES = ("call_count", "inbound_calls", "outbound_calls", "duration_seconds")


PHONE_ROW_FIELDS = (
    *number_day_fields("inbound_calls", "outbound_calls"),
    Field("totalDurationSeconds", "duration_seconds", COUNT),
)


# The statement's names for the sums of PHONE_MEASURES (``shape_phone_usage`` reads them).
PHONE_TOTALS = ("calls", "inbound", "outbound", "duration_seconds")
# UTC: ``marts.phone_usage_daily_lists``, which the build prepares from the daily mart (each
# day's rows as JSON text and the workspace's running totals): the totals are two rows' apart,
# the rows the texts of the range's days (``number_lists_utc_sql``; ``shape_phone_usage`` joins them).
PHONE_USAGE_UTC_SQL = number_lists_utc_sql("marts.phone_usage_daily_lists", PHONE_MEASURES, PHONE_TOTALS)


def phone_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The phone statement for ``zone``: UTC, ``PHONE_USAGE_UTC_SQL``; another zone, or UTC
    while a build runs (not ``planned``: the daily mart), one row."""
    if zone.is_utc and planned:
        return PHONE_USAGE_UTC_SQL
    return number_day_sql("phone_usage", PHONE_MEASURES, PHONE_TOTALS, PHONE_ROW_FIELDS, zone, planned)


PHONE_USAGE_SQL = phone_usage_sql(UTC_ZONE)


def shape_phone_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``rows``: the one row of totals and the list, or (UTC) the head row and the day rows."""
    total = total_row(rows)
    return {
        **camel_envelope(workspace_id, dates, total.get("data_as_of")),
        "totalCalls": as_count(total.get("calls")),
        "totalInbound": as_count(total.get("inbound")),
        "totalOutbound": as_count(total.get("outbound")),
        "totalDurationSeconds": as_count(total.get("duration_seconds")),
        "rows": listed(rows, "day_json", "rows_json"),
    }


def phone_usage_report(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, raw: bool = False
) -> dict[str, Any]:
    """The phone report's body (one statement, then ``shape_phone_usage``); the caller has authorized."""
    return lists_body(phone_usage_sql, shape_phone_usage, workspace_id, dates, zone, raw)


def phone_usage_csv(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> csvexport.CsvTable:
    """The phone report's CSV: its ``rows``, a line each; the caller has authorized."""
    return number_day_csv(
        csvexport.PHONE_COLUMNS, "phone_usage", PHONE_MEASURES, PHONE_ROW_FIELDS, workspace_id, dates, zone
    )


@bp.get("/phone-usage")
def phone_usage(workspace_id: str) -> Response:
    """Finished calls and their rounded durations per day and workspace number (default: this month)."""
    return lists_report("phone-usage", workspace_id, PHONE_DEFAULT_RANGE, phone_usage_report, phone_usage_csv)
