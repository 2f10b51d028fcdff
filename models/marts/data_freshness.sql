{#- One row: the newest raw landing behind the marts (data_as_of, served by
    every report) and when this build finished them. -#}
with mart_landings as (
    select max(last_loaded_at) as last_loaded_at from {{ ref('ai_usage_daily') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('message_counts_daily') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('sms_usage_daily') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('phone_usage_daily') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('voice_usage_daily') }}
    union all
    select max(last_loaded_at) as last_loaded_at from {{ ref('member_usage_daily') }}
),

final as (
    select
        1 as freshness_id,
        max(last_loaded_at) as data_as_of,
        {{ dbt.current_timestamp() }} as built_at
    from mart_landings
)

select * from final
