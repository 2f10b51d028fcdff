{#- The voice mart holds exactly the valid STT and TTS events in staging, per
    workspace, UTC day, kind, provider and model. -#}
with mart as (
    select
        workspace_id,
        usage_date,
        kind,
        provider,
        model,
        event_count,
        duration_seconds,
        characters
    from {{ ref('voice_usage_daily') }}
),

staged as (
    select
        workspace_id,
        usage_date,
        'stt' as kind,
        provider,
        model,
        count(*) as event_count,
        sum(duration_seconds) as duration_seconds,
        0 as characters
    from {{ ref('stg_product__stt_events') }}
    where is_valid
    group by workspace_id, usage_date, provider, model

    union all

    select
        workspace_id,
        usage_date,
        'tts' as kind,
        provider,
        model,
        count(*) as event_count,
        0 as duration_seconds,
        sum(characters) as characters
    from {{ ref('stg_product__tts_events') }}
    where is_valid
    group by workspace_id, usage_date, provider, model
)

{{ mismatched_rows(
    ['workspace_id', 'usage_date', 'kind', 'provider', 'model'],
    ['event_count', 'duration_seconds', 'characters']
) }}
