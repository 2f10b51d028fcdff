{#- Voice usage per UTC day: its quarter-hourly mart summed over each day,
    the table UTC reports read (96 times fewer rows than the quarter hours). -#}
with

rebuilt_days as (
    {{ changed_days(ref('stg_product__stt_events')) }}
    union
    {{ changed_days(ref('stg_product__tts_events')) }}
),

quarter_hours as (
    select *
    from {{ ref('voice_usage_quarter_hourly') }}
    where {{ in_rebuilt_days('usage_date') }}
),

daily as (
    select
        workspace_id,
        usage_date,
        kind,
        provider,
        model,
        cast(sum(event_count) as bigint) as event_count,
        cast(sum(duration_seconds) as numeric(18, 3)) as duration_seconds,
        cast(sum(characters) as bigint) as characters,
        max(last_loaded_at) as last_loaded_at
    from quarter_hours
    group by workspace_id, usage_date, kind, provider, model
)

{{ select_with_rebuilt_days('daily', 'usage_date') }}
