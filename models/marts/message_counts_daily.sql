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
    {{ changed_days(ref('stg_product__messages')) }}
),
{% endif %}

messages as (
    select
        workspace_id,
        created_date as usage_date,
        last_loaded_at
    from {{ ref('stg_product__messages') }}
    where
        is_valid
        {% if is_incremental() %}
            and created_date in (select rebuilt_date from rebuilt_days)
        {% endif %}
),

daily as (
    select
        workspace_id,
        usage_date,
        count(*) as message_count,
        max(last_loaded_at) as last_loaded_at
    from messages
    group by workspace_id, usage_date
)

{% if is_incremental() %}
    select {{ mart_columns() }} from daily
    union all
    {{ rebuilt_day_placeholders('rebuilt_days', 'usage_date') }}
{% else %}
    select * from daily
{% endif %}
