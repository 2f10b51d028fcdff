{{
    config(
        materialized='incremental',
        incremental_strategy='replace_days',
        unique_key='usage_date',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}
rebuilt_days as (
    {{ changed_days(ref('stg_product__call_events')) }}
),
{% endif %}

finished_calls as (
    select
        workspace_id,
        call_date as usage_date,
        phone_number,
        direction,
        duration_seconds,
        last_loaded_at
    from {{ ref('stg_product__call_events') }}
    where
        is_valid
        and is_finished
        {% if is_incremental() %}
            and call_date in (select rebuilt_date from rebuilt_days)
        {% endif %}
),

daily as (
    select
        workspace_id,
        usage_date,
        phone_number,
        count(*) as call_count,
        count(case when direction = 'inbound' then 1 end) as inbound_calls,
        count(case when direction = 'outbound' then 1 end) as outbound_calls,
        cast(sum(duration_seconds) as bigint) as duration_seconds,
        max(last_loaded_at) as last_loaded_at
    from finished_calls
    group by workspace_id, usage_date, phone_number
)

{% if is_incremental() %}
    select {{ mart_columns() }} from daily
    union all
    {{ rebuilt_day_placeholders('rebuilt_days', 'usage_date') }}
{% else %}
    select * from daily
{% endif %}
