"""The usage reports (CONTRACT §4 and §5): ``/api/v2/w/<workspace_id>/reports/...``.

Each endpoint is: authenticate -> parse and validate -> authorize -> one SQL
statement over the marts -> shape the JSON. Each statement reads the mart
through its primary key (``workspace_id``, ``usage_date``, ...) with bound
parameters, aggregates the range with ``grouping sets`` (totals, breakdowns
and rows in one pass) and reads ``marts.data_freshness`` in the same
statement, so a report is one consistent snapshot even while a build runs.

Lists are sorted here, in Python, by Unicode code point (the same order
whatever collation the warehouse uses):

* AI ``by_provider`` / ``by_type``: credits descending, then name;
  ``top_models``: credits descending, then model, provider and type; at most 10.
* SMS and phone ``rows``: date, then phone number.
* Voice ``sttRows`` / ``ttsRows``: date, provider, model;
  ``sttByProvider`` / ``ttsByProvider``: provider, model.

Credits are rounded half up to 6 decimals, voice seconds to 3; both are
written as exact JSON numbers (see ``api.jsonenc``). Counts are integers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import auth
from api.db import get_db
from api.errors import ApiError
from api.jsonenc import rounded
from api.params import DateRange, current_month, date_range, last_30_days, month_to_date, parse_uuid

bp = Blueprint("reports", __name__, url_prefix="/api/v2/w/<workspace_id>/reports")

CREDIT_PLACES = 6
SECONDS_PLACES = 3
TOP_MODELS_LIMIT = 10

DATA_AS_OF = "(select data_as_of from marts.data_freshness where freshness_id = 1)"

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


def _report_request(workspace_id: str, default: Callable[[date], DateRange]) -> tuple[uuid.UUID, DateRange]:
    """Steps 1-3 of every workspace report: 401, then 400, then 403 (see ``api.auth``)."""
    caller = auth.authenticate()
    workspace = parse_uuid(workspace_id, "workspace_id")
    dates = date_range(request.args, default)
    auth.authorize(caller, workspace, auth.ANALYTICS_READ)
    return workspace, dates


def _range_params(workspace_id: uuid.UUID, dates: DateRange) -> dict[str, Any]:
    return {"workspace_id": workspace_id, "start_date": dates.start, "end_date": dates.end}


def _report(response_body: dict[str, Any]) -> Response:
    response = jsonify(response_body)
    response.headers["Cache-Control"] = "private"
    response.headers["Vary"] = "Authorization"
    return response


# --- AI ---------------------------------------------------------------------

AI_USAGE_SQL = f"""
with usage as (
    select
        provider,
        model,
        model_type,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        cached_tokens,
        audio_input_tokens,
        audio_output_tokens,
        credits
    from marts.ai_usage_daily
    where
        workspace_id = %(workspace_id)s
        and usage_date between %(start_date)s and %(end_date)s
)

select
    grouping(provider) as provider_grouped,
    grouping(model) as model_grouped,
    grouping(model_type) as type_grouped,
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
        from marts.message_counts_daily as message_counts
        where
            message_counts.workspace_id = %(workspace_id)s
            and message_counts.usage_date between %(start_date)s and %(end_date)s
    ) as total_messages,
    {DATA_AS_OF} as data_as_of
from usage
group by grouping sets ((), (provider), (model_type), (provider, model, model_type))
"""


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


def ai_usage_report(workspace_id: uuid.UUID, dates: DateRange) -> dict[str, Any]:
    """The AI report's body (one statement, then ``shape_ai_usage``); the caller has authorized."""
    rows = get_db().fetch_all(AI_USAGE_SQL, _range_params(workspace_id, dates))
    return shape_ai_usage(workspace_id, dates, rows)


@bp.get("/ai-usage")
def ai_usage(workspace_id: str) -> Response:
    """AI usage: tokens and credits by provider, by model type and top models (default: last 30 days)."""
    workspace, dates = _report_request(workspace_id, AI_DEFAULT_RANGE)
    return _report(ai_usage_report(workspace, dates))


# --- SMS --------------------------------------------------------------------

SMS_USAGE_SQL = f"""
select
    grouping(usage_date, phone_number) = 0 as is_row,
    usage_date,
    phone_number,
    sum(message_count) as messages,
    sum(inbound_messages) as inbound,
    sum(outbound_messages) as outbound,
    sum(characters) as characters,
    sum(segments) as segments,
    sum(inbound_segments) as inbound_segments,
    sum(outbound_segments) as outbound_segments,
    {DATA_AS_OF} as data_as_of
from marts.sms_usage_daily
where
    workspace_id = %(workspace_id)s
    and usage_date between %(start_date)s and %(end_date)s
group by grouping sets ((), (usage_date, phone_number))
"""


