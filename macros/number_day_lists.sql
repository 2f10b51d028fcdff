{#-
    The body of a prepared UTC answer of a report listed per day and workspace
    number (sms_usage_daily_lists, phone_usage_daily_lists): one row per
    workspace and UTC day with activity.

    * rows_json: that day's entries of the report's `rows`, written as the API
      writes them (api/jsonsql.py: compact objects, workspace numbers in
      code-point order), comma-separated, no brackets; `fields` are the
      entries' (JSON key, column) pairs after date and phoneNumber, all counts.
    * running_<measure>: the workspace's `measures` from its first day through
      this one (macros/running_totals.sql); the first measure counts the
      events, and a number with none that day is not listed.

    `staging` is the staging model the daily mart `daily_model` is built from.
-#}
{% macro number_day_lists(staging, daily_model, measures, fields) -%}
with

changed_days as (
    {{ changed_days(ref(staging)) }}
),

rebuilt_days as (
    {{ running_totals_rebuilt_days(ref(daily_model)) }}
),

daily as (
    select
        workspace_id,
        usage_date,
        phone_number,
        {% for measure in measures -%}
            {{ measure }},
        {% endfor -%}
        last_loaded_at
    from {{ ref(daily_model) }}
    where {{ in_rebuilt_days('usage_date') }}
),

totals_before as (
    {{ running_totals_before(ref(daily_model), [], measures) }}
),

day_lists as (
    select
        workspace_id,
        usage_date,
        string_agg(
            '{"date":' || cast(to_json(usage_date) as text)
            || ',"phoneNumber":' || cast(to_json(phone_number) as text)
            {%- for key, column in fields %}
            || ',"{{ key }}":' || cast({{ column }} as text)
            {%- endfor %}
            || '}',
            ',' order by convert_to(phone_number, 'UTF8')
        ) filter (where {{ measures[0] }} <> 0) as rows_json,
        {% for measure in measures -%}
            sum({{ measure }}) as {{ measure }},
        {% endfor -%}
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
{%- endmacro %}
