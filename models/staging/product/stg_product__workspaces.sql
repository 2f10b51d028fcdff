with source as (
    select * from {{ source('product', 'workspaces') }}
),

deliveries as (
    select
        *,
        -- copies landed at the same instant: ordered by their text, so every read keeps the same one
        row_number() over (
            partition by workspace_id
            order by _loaded_at desc, created_at desc, {{ copy_tiebreak('delivered_copy') }}
        ) as delivery_rank
    from source as delivered_copy
),

renamed as (
    select
        workspace_id,
        name as workspace_name,
        created_at,
        _loaded_at as last_loaded_at
    from deliveries
    where delivery_rank = 1 and workspace_id is not null
)

select * from renamed
