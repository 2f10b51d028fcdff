{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='message_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['message_id']},
            {'columns': ['created_date']},
            {'columns': ['last_loaded_at']},
            {'columns': ['staged_batch']},
        ],
    )
}}

with {{ latest_copies(source('product', 'messages'), 'message_id', 'created_at') }},

renamed as (
    select
        message_id,
        workspace_id,
        chat_id,
        sender_member_id,
        role as message_role,
        channel,
        created_at,
        {{ utc_date('created_at') }} as created_date,
        (
            message_id is not null
            and workspace_id is not null
            and coalesce({{ event_time_ok('created_at') }}, false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        workspace_moved,
        _loaded_at as last_loaded_at,
        {{ staging_batch() }} as staged_batch
    from latest_copies
)

{{ changed_rows('renamed', 'message_id') }}
