{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['event_id']},
            {'columns': ['usage_date']},
            {'columns': ['last_loaded_at']},
        ],
    )
}}

with source as (
    select * from {{ source('product', 'stt_events') }}
    where event_id is not null and {{ landed_since_last_build() }}
),

earlier_copies as (
    {{ earlier_copies('event_id') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by event_id order by _loaded_at desc, recorded_at desc) as delivery_rank,
        min({{ utc_date('recorded_at') }}) over (partition by event_id) as new_earliest_copy_date,
        max({{ utc_date('recorded_at') }}) over (partition by event_id) as new_latest_copy_date
    from source
),

latest_copies as (
    select
        deliveries.*,
        least(deliveries.new_earliest_copy_date, earlier_copies.earliest_copy_date) as earliest_copy_date,
        greatest(deliveries.new_latest_copy_date, earlier_copies.latest_copy_date) as latest_copy_date
    from deliveries
    left join earlier_copies
        on deliveries.event_id = earlier_copies.known_id
    where deliveries.delivery_rank = 1
),

renamed as (
    select
        event_id,
        workspace_id,
        call_id,
        provider,
        model,
        duration_seconds,
        recorded_at,
        {{ utc_date('recorded_at') }} as usage_date,
        (
            event_id is not null
            and workspace_id is not null
            and recorded_at is not null
            and provider is not null
            and model is not null
            and coalesce(duration_seconds >= 0, false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        _loaded_at as last_loaded_at
    from latest_copies
)

select * from renamed
