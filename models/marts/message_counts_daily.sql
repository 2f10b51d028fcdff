{{
    config(
        materialized='incremental',
        incremental_strategy='replace_days',
        unique_key='usage_date',
        on_schema_change='fail',
    )
}}

with

rebuilt_days as (
    {{ changed_days(ref('stg_product__messages')) }}
),

messages as (
    select
        workspace_id,
        created_date as usage_date,
        last_loaded_at
    from {{ ref('stg_product__messages') }}
    where
        is_valid
        and {{ in_rebuilt_days('created_date') }}
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

{{ select_with_rebuilt_days('daily', 'usage_date') }}
