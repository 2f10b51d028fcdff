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

with source as (
    select * from {{ source('product', 'sms_messages') }}
    where sms_id is not null and {{ landed_since_last_build() }}
),

earlier_copies as (
    {{ earlier_copies('sms_id') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by sms_id order by _loaded_at desc, sent_at desc) as delivery_rank,
        min({{ utc_date('sent_at') }}) over (partition by sms_id) as new_earliest_copy_date,
        max({{ utc_date('sent_at') }}) over (partition by sms_id) as new_latest_copy_date
    from source
),

latest_copies as (
    select
        deliveries.*,
        least(deliveries.new_earliest_copy_date, earlier_copies.earliest_copy_date) as earliest_copy_date,
        greatest(deliveries.new_latest_copy_date, earlier_copies.latest_copy_date) as latest_copy_date
    from deliveries
    left join earlier_copies
        on deliveries.sms_id = earlier_copies.known_id
    where deliveries.delivery_rank = 1
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
