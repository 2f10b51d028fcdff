{#- A member's activity per 15 minutes (UTC): chats they own (by creation day),
    messages they sent, and the AI usage of the workspace's events whose chat
    they own (by the event's day). Agent-only chats belong to no member. -#}
{{ config(indexes=[{'columns': ['last_loaded_at']}]) }}

with

-- not materialized: read twice, each time with its own filter (an incremental build joins
-- its few AI events through the chat_id index instead of copying every owned chat)
chats as not materialized (
    select
        chat_id,
        workspace_id,
        owner_member_id,
        created_date,
        {{ quarter_hour('created_at') }} as created_quarter_hour,
        is_valid,
        last_loaded_at
    from {{ ref('stg_product__chats') }}
    where owner_member_id is not null
),

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

messages as (
    select
        workspace_id,
        sender_member_id,
        created_date,
        {{ quarter_hour('created_at') }} as created_quarter_hour,
        last_loaded_at
    from {{ ref('stg_product__messages') }}
    where
        is_valid
        and sender_member_id is not null
        and {{ in_rebuilt_days('created_date') }}
),

ai_events as (
    select
        workspace_id,
        chat_id,
        usage_date,
        {{ quarter_hour('recorded_at') }} as usage_quarter_hour,
        credits,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        last_loaded_at
    from {{ ref('stg_product__ai_usage_events') }}
    where
        is_valid
        and chat_id is not null
        and {{ in_rebuilt_days('usage_date') }}
),

owned_chats_created as (
    select
        workspace_id,
        owner_member_id as member_id,
        created_date as usage_date,
        created_quarter_hour as usage_quarter_hour,
        count(*) as chats_created,
        max(last_loaded_at) as last_loaded_at
    from chats
    where
        is_valid
        and {{ in_rebuilt_days('created_date') }}
    group by workspace_id, owner_member_id, created_date, created_quarter_hour
),

messages_sent as (
    select
        workspace_id,
        sender_member_id as member_id,
        created_date as usage_date,
        created_quarter_hour as usage_quarter_hour,
        count(*) as messages_sent,
        max(last_loaded_at) as last_loaded_at
    from messages
    group by workspace_id, sender_member_id, created_date, created_quarter_hour
),

attributed_ai_usage as (
    select
        ai_events.workspace_id,
        chats.owner_member_id as member_id,
        ai_events.usage_date,
        ai_events.usage_quarter_hour,
        count(*) as ai_event_count,
        sum(ai_events.credits) as credits,
        sum(ai_events.prompt_tokens) as prompt_tokens,
        sum(ai_events.completion_tokens) as completion_tokens,
        sum(ai_events.total_tokens) as total_tokens,
        greatest(max(ai_events.last_loaded_at), max(chats.last_loaded_at)) as last_loaded_at
    from ai_events
    inner join chats
        on
            ai_events.chat_id = chats.chat_id
            and ai_events.workspace_id = chats.workspace_id
    group by ai_events.workspace_id, chats.owner_member_id, ai_events.usage_date, ai_events.usage_quarter_hour
),

activity as (
    select
        workspace_id,
        member_id,
        usage_date,
        usage_quarter_hour,
        chats_created,
        0 as messages_sent,
        0 as ai_event_count,
        0 as credits,
        0 as prompt_tokens,
        0 as completion_tokens,
        0 as total_tokens,
        last_loaded_at
    from owned_chats_created
    union all
    select
        workspace_id,
        member_id,
        usage_date,
        usage_quarter_hour,
        0 as chats_created,
        messages_sent,
        0 as ai_event_count,
        0 as credits,
        0 as prompt_tokens,
        0 as completion_tokens,
        0 as total_tokens,
        last_loaded_at
    from messages_sent
    union all
    select
        workspace_id,
        member_id,
        usage_date,
        usage_quarter_hour,
        0 as chats_created,
        0 as messages_sent,
        ai_event_count,
        credits,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        last_loaded_at
    from attributed_ai_usage
),

quarter_hourly as (
    select
        workspace_id,
        member_id,
        usage_date,
        usage_quarter_hour,
        cast(sum(chats_created) as bigint) as chats_created,
        cast(sum(messages_sent) as bigint) as messages_sent,
        cast(sum(ai_event_count) as bigint) as ai_event_count,
        cast(sum(credits) as numeric(28, 6)) as credits,
        cast(sum(prompt_tokens) as bigint) as prompt_tokens,
        cast(sum(completion_tokens) as bigint) as completion_tokens,
        cast(sum(total_tokens) as bigint) as total_tokens,
        max(last_loaded_at) as last_loaded_at
    from activity
    group by workspace_id, member_id, usage_date, usage_quarter_hour
),

with_running_sums as (
    select
        *,
        {{
            running_day_sums(
                {
                    'chats_created': 'bigint',
                    'messages_sent': 'bigint',
                    'ai_event_count': 'bigint',
                    'credits': 'numeric(28, 6)',
                    'prompt_tokens': 'bigint',
                    'completion_tokens': 'bigint',
                    'total_tokens': 'bigint'
                },
                ['workspace_id', 'member_id', 'usage_date'],
            )
        }}
    from quarter_hourly
)

{{ select_with_rebuilt_days('with_running_sums', 'usage_date') }}
