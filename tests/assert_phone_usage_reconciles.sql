{#- The phone mart holds exactly the finished calls in staging and their
    rounded durations; directions add up to the call count. -#}
with mart as (
    select
        workspace_id,
        sum(call_count) as call_count,
        sum(inbound_calls + outbound_calls) as directed_calls,
        sum(duration_seconds) as duration_seconds
    from {{ ref('phone_usage_daily') }}
    group by workspace_id
),

staged as (
    select
        workspace_id,
        count(*) as call_count,
        sum(duration_seconds) as duration_seconds
    from {{ ref('stg_product__call_events') }}
    where is_valid and is_finished
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
    or mart.call_count != staged.call_count
    or mart.directed_calls != staged.call_count
    or mart.duration_seconds != staged.duration_seconds
    or mart.duration_seconds < 0
