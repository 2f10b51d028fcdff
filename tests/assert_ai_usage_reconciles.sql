{#- The AI mart holds exactly the valid, de-duplicated events in staging, per
    workspace, UTC day, provider, model and type. -#}
with mart as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
        event_count,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        cached_tokens,
        audio_input_tokens,
        audio_output_tokens,
        credits
    from {{ ref('ai_usage_daily') }}
),

staged as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
        count(*) as event_count,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        sum(total_tokens) as total_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(audio_input_tokens) as audio_input_tokens,
        sum(audio_output_tokens) as audio_output_tokens,
        sum(credits) as credits
    from {{ ref('stg_product__ai_usage_events') }}
    where is_valid
    group by workspace_id, usage_date, provider, model, model_type
)

{{ mismatched_rows(
    ['workspace_id', 'usage_date', 'provider', 'model', 'model_type'],
    ['event_count', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_tokens',
     'audio_input_tokens', 'audio_output_tokens', 'credits']
) }}
