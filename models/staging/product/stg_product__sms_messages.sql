{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='sms_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['sms_id']},
            {'columns': ['sent_date']},
            {'columns': ['last_loaded_at']},
            {'columns': ['staged_batch']},
        ],
    )
}}

with {{ latest_copies(source('product', 'sms_messages'), 'sms_id', 'sent_at') }},

classified as (
    -- The GSM-7 test (a regular expression over the whole body) runs once
    -- here for both the encoding and the segment count. OFFSET 0 keeps this
    -- subquery from being merged into the next one, which would copy the
    -- expression into both uses and run it twice per row.
    select
        *,
        {{ sms_is_gsm7('body') }} as is_gsm7
    from latest_copies
    offset 0  -- noqa: AM09
),

renamed as (
    select
        sms_id,
        workspace_id,
        direction,
        workspace_number as phone_number,
        remote_number,
        body,
        carrier_segments,
        sent_at,
        {{ utc_date('sent_at') }} as sent_date,
        {{ sms_encoding('body', 'is_gsm7') }} as body_encoding,
        char_length(body) as characters,
        {{ sms_segments('body', 'carrier_segments', 'is_gsm7') }} as segments,
        (
            sms_id is not null
            and workspace_id is not null
            and coalesce({{ event_time_ok('sent_at') }}, false)
            and {{ label_ok('workspace_number') }}
            and body is not null
            and coalesce(direction in ('inbound', 'outbound'), false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        workspace_moved,
        _loaded_at as last_loaded_at,
        {{ staging_batch() }} as staged_batch
    from classified
)

{{ changed_rows('renamed', 'sms_id') }}
