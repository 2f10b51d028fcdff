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
        ],
    )
}}

with source as (
    select * from {{ source('product', 'messages') }}
    where message_id is not null and {{ landed_since_last_build() }}
),

earlier_copies as (
    {{ earlier_copies('message_id') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by message_id order by _loaded_at desc, created_at desc) as delivery_rank,
        min({{ utc_date('created_at') }}) over (partition by message_id) as new_earliest_copy_date,
        max({{ utc_date('created_at') }}) over (partition by message_id) as new_latest_copy_date
    from source
),

latest_copies as (
    select
        deliveries.*,
        least(deliveries.new_earliest_copy_date, earlier_copies.earliest_copy_date) as earliest_copy_date,
        greatest(deliveries.new_latest_copy_date, earlier_copies.latest_copy_date) as latest_copy_date
    from deliveries
    left join earlier_copies
        on deliveries.message_id = earlier_copies.known_id
    where deliveries.delivery_rank = 1
),

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
        message_id is not null and workspace_id is not null and created_at is not null as is_valid,
        earliest_copy_date,
        latest_copy_date,
        _loaded_at as last_loaded_at
    from latest_copies
)

select * from renamed
