{{ config(indexes=[{'columns': ['last_loaded_at']}]) }}

with

rebuilt_days as (
    {{ changed_days(ref('stg_product__ai_usage_events')) }}
),

ai_events as (
    select
        workspace_id,
        usage_date,
        {{ quarter_hour('recorded_at') }} as usage_quarter_hour,
        provider,
        model,
        model_type,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        cached_tokens,
        audio_input_tokens,
        audio_output_tokens,
        credits,
        last_loaded_at
    from {{ ref('stg_product__ai_usage_events') }}
    where
        is_valid
        and {{ in_rebuilt_days('usage_date') }}
),

quarter_hourly as (
    select
        workspace_id,
        usage_date,
        usage_quarter_hour,
        provider,
        model,
        model_type,
        count(*) as event_count,
        cast(sum(prompt_tokens) as bigint) as prompt_tokens,
        cast(sum(completion_tokens) as bigint) as completion_tokens,
        cast(sum(total_tokens) as bigint) as total_tokens,
        cast(sum(cached_tokens) as bigint) as cached_tokens,
        cast(sum(audio_input_tokens) as bigint) as audio_input_tokens,
        cast(sum(audio_output_tokens) as bigint) as audio_output_tokens,
        cast(sum(credits) as numeric(28, 6)) as credits,
        max(last_loaded_at) as last_loaded_at
    from ai_events
    group by workspace_id, usage_date, usage_quarter_hour, provider, model, model_type
),

with_running_sums as (
    select
        *,
        {{
            running_day_sums(
                {
                    'event_count': 'bigint',
                    'prompt_tokens': 'bigint',
                    'completion_tokens': 'bigint',
                    'total_tokens': 'bigint',
                    'cached_tokens': 'bigint',
                    'audio_input_tokens': 'bigint',
                    'audio_output_tokens': 'bigint',
                    'credits': 'numeric(28, 6)'
                },
                ['workspace_id', 'usage_date', 'provider', 'model', 'model_type'],
            )
        }}
    from quarter_hourly
)

{{ select_with_rebuilt_days('with_running_sums', 'usage_date') }}
