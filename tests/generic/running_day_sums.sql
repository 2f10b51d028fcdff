{#- Fails on every row whose running totals (`running_<measure>`) differ from
    the measure summed over the UTC day's quarter hours up to that row's, for
    the same keys (see the macro running_day_sums). -#}
{% test running_day_sums(model, measures, partition_by) %}
    select *
    from (
        select
            {% for measure in measures -%}
                running_{{ measure }},
                sum({{ measure }}) over (
                    partition by {{ partition_by | join(", ") }} order by usage_quarter_hour
                ) as expected_{{ measure }}{{ "," if not loop.last }}
            {% endfor %}
        from {{ model }}
    ) as checked
    where
        {% for measure in measures -%}
            running_{{ measure }} is distinct from expected_{{ measure }}{{ " or" if not loop.last }}
        {% endfor %}
{% endtest %}
