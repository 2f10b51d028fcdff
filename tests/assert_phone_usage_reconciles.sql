{#- The phone mart holds exactly the finished calls in staging and their
    rounded durations, per workspace, UTC day and workspace number, each
    counted in its own direction. -#}
with mart as (
    select
        workspace_id,
        usage_date,
        phone_number,
        call_count,
        inbound_calls,
        outbound_calls,
        duration_seconds
    from {{ ref('phone_usage_daily') }}
),

staged as (
    select
        workspace_id,
        call_date as usage_date,
        phone_number,
        count(*) as call_count,
        count(*) filter (where direction = 'inbound') as inbound_calls,
        count(*) filter (where direction = 'outbound') as outbound_calls,
        sum(duration_seconds) as duration_seconds
    from {{ ref('stg_product__call_events') }}
    where is_valid and is_finished
    group by workspace_id, call_date, phone_number
)

{{ mismatched_rows(
    ['workspace_id', 'usage_date', 'phone_number'],
    ['call_count', 'inbound_calls', 'outbound_calls', 'duration_seconds']
) }}
