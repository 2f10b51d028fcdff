{#- One row: data_as_of, the newest landing the marts were built from (every
    report serves it), version_at, what a report's ETag derives from, and when
    this build finished them. data_as_of is read from the staging tables the
    marts are built from, valid rows or not: a late copy that takes activity
    away (a re-delivery now invalid, or moved to another day, or a chat's new
    owner) leaves no mart row of its own, yet changes reports.

    A row whose loader committed late is stamped before data_as_of, so picking
    it up (the lookback) changes reports without moving data_as_of. Such rows
    can arrive until data_as_of plus the lookback; until a build has started
    after that (this one, if the previous build finished after it),
    version_at is this build's time, afterwards data_as_of itself.
    Built after every mart (the refs below), so it never runs ahead of them. -#}
{{ config(materialized='table') }}
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

previous_build as (
    {{ previous_build_time() }}
),

newest as (
    select max(last_loaded_at) as data_as_of from landings
),

final as (
    select
        1 as freshness_id,
        newest.data_as_of,
        case
            when
                (select previous_build.built_at from previous_build)
                >= newest.data_as_of + interval '{{ var("incremental_lookback_minutes") | int }} minutes'
                then newest.data_as_of
            else {{ dbt.current_timestamp() }}
        end as version_at,
        {{ dbt.current_timestamp() }} as built_at
    from newest
)

select * from final
