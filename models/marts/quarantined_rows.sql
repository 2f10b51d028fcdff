{#- Every raw row the reports leave out, with the rule it breaks, so an
    analyst can see what was quarantined and fix it at the source. A view:
    always current. Rows without an id never reach staging (copies are
    merged by id), so they are read from raw here, each on its own. -#}
{#- not the API's to read (macros/grant_api_read.sql): it serves no quarantine -#}
{{ config(materialized='view', post_hook="{{ revoke_api_read() }}") }}

with ai_events as (
    select
        'ai_usage_events' as source_table,
        cast(event_id as {{ dbt.type_string() }}) as row_id,
        workspace_id,
        usage_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when recorded_at is null then 'missing recorded_at'
            when usage_date is null then 'recorded_at outside 1970-2099'
            when provider is null or model is null or model_type is null then 'missing provider, model or model_type'
            when
                not ({{ label_ok('provider') }} and {{ label_ok('model') }} and {{ label_ok('model_type') }})
                then 'provider, model or model_type longer than max_label_characters'
            when credits is null then 'missing credits'
            when credits = 'NaN' then 'credits not a number'
            when
                greatest(prompt_tokens, completion_tokens, cached_tokens, audio_input_tokens, audio_output_tokens)
                > {{ var('max_event_tokens') }}
                then 'token count above max_event_tokens'
            else 'negative or missing token count'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__ai_usage_events') }}
    where not is_valid
),

sms_messages as (
    select
        'sms_messages' as source_table,
        sms_id as row_id,
        workspace_id,
        sent_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when body is null then 'null body'
            when direction is null or direction not in ('inbound', 'outbound') then 'unknown direction'
            when sent_at is null then 'missing sent_at'
            when sent_date is null then 'sent_at outside 1970-2099'
            when phone_number is null then 'missing workspace_number'
            else 'workspace_number longer than max_label_characters'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__sms_messages') }}
    where not is_valid
),

calls as (
    select
        'call_events' as source_table,
        call_id as row_id,
        workspace_id,
        call_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when direction is null or direction not in ('inbound', 'outbound') then 'unknown direction'
            when ended_at < started_at then 'ended_at before started_at'
            when
                not coalesce({{ event_time_ok('started_at') }}, true)
                or not coalesce({{ event_time_ok('ended_at') }}, true)
                then 'started_at or ended_at outside 1970-2099'
            when phone_number is null then 'missing workspace_number'
            when not {{ label_ok('phone_number') }} then 'workspace_number longer than max_label_characters'
            else 'unknown status'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__call_events') }}
    where not is_valid
),

stt_events as (
    select
        'stt_events' as source_table,
        cast(event_id as {{ dbt.type_string() }}) as row_id,
        workspace_id,
        usage_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when duration_seconds is null or duration_seconds < 0 then 'negative or missing duration'
            when duration_seconds = 'NaN' then 'duration not a number'
            when recorded_at is not null and usage_date is null then 'recorded_at outside 1970-2099'
            when
                provider is not null and model is not null
                and not ({{ label_ok('provider') }} and {{ label_ok('model') }})
                then 'provider or model longer than max_label_characters'
            else 'missing provider, model or recorded_at'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__stt_events') }}
    where not is_valid
),

tts_events as (
    select
        'tts_events' as source_table,
        cast(event_id as {{ dbt.type_string() }}) as row_id,
        workspace_id,
        usage_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when characters is null or characters < 0 then 'negative or missing characters'
            when recorded_at is not null and usage_date is null then 'recorded_at outside 1970-2099'
            when
                provider is not null and model is not null
                and not ({{ label_ok('provider') }} and {{ label_ok('model') }})
                then 'provider or model longer than max_label_characters'
            else 'missing provider, model or recorded_at'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__tts_events') }}
    where not is_valid
),

chats as (
    select
        'chats' as source_table,
        cast(chat_id as {{ dbt.type_string() }}) as row_id,
        workspace_id,
        created_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when created_at is not null then 'created_at outside 1970-2099'
            else 'missing created_at'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__chats') }}
    where not is_valid
),

messages as (
    select
        'messages' as source_table,
        cast(message_id as {{ dbt.type_string() }}) as row_id,
        workspace_id,
        created_date as event_date,
        case
            when workspace_id is null then 'missing workspace_id'
            when created_at is not null then 'created_at outside 1970-2099'
            else 'missing created_at'
        end as reason,
        last_loaded_at
    from {{ ref('stg_product__messages') }}
    where not is_valid
),

missing_ids as (
    {{ rows_without_id('ai_usage_events', 'event_id', 'recorded_at') }}
    union all
    {{ rows_without_id('sms_messages', 'sms_id', 'sent_at') }}
    union all
    {{ rows_without_id('call_events', 'call_id', 'started_at') }}
    union all
    {{ rows_without_id('stt_events', 'event_id', 'recorded_at') }}
    union all
    {{ rows_without_id('tts_events', 'event_id', 'recorded_at') }}
    union all
    {{ rows_without_id('chats', 'chat_id', 'created_at') }}
    union all
    {{ rows_without_id('messages', 'message_id', 'created_at') }}
),

final as (
    select * from ai_events
    union all
    select * from sms_messages
    union all
    select * from calls
    union all
    select * from stt_events
    union all
    select * from tts_events
    union all
    select * from chats
    union all
    select * from messages
    union all
    select * from missing_ids
)

select * from final
