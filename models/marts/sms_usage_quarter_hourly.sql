{{ config(indexes=[{'columns': ['last_loaded_at']}]) }}

with

rebuilt_days as (
    {{ changed_days(ref('stg_product__sms_messages')) }}
),

sms_messages as (
    select
        workspace_id,
        sent_date as usage_date,
        {{ quarter_hour('sent_at') }} as usage_quarter_hour,
        phone_number,
        direction,
        characters,
        segments,
        last_loaded_at
    from {{ ref('stg_product__sms_messages') }}
    where
        is_valid
        and {{ in_rebuilt_days('sent_date') }}
),

quarter_hourly as (
    select
        workspace_id,
        usage_date,
        usage_quarter_hour,
        phone_number,
        count(*) as message_count,
        count(case when direction = 'inbound' then 1 end) as inbound_messages,
        count(case when direction = 'outbound' then 1 end) as outbound_messages,
        cast(sum(characters) as bigint) as characters,
        cast(sum(segments) as bigint) as segments,
        cast(coalesce(sum(case when direction = 'inbound' then segments end), 0) as bigint) as inbound_segments,
        cast(coalesce(sum(case when direction = 'outbound' then segments end), 0) as bigint) as outbound_segments,
        max(last_loaded_at) as last_loaded_at
    from sms_messages
    group by workspace_id, usage_date, usage_quarter_hour, phone_number
),

with_running_sums as (
    select
        *,
        {{
            running_day_sums(
                {
                    'message_count': 'bigint',
                    'inbound_messages': 'bigint',
                    'outbound_messages': 'bigint',
                    'characters': 'bigint',
                    'segments': 'bigint',
                    'inbound_segments': 'bigint',
                    'outbound_segments': 'bigint'
                },
                ['workspace_id', 'usage_date', 'phone_number'],
            )
        }}
    from quarter_hourly
)

{{ select_with_rebuilt_days('with_running_sums', 'usage_date') }}
