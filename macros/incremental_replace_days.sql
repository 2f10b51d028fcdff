{#-
    Incremental strategy `replace_days` for the daily marts.

    The unit an incremental build rebuilds is a workspace's UTC day. The
    model's incremental SQL returns every row of each (workspace, day) it
    rebuilds, computed in full from staging, plus one placeholder row per
    rebuilt pair (only the workspace and day columns set, see
    `select_with_rebuilt_days`), so a pair whose activity moved away or became
    invalid is still named. In one statement batch (one transaction) this
    deletes every target row of those pairs and inserts the real rows: readers
    see the old day or the new day, never a half-built one, and the result
    equals a full rebuild of those pairs. Other workspaces' rows on the same
    days are not touched.

    config: incremental_strategy='replace_days', unique_key='<day column>'.
-#}
{% macro get_incremental_replace_days_sql(arg_dict) %}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set staged = arg_dict["temp_relation"] -%}
    {%- set day_column = arg_dict["unique_key"] -%}
    {%- set dest_columns = arg_dict["dest_columns"] -%}
    {%- set columns = dest_columns | map(attribute="quoted") | join(", ") -%}
    {%- set values = dest_columns | map(attribute="name") | reject("in", ["workspace_id", day_column]) | list -%}
    {#- a join on the pairs, so the planner can walk the primary key (workspace_id, day, ...)
        for each one instead of reading every row of those days -#}
    delete from {{ target }} as stored
    using (select distinct workspace_id, {{ day_column }} from {{ staged }}) as rebuilt
    where stored.workspace_id = rebuilt.workspace_id and stored.{{ day_column }} = rebuilt.{{ day_column }};

    {#- the placeholders have nothing but their pair: every other column null -#}
    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ staged }}
    where not (row({{ values | join(", ") }}) is null);
{% endmacro %}

{#-
    The (workspace, UTC day) pairs an incremental build must rebuild for one
    staging model, as (workspace_id, rebuilt_date): for each id that the
    staging model took since this mart was last built
    (`staged_since_mart_build`), its workspace on every day between its
    earliest and latest copy, so a re-delivered row that moved to another day
    clears the day it left. An id whose copies moved between workspaces
    (`workspace_moved`) cannot say which workspace it left: its days are
    rebuilt for every workspace this mart holds on them. On a full build: no
    pairs (unused); on a `--empty` run (staging replaced by an empty
    subquery): none either. The mart's day column is `usage_date`.
-#}
{% macro changed_days(staging_relation) -%}
    {%- if is_incremental() and not flags.EMPTY -%}
    select changed.workspace_id, changed.day_value as rebuilt_date
    from ({{ usage_reports.staged_copy_days(staging_relation) }}) as changed
    where changed.workspace_id is not null
    union
    select stored.workspace_id, stored.usage_date as rebuilt_date
    from {{ this }} as stored
    where
        -- on no column of `stored`: checked once, and without a moved id the mart is not read
        exists (
            select from {{ staging_relation }} as moved
            where {{ usage_reports.staged_since_mart_build(staging_relation, 'moved') }} and moved.workspace_moved
        )
        and stored.usage_date = any(array(
            select moved.day_value
            from ({{ usage_reports.staged_copy_days(staging_relation) }}) as moved
            where moved.workspace_moved
        ))
    {%- else -%}
    {{ usage_reports.no_rebuilt_days() }}
    {%- endif -%}
{%- endmacro %}

{#- Each staging row written since this mart was last built, on every day
    between its earliest and latest copy: workspace_id, workspace_moved, day_value. -#}
{% macro staged_copy_days(staging_relation) -%}
    select staged.workspace_id, staged.workspace_moved, staged_day.day_value
    from {{ staging_relation }} as staged
    cross join lateral (
        {{ usage_reports.days_between('staged.earliest_copy_date', 'staged.latest_copy_date') }}
    ) as staged_day (day_value)
    where {{ usage_reports.staged_since_mart_build(staging_relation, 'staged') }}
        and staged.earliest_copy_date is not null
{%- endmacro %}

{#- The pairs of the events of every chat that changed (landed late, changed
    owner): their usage moves to another member of the events' workspace. -#}
{% macro changed_days_of_chat_events(events_relation, chats_relation) -%}
    {%- if is_incremental() and not flags.EMPTY -%}
    select distinct chat_events.workspace_id, chat_events.usage_date as rebuilt_date
    from {{ events_relation }} as chat_events
    inner join {{ chats_relation }} as changed_chats
        on chat_events.chat_id = changed_chats.chat_id
    where {{ usage_reports.staged_since_mart_build(chats_relation, 'changed_chats') }}
        and chat_events.usage_date is not null
        and chat_events.workspace_id is not null
    {%- else -%}
    {{ usage_reports.no_rebuilt_days() }}
    {%- endif -%}
{%- endmacro %}

{% macro no_rebuilt_days() -%}
    select cast(null as uuid) as workspace_id, cast(null as date) as rebuilt_date where 1 = 0
{%- endmacro %}

{#- A filter on a model's workspace and day columns: only rebuilt pairs when
    incremental. The days also go in as `= any(array(...))`: the planner then
    sees a handful of values (an index range per day) instead of guessing 200
    rows of a CTE and hashing the whole staging table against them; the pairs
    then keep only the rebuilt workspaces of those days. -#}
{% macro in_rebuilt_days(day_column, workspace_column='workspace_id') -%}
    {%- if is_incremental() -%}
    {{ day_column }} = any(array(select distinct rebuilt_days.rebuilt_date from rebuilt_days))
    and ({{ workspace_column }}, {{ day_column }}) in (
        select rebuilt_days.workspace_id, rebuilt_days.rebuilt_date from rebuilt_days
    )
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The model's final select. Incremental: the rebuilt rows, in the existing
    table's column order, plus one placeholder row per rebuilt pair (every
    column null but the workspace and the day) so get_incremental_replace_days_sql
    clears a pair even when nothing is left on it. Full build: every row. -#}
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
        {%- elif column.name == "workspace_id" -%}
            rebuilt_days.workspace_id
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
