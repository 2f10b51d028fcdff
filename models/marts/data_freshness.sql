{#- One row: data_as_of, the newest landing the marts were built from (every
    report serves it, and its ETag derives from it), and when this build
    finished them. Read from the staging tables the marts are built from,
    valid rows or not: a late copy that takes activity away (a re-delivery now
    invalid, or moved to another day, or a chat's new owner) leaves no mart
    row of its own, yet changes reports, so it must move data_as_of too.
    Built after every mart (the refs below), so it never runs ahead of them. -#}
-- depends_on: {{ ref('ai_usage_daily') }}, {{ ref('message_counts_daily') }}, {{ ref('sms_usage_daily') }}
-- depends_on: {{ ref('phone_usage_daily') }}, {{ ref('voice_usage_daily') }}, {{ ref('member_usage_daily') }}
with landings as (
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__ai_usage_events') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__messages') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__chats') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__sms_messages') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__call_events') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__stt_events') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('stg_product__tts_events') }}
),

final as (
    select
        1 as freshness_id,
        max(last_loaded_at) as data_as_of,
        {{ dbt.current_timestamp() }} as built_at
    from landings
)

select * from final
