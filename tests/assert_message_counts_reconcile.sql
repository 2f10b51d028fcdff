{#- The message-count mart (the AI report's total_messages) adds up to the
    valid, de-duplicated messages in staging, every role and channel. -#}
with mart as (
    select
        workspace_id,
        sum(message_count) as message_count
    from {{ ref('message_counts_daily') }}
    group by workspace_id
),

staged as (
    select
        workspace_id,
        count(*) as message_count
    from {{ ref('stg_product__messages') }}
    where is_valid
    group by workspace_id
)

select
    mart.workspace_id,
    mart.message_count,
    staged.workspace_id as staged_workspace_id,
    staged.message_count as staged_message_count
from mart
full outer join staged
    on mart.workspace_id = staged.workspace_id
where
    mart.workspace_id is null
    or staged.workspace_id is null
    or mart.message_count != staged.message_count
