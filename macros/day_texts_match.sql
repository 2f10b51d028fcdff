{#- A singular test's body: `lists_model` (macros/number_day_lists.sql) writes each
    day's rows as `daily_model` holds them: its day texts, read back as JSON, are
    that day's rows with activity (`count` not 0), workspace numbers in code-point
    order; `fields` are the entries' (JSON key, column) pairs after date and
    phoneNumber, all counts (the running totals: running_totals_match). -#}
{% macro day_texts_match(lists_model, daily_model, count, fields) -%}
with

listed_entries as (
    select
        lists.workspace_id,
        lists.usage_date,
        entry.position as entry_position,
        entry.value ->> 'date' as entry_date,
        entry.value ->> 'phoneNumber' as entry_number,
        {%- for key, column in fields %}
        cast(entry.value ->> '{{ key }}' as bigint) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(lists_model) }} as lists
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
        {%- for key, column in fields %}
        {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(daily_model) }}
    where {{ count }} <> 0
)

{{ differing_rows(
    'listed_entries', 'expected_entries',
    ['workspace_id', 'usage_date', 'entry_position'],
    ['entry_date', 'entry_number'] + fields | map(attribute=1) | list
) }}
{%- endmacro %}
