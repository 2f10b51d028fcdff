{#- Member usage per UTC day: its quarter-hourly mart summed over each day,
    the table UTC reports read (96 times fewer rows than the quarter hours). -#}
with

rebuilt_days as (
    {{ changed_days(ref('stg_product__chats')) }}
    union
    {{ changed_days(ref('stg_product__messages')) }}
    union
    {{ changed_days(ref('stg_product__ai_usage_events')) }}
    union
    -- a chat that lands (or changes owner) after its AI events moves their usage
    {{ changed_days_of_chat_events(ref('stg_product__ai_usage_events'), ref('stg_product__chats')) }}
),

quarter_hours as (
    select *
    from {{ ref('member_usage_quarter_hourly') }}
    where {{ in_rebuilt_days('usage_date') }}
),

daily as (
    select
        workspace_id,
        member_id,
        usage_date,
        cast(sum(chats_created) as bigint) as chats_created,
        cast(sum(messages_sent) as bigint) as messages_sent,
        cast(sum(ai_event_count) as bigint) as ai_event_count,
        cast(sum(credits) as numeric(28, 6)) as credits,
        cast(sum(prompt_tokens) as bigint) as prompt_tokens,
        cast(sum(completion_tokens) as bigint) as completion_tokens,
        cast(sum(total_tokens) as bigint) as total_tokens,
        max(last_loaded_at) as last_loaded_at
    from quarter_hours
    group by workspace_id, member_id, usage_date
)

{{ select_with_rebuilt_days('daily', 'usage_date') }}
