{#-
    Which rules the stored rows were built by (README, "Upgrading").

    Some changes to the project leave rows an incremental build never
    corrects: a new validity rule, or a staging column derived anew, reaches
    only the ids a build reads again, and every other stored row keeps the
    old verdict or value, with no error. Such a change bumps var
    `refresh_generation` (dbt_project.yml). The generation of the last build
    that rebuilt every model in full is recorded twice: in the marts schema's
    comment, where `\dn+` shows it, and in build_state.refresh_generation, so
    that a dump restored without comments (`--no-comments`) or without schema
    build_state keeps one (a build that finds one of the two puts back the
    other). An incremental `run` or `build` that finds another generation (or
    none, beside tables built before the record existed) stops before any
    model, naming the command, instead of serving numbers by two sets of
    rules. A warehouse
    with none of the incremental tables yet has nothing old in it: its
    first build records the generation at once, whatever it selects and
    whether or not it is a full refresh (one that fails half-way would
    otherwise leave tables of this version with no record beside them).
-#}

{% macro refresh_generation_schema() -%}
    {{ return(graph.nodes['model.usage_reports.data_freshness'].schema) }}
{%- endmacro %}

{#- Both records of this version's generation (the table: create_build_state; the
    schema: made here when missing, as before a first build of the marts). -#}
{% macro record_generation() -%}
    {%- set wanted = var('refresh_generation') | int -%}
    create schema if not exists {{ adapter.quote(refresh_generation_schema()) }};
    comment on schema {{ adapter.quote(refresh_generation_schema()) }} is {{ dbt.string_literal(
        'Usage report marts, last built in full by refresh generation ' ~ wanted
        ~ ' (dbt var refresh_generation; README, "Upgrading").'
    ) }};
    insert into build_state.refresh_generation (generation, recorded_at)
    values ({{ wanted }}, {{ dbt.current_timestamp() }})
    on conflict (singleton) do update
    set generation = excluded.generation, recorded_at = excluded.recorded_at
{%- endmacro %}

{#- on-run-start: record the generation in a new warehouse; stop an incremental
    build over rows of another generation. -#}
{% macro check_refresh_generation() -%}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set schema = refresh_generation_schema() -%}
        {%- set tables = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do tables.append(dbt.string_literal(adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias or node.name))) -%}
        {%- endfor -%}
        {%- set found = run_query(
            "select substring(obj_description(to_regnamespace(quote_ident(" ~ dbt.string_literal(schema)
            ~ ")), 'pg_namespace') from 'refresh generation ([0-9]+)')::int,"
            ~ " (select generation from build_state.refresh_generation),"
            ~ " (select count(*) from unnest(array[" ~ tables | join(', ')
            ~ "]::text[]) as stored (name) where to_regclass(stored.name) is not null)"
        ) -%}
        {%- set built = found.rows[0][2] -%}
        {%- set records = [found.rows[0][0], found.rows[0][1]] | reject('none') | map('int') | list -%}
        {%- set wanted = var('refresh_generation') | int -%}
        {%- set other = records | reject('equalto', wanted) | list -%}
        {%- if built == 0 -%}
            {{ record_generation() }}
        {%- elif flags.FULL_REFRESH -%}
            {#- it rebuilds what it selects; record_refresh_generation records a whole one -#}
        {%- elif records and not other -%}
            {%- if records | length < 2 -%}
                {{ record_generation() }}
            {%- endif -%}
        {%- else -%}
            {%- if not records -%}
                {%- set why = "The stored tables carry no record of the rules they follow (built by an older"
                    ~ " version of this project, which did not record them, or restored from a dump that left"
                    ~ " out both the schema comments and schema build_state), so an incremental build cannot"
                    ~ " tell whether rows already stored follow this version's (refresh generation "
                    ~ wanted ~ ")." -%}
            {%- else -%}
                {%- set stored = other[0] -%}
                {%- set why = "The stored tables were built by refresh generation " ~ stored
                    ~ ", and this version (refresh generation " ~ wanted ~ ") changed rules that incremental"
                    ~ " builds cannot apply to rows already stored." -%}
            {%- endif -%}
            {{ exceptions.raise_compiler_error(
                why ~ " Nothing was built. Rebuild everything once: make build DBT_ARGS=--full-refresh"
                ~ " (README, \"Upgrading\")."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: a full refresh that rebuilt every model records its generation
    (one with --select, or with a model that failed, does not). -#}
{% macro record_refresh_generation(results) -%}
    {%- if execute and flags.WHICH in ('run', 'build') and flags.FULL_REFRESH -%}
        {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list -%}
        {%- set rebuilt = results
            | selectattr('node.resource_type', 'equalto', 'model')
            | selectattr('status', 'equalto', 'success') | list -%}
        {%- if rebuilt | length == models | length -%}
            {{ record_generation() }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
