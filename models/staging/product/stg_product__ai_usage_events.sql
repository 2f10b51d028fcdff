{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['event_id']},
            {'columns': ['usage_date']},
            {'columns': ['last_loaded_at']},
            {'columns': ['chat_id']},
        ],
    )
}}

with {{ latest_copies(source('product', 'ai_usage_events'), 'event_id', 'recorded_at') }},

renamed as (
    select
        event_id,
        workspace_id,
        chat_id,
        source as usage_source,
        provider,
        model,
        model_type,
        prompt_tokens,
        completion_tokens,
        prompt_tokens + completion_tokens as total_tokens,
        cached_tokens,
        audio_input_tokens,
        audio_output_tokens,
        credits,
        recorded_at,
        {{ utc_date('recorded_at') }} as usage_date,
        (
            event_id is not null
            and workspace_id is not null
            and recorded_at is not null
            and provider is not null
            and model is not null
            and model_type is not null
            and credits is not null
            and coalesce(prompt_tokens >= 0, false)
            and coalesce(completion_tokens >= 0, false)
            and coalesce(cached_tokens >= 0, false)
            and coalesce(audio_input_tokens >= 0, false)
            and coalesce(audio_output_tokens >= 0, false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        {{ seen_landing('_loaded_at') }} as last_loaded_at
    from latest_copies
)

select * from renamed
