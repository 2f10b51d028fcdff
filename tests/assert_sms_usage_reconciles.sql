{#- The SMS mart adds up to the valid, de-duplicated messages in staging, and
    its direction columns add up to its totals. -#}
with mart as (
    select
        workspace_id,
        sum(message_count) as message_count,
        sum(inbound_messages + outbound_messages) as directed_messages,
        sum(characters) as characters,
        sum(segments) as segments,
        sum(inbound_segments + outbound_segments) as directed_segments
    from {{ ref('sms_usage_daily') }}
    group by workspace_id
),

staged as (
    select
        workspace_id,
        count(*) as message_count,
        sum(characters) as characters,
        sum(segments) as segments
    from {{ ref('stg_product__sms_messages') }}
    where is_valid
    group by workspace_id
)

select
    mart.*,
    staged.*
from mart
full outer join staged
    on mart.workspace_id = staged.workspace_id
where
    mart.workspace_id is null
    or staged.workspace_id is null
    or mart.message_count != staged.message_count
    or mart.directed_messages != staged.message_count
    or mart.characters != staged.characters
    or mart.segments != staged.segments
    or mart.directed_segments != staged.segments