def shape_sms_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    total: dict[str, Any] = {}
    data_as_of = None
    day_rows: list[dict[str, Any]] = []
    for row in rows:
        data_as_of = row["data_as_of"]
        if not row["is_row"]:
            total = row
            continue
        day_rows.append(
            {
                "date": row["usage_date"].isoformat(),
                "phoneNumber": row["phone_number"],
                "inbound": _count(row["inbound"]),
                "outbound": _count(row["outbound"]),
                "characters": _count(row["characters"]),
                "segments": _count(row["segments"]),
                "inboundSegments": _count(row["inbound_segments"]),
                "outboundSegments": _count(row["outbound_segments"]),
            }
        )
    return {
        "workspaceId": str(workspace_id),
        "startDate": dates.start.isoformat(),
        "endDate": dates.end.isoformat(),
        "dataAsOf": data_as_of,
        "totalMessages": _count(total.get("messages")),
        "totalInbound": _count(total.get("inbound")),
        "totalOutbound": _count(total.get("outbound")),
        "totalCharacters": _count(total.get("characters")),
        "totalSegments": _count(total.get("segments")),
        "totalInboundSegments": _count(total.get("inbound_segments")),
        "totalOutboundSegments": _count(total.get("outbound_segments")),
        "rows": sorted(day_rows, key=lambda item: (item["date"], _text_key(item["phoneNumber"]))),
    }


def sms_usage_report(workspace_id: uuid.UUID, dates: DateRange) -> dict[str, Any]:
    """The SMS report's body (one statement, then ``shape_sms_usage``); the caller has authorized."""
    rows = get_db().fetch_all(SMS_USAGE_SQL, _range_params(workspace_id, dates))
    return shape_sms_usage(workspace_id, dates, rows)


@bp.get("/sms-usage")
def sms_usage(workspace_id: str) -> Response:
    """SMS messages, characters and segments per day and workspace number (default: this month)."""
    workspace, dates = _report_request(workspace_id, SMS_DEFAULT_RANGE)
    return _report(sms_usage_report(workspace, dates))


# --- Phone ------------------------------------------------------------------

PHONE_USAGE_SQL = f"""
select
    grouping(usage_date, phone_number) = 0 as is_row,
    usage_date,
    phone_number,
    sum(call_count) as calls,
    sum(inbound_calls) as inbound,
    sum(outbound_calls) as outbound,
    sum(duration_seconds) as duration_seconds,
    {DATA_AS_OF} as data_as_of
from marts.phone_usage_daily
where
    workspace_id = %(workspace_id)s
    and usage_date between %(start_date)s and %(end_date)s
group by grouping sets ((), (usage_date, phone_number))
"""


def shape_phone_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    total: dict[str, Any] = {}
    data_as_of = None
    day_rows: list[dict[str, Any]] = []
    for row in rows:
        data_as_of = row["data_as_of"]
        if not row["is_row"]:
            total = row
            continue
        day_rows.append(
            {
                "date": row["usage_date"].isoformat(),
                "phoneNumber": row["phone_number"],
                "inbound": _count(row["inbound"]),
                "outbound": _count(row["outbound"]),
                "totalDurationSeconds": _count(row["duration_seconds"]),
            }
        )
    return {
        "workspaceId": str(workspace_id),
        "startDate": dates.start.isoformat(),
        "endDate": dates.end.isoformat(),
        "dataAsOf": data_as_of,
        "totalCalls": _count(total.get("calls")),
        "totalInbound": _count(total.get("inbound")),
        "totalOutbound": _count(total.get("outbound")),
        "totalDurationSeconds": _count(total.get("duration_seconds")),
        "rows": sorted(day_rows, key=lambda item: (item["date"], _text_key(item["phoneNumber"]))),
    }


def phone_usage_report(workspace_id: uuid.UUID, dates: DateRange) -> dict[str, Any]:
    """The phone report's body (one statement, then ``shape_phone_usage``); the caller has authorized."""
    rows = get_db().fetch_all(PHONE_USAGE_SQL, _range_params(workspace_id, dates))
    return shape_phone_usage(workspace_id, dates, rows)


@bp.get("/phone-usage")
def phone_usage(workspace_id: str) -> Response:
    """Finished calls and their rounded durations per day and workspace number (default: this month)."""
    workspace, dates = _report_request(workspace_id, PHONE_DEFAULT_RANGE)
    return _report(phone_usage_report(workspace, dates))


# --- Voice ------------------------------------------------------------------

