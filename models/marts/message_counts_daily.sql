{#- Chat messages per UTC day: its quarter-hourly mart summed over each day,
    the table UTC reports read (96 times fewer rows than the quarter hours). -#}
with

rebuilt_days as (
    {{ changed_days(ref('stg_product__messages')) }}
),

quarter_hours as (
    select *
    from {{ ref('message_counts_quarter_hourly') }}
    where {{ in_rebuilt_days('usage_date') }}
),

daily as (
    select
        workspace_id,
        usage_date,
        cast(sum(message_count) as bigint) as message_count,
        max(last_loaded_at) as last_loaded_at
    from quarter_hours
    group by workspace_id, usage_date
)

{{ select_with_rebuilt_days('daily', 'usage_date') }}
