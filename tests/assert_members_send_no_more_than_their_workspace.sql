{#- On no day do a workspace's members send more messages than the workspace
    holds (member usage counts a subset of the message-count mart). -#}
with member_days as (
    select
        workspace_id,
        usage_date,
        sum(messages_sent) as messages_sent
    from {{ ref('member_usage_daily') }}
    group by workspace_id, usage_date
)

select
    member_days.workspace_id,
    member_days.usage_date,
    member_days.messages_sent,
    workspace_days.message_count
from member_days
left join {{ ref('message_counts_daily') }} as workspace_days
    on
        member_days.workspace_id = workspace_days.workspace_id
        and member_days.usage_date = workspace_days.usage_date
where member_days.messages_sent > coalesce(workspace_days.message_count, 0)
