"""``/sms-usage``: SMS messages, characters and segments per day and workspace number."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask import Response

from api import csvexport
from api.jsonsql import COUNT, Field
from api.params import DateRange
from api.reports.common import SMS_DEFAULT_RANGE, as_count, bp, camel_envelope, total_row
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

SMS_MEASURES = (
    "message_count",
    "inbound_messages",
    "outbound_messages",
    "characters",
    "segments",
    "inbound_segments",
    "outbound_segments",
)


SMS_ROW_FIELDS = (
    *number_day_fields("inbound_messages", "outbound_messages"),
    Field("characters", "characters", COUNT),
    Field("segments", "segments", COUNT),
    Field("inboundSegments", "inbound_segments", COUNT),
    Field("outboundSegments", "outbound_segments", COUNT),
)


# The statement's names for the sums of SMS_MEASURES (``shape_sms_usage`` reads them).
SMS_TOTALS = ("messages", "inbound", "outbound", *SMS_MEASURES[3:])

# UTC: ``marts.sms_usage_daily_lists``, which the build prepares from the daily mart (each
# day's rows as JSON text and the workspace's running totals): the totals are two rows' apart,
# the rows the texts of the range's days (``number_lists_utc_sql``; ``shape_sms_usage`` joins them).
SMS_USAGE_UTC_SQL = number_lists_utc_sql("marts.sms_usage_daily_lists", SMS_MEASURES, SMS_TOTALS)


def sms_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The SMS statement for ``zone``: UTC, ``SMS_USAGE_UTC_SQL``; another zone, or UTC while a
    build runs (not ``planned``: the daily mart), one row."""
    if zone.is_utc and planned:
        return SMS_USAGE_UTC_SQL
    return number_day_sql("sms_usage", SMS_MEASURES, SMS_TOTALS, SMS_ROW_FIELDS, zone, planned)


SMS_USAGE_SQL = sms_usage_sql(UTC_ZONE)


def shape_sms_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``rows``: the one row of totals and the list, or (UTC) the head row and the day rows."""
    total = total_row(rows)
    return {
        **camel_envelope(workspace_id, dates, total.get("data_as_of")),
        "totalMessages": as_count(total.get("messages")),
        "totalInbound": as_count(total.get("inbound")),
        "totalOutbound": as_count(total.get("outbound")),
        "totalCharacters": as_count(total.get("characters")),
        "totalSegments": as_count(total.get("segments")),
        "totalInboundSegments": as_count(total.get("inbound_segments")),
        "totalOutboundSegments": as_count(total.get("outbound_segments")),
        "rows": listed(rows, "day_json", "rows_json"),
    }


def sms_usage_report(
    workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, raw: bool = False
) -> dict[str, Any]:
    """The SMS report's body (one statement, then ``shape_sms_usage``); the caller has authorized."""
    return lists_body(sms_usage_sql, shape_sms_usage, workspace_id, dates, zone, raw)


def sms_usage_csv(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> csvexport.CsvTable:
    """The SMS report's CSV: its ``rows``, a line each; the caller has authorized."""
    return number_day_csv(
        csvexport.SMS_COLUMNS, "sms_usage", SMS_MEASURES, SMS_ROW_FIELDS, workspace_id, dates, zone
    )


@bp.get("/sms-usage")
def sms_usage(workspace_id: str) -> Response:
    """SMS messages, characters and segments per day and workspace number (default: this month)."""
    return lists_report("sms-usage", workspace_id, SMS_DEFAULT_RANGE, sms_usage_report, sms_usage_csv)
