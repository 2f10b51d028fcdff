{#- When the build before this one finished (`built_at` of the model's own
    table, as one row), for data_freshness; null on the first build. -#}
{% macro previous_build_time() -%}
    {%- set previous = load_relation(this) if execute else none -%}
    {%- if previous is not none -%}
    select built_at from {{ previous }} where freshness_id = 1
    {%- else -%}
    select cast(null as timestamp with time zone) as built_at
    {%- endif -%}
{%- endmacro %}
