"""``/ai-usage``: tokens and credits by provider, by model type and top models."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response

from api import csvexport
from api.jsonsql import COUNT, DATE, DECIMAL, TEXT, Field, sort_key
from api.params import DateRange
from api.reports.common import (
    AI_DEFAULT_RANGE,
    CREDIT_PLACES,
    FRESHNESS,
    as_count,
    as_credits,
    bp,
    csv_statement,
    fetch_csv,
    fetch_reading,
    report_request,
    respond,
    text_key,
)
from api.zones import UTC_ZONE, Zone, day_rows, range_rows, with_zone

TOP_MODELS_LIMIT = 10

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
group by grouping sets ((), (provider), (model_type), (provider, model, model_type))
"""


def ai_usage_sql(zone: Zone, planned: bool = True) -> str:
    """The AI statement for ``zone``: the range's sums per provider, model and type
    (``_ai_by_model``), then the totals and breakdowns over those."""
    return AI_USAGE_TEMPLATE.format(
        usage_rows=_ai_by_model(zone, planned),
        message_rows=range_rows("message_counts", zone, ("message_count",), planned=planned),
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
    tables of eight sums each). In UTC, two days of the running totals (while a build runs,
    not ``planned``: the daily rows, as the CSV reads them)."""
    if zone.is_utc and planned:
        return AI_RANGE_FROM_RUNNING_TOTALS
    sums = ", ".join(f"sum({measure}) as {measure}" for measure in AI_MEASURES)
    rows = range_rows("ai_usage", zone, (*AI_DIMS, *AI_MEASURES), planned=planned)
    return f"select {', '.join(AI_DIMS)}, {sums} from ({rows}) as range_rows group by {', '.join(AI_DIMS)}"


AI_USAGE_SQL = ai_usage_sql(UTC_ZONE)


def _ai_breakdown(label: str, name: str | None, row: dict[str, Any]) -> dict[str, Any]:
    return {
        label: name,
        "total_tokens": as_count(row["total_tokens"]),
        "total_cached_tokens": as_count(row["cached_tokens"]),
        "total_audio_input_tokens": as_count(row["audio_input_tokens"]),
        "total_audio_output_tokens": as_count(row["audio_output_tokens"]),
        "total_credits": as_credits(row["credits"]),
    }


def _by_credits_then(*names: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        return (-item["total_credits"], *(text_key(item[name]) for name in names))

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
        total_messages = as_count(row["total_messages"])
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
                    "total_tokens": as_count(row["total_tokens"]),
                    "total_credits": as_credits(row["credits"]),
                }
            )
    return {
        "workspace_id": str(workspace_id),
        "start_date": dates.start.isoformat(),
        "end_date": dates.end.isoformat(),
        "data_as_of": data_as_of,
        "total_messages": total_messages,
        "total_tokens": as_count(total.get("total_tokens")),
        "total_prompt_tokens": as_count(total.get("prompt_tokens")),
        "total_completion_tokens": as_count(total.get("completion_tokens")),
        "total_cached_tokens": as_count(total.get("cached_tokens")),
        "total_audio_input_tokens": as_count(total.get("audio_input_tokens")),
        "total_audio_output_tokens": as_count(total.get("audio_output_tokens")),
        "total_credits": as_credits(total.get("credits")),
        "by_provider": sorted(by_provider, key=_by_credits_then("provider")),
        "by_type": sorted(by_type, key=_by_credits_then("type")),
        "top_models": sorted(models, key=_by_credits_then("model", "provider", "type"))[:TOP_MODELS_LIMIT],
    }


def ai_usage_report(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> dict[str, Any]:
    """The AI report's body (one statement, then ``shape_ai_usage``); the caller has authorized."""
    rows = fetch_reading(
        lambda planned: ai_usage_sql(zone, planned=planned), workspace_id, dates, zone, by_day=False
    )
    return with_zone(shape_ai_usage(workspace_id, dates, rows), zone)


# The CSV: a line per day, provider, model and type with events (``day_rows``), written by
# the warehouse (``api.csvsql``) in date, provider, model and type order.
AI_CSV_FIELDS = (
    Field("date", "usage_day", DATE),
    Field("provider", "provider", TEXT),
    Field("model", "model", TEXT),
    Field("type", "model_type", TEXT),
    *(Field(measure, measure, COUNT) for measure in AI_MEASURES[1:-1]),
    Field("credits", "credits", DECIMAL, CREDIT_PLACES),
)
AI_CSV_ORDER = (sort_key("usage_day", DATE), *(sort_key(dim) for dim in AI_DIMS))


def ai_usage_csv_sql(zone: Zone, planned: bool = True) -> str:
    return csv_statement(
        day_rows("ai_usage", zone, planned, AI_DIMS, AI_MEASURES), AI_CSV_FIELDS, AI_CSV_ORDER
    )


def ai_usage_csv(workspace_id: uuid.UUID, dates: DateRange, zone: Zone = UTC_ZONE) -> csvexport.CsvTable:
    """The AI report's CSV (one statement); the caller has authorized."""
    return fetch_csv(csvexport.AI_COLUMNS, ai_usage_csv_sql, workspace_id, dates, zone)


@bp.get("/ai-usage")
def ai_usage(workspace_id: str) -> Response:
    """AI usage: tokens and credits by provider, by model type and top models (default: last 30 days)."""
    workspace, query = report_request(workspace_id, AI_DEFAULT_RANGE)
    return respond(
        "ai-usage",
        workspace,
        query,
        lambda: ai_usage_report(workspace, query.dates, query.zone),
        lambda: ai_usage_csv(workspace, query.dates, query.zone),
    )
