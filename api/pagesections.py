"""What the Detailed Reports page shows: one section per report, each a dict for its template.

The numbers are the API's: each report comes from the same function the REST
endpoint calls (``api.reports.*_usage_report``: the same statement and the same
``shape_*``), with the same range rules. Three statements exist only here: the AI
chart's credits per day and provider (the AI report has no daily rows), the
members table (one grouped query over ``marts.member_usage_daily`` joined to the
live staging view for names and roles, each row shaped by ``shape_member_usage``),
and the SMS and phone sections' (``number_section_sql``: the report's own day rows
summed per number and per day in the warehouse, and only the rows the page lists
sent; a year of a busy workspace is a million rows the page never shows one by one).
Charts are bucketed by ``api.charts``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from api import charts, keystore, reports, zones
from api.db import get_db
from api.jsonenc import rounded, with_values
from api.jsonsql import DATE, Field, sort_key
from api.pageformat import fmt_count, fmt_credits, fmt_seconds
from api.params import DateRange
from api.reports.common import FRESHNESS, as_count
from api.reports.lists import NUMBER_DIMS
from api.reports.phone import PHONE_MEASURES, PHONE_ROW_FIELDS, PHONE_TOTALS, shape_phone_usage
from api.reports.sms import SMS_MEASURES, SMS_ROW_FIELDS, SMS_TOTALS, shape_sms_usage
from api.zones import UTC_ZONE, Zone, day_rows, with_zone

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
        {member_role_name} as role_name
    from staging.stg_product__members as members
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
    {freshness}
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
        freshness=reports.FRESHNESS,
        member_role_name=keystore.MEMBER_ROLE_NAME,
    )


MEMBER_IDENTITY_SQL = f"""
select
    members.display_name,
    {keystore.MEMBER_ROLE_NAME} as role_name
from staging.stg_product__members as members
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
    # read as the body was (its statement noted whether the marts are unsettled)
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

# The SMS and phone sections' statement: the report's day rows (``api.zones.day_rows``, as
# the endpoint reads them) once, then their sums per workspace number ("number"), their sums
# per day ("day": the totals and the chart) and the rows of the latest whole days that hold
# at most ``listed_rows`` rows, the last day whole even when it alone holds more ("row").
NUMBER_SECTION_TEMPLATE = """
with days as materialized (
    {day_rows}
),

listed_days as (
    select per_day.usage_day
    from (
        select
            usage_day,
            row_number() over (order by usage_day desc) as nth,
            sum(count(*)) over (order by usage_day desc) as rows_through
        from days
        group by usage_day
    ) as per_day
    where per_day.nth = 1 or per_day.rows_through <= %(listed_rows)s
)

select fresh.*, parts.*
from (select {freshness}) as fresh
left join (
    select 'day' as part, usage_day, null::text as phone_number, count(*) as day_rows, {sums}
    from days
    group by usage_day
    union all
    select 'number', null::date, phone_number, count(*), {sums}
    from days
    group by phone_number
    union all
    select 'row', usage_day, phone_number, 1, {measures}
    from days
    where usage_day in (select listed_days.usage_day from listed_days)
) as parts on true
order by parts.part, {order}
"""


def number_section_sql(mart: str, measures: Sequence[str], zone: Zone, planned: bool) -> str:
    """The SMS or phone section's statement (``NUMBER_SECTION_TEMPLATE``): at least one row,
    every row with the freshness columns, an empty range's only one with ``part`` null."""
    return NUMBER_SECTION_TEMPLATE.format(
        day_rows=day_rows(mart, zone, planned, NUMBER_DIMS, measures),
        sums=", ".join(f"sum({measure}) as {measure}" for measure in measures),
        measures=", ".join(measures),
        freshness=FRESHNESS,
        order=", ".join((sort_key("parts.usage_day", DATE), sort_key("parts.phone_number"))),
    )


def _counts(row: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, int]:
    """A row's counts under the report's keys (``fields`` after the date and phoneNumber)."""
    return {field.key: as_count(row[field.column]) for field in fields[2:]}


