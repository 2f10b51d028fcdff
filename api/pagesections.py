"""What the Detailed Reports page shows: one section per report, each a dict for its template.

The numbers are the API's: each report comes from the same function the REST
endpoint calls (``api.reports.*_usage_report``: the same statement and the same
``shape_*``), with the same range rules. Two statements exist only here: the AI
chart's credits per day and provider (the AI report has no daily rows), and the
members table (one grouped query over ``marts.member_usage_daily`` joined to the
live staging view for names and roles, each row shaped by ``shape_member_usage``).
Charts are bucketed by ``api.charts``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from api import charts, keystore, reports, zones
from api.db import get_db
from api.jsonenc import rounded
from api.pageformat import fmt_count, fmt_credits, fmt_seconds
from api.params import DateRange
from api.zones import UTC_ZONE, Zone

AI_DAILY_CREDITS_TEMPLATE = """
select
    usage_day as usage_date,
    provider,
    sum(credits) as credits
from (
    {ai_rows}
) as ai
group by usage_day, provider
"""


def ai_daily_credits_sql(zone: Zone, planned: bool) -> str:
    """Credits per (local) day and provider: the AI mart's rows read as the API reads them
    in ``zone`` (``api.zones.rows_by_day``)."""
    return AI_DAILY_CREDITS_TEMPLATE.format(
        ai_rows=zones.rows_by_day("ai_usage", zone, planned, ("provider",), ("credits",))
    )


MEMBERS_USAGE_TEMPLATE = """
with usage as (
    select
        member_id,
        sum(chats_created) as chats,
        sum(messages_sent) as messages,
        sum(credits) as credits,
        sum(total_tokens) as total_tokens
    from (
        {member_rows}
    ) as member_usage
    group by member_id
),

members as (
    select
        members.member_id,
        members.display_name,
        members.is_deleted,
        roles.role_name
    from staging.stg_product__members as members
    left join staging.stg_product__roles as roles
        on {member_role}
    where members.workspace_id = %(workspace_id)s
)

select
    coalesce(members.member_id, usage.member_id) as member_id,
    members.display_name,
    members.role_name,
    members.member_id is null as is_elsewhere,
    coalesce(members.is_deleted, false) as is_deleted,
    usage.chats,
    usage.messages,
    usage.credits,
    usage.total_tokens,
    {data_as_of} as data_as_of
from members
full outer join usage on members.member_id = usage.member_id
where usage.member_id is not null or not members.is_deleted
"""


def members_usage_sql(zone: Zone, planned: bool) -> str:
    """Every member's totals over the range in ``zone``: the member mart's rows read as the
    member-usage report reads them (``api.zones.range_rows``), grouped by member."""
    return MEMBERS_USAGE_TEMPLATE.format(
        member_rows=zones.range_rows(
            "member_usage", zone, ("member_id", *reports.MEMBER_MEASURES), planned=planned
        ),
        data_as_of=reports.DATA_AS_OF,
        member_role=keystore.MEMBER_ROLE,
    )


MEMBER_IDENTITY_SQL = f"""
select
    members.display_name,
    roles.role_name
from staging.stg_product__members as members
left join staging.stg_product__roles as roles
    on {keystore.MEMBER_ROLE}
