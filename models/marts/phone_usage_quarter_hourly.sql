{{ config(indexes=[{'columns': ['last_loaded_at']}]) }}

with

rebuilt_days as (
    {{ changed_days(ref('stg_product__call_events')) }}
),

finished_calls as (
    select
        workspace_id,
        call_date as usage_date,
        {{ quarter_hour('started_at') }} as usage_quarter_hour,
        phone_number,
        direction,
        duration_seconds,
        last_loaded_at
    from {{ ref('stg_product__call_events') }}
    where
        is_valid
        and is_finished
        and {{ in_rebuilt_days('call_date') }}
),

quarter_hourly as (
    select
        workspace_id,
        usage_date,
        usage_quarter_hour,
        phone_number,
        count(*) as call_count,
        count(case when direction = 'inbound' then 1 end) as inbound_calls,
        count(case when direction = 'outbound' then 1 end) as outbound_calls,
        cast(sum(duration_seconds) as bigint) as duration_seconds,
        max(last_loaded_at) as last_loaded_at
    from finished_calls
    group by workspace_id, usage_date, usage_quarter_hour, phone_number
),

with_running_sums as (
    select
        *,
        {{
            running_day_sums(
                {
                    'call_count': 'bigint',
                    'inbound_calls': 'bigint',
                    'outbound_calls': 'bigint',
                    'duration_seconds': 'bigint'
                },
                ['workspace_id', 'usage_date', 'phone_number'],
            )
        }}
    from quarter_hourly
)

{{ select_with_rebuilt_days('with_running_sums', 'usage_date') }}
