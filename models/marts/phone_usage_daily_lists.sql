{#- The phone report's UTC answer, prepared: one row per workspace and UTC day
    with finished calls.

    * rows_json: that day's entries of the report's rows list, written as the
      API writes them (api/jsonsql.py: compact objects, workspace numbers in
      code-point order), comma-separated, no brackets.
    * running_*: the workspace's finished calls (all, inbound, outbound) and
      their rounded seconds from its first day through this one.

    A UTC report over start..end joins the day texts of its days in date order
    and takes its totals as the running totals of the last row on or before end
    less those of the last row before start (api/reports.py). Rebuilt from the
    first changed day on (macros/running_totals.sql). -#}
{%- set measures = ['call_count', 'inbound_calls', 'outbound_calls', 'duration_seconds'] %}
with

changed_days as (
    {{ changed_days(ref('stg_product__call_events')) }}
),

rebuilt_days as (
    {{ running_totals_rebuilt_days(ref('phone_usage_daily')) }}
),

daily as (
    select
        workspace_id,
        usage_date,
        phone_number,
        call_count,
        inbound_calls,
        outbound_calls,
        duration_seconds,
        last_loaded_at
    from {{ ref('phone_usage_daily') }}
    where {{ in_rebuilt_days('usage_date') }}
),

totals_before as (
    {{ running_totals_before(ref('phone_usage_daily'), [], measures) }}
),

day_lists as (
    select
        workspace_id,
        usage_date,
        string_agg(
            '{"date":' || cast(to_json(usage_date) as text)
            || ',"phoneNumber":' || cast(to_json(phone_number) as text)
            || ',"inbound":' || cast(inbound_calls as text)
            || ',"outbound":' || cast(outbound_calls as text)
            || ',"totalDurationSeconds":' || cast(duration_seconds as text) || '}',
            ',' order by convert_to(phone_number, 'UTF8')
        ) filter (where call_count <> 0) as rows_json,
        sum(call_count) as call_count,
        sum(inbound_calls) as inbound_calls,
        sum(outbound_calls) as outbound_calls,
        sum(duration_seconds) as duration_seconds,
        max(last_loaded_at) as last_loaded_at
    from daily
    group by workspace_id, usage_date
),

final as (
    select
        day_lists.workspace_id,
        day_lists.usage_date,
        day_lists.rows_json,
        {% for measure in measures -%}
            cast(
                coalesce(carried.{{ measure }}, 0) + sum(day_lists.{{ measure }}) over by_workspace as bigint
            ) as running_{{ measure }},
        {% endfor -%}
        day_lists.last_loaded_at
    from day_lists
    left join totals_before as carried on day_lists.workspace_id = carried.workspace_id
    window by_workspace as (partition by day_lists.workspace_id order by day_lists.usage_date)
)

{{ select_with_rebuilt_days('final', 'usage_date') }}
