{#- Member usage never exceeds the workspace: messages sent by members and
    credits of member-owned chats add up to what staging attributes. -#}
with mart as (
    select
        workspace_id,
        sum(messages_sent) as messages_sent,
        sum(chats_created) as chats_created,
        sum(credits) as credits
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

mart_messages as (
    select
        workspace_id,
        sum(message_count) as message_count
    from {{ ref('message_counts_daily') }}
    group by workspace_id
)

select
    mart.workspace_id,
    mart.messages_sent,
    messages.messages_sent as staged_messages_sent,
    mart.chats_created,
    chats.chats_created as staged_chats_created
from mart
left join messages
    on mart.workspace_id = messages.workspace_id
left join chats
    on mart.workspace_id = chats.workspace_id
left join mart_messages
    on mart.workspace_id = mart_messages.workspace_id
where
    mart.messages_sent != coalesce(messages.messages_sent, 0)
    or mart.chats_created != coalesce(chats.chats_created, 0)
    or mart.messages_sent > coalesce(mart_messages.message_count, 0)
