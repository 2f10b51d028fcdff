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
        ],
    )
}}

with {{ latest_copies(source('product', 'sms_messages'), 'sms_id', 'sent_at') }},

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
        {{ sms_encoding('body') }} as body_encoding,
        char_length(body) as characters,
        {{ sms_segments('body', 'carrier_segments') }} as segments,
        (
            sms_id is not null
            and workspace_id is not null
            and sent_at is not null
            and workspace_number is not null
            and body is not null
            and coalesce(direction in ('inbound', 'outbound'), false)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        _loaded_at as last_loaded_at
    from latest_copies
)

select * from renamed
