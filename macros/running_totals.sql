{#-
    Running totals since each workspace's first day, kept per workspace, UTC
    day with activity and key by the marts that answer a range with two rows
    instead of all of its days (ai_usage_running_totals, voice_usage_daily_lists,
    and through macros/number_day_lists.sql phone_usage_daily_lists and
    sms_usage_daily_lists):
    the range's sums are the totals of the last day on or before its end less
    those of the last day before its start.

    A late row changes every later day's totals of its workspace, so an
    incremental build rebuilds each workspace's days from its first changed
    one on (`running_totals_rebuilt_days`) and starts from the totals the table
    holds for that workspace's last day before it (the model's `totals_before`
    CTE). Other workspaces are not touched.
-#}

{#- The (workspace, day) pairs to rebuild: the changed ones (CTE
    `changed_days`) and, incremental, every later day of the same workspace
    that this table or `daily_relation` holds (one index range per workspace). -#}
{% macro running_totals_rebuilt_days(daily_relation) -%}
    select changed_days.workspace_id, changed_days.rebuilt_date from changed_days
    {%- if is_incremental() %}
    union
    select stored_days.workspace_id, stored_days.usage_date as rebuilt_date
    from {{ this }} as stored_days
    inner join (
        select workspace_id, min(rebuilt_date) as first_date from changed_days group by workspace_id
    ) as first_changed
        on stored_days.workspace_id = first_changed.workspace_id and stored_days.usage_date >= first_changed.first_date
    union
    select later_days.workspace_id, later_days.usage_date as rebuilt_date
    from {{ daily_relation }} as later_days
    inner join (
        select workspace_id, min(rebuilt_date) as first_date from changed_days group by workspace_id
    ) as first_changed
        on later_days.workspace_id = first_changed.workspace_id and later_days.usage_date >= first_changed.first_date
    {%- endif %}
{%- endmacro %}

{#- A `totals_before` for a table kept a row per key (ai_usage_running_totals; no
    keys: a row per workspace, phone_usage_daily_lists and sms_usage_daily_lists): the totals at the last
    stored day before the workspace's first rebuilt one (CTE `rebuilt_days`), for each workspace
    with rows to rebuild (CTE `daily`; one index probe each, not a pass over the
    table), as `keys` and the `measures`; on a full build no rows, typed as
    `daily_relation`'s columns. -#}
{% macro running_totals_before(daily_relation, keys, measures) -%}
    {%- if is_incremental() -%}
    select
        kept_totals.workspace_id,
        {%- for key in keys %}
        kept_totals.{{ key }},
        {%- endfor %}
        {%- for measure in measures %}
        kept_totals.running_{{ measure }} as {{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from (select distinct daily.workspace_id from daily) as active
    cross join lateral (
        select max(kept.usage_date) as usage_date
        from {{ this }} as kept
        where
            kept.workspace_id = active.workspace_id
            and kept.usage_date < (
                select min(rebuilt_days.rebuilt_date) from rebuilt_days
                where rebuilt_days.workspace_id = active.workspace_id
            )
    ) as last_day
    inner join {{ this }} as kept_totals
        on kept_totals.workspace_id = active.workspace_id and kept_totals.usage_date = last_day.usage_date
    {%- else -%}
    select {{ (["workspace_id"] + (keys | list) + (measures | list)) | join(", ") }}
    from {{ daily_relation }}
    where false
    {%- endif -%}
{%- endmacro %}

{#- The CTEs `key_first_days`, `active_days`, `key_days` and `running`, after the
    model's CTEs `daily` (the daily mart's rows of the rebuilt days: workspace_id,
    usage_date, `keys`, the measures) and `totals_before` (per workspace and key,
    each measure's total before the first rebuilt day; no rows on a full build).
    `running` has a row per workspace, active day and every key the workspace
    has used by then, with running_<measure> (cast to the type `measures` maps
    it to) and key_order, the key's place among the day's in code-point order. -#}
{% macro running_totals_ctes(keys, measures) -%}
    {%- set key_list = keys | join(", ") -%}
key_first_days as (
    select
        workspace_id,
        {{ key_list }},
        min(first_date) as first_date
    from (
        select workspace_id, {{ key_list }}, usage_date as first_date from daily
        union all
        select workspace_id, {{ key_list }}, cast('-infinity' as date) as first_date from totals_before
    ) as used
    group by workspace_id, {{ key_list }}
),

active_days as (
    select distinct workspace_id, usage_date from daily
),

key_days as (
    select
        active_days.workspace_id,
        active_days.usage_date,
        {%- for key in keys %}
        key_first_days.{{ key }}{{ "," if not loop.last }}
        {%- endfor %}
    from active_days
    inner join key_first_days
        on
            active_days.workspace_id = key_first_days.workspace_id
            and active_days.usage_date >= key_first_days.first_date
),

running as (
    select
        key_days.*,
        {%- for measure, data_type in measures.items() %}
        cast(
            coalesce(carried.{{ measure }}, 0) + sum(coalesce(daily.{{ measure }}, 0)) over by_key
            as {{ data_type }}
        ) as running_{{ measure }},
        {%- endfor %}
        row_number() over (
            partition by key_days.workspace_id, key_days.usage_date
            order by
            {%- for key in keys %}
                convert_to(key_days.{{ key }}, 'UTF8'){{ "," if not loop.last }}
            {%- endfor %}
        ) as key_order
    from key_days
    left join daily
        on
            key_days.workspace_id = daily.workspace_id
            and key_days.usage_date = daily.usage_date
            {%- for key in keys %}
            and key_days.{{ key }} = daily.{{ key }}
            {%- endfor %}
    left join totals_before as carried
        on
            key_days.workspace_id = carried.workspace_id
            {%- for key in keys %}
            and key_days.{{ key }} = carried.{{ key }}
            {%- endfor %}
    window by_key as (
        partition by key_days.workspace_id
        {%- for key in keys %}, key_days.{{ key }}{% endfor %}
        order by key_days.usage_date
    )
)
{%- endmacro %}
