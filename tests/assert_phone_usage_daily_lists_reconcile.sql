{#- phone_usage_daily_lists writes each day's rows as phone_usage_daily holds
    them: its day texts, read back as JSON, are that day's rows, workspace
    numbers in code-point order (its running totals: running_totals_match). -#}
with

listed_entries as (
    select
        lists.workspace_id,
        lists.usage_date,
        entry.position as entry_position,
        entry.value ->> 'date' as entry_date,
        entry.value ->> 'phoneNumber' as entry_number,
        cast(entry.value ->> 'inbound' as bigint) as inbound_calls,
        cast(entry.value ->> 'outbound' as bigint) as outbound_calls,
        cast(entry.value ->> 'totalDurationSeconds' as bigint) as duration_seconds
    from {{ ref('phone_usage_daily_lists') }} as lists
    cross join
        lateral json_array_elements(cast('[' || lists.rows_json || ']' as json))
        with ordinality as entry (value, position)
),

expected_entries as (
    select
        workspace_id,
        usage_date,
        row_number() over (
            partition by workspace_id, usage_date order by convert_to(phone_number, 'UTF8')
        ) as entry_position,
        cast(usage_date as text) as entry_date,
        phone_number as entry_number,
        inbound_calls,
        outbound_calls,
        duration_seconds
    from {{ ref('phone_usage_daily') }}
    where call_count <> 0
)

{{ differing_rows(
    'listed_entries', 'expected_entries',
    ['workspace_id', 'usage_date', 'entry_position'],
    ['entry_date', 'entry_number', 'inbound_calls', 'outbound_calls', 'duration_seconds']
) }}
