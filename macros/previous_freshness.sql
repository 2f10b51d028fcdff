{#- What the build before this one wrote in data_freshness (the model's own
    table, as one row: built_at, version_at, staged_through); nulls on the
    first build, and a staged_through of null from a table written before it
    had that column. -#}
{% macro previous_freshness() -%}
    {%- set previous = load_relation(this) if execute else none -%}
    {%- set columns = adapter.get_columns_in_relation(previous) | map(attribute="name") | list if previous is not none else [] -%}
    {%- if "staged_through" in columns -%}
    select built_at, version_at, staged_through from {{ previous }} where freshness_id = 1
    {%- elif previous is not none -%}
    select built_at, version_at, cast(null as bigint) as staged_through from {{ previous }} where freshness_id = 1
    {%- else -%}
    select
        cast(null as timestamp with time zone) as built_at,
        cast(null as timestamp with time zone) as version_at,
        cast(null as bigint) as staged_through
    {%- endif -%}
{%- endmacro %}
