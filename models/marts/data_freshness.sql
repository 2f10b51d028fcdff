{#- One row: data_as_of, the newest landing the marts were built from (every
    report serves it), version_at, what a report's ETag derives from, and when
    this build finished them. data_as_of is read from the staging tables the
    marts are built from, valid rows or not: a late copy that takes activity
    away (a re-delivery now invalid, or moved to another day, or a chat's new
    owner) leaves no mart row of its own, yet changes reports. A stamp in the
    future (a loader's clock ahead) counts as landing now.

    A row whose loader committed late is stamped before data_as_of, so taking
    it changes reports without moving data_as_of. No incremental build changes
    a mart without reading staging rows a build wrote, and that moves the
    mart's record in build_state.incremental_watermarks
    (macros/incremental_watermarks.sql): version_at is when a record last
    moved, so ETags move with every build that changed a mart, even the one
    catching up on marts an earlier build skipped, and stay while builds write
    nothing new to staging (full refreshes replace the marts' tables, which
    the ETags follow too). Built after every mart (the refs below), so it never
    runs ahead of them. build_unfinished: false here; the next run that writes
    marts sets it as it starts (macros/mark_build_unfinished.sql), and it stays
    set when that run stops before this model. -#}
{{ config(materialized='table') }}
-- depends_on: {{ ref('ai_usage_daily') }}, {{ ref('message_counts_daily') }}, {{ ref('sms_usage_daily') }}
-- depends_on: {{ ref('phone_usage_daily') }}, {{ ref('voice_usage_daily') }}, {{ ref('member_usage_daily') }}
-- depends_on: {{ ref('voice_usage_daily_lists') }}, {{ ref('ai_usage_running_totals') }}
-- depends_on: {{ ref('phone_usage_daily_lists') }}, {{ ref('sms_usage_daily_lists') }}

{%- set staging_models = [
    'stg_product__ai_usage_events', 'stg_product__messages', 'stg_product__chats',
    'stg_product__sms_messages', 'stg_product__call_events', 'stg_product__stt_events',
    'stg_product__tts_events',
] %}

with landings as (
    {%- for staging_model in staging_models %}
        select max(last_loaded_at) as last_loaded_at
        from {{ ref(staging_model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

mart_reads as (
    select max(advanced_at) as advanced_at
    from build_state.incremental_watermarks
),

final as (
    select
        1 as freshness_id,
        least(max(landings.last_loaded_at), {{ dbt.current_timestamp() }}) as data_as_of,
        coalesce((select mart_reads.advanced_at from mart_reads), {{ dbt.current_timestamp() }}) as version_at,
        {{ dbt.current_timestamp() }} as built_at,
        false as build_unfinished
    from landings
)

select * from final
