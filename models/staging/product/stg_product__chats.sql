with source as (
    select * from {{ source('product', 'chats') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by chat_id order by _loaded_at desc, created_at desc) as delivery_rank,
        min({{ utc_date('created_at') }}) over (partition by chat_id) as earliest_copy_date,
        max({{ utc_date('created_at') }}) over (partition by chat_id) as latest_copy_date
    from source
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
    from deliveries
    where delivery_rank = 1
)

select * from renamed
