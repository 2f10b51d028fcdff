with source as (
    select * from {{ source('product', 'tts_events') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by event_id order by _loaded_at desc, recorded_at desc) as delivery_rank,
        min({{ utc_date('recorded_at') }}) over (partition by event_id) as earliest_copy_date,
        max({{ utc_date('recorded_at') }}) over (partition by event_id) as latest_copy_date
    from source
),

renamed as (
    select
        event_id,
        workspace_id,
        call_id,
        provider,
        model,
        characters,
        recorded_at,
        {{ utc_date('recorded_at') }} as usage_date,
        (
            event_id is not null
            and workspace_id is not null
            and recorded_at is not null
            and provider is not null
            and model is not null
            and coalesce(characters >= 0, false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        _loaded_at as last_loaded_at
    from deliveries
    where delivery_rank = 1
)

select * from renamed
