{#- Member usage adds up to what staging attributes to members: messages they
    sent, chats they own, and the events, credits and tokens of AI usage in
    chats they own (whatever the chat's own validity: an owned chat's usage is
    its owner's); and members never sent more messages than the workspace. -#}
with mart as (
    select
        workspace_id,
        sum(messages_sent) as messages_sent,
        sum(chats_created) as chats_created,
        sum(ai_event_count) as ai_event_count,
        sum(credits) as credits,
        sum(total_tokens) as total_tokens
    from {{ ref('member_usage_daily') }}
    group by workspace_id
),

messages as (
    select
        workspace_id,
        count(*) as messages_sent
    from {{ ref('stg_product__messages') }}
    where is_valid and sender_member_id is not null
    group by workspace_id
),

chats as (
    select
        workspace_id,
        count(*) as chats_created
    from {{ ref('stg_product__chats') }}
    where is_valid and has_owner
    group by workspace_id
),

owned_ai_usage as (
    select
        ai_events.workspace_id,
        count(*) as ai_event_count,
        sum(ai_events.credits) as credits,
        sum(ai_events.total_tokens) as total_tokens
    from {{ ref('stg_product__ai_usage_events') }} as ai_events
    inner join {{ ref('stg_product__chats') }} as owned_chats
        on
            ai_events.chat_id = owned_chats.chat_id
            and ai_events.workspace_id = owned_chats.workspace_id
    where ai_events.is_valid and owned_chats.owner_member_id is not null
    group by ai_events.workspace_id
),

staged as (
    select
        coalesce(messages.workspace_id, chats.workspace_id, owned_ai_usage.workspace_id) as workspace_id,
        coalesce(messages.messages_sent, 0) as messages_sent,
        coalesce(chats.chats_created, 0) as chats_created,
        coalesce(owned_ai_usage.ai_event_count, 0) as ai_event_count,
        coalesce(owned_ai_usage.credits, 0) as credits,
        coalesce(owned_ai_usage.total_tokens, 0) as total_tokens
    from messages
    full outer join chats
        on messages.workspace_id = chats.workspace_id
    full outer join owned_ai_usage
        on coalesce(messages.workspace_id, chats.workspace_id) = owned_ai_usage.workspace_id
),

mart_messages as (
    select
        workspace_id,
        sum(message_count) as message_count
    from {{ ref('message_counts_daily') }}
    group by workspace_id
)

select
    coalesce(mart.workspace_id, staged.workspace_id) as workspace_id,
    mart.messages_sent,
    staged.messages_sent as staged_messages_sent,
    mart.chats_created,
    staged.chats_created as staged_chats_created,
    mart.ai_event_count,
    staged.ai_event_count as staged_ai_event_count,
    mart.credits,
    staged.credits as staged_credits,
    mart.total_tokens,
    staged.total_tokens as staged_total_tokens
from mart
full outer join staged
    on mart.workspace_id = staged.workspace_id
left join mart_messages
    on mart.workspace_id = mart_messages.workspace_id
where
    mart.workspace_id is null
    or staged.workspace_id is null
    or mart.messages_sent != staged.messages_sent
    or mart.chats_created != staged.chats_created
    or mart.ai_event_count != staged.ai_event_count
    or mart.credits != staged.credits
    or mart.total_tokens != staged.total_tokens
    or mart.messages_sent > coalesce(mart_messages.message_count, 0)
