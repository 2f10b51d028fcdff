with source as (
    select * from {{ source('product', 'role_scopes') }}
),

renamed as (
    select
        role_id,
        scope,
        max(_loaded_at) as last_loaded_at
    from source
    where role_id is not null and scope is not null
    group by role_id, scope
)

select * from renamed