def _number_section(
    mart: str,
    measures: Sequence[str],
    fields: Sequence[Field],
    totals: Mapping[str, str],
    shape: Callable[[uuid.UUID, DateRange, Sequence[dict[str, Any]]], dict[str, Any]],
    workspace: uuid.UUID,
    dates: DateRange,
    zone: Zone,
) -> dict[str, Any]:
    """The SMS or phone section but its chart: the report's body without its ``rows`` (the
    totals added up from the per-day sums, under the names ``totals`` maps the measures to,
    shaped by the report's ``shape``), how many rows the range has, the sums by number (with
    the days each carried traffic) and the day rows the page lists, each as the report's."""
    rows = reports.fetch_reading(
        lambda planned: number_section_sql(mart, measures, zone, planned),
        workspace,
        dates,
        zone,
        params={"listed_rows": DAY_TABLE_ROWS},
    )
    per_day = [row for row in rows if row["part"] == "day"]
    head = {name: sum(row[measure] for row in per_day) for measure, name in totals.items()}
    body = with_values(with_zone(shape(workspace, dates, [{**rows[0], **head}]), zone))
    del body["rows"]
    return {
        "body": body,
        "dates": dates,
        "per_day": per_day,
        "row_count": sum(row["day_rows"] for row in per_day),
        "by_number": [
            {"phoneNumber": row["phone_number"], "days": row["day_rows"], **_counts(row, fields)}
            for row in rows
            if row["part"] == "number"
        ],
        "day_rows": [
            {"date": row["usage_day"].isoformat(), "phoneNumber": row["phone_number"], **_counts(row, fields)}
            for row in rows
            if row["part"] == "row"
        ],
        "empty": not per_day,
    }


# the measures' sums under the names the reports' statements give them (``shape_*`` reads those)
_SMS_TOTALS = dict(zip(SMS_MEASURES, SMS_TOTALS, strict=True))
_PHONE_TOTALS = dict(zip(PHONE_MEASURES, PHONE_TOTALS, strict=True))


def sms_section(workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    section = _number_section(
        "sms_usage", SMS_MEASURES, SMS_ROW_FIELDS, _SMS_TOTALS, shape_sms_usage, workspace, dates, zone
    )
    granularity, buckets = chart_buckets(dates)
    points = []
    for row in section["per_day"]:
        points.append((row["usage_day"], "Inbound", as_count(row["inbound_segments"])))
        points.append((row["usage_day"], "Outbound", as_count(row["outbound_segments"])))
    series = charts.series_by_bucket(
        granularity, buckets, points, order=["Inbound", "Outbound"], colors=SMS_COLORS
    )
    section["chart"] = charts.Chart(
        "sms-chart",
        f"SMS segments per {granularity} by direction",
        "segments",
        granularity,
        buckets,
        series,
        fmt_count,
    )
    section["by_number"].sort(key=lambda item: (-item["segments"], item["phoneNumber"] or ""))
    return section


def phone_section(workspace: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    section = _number_section(
        "phone_usage",
        PHONE_MEASURES,
        PHONE_ROW_FIELDS,
        _PHONE_TOTALS,
        shape_phone_usage,
        workspace,
        dates,
        zone,
    )
    granularity, buckets = chart_buckets(dates)
    # in seconds, as the report and its CSV count them: minutes rounded per bar did not add up
    points = [(row["usage_day"], "Seconds", as_count(row["duration_seconds"])) for row in section["per_day"]]
    series = charts.series_by_bucket(granularity, buckets, points, colors={"Seconds": PHONE_COLOR})
    section["chart"] = charts.Chart(
        "phone-chart", f"Call seconds per {granularity}", "seconds", granularity, buckets, series, fmt_count
    )
    section["by_number"].sort(key=lambda item: (-item["totalDurationSeconds"], item["phoneNumber"] or ""))
    return section


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
    rows = reports.fetch_reading(
        lambda planned: members_usage_sql(zone, planned), workspace, dates, zone, by_day=False
    )
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
