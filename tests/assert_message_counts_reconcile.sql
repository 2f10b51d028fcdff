{#- The message-count mart (the AI report's total_messages) holds exactly the
    valid, de-duplicated messages in staging, every role and channel, per
    workspace and UTC day. -#}
with mart as (
    select
        workspace_id,
        usage_date,
        message_count
    from {{ ref('message_counts_daily') }}
),

staged as (
    select
        workspace_id,
        created_date as usage_date,
        count(*) as message_count
    from {{ ref('stg_product__messages') }}
    where is_valid
    group by workspace_id, created_date
)

{{ mismatched_rows(['workspace_id', 'usage_date'], ['message_count']) }}
