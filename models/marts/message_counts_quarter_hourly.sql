{{ config(indexes=[{'columns': ['last_loaded_at']}]) }}

with

rebuilt_days as (
    {{ changed_days(ref('stg_product__messages')) }}
),

messages as (
    select
        workspace_id,
        created_date as usage_date,
        {{ quarter_hour('created_at') }} as usage_quarter_hour,
        last_loaded_at
    from {{ ref('stg_product__messages') }}
    where
        is_valid
        and {{ in_rebuilt_days('created_date') }}
),

quarter_hourly as (
    select
        workspace_id,
        usage_date,
        usage_quarter_hour,
        count(*) as message_count,
        max(last_loaded_at) as last_loaded_at
    from messages
    group by workspace_id, usage_date, usage_quarter_hour
)

{{ select_with_rebuilt_days('quarter_hourly', 'usage_date') }}