where members.member_id = %(member_id)s
"""

# light orange and dark blue: apart in any colour vision, and in greyscale
SMS_COLORS = {"Inbound": charts.PALETTE[1], "Outbound": charts.PALETTE[0]}
PHONE_COLOR = "#1a9e77"
STT_COLOR = "#8a5cd0"
TTS_COLOR = "#b86e00"


def chart_buckets(dates: DateRange) -> tuple[str, tuple[charts.Bucket, ...]]:
    """A chart's bars: the range, clipped to the days an event can fall on (marts hold UTC
    dates 1970-2099, and a local day is at most one off), so an address asking for years
    0001-9999 draws 132 yearly bars, not 9,999 that could never hold a value."""
    first = max(dates.start, zones.FIRST_EVENT_DATE - timedelta(days=1))
    last = min(dates.end, zones.LAST_EVENT_DATE + timedelta(days=1))
    if first > last:  # a range no event can fall in: its section says so, without a chart
        first = last = dates.start
    return charts.buckets_for(first, last)


def ai_section(workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    body = reports.ai_usage_report(workspace, dates, zone)
    granularity, buckets = chart_buckets(dates)
    planned, params = reports.statement_reading(workspace, dates, zone, by_day=True)
    daily = get_db().fetch_all(ai_daily_credits_sql(zone, planned), params)
    order = [item["provider"] for item in body["by_provider"]]
    series = charts.series_by_bucket(
        granularity,
        buckets,
        (
            (row["usage_date"], row["provider"], rounded(row["credits"], reports.CREDIT_PLACES))
            for row in daily
        ),
        order=order,
    )
    chart = charts.Chart(
        "ai-chart",
        "AI credits per day by provider"
        if granularity == "day"
        else f"AI credits per {granularity} by provider",
        "credits",
        granularity,
        buckets,
        series,
        fmt_credits,
    )
    return {
        "body": body,
        "dates": dates,
        "chart": chart,
        "empty": not body["by_provider"],
    }


# The most rows a per-number day table (SMS, calls) shows: the latest whole days, up to this
# many rows. Three years of a busy workspace's SMS were 4,400 rows, most of a 5 MB page and
# ~300 ms of rendering; its chart and by-number table still sum every row, and the section's
# CSV lists them all.
DAY_TABLE_ROWS = 500


def latest_days(rows: Sequence[Mapping[str, Any]], limit: int | None = None) -> Sequence[Mapping[str, Any]]:
    """The tail of ``rows`` (in date order) that holds the latest whole days and at most ``limit``
    rows (default ``DAY_TABLE_ROWS``); the last day whole even when it alone has more."""
    limit = DAY_TABLE_ROWS if limit is None else limit
    if len(rows) <= limit:
        return rows
    start = len(rows) - limit
    if rows[start - 1]["date"] == rows[start]["date"]:  # a day cut in two: only whole days
        day = rows[start]["date"]
        while start < len(rows) and rows[start]["date"] == day:
            start += 1
        if start == len(rows):  # that was the last day: show all of it
            start = len(rows) - limit
            while start > 0 and rows[start - 1]["date"] == day:
                start -= 1
    return rows[start:]


def _per_number(rows: Iterable[Mapping[str, Any]], fields: Iterable[str]) -> list[dict[str, Any]]:
    """The report's day rows summed per workspace number (for "which number carries the traffic")."""
    names = list(fields)
    sums: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        total = sums.setdefault(row["phoneNumber"], {"phoneNumber": row["phoneNumber"], "days": 0})
        total["days"] += 1
        for name in names:
            total[name] = total.get(name, 0) + row[name]
    return list(sums.values())


def _per_number_section(
    body: dict[str, Any], dates: DateRange, chart: charts.Chart, by_number: list[dict[str, Any]]
) -> dict[str, Any]:
    """The SMS or phone section: its body, chart, sums by number and the day rows it lists."""
    return {
        "body": body,
        "dates": dates,
        "chart": chart,
        "by_number": by_number,
        "day_rows": latest_days(body["rows"]),
        "empty": not body["rows"],
    }


