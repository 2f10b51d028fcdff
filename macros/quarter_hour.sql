{#- The start (UTC) of the 15-minute bucket holding a timestamp. Every real
    UTC offset is a multiple of 15 minutes, so local calendar days in any
    zone are unions of these buckets (CONTRACT §6). -#}
{% macro quarter_hour(timestamp_expression) -%}
    {{ return(adapter.dispatch('quarter_hour', 'usage_reports')(timestamp_expression)) }}
{%- endmacro %}

{% macro postgres__quarter_hour(timestamp_expression) -%}
    date_bin(interval '15 minutes', {{ timestamp_expression }}, timestamptz '2000-01-01 00:00:00+00')
{%- endmacro %}
