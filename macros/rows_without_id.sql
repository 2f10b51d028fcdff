{#- The raw rows of `table` whose id is null, each a quarantined row of its own
    (found through the raw id index). Staging merges copies by id, so such
    rows never reach it, and without this they would vanish unseen. -#}
{% macro rows_without_id(table, id_column, event_time_column) -%}
    select
        '{{ table }}' as source_table,
        cast(null as {{ dbt.type_string() }}) as row_id,
        workspace_id,
        {{ utc_date(event_time_column) }} as event_date,
        'missing {{ id_column }}' as reason,
        _loaded_at as last_loaded_at
    from {{ source('product', table) }}
    where {{ id_column }} is null
{%- endmacro %}
