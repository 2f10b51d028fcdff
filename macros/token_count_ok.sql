{#- Whether an AI event's token count is one the reports take: present, not
    negative, and at most var('max_event_tokens') (a larger one is a loader's
    error; summed, it would overflow the marts' bigint columns). -#}
{% macro token_count_ok(column) -%}
    coalesce({{ column }} between 0 and {{ var('max_event_tokens') }}, false)
{%- endmacro %}
