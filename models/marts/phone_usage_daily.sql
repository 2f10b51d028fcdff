{#- Finished calls per UTC day: its quarter-hourly mart summed over each day,
    the table UTC reports read (96 times fewer rows than the quarter hours). -#}
with

rebuilt_days as (
    {{ changed_days(ref('stg_product__call_events')) }}
),

quarter_hours as (
    select *
    from {{ ref('phone_usage_quarter_hourly') }}
    where {{ in_rebuilt_days('usage_date') }}
),

daily as (
    select
        workspace_id,
        usage_date,
        phone_number,
        cast(sum(call_count) as bigint) as call_count,
        cast(sum(inbound_calls) as bigint) as inbound_calls,
        cast(sum(outbound_calls) as bigint) as outbound_calls,
        cast(sum(duration_seconds) as bigint) as duration_seconds,
        max(last_loaded_at) as last_loaded_at
    from quarter_hours
    group by workspace_id, usage_date, phone_number
)

{{ select_with_rebuilt_days('daily', 'usage_date') }}
