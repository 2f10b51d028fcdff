{#- A call's billable length: ended_at - started_at rounded to the nearest
    whole second, halves up (CONTRACT §4). Null unless both are set, within
    `event_time_ok` (an end at 'infinity' has no length in seconds), and the
    call did not end before it started. -#}
{% macro call_duration_seconds(started_at, ended_at) -%}
    {{ return(adapter.dispatch('call_duration_seconds', 'usage_reports')(started_at, ended_at)) }}
{%- endmacro %}

{% macro postgres__call_duration_seconds(started_at, ended_at) -%}
    case
        when
            {{ ended_at }} >= {{ started_at }}
            and {{ usage_reports.event_time_ok(started_at) }}
            and {{ usage_reports.event_time_ok(ended_at) }}
            then cast(floor(extract(epoch from ({{ ended_at }} - {{ started_at }})) + 0.5) as bigint)
    end
{%- endmacro %}
