{#- Whether an event time is one the reports take: from 1970-01-01 up to, not
    including, 2100-01-01 (UTC). Anything else (infinity included) is a loader's
    error: the row is invalid (quarantined), and its day is null, so it never
    stretches the span of days an incremental build rebuilds (an event moved to
    'infinity' once made that span endless). Null for a null time. -#}
{% macro event_time_ok(timestamp_expression) -%}
    (
        {{ timestamp_expression }} >= cast('1970-01-01 00:00:00+00' as timestamp with time zone)
        and {{ timestamp_expression }} < cast('2100-01-01 00:00:00+00' as timestamp with time zone)
    )
{%- endmacro %}

{#- The UTC calendar date of an event time: the day every report buckets by;
    null when `event_time_ok` does not hold. -#}
{% macro utc_date(timestamp_expression) -%}
    {{ return(adapter.dispatch('utc_date', 'usage_reports')(timestamp_expression)) }}
{%- endmacro %}

{% macro postgres__utc_date(timestamp_expression) -%}
    case
        when {{ usage_reports.event_time_ok(timestamp_expression) }}
            then cast(({{ timestamp_expression }}) at time zone 'UTC' as date)
    end
{%- endmacro %}
