{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='chat_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['chat_id']},
            {'columns': ['created_date']},
            {'columns': ['last_loaded_at']},
        ],
    )
}}

with source as (
    select * from {{ source('product', 'chats') }}
    where chat_id is not null and {{ landed_since_last_build() }}
),

earlier_copies as (
    {{ earlier_copies('chat_id') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by chat_id order by _loaded_at desc, created_at desc) as delivery_rank,
        min({{ utc_date('created_at') }}) over (partition by chat_id) as new_earliest_copy_date,
        max({{ utc_date('created_at') }}) over (partition by chat_id) as new_latest_copy_date
    from source
),

latest_copies as (
    select
        deliveries.*,
        least(deliveries.new_earliest_copy_date, earlier_copies.earliest_copy_date) as earliest_copy_date,
        greatest(deliveries.new_latest_copy_date, earlier_copies.latest_copy_date) as latest_copy_date
    from deliveries
    left join earlier_copies
        on deliveries.chat_id = earlier_copies.known_id
    where deliveries.delivery_rank = 1
),

renamed as (
    select
        chat_id,
        workspace_id,
        owner_member_id,
        created_at,
        {{ utc_date('created_at') }} as created_date,
        owner_member_id is not null as has_owner,
        chat_id is not null and workspace_id is not null and created_at is not null as is_valid,
        earliest_copy_date,
        latest_copy_date,
        _loaded_at as last_loaded_at
    from latest_copies
)

select * from renamed