VOICE_USAGE_SQL = f"""
select
    grouping(kind) = 0 as has_kind,
    grouping(provider, model) = 0 as has_model,
    grouping(usage_date) = 0 as has_date,
    kind,
    usage_date,
    provider,
    model,
    sum(event_count) as events,
    sum(duration_seconds) as duration_seconds,
    sum(characters) as characters,
    {DATA_AS_OF} as data_as_of
from marts.voice_usage_daily
where
    workspace_id = %(workspace_id)s
    and usage_date between %(start_date)s and %(end_date)s
group by grouping sets ((), (kind), (kind, provider, model), (kind, usage_date, provider, model))
"""


def shape_voice_usage(
    workspace_id: uuid.UUID, dates: DateRange, rows: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    totals: dict[str, dict[str, Any]] = {}
    data_as_of = None
    by_model: dict[str, list[dict[str, Any]]] = {"stt": [], "tts": []}
    day_rows: dict[str, list[dict[str, Any]]] = {"stt": [], "tts": []}
    for row in rows:
        data_as_of = row["data_as_of"]
        kind = row["kind"]
        if not row["has_kind"] or kind not in by_model:
            continue
        if not row["has_model"]:
            totals[kind] = row
            continue
        item: dict[str, Any] = {"provider": row["provider"], "model": row["model"]}
        if kind == "stt":
            item["durationSeconds"] = _seconds(row["duration_seconds"])
        else:
            item["characters"] = _count(row["characters"])
        item["messages"] = _count(row["events"])
        if row["has_date"]:
            day_rows[kind].append({"date": row["usage_date"].isoformat(), **item})
        else:
            by_model[kind].append(item)

    def model_key(item: dict[str, Any]) -> tuple[Any, ...]:
        return (_text_key(item["provider"]), _text_key(item["model"]))

    def day_key(item: dict[str, Any]) -> tuple[Any, ...]:
        return (item["date"], *model_key(item))

    stt = totals.get("stt", {})
    tts = totals.get("tts", {})
    return {
        "workspaceId": str(workspace_id),
        "startDate": dates.start.isoformat(),
        "endDate": dates.end.isoformat(),
        "dataAsOf": data_as_of,
        "totalSttDurationSeconds": _seconds(stt.get("duration_seconds")),
        "totalSttMessages": _count(stt.get("events")),
        "totalTtsCharacters": _count(tts.get("characters")),
        "totalTtsMessages": _count(tts.get("events")),
        "sttByProvider": sorted(by_model["stt"], key=model_key),
        "ttsByProvider": sorted(by_model["tts"], key=model_key),
        "sttRows": sorted(day_rows["stt"], key=day_key),
        "ttsRows": sorted(day_rows["tts"], key=day_key),
    }


def voice_usage_report(workspace_id: uuid.UUID, dates: DateRange) -> dict[str, Any]:
    """The voice report's body (one statement, then ``shape_voice_usage``); the caller has authorized."""
    rows = get_db().fetch_all(VOICE_USAGE_SQL, _range_params(workspace_id, dates))
    return shape_voice_usage(workspace_id, dates, rows)


@bp.get("/voice-usage")
def voice_usage(workspace_id: str) -> Response:
    """Speech-to-text seconds and text-to-speech characters by provider and model (default: this month)."""
    workspace, dates = _report_request(workspace_id, VOICE_DEFAULT_RANGE)
    return _report(voice_usage_report(workspace, dates))


# --- Member -----------------------------------------------------------------

MEMBER_IN_WORKSPACE_SQL = """
select workspace_id
from staging.stg_product__members
where member_id = %(member_id)s
"""

MEMBER_USAGE_SQL = f"""
select
    sum(chats_created) as chats,
    sum(messages_sent) as messages,
    sum(credits) as credits,
    sum(total_tokens) as total_tokens,
    {DATA_AS_OF} as data_as_of
from marts.member_usage_daily
where
    workspace_id = %(workspace_id)s
    and member_id = %(member_id)s
    and usage_date between %(start_date)s and %(end_date)s
"""


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


def member_usage_report(workspace_id: uuid.UUID, member_id: uuid.UUID, dates: DateRange) -> dict[str, Any]:
    """One member's usage body (one statement, then ``shape_member_usage``); the caller has authorized."""
    row = get_db().fetch_one(MEMBER_USAGE_SQL, {**_range_params(workspace_id, dates), "member_id": member_id})
    return shape_member_usage(workspace_id, member_id, dates, row)


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
    dates = date_range(request.args, MEMBER_DEFAULT_RANGE)
    auth.authorize_member_usage(caller, workspace, member)
    if member != caller.member_id:
        found = get_db().fetch_one(MEMBER_IN_WORKSPACE_SQL, {"member_id": member})
        if found is None or found["workspace_id"] != workspace:
            raise ApiError(404, "member_not_found", "There is no member with this id in this workspace.")
    return _report(member_usage_report(workspace, member, dates))
