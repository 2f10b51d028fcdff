{#- Fails on every (workspace, day, key) where a running-totals model
    (macros/running_totals.sql) and its daily mart disagree: on each day the
    daily mart has activity for a workspace, the model must list every key the
    workspace has used by then (no keys: one row), and each running_<measure>
    must grow from the key's previous listed day by exactly the daily mart's
    rows of that day (by nothing without any). Linear in the two tables, so
    every scheduled build runs it. -#}
{% test running_totals_match(model, daily, keys, measures) %}
    {%- set grain -%}
        workspace_id{% for key in keys %}, {{ key }}{% endfor %}
    {%- endset %}
    with

    listed as (
        select
            {{ grain }},
            usage_date,
            {%- for measure in measures %}
                running_{{ measure }} - coalesce(lag(running_{{ measure }}) over by_key, 0)
                    as {{ measure }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
        window by_key as (partition by {{ grain }} order by usage_date)
    ),

    daily_rows as (
        select
            {{ grain }},
            usage_date,
            {%- for measure in measures %}
                sum({{ measure }}) as {{ measure }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ daily }}
        group by {{ grain }}, usage_date
    ),

    first_uses as (
        select {{ grain }}, min(usage_date) as first_date
        from daily_rows
        group by {{ grain }}
    ),

    expected as (
        select
            first_uses.workspace_id,
            active_days.usage_date,
            {%- for key in keys %}
                first_uses.{{ key }},
            {%- endfor %}
            {%- for measure in measures %}
                coalesce(day_rows.{{ measure }}, 0) as {{ measure }}{{ "," if not loop.last }}
            {%- endfor %}
        from (select distinct workspace_id, usage_date from daily_rows) as active_days
        inner join first_uses
            on active_days.workspace_id = first_uses.workspace_id and active_days.usage_date >= first_uses.first_date
        left join daily_rows as day_rows
            on
                active_days.workspace_id = day_rows.workspace_id
                and active_days.usage_date = day_rows.usage_date
                {%- for key in keys %}
                and first_uses.{{ key }} = day_rows.{{ key }}
                {%- endfor %}
    )

    select
        coalesce(listed.workspace_id, expected.workspace_id) as workspace_id,
        coalesce(listed.usage_date, expected.usage_date) as usage_date,
        {%- for key in keys %}
            coalesce(listed.{{ key }}, expected.{{ key }}) as {{ key }},
        {%- endfor %}
        listed.workspace_id is null as missing_from_model
    from listed
    full outer join expected
        on
            listed.workspace_id = expected.workspace_id
            and listed.usage_date = expected.usage_date
            {%- for key in keys %}
            and listed.{{ key }} = expected.{{ key }}
            {%- endfor %}
    where
        listed.workspace_id is null
        or expected.workspace_id is null
        {%- for measure in measures %}
        or listed.{{ measure }} is distinct from expected.{{ measure }}
        {%- endfor %}
{% endtest %}
