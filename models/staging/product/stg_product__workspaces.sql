with source as (
    select * from {{ source('product', 'workspaces') }}
),

deliveries as (
    select
        *,
        row_number() over (partition by workspace_id order by _loaded_at desc, created_at desc) as delivery_rank
    from source
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
