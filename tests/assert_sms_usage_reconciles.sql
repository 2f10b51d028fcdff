{#- The SMS mart holds exactly the valid, de-duplicated messages in staging,
    per workspace, UTC day and workspace number, each counted in its own
    direction. -#}
with mart as (
    select
        workspace_id,
        usage_date,
        phone_number,
        message_count,
        inbound_messages,
        outbound_messages,
        characters,
        segments,
        inbound_segments,
        outbound_segments
    from {{ ref('sms_usage_daily') }}
),

staged as (
    select
        workspace_id,
        sent_date as usage_date,
        phone_number,
        count(*) as message_count,
        count(*) filter (where direction = 'inbound') as inbound_messages,
        count(*) filter (where direction = 'outbound') as outbound_messages,
        sum(characters) as characters,
        sum(segments) as segments,
        coalesce(sum(segments) filter (where direction = 'inbound'), 0) as inbound_segments,
        coalesce(sum(segments) filter (where direction = 'outbound'), 0) as outbound_segments
    from {{ ref('stg_product__sms_messages') }}
    where is_valid
    group by workspace_id, sent_date, phone_number
)

{{ mismatched_rows(
    ['workspace_id', 'usage_date', 'phone_number'],
    ['message_count', 'inbound_messages', 'outbound_messages', 'characters', 'segments',
     'inbound_segments', 'outbound_segments']
) }}
