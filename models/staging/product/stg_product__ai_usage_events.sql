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
            {'columns': ['staged_batch']},
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
        -- null when either count is out of range (the row is invalid, and the
        -- sum of two such counts may not fit a bigint)
        case
            when {{ token_count_ok('prompt_tokens') }} and {{ token_count_ok('completion_tokens') }}
                then prompt_tokens + completion_tokens
        end as total_tokens,
        cached_tokens,
        audio_input_tokens,
        audio_output_tokens,
        credits,
        recorded_at,
        {{ utc_date('recorded_at') }} as usage_date,
        (
            event_id is not null
            and workspace_id is not null
            and coalesce({{ event_time_ok('recorded_at') }}, false)
            and {{ label_ok('provider') }}
            and {{ label_ok('model') }}
            and {{ label_ok('model_type') }}
            and coalesce(credits <> 'NaN', false)
            and {{ token_count_ok('prompt_tokens') }}
            and {{ token_count_ok('completion_tokens') }}
            and {{ token_count_ok('cached_tokens') }}
            and {{ token_count_ok('audio_input_tokens') }}
            and {{ token_count_ok('audio_output_tokens') }}
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        workspace_moved,
        _loaded_at as last_loaded_at,
        {{ staging_batch() }} as staged_batch
    from latest_copies
)

{{ changed_rows('renamed', 'event_id') }}
