{#- The UTC calendar date of a timestamptz: the day every report buckets by. -#}
{% macro utc_date(timestamp_expression) -%}
    {{ return(adapter.dispatch('utc_date', 'usage_reports')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__utc_date(timestamp_expression) -%}
    cast({{ timestamp_expression }} as date)
{%- endmacro %}

{% macro postgres__utc_date(timestamp_expression) -%}
    cast(({{ timestamp_expression }}) at time zone 'UTC' as date)
{%- endmacro %}
