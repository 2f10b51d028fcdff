{#- SMS usage per UTC day: its quarter-hourly mart summed over each day,
    the table UTC reports read (96 times fewer rows than the quarter hours). -#}
with

rebuilt_days as (
    {{ changed_days(ref('stg_product__sms_messages')) }}
),

quarter_hours as (
    select *
    from {{ ref('sms_usage_quarter_hourly') }}
    where {{ in_rebuilt_days('usage_date') }}
),

daily as (
    select
        workspace_id,
        usage_date,
        phone_number,
        cast(sum(message_count) as bigint) as message_count,
        cast(sum(inbound_messages) as bigint) as inbound_messages,
        cast(sum(outbound_messages) as bigint) as outbound_messages,
        cast(sum(characters) as bigint) as characters,
        cast(sum(segments) as bigint) as segments,
        cast(sum(inbound_segments) as bigint) as inbound_segments,
        cast(sum(outbound_segments) as bigint) as outbound_segments,
        max(last_loaded_at) as last_loaded_at
    from quarter_hours
    group by workspace_id, usage_date, phone_number
)

{{ select_with_rebuilt_days('daily', 'usage_date') }}
