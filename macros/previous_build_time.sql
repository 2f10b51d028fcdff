{#- The build before this one, for data_freshness, as one row: when it finished
    (`built_at` of the model's own table) and the last full refresh it knew of
    (`refreshed_at`; null if its table predates that column). On the first
    build: no row, so both read as null (a first build refreshes everything). -#}
{% macro previous_build_time() -%}
    {%- set previous = load_relation(this) if execute else none -%}
    {%- if previous is not none -%}
    {%- set known = adapter.get_columns_in_relation(previous) | map(attribute="name") | list -%}
    select
        built_at,
        {{ "refreshed_at" if "refreshed_at" in known else "cast(null as timestamp with time zone)" }} as refreshed_at
    from {{ previous }}
    where freshness_id = 1
    {%- else -%}
    select
        cast(null as timestamp with time zone) as built_at,
        cast(null as timestamp with time zone) as refreshed_at
    {%- endif -%}
{%- endmacro %}
