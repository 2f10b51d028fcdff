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
            {'columns': ['staged_batch']},
        ],
    )
}}

with {{ latest_copies(source('product', 'tts_events'), 'event_id', 'recorded_at') }},

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
            and coalesce({{ event_time_ok('recorded_at') }}, false)
            and {{ label_ok('provider') }}
            and {{ label_ok('model') }}
            and coalesce(characters >= 0, false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        workspace_moved,
        _loaded_at as last_loaded_at,
        {{ staging_batch() }} as staged_batch
    from latest_copies
)

{{ changed_rows('renamed', 'event_id') }}
