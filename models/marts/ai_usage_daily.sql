{#- AI usage per UTC day: its quarter-hourly mart summed over each day,
    the table UTC reports read (96 times fewer rows than the quarter hours). -#}
with

rebuilt_days as (
    {{ changed_days(ref('stg_product__ai_usage_events')) }}
),

quarter_hours as (
    select *
    from {{ ref('ai_usage_quarter_hourly') }}
    where {{ in_rebuilt_days('usage_date') }}
),

daily as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
        cast(sum(event_count) as bigint) as event_count,
        cast(sum(prompt_tokens) as bigint) as prompt_tokens,
        cast(sum(completion_tokens) as bigint) as completion_tokens,
        cast(sum(total_tokens) as bigint) as total_tokens,
        cast(sum(cached_tokens) as bigint) as cached_tokens,
        cast(sum(audio_input_tokens) as bigint) as audio_input_tokens,
        cast(sum(audio_output_tokens) as bigint) as audio_output_tokens,
        cast(sum(credits) as numeric(28, 6)) as credits,
        max(last_loaded_at) as last_loaded_at
    from quarter_hours
    group by workspace_id, usage_date, provider, model, model_type
)

{{ select_with_rebuilt_days('daily', 'usage_date') }}
