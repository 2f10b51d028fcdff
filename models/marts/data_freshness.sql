{#- One row: data_as_of, the newest landing the marts were built from (every
    report serves it), version_at, what a report's ETag derives from, and when
    this build finished them. data_as_of is read from the staging tables the
    marts are built from, valid rows or not: a late copy that takes activity
    away (a re-delivery now invalid, or moved to another day, or a chat's new
    owner) leaves no mart row of its own, yet changes reports.

    A row whose loader committed late is stamped before data_as_of, so taking
    it changes reports without moving data_as_of. What any change needs is a
    staging row stored by a build (`staged_xid`): staged_through is the newest
    one, and version_at the time of the build that last moved it, so ETags
    move with every build that took something and stay while builds take
    nothing. Built after every mart (the refs below), so it never runs ahead
    of them. -#}
{{ config(materialized='table') }}
-- depends_on: {{ ref('ai_usage_daily') }}, {{ ref('message_counts_daily') }}, {{ ref('sms_usage_daily') }}
-- depends_on: {{ ref('phone_usage_daily') }}, {{ ref('voice_usage_daily') }}, {{ ref('member_usage_daily') }}

{%- set staging_models = [
    'stg_product__ai_usage_events', 'stg_product__messages', 'stg_product__chats',
    'stg_product__sms_messages', 'stg_product__call_events', 'stg_product__stt_events',
    'stg_product__tts_events',
] %}

with staged as (
    {%- for staging_model in staging_models %}
        select
            max(last_loaded_at) as last_loaded_at,
            max(staged_xid) as staged_xid
        from {{ ref(staging_model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

previous_build as (
    {{ previous_freshness() }}
),

newest as (
    select
        max(last_loaded_at) as data_as_of,
        max(staged_xid) as staged_through
    from staged
),

final as (
    select
        1 as freshness_id,
        newest.data_as_of,
        coalesce(
            (
                select previous_build.version_at from previous_build
                where previous_build.staged_through = newest.staged_through
            ),
            {{ dbt.current_timestamp() }}
        ) as version_at,
        newest.staged_through,
        {{ dbt.current_timestamp() }} as built_at
    from newest
)

select * from final
