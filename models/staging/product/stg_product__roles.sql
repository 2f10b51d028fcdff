with source as (
    select * from {{ source('product', 'roles') }}
),

deliveries as (
    select
        *,
        -- copies landed at the same instant: ordered by their text, so every read keeps the same one
        row_number() over (
            partition by role_id
            order by _loaded_at desc, name desc, {{ copy_tiebreak('delivered_copy') }}
        ) as delivery_rank
    from source as delivered_copy
),

renamed as (
    select
        role_id,
        workspace_id,
        name as role_name,
        workspace_id is null as is_default_role,
        _loaded_at as last_loaded_at
    from deliveries
    where delivery_rank = 1 and role_id is not null
)

select * from renamed
