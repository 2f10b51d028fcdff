{#- The voice mart adds up to the valid STT and TTS events in staging. -#}
with mart as (
    select
        workspace_id,
        sum(case when kind = 'stt' then event_count else 0 end) as stt_events,
        sum(duration_seconds) as stt_seconds,
        sum(case when kind = 'tts' then event_count else 0 end) as tts_events,
        sum(characters) as tts_characters
    from {{ ref('voice_usage_daily') }}
    group by workspace_id
),

stt as (
    select
        workspace_id,
        count(*) as stt_events,
        sum(duration_seconds) as stt_seconds
    from {{ ref('stg_product__stt_events') }}
    where is_valid
    group by workspace_id
),

tts as (
    select
        workspace_id,
        count(*) as tts_events,
        sum(characters) as tts_characters
    from {{ ref('stg_product__tts_events') }}
    where is_valid
    group by workspace_id
),

staged as (
    select
        coalesce(stt.workspace_id, tts.workspace_id) as workspace_id,
        coalesce(stt.stt_events, 0) as stt_events,
        coalesce(stt.stt_seconds, 0) as stt_seconds,
        coalesce(tts.tts_events, 0) as tts_events,
        coalesce(tts.tts_characters, 0) as tts_characters
    from stt
    full outer join tts
        on stt.workspace_id = tts.workspace_id
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
    or mart.stt_events != staged.stt_events
    or mart.stt_seconds != staged.stt_seconds
    or mart.tts_events != staged.tts_events
    or mart.tts_characters != staged.tts_characters
