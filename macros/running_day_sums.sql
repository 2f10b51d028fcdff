{#- Running totals within a UTC day, for the quarter-hourly marts: for each
    measure, `running_<measure>` is its sum over the day's quarter hours up to
    and including this row's, for the same keys (`partition_by`). A report in
    another time zone splits a UTC day at a local midnight by reading a single
    row per key, the last quarter hour before the cut, instead of every
    quarter hour on one side of it (api/zones.py). `measures` maps each
    measure to its column type. -#}
{% macro running_day_sums(measures, partition_by) -%}
    {%- for measure, data_type in measures.items() %}
    cast(
        sum({{ measure }}) over (
            partition by {{ partition_by | join(", ") }} order by usage_quarter_hour
        ) as {{ data_type }}
    ) as running_{{ measure }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
