{{ config(indexes=[{'columns': ['last_loaded_at']}]) }}

with

rebuilt_days as (
    {{ changed_days(ref('stg_product__stt_events')) }}
    union
    {{ changed_days(ref('stg_product__tts_events')) }}
),

stt_events as (
    select
        workspace_id,
        usage_date,
        {{ quarter_hour('recorded_at') }} as usage_quarter_hour,
        provider,
        model,
        duration_seconds,
        last_loaded_at
    from {{ ref('stg_product__stt_events') }}
    where
        is_valid
        and {{ in_rebuilt_days('usage_date') }}
),

tts_events as (
    select
        workspace_id,
        usage_date,
        {{ quarter_hour('recorded_at') }} as usage_quarter_hour,
        provider,
        model,
        characters,
        last_loaded_at
    from {{ ref('stg_product__tts_events') }}
    where
        is_valid
        and {{ in_rebuilt_days('usage_date') }}
),

stt_quarter_hourly as (
    select
        workspace_id,
        usage_date,
        usage_quarter_hour,
        'stt' as kind,
        provider,
        model,
        count(*) as event_count,
        cast(sum(duration_seconds) as numeric(18, 3)) as duration_seconds,
        cast(0 as bigint) as characters,
        max(last_loaded_at) as last_loaded_at
    from stt_events
    group by workspace_id, usage_date, usage_quarter_hour, provider, model
),

tts_quarter_hourly as (
    select
        workspace_id,
        usage_date,
        usage_quarter_hour,
        'tts' as kind,
        provider,
        model,
        count(*) as event_count,
        cast(0 as numeric(18, 3)) as duration_seconds,
        cast(sum(characters) as bigint) as characters,
        max(last_loaded_at) as last_loaded_at
    from tts_events
    group by workspace_id, usage_date, usage_quarter_hour, provider, model
),

quarter_hourly as (
    select * from stt_quarter_hourly
    union all
    select * from tts_quarter_hourly
),

with_running_sums as (
    select
        *,
        {{
            running_day_sums(
                {
                    'event_count': 'bigint',
                    'duration_seconds': 'numeric(18, 3)',
                    'characters': 'bigint'
                },
                ['workspace_id', 'usage_date', 'kind', 'provider', 'model'],
            )
        }}
    from quarter_hourly
)

{{ select_with_rebuilt_days('with_running_sums', 'usage_date') }}