def sms_section(workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    body = reports.sms_usage_report(workspace, dates, zone)
    granularity, buckets = chart_buckets(dates)
    points = []
    for row in body["rows"]:
        day = date.fromisoformat(row["date"])
        points.append((day, "Inbound", row["inboundSegments"]))
        points.append((day, "Outbound", row["outboundSegments"]))
    series = charts.series_by_bucket(
        granularity, buckets, points, order=["Inbound", "Outbound"], colors=SMS_COLORS
    )
    chart = charts.Chart(
        "sms-chart",
        f"SMS segments per {granularity} by direction",
        "segments",
        granularity,
        buckets,
        series,
        fmt_count,
    )
    by_number = _per_number(
        body["rows"], ("inbound", "outbound", "characters", "segments", "inboundSegments", "outboundSegments")
    )
    by_number.sort(key=lambda item: (-item["segments"], item["phoneNumber"] or ""))
    return _per_number_section(body, dates, chart, by_number)


def phone_section(workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    body = reports.phone_usage_report(workspace, dates, zone)
    granularity, buckets = chart_buckets(dates)
    # in seconds, as the report and its CSV count them: minutes rounded per bar did not add up
    points = [
        (date.fromisoformat(row["date"]), "Seconds", row["totalDurationSeconds"]) for row in body["rows"]
    ]
    series = charts.series_by_bucket(granularity, buckets, points, colors={"Seconds": PHONE_COLOR})
    chart = charts.Chart(
        "phone-chart", f"Call seconds per {granularity}", "seconds", granularity, buckets, series, fmt_count
    )
    by_number = _per_number(body["rows"], ("inbound", "outbound", "totalDurationSeconds"))
    by_number.sort(key=lambda item: (-item["totalDurationSeconds"], item["phoneNumber"] or ""))
    return _per_number_section(body, dates, chart, by_number)


def voice_section(workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    body = reports.voice_usage_report(workspace, dates, zone)
    granularity, buckets = chart_buckets(dates)
    stt = charts.series_by_bucket(
        granularity,
        buckets,
        ((date.fromisoformat(row["date"]), "STT", row["durationSeconds"]) for row in body["sttRows"]),
        colors={"STT": STT_COLOR},
    )
    tts = charts.series_by_bucket(
        granularity,
        buckets,
        ((date.fromisoformat(row["date"]), "TTS", row["characters"]) for row in body["ttsRows"]),
        colors={"TTS": TTS_COLOR},
    )
    return {
        "body": body,
        "dates": dates,
        "stt_chart": charts.Chart(
            "stt-chart",
            f"Speech-to-text seconds per {granularity}",
            "seconds",
            granularity,
            buckets,
            stt,
            fmt_seconds,
        ),
        "tts_chart": charts.Chart(
            "tts-chart",
            f"Text-to-speech characters per {granularity}",
            "characters",
            granularity,
            buckets,
            tts,
            fmt_count,
        ),
        "empty": not body["sttRows"] and not body["ttsRows"],
    }


def credits_per_active_member(
    shaped: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> tuple[int, Decimal]:
    """How many of the (members query row, member-usage body) pairs are active members of the
    workspace (not deleted, not moved elsewhere), and their credits per member, rounded as
    credits are (0 without any). Credits of deleted or former members with usage in the
    range are in the table and its total, not in this mean over the members who remain."""
    active = [usage for row, usage in shaped if not row["is_deleted"] and not row["is_elsewhere"]]
    if not active:
        return 0, Decimal(0)
    credits = sum((usage["totalCredits"] for usage in active), Decimal(0))
    return len(active), rounded(credits / len(active), reports.CREDIT_PLACES)


def members_section(
    workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE, named: bool = True
) -> dict[str, Any]:
    """Every member's usage over ``dates``. Unless ``named`` (the key holds ``members:read``,
    the scope ``GET /members`` asks for), members are shown by id only, and only those with
    usage in the range: no name, role, membership state or head count."""
    planned, params = reports.statement_reading(workspace, dates, zone, by_day=False)
    rows = get_db().fetch_all(members_usage_sql(zone, planned), params)
    if not named:  # the roster (who has no usage, how many members there are) is GET /members' too
        rows = [row for row in rows if row["chats"] is not None]
    shaped = [
        (row, zones.with_zone(reports.shape_member_usage(workspace, row["member_id"], dates, row), zone))
        for row in rows
    ]
    members: list[dict[str, Any]] = [
        {
            "member_id": str(row["member_id"]),
            "display_name": row["display_name"] if named else None,
            "role": row["role_name"] if named else None,
            "is_deleted": row["is_deleted"] and named,
            "is_elsewhere": row["is_elsewhere"] and named,
            "usage": usage,
        }
        for row, usage in shaped
    ]
    members.sort(
        key=lambda item: (
            -item["usage"]["totalCredits"],
            item["display_name"] is None,
            item["display_name"] or "",
            item["member_id"],
        )
    )
    total_credits = sum((item["usage"]["totalCredits"] for item in members), Decimal(0))
    active_count, per_member = credits_per_active_member(shaped)
    return {
        "dates": dates,
        "named": named,
        "members": members,
        "data_as_of": rows[0]["data_as_of"] if rows else None,
        "totals": {
            "chats": sum(item["usage"]["totalChats"] for item in members),
            "messages": sum(item["usage"]["totalMessages"] for item in members),
            "credits": total_credits,
            "tokens": sum(item["usage"]["totalTokens"] for item in members),
        },
        "active_count": active_count,
        "credits_per_member": per_member,
    }


def own_section(
    workspace: uuid.UUID, member: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE
) -> dict[str, Any]:
    body = reports.member_usage_report(workspace, member, dates, zone)
    return {"body": body, "dates": dates}


def identity(member: uuid.UUID) -> dict[str, Any]:
    row = get_db().fetch_one(MEMBER_IDENTITY_SQL, {"member_id": member})
    return {"display_name": (row or {}).get("display_name"), "role": (row or {}).get("role_name")}


def oldest(*values: datetime | None) -> datetime | None:
    present = [value for value in values if value is not None]
    return min(present) if present else None
