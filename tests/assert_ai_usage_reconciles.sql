{#- The AI mart adds up to the valid, de-duplicated events in staging, per workspace. -#}
with mart as (
    select
        workspace_id,
        sum(event_count) as event_count,
        sum(total_tokens) as total_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(audio_input_tokens + audio_output_tokens) as audio_tokens,
        sum(credits) as credits
    from {{ ref('ai_usage_daily') }}
    group by workspace_id
),

staged as (
    select
        workspace_id,
        count(*) as event_count,
        sum(total_tokens) as total_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(audio_input_tokens + audio_output_tokens) as audio_tokens,
        sum(credits) as credits
    from {{ ref('stg_product__ai_usage_events') }}
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
    or mart.event_count != staged.event_count
    or mart.total_tokens != staged.total_tokens
    or mart.cached_tokens != staged.cached_tokens
    or mart.audio_tokens != staged.audio_tokens
    or mart.credits != staged.credits
