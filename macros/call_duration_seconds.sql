{#- A call's billable length: ended_at - started_at rounded to the nearest
    whole second, halves up (CONTRACT §4). Null unless both are set and the
    call did not end before it started. -#}
{% macro call_duration_seconds(started_at, ended_at) -%}
    {{ return(adapter.dispatch('call_duration_seconds', 'usage_reports')(started_at, ended_at)) }}
{%- endmacro %}

{% macro postgres__call_duration_seconds(started_at, ended_at) -%}
    case
        when {{ ended_at }} >= {{ started_at }}
            then cast(floor(extract(epoch from ({{ ended_at }} - {{ started_at }})) + 0.5) as bigint)
    end
{%- endmacro %}
