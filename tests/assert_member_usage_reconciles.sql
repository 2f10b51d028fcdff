{#- Member usage holds exactly what staging attributes to members, per
    workspace, member and UTC day: messages they sent, chats they own (by the
    chat's day), and the events, credits and tokens of AI usage in chats they
    own (by the event's day, whatever the chat's own validity: an owned
    chat's usage is its owner's). -#}
with mart as (
    select
        workspace_id,
        member_id,
        usage_date,
        messages_sent,
        chats_created,
        ai_event_count,
        credits,
        prompt_tokens,
        completion_tokens,
        total_tokens
    from {{ ref('member_usage_daily') }}
),

attributed as (
    select
        workspace_id,
        sender_member_id as member_id,
        created_date as usage_date,
        1 as messages_sent,
        0 as chats_created,
        0 as ai_event_count,
        0 as credits,
        0 as prompt_tokens,
        0 as completion_tokens,
        0 as total_tokens
    from {{ ref('stg_product__messages') }}
    where is_valid and sender_member_id is not null

    union all

    select
        workspace_id,
        owner_member_id as member_id,
        created_date as usage_date,
        0 as messages_sent,
        1 as chats_created,
        0 as ai_event_count,
        0 as credits,
        0 as prompt_tokens,
        0 as completion_tokens,
        0 as total_tokens
    from {{ ref('stg_product__chats') }}
    where is_valid and has_owner

    union all

    select
        ai_events.workspace_id,
        owned_chats.owner_member_id as member_id,
        ai_events.usage_date,
        0 as messages_sent,
        0 as chats_created,
        1 as ai_event_count,
        ai_events.credits,
        ai_events.prompt_tokens,
        ai_events.completion_tokens,
        ai_events.total_tokens
    from {{ ref('stg_product__ai_usage_events') }} as ai_events
    inner join {{ ref('stg_product__chats') }} as owned_chats
        on
            ai_events.chat_id = owned_chats.chat_id
            and ai_events.workspace_id = owned_chats.workspace_id
    where ai_events.is_valid and owned_chats.owner_member_id is not null
),

staged as (
    select
        workspace_id,
        member_id,
        usage_date,
        sum(messages_sent) as messages_sent,
        sum(chats_created) as chats_created,
        sum(ai_event_count) as ai_event_count,
        sum(credits) as credits,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(total_tokens) as total_tokens
    from attributed
    group by workspace_id, member_id, usage_date
)

{{ mismatched_rows(
    ['workspace_id', 'member_id', 'usage_date'],
    ['messages_sent', 'chats_created', 'ai_event_count', 'credits', 'prompt_tokens', 'completion_tokens',
     'total_tokens']
) }}
