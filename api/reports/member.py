"""``/member-usage/<member_id>``: one member's chats, messages, credits and tokens."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request

from api import auth, csvexport
from api.db import get_db
from api.errors import ApiError
from api.jsonsql import COUNT, DATE, DECIMAL, Field, sort_key
from api.params import DateRange, parse_uuid
from api.reportquery import report_query
from api.reports.common import (
    CREDIT_PLACES,
    FRESHNESS,
    MEMBER_DEFAULT_RANGE,
    as_count,
    as_credits,
    bp,
    csv_statement,
    fetch_csv,
    fetch_reading,
    respond,
)
from api.zones import UTC_ZONE, Zone, range_rows, rows_by_day, with_zone

MEMBER_IN_WORKSPACE_SQL = """
select workspace_id
from staging.stg_product__members
where member_id = %(member_id)s
"""

MEMBER_USAGE_TEMPLATE = """
select
    sum(chats_created) as chats,
    sum(messages_sent) as messages,
    sum(credits) as credits,
    sum(total_tokens) as total_tokens,
    {freshness}
from (
    {member_rows}
) as member_usage
"""

MEMBER_MEASURES = ("chats_created", "messages_sent", "ai_event_count", "credits", "total_tokens")


def member_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The member statement for ``zone``: one row, the totals of ``range_rows``."""
    return MEMBER_USAGE_TEMPLATE.format(
        member_rows=range_rows("member_usage", zone, MEMBER_MEASURES, key="member_id", planned=planned),
        freshness=FRESHNESS,
    )


MEMBER_USAGE_SQL = member_usage_sql(UTC_ZONE)

# The CSV: a line per day with activity (a chat, a message or an AI event), by date.
MEMBER_CSV_FIELDS = (
    Field("date", "usage_day", DATE),
    Field("chats", "chats", COUNT),
    Field("messages", "messages", COUNT),
    Field("credits", "credits", DECIMAL, CREDIT_PLACES),
    Field("tokens", "total_tokens", COUNT),
)


def member_usage_csv_sql(zone: Zone, planned: bool = True) -> str:
    rows = rows_by_day("member_usage", zone, planned, (), MEMBER_MEASURES, key="member_id")
    days = f"""select
        usage_day,
        sum(chats_created) as chats,
        sum(messages_sent) as messages,
        sum(credits) as credits,
        sum(total_tokens) as total_tokens
    from ({rows}) as member_usage
    group by usage_day
    having sum(chats_created + messages_sent + ai_event_count) <> 0"""
    return csv_statement(days, MEMBER_CSV_FIELDS, (sort_key("usage_day", DATE),))


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
        "totalChats": as_count(row.get("chats")),
        "totalMessages": as_count(row.get("messages")),
        "totalCredits": as_credits(row.get("credits")),
        "totalTokens": as_count(row.get("total_tokens")),
    }


def member_usage_report(
    workspace_id: uuid.UUID, member_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE
) -> dict[str, Any]:
    """One member's usage body (one statement, then ``shape_member_usage``); the caller has authorized."""
    rows = fetch_reading(
        lambda planned: member_usage_sql(zone, planned=planned),
        workspace_id,
        dates,
        zone,
        by_day=False,
        params={"member_id": member_id},
    )
    return with_zone(shape_member_usage(workspace_id, member_id, dates, rows[0] if rows else None), zone)


def member_usage_csv(
    workspace_id: uuid.UUID, member_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE
) -> csvexport.CsvTable:
    """One member's CSV (one statement); the caller has authorized."""
    return fetch_csv(
        csvexport.MEMBER_COLUMNS, member_usage_csv_sql, workspace_id, dates, zone, member_id=member_id
    )


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
    return respond(
        "member-usage",
        workspace,
        query,
        lambda: member_usage_report(workspace, member, query.dates, query.zone),
        lambda: member_usage_csv(workspace, member, query.dates, query.zone),
        member=member,
    )
