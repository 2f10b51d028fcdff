{#-
    Incremental strategy `replace_days` for the daily marts.

    The model's incremental SQL returns every row of each day it rebuilds,
    computed in full from staging, plus one placeholder row per rebuilt day
    (only the day column set, see `select_with_rebuilt_days`), so a day whose
    activity moved away or became invalid is still named. In one statement
    batch (one transaction) this deletes every target row of those days and
    inserts the real rows: readers see the old day or the new day, never a
    half-built one, and the result equals a full rebuild of those days.

    config: incremental_strategy='replace_days', unique_key='<day column>'.
-#}
{% macro get_incremental_replace_days_sql(arg_dict) %}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set staged = arg_dict["temp_relation"] -%}
    {%- set day_column = arg_dict["unique_key"] -%}
    {%- set columns = arg_dict["dest_columns"] | map(attribute="quoted") | join(", ") -%}
    {#- = any(array(...)), as in `in_rebuilt_days`: a few values the planner can walk the
        primary key for (a skip scan over workspace_id), not a hash join over the whole mart -#}
    delete from {{ target }}
    where {{ day_column }} = any(array(select distinct {{ day_column }} from {{ staged }}));

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ staged }}
    where workspace_id is not null;
{% endmacro %}

{#-
    The UTC days an incremental build must rebuild for one staging model:
    every day between the earliest and latest copy of each id that the staging
    model took since this mart was last built (`staged_since_mart_build`), so
    a re-delivered row that moved to another day clears the day it left. On a
    full build: no days (unused); on a `--empty` run (staging replaced by an
    empty subquery): none either.
-#}
{% macro changed_days(staging_relation) -%}
    {%- if is_incremental() and not flags.EMPTY -%}
    select distinct changed_day.day_value as rebuilt_date
    from {{ staging_relation }} as changed
    cross join lateral (
        {{ usage_reports.days_between('changed.earliest_copy_date', 'changed.latest_copy_date') }}
    ) as changed_day (day_value)
    where {{ usage_reports.staged_since_mart_build(staging_relation, 'changed') }}
        and changed.earliest_copy_date is not null
    {%- else -%}
    {{ usage_reports.no_rebuilt_days() }}
    {%- endif -%}
{%- endmacro %}

{#- The days of the events of every chat that changed (landed late, changed
    owner): their usage moves to another member. -#}
{% macro changed_days_of_chat_events(events_relation, chats_relation) -%}
    {%- if is_incremental() and not flags.EMPTY -%}
    select distinct chat_events.usage_date as rebuilt_date
    from {{ events_relation }} as chat_events
    inner join {{ chats_relation }} as changed_chats
        on chat_events.chat_id = changed_chats.chat_id
    where {{ usage_reports.staged_since_mart_build(chats_relation, 'changed_chats') }}
        and chat_events.usage_date is not null
    {%- else -%}
    {{ usage_reports.no_rebuilt_days() }}
    {%- endif -%}
{%- endmacro %}

{% macro no_rebuilt_days() -%}
    select cast(null as date) as rebuilt_date where 1 = 0
{%- endmacro %}

{#- A filter on a model's day column: only rebuilt days when incremental.
    `= any(array(...))` rather than `in (select ...)`: the planner then sees
    a handful of values (an index range per day) instead of guessing 200
    rows of a CTE and hashing the whole staging table against them. -#}
{% macro in_rebuilt_days(day_column) -%}
    {%- if is_incremental() -%}
    {{ day_column }} = any(array(select rebuilt_days.rebuilt_date from rebuilt_days))
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The model's final select. Incremental: the rebuilt rows, in the existing
    table's column order, plus one placeholder row per rebuilt day (every
    column null but the day) so get_incremental_replace_days_sql clears a day
    even when nothing is left on it. Full build: every row. -#}
{% macro select_with_rebuilt_days(relation, day_column) -%}
    {%- if is_incremental() -%}
    {%- set columns = adapter.get_columns_in_relation(this) -%}
    {{- usage_reports.refuse_changed_columns(columns) -}}
    select {{ columns | map(attribute="name") | join(", ") }}
    from {{ relation }}
    union all
    select
    {%- for column in columns %}
        {% if column.name == day_column -%}
            rebuilt_days.rebuilt_date
        {%- elif column.data_type == "ARRAY" -%}
            {#- the catalog names no element type; the union takes the first branch's -#}
            null
        {%- else -%}
            cast(null as {{ column.data_type }})
        {%- endif %} as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
    from rebuilt_days
    {%- else -%}
    {# stored in key order, so a range read touches few pages #}
    select * from {{ relation }}
    order by workspace_id, {{ day_column }}
    {%- endif -%}
{%- endmacro %}

{#- A table built by another version of the project, with columns this one does not
    declare or without some it does: stop with what to run, before the select that
    names the stored columns fails with a bare SQL error (on_schema_change: fail
    only looks once the new rows are built). `enforced_only`: only for a model
    whose contract is enforced (the marts: their YAML then lists every column);
    the event staging tables list every column without a contract. -#}
{% macro refuse_changed_columns(columns, enforced_only=true) -%}
    {%- set stored = columns | map(attribute="name") | map("lower") | list -%}
    {%- set declared = model.columns.keys() | map("lower") | list -%}
    {%- set extra = stored | reject("in", declared) | list -%}
    {%- set missing = declared | reject("in", stored) | list -%}
    {%- set enforced = (model.config.get("contract") or {}).get("enforced", false) -%}
    {%- if execute and (enforced or not enforced_only) and (extra or missing) -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built by another version of this project (columns it has and this version does not: "
            ~ (extra | join(", ") or "none") ~ "; columns this version adds: " ~ (missing | join(", ") or "none")
            ~ "). Rebuild everything once: make build DBT_ARGS=--full-refresh (README, \"Upgrading\")."
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro days_between(first_day, last_day) -%}
    {{ return(adapter.dispatch('days_between', 'usage_reports')(first_day, last_day)) }}
{%- endmacro %}

{% macro postgres__days_between(first_day, last_day) -%}
    select cast(generated_day as date)
    from generate_series({{ first_day }}, {{ last_day }}, interval '1 day') as generated_day
{%- endmacro %}
