with source as (
    select * from {{ source('product', 'members') }}
),

deliveries as (
    select
        *,
        -- copies landed at the same instant: ordered by their text, so every read keeps the same one
        row_number() over (
            partition by member_id
            order by _loaded_at desc, created_at desc, {{ copy_tiebreak('delivered_copy') }}
        ) as delivery_rank
    from source as delivered_copy
),

renamed as (
    select
        member_id,
        workspace_id,
        role_id,
        display_name,
        created_at,
        deleted_at,
        deleted_at is not null as is_deleted,
        _loaded_at as last_loaded_at
    from deliveries
    where delivery_rank = 1 and member_id is not null
)

select * from renamed
