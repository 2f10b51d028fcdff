{#-
    How far each incremental mart has read each staging model it is built from.

    Every staging row carries the build that wrote it (`staged_batch`, a number
    that grows with every build: macros/incremental_staging.sql). A mart must
    read exactly the staging rows stored since the mart was last built. Its own
    rows cannot say how far that is: a mart fed by several staging models
    (voice: STT and TTS; member usage: chats, messages, AI events) would hold
    only what reached it, and rows that never reach a mart (invalid ones, AI
    events without a chat, messages no member sent) would never count as read.

    So every build of an incremental mart records, in the same transaction as
    its rows, the newest `staged_batch` each of its staging models holds
    (`record_mart_watermarks`, a post-hook), in
    build_state.incremental_watermarks; the next build reads the staging rows
    written after that (`staged_since_mart_build`). Builds take turns (the build
    lock of `make build`; dbt run by hand beside a build does not), and a
    staging model commits before the marts built from it run, so nothing is
    written between a mart's read and its record. A record also keeps when it
    last moved (`advanced_at`): data_freshness.version_at, the reports' version,
    is the latest of those, as no incremental build changes a mart without its
    record moving (full refreshes replace the tables, which the ETags follow).
    A build killed before a mart commits records nothing, so the next one reads
    from the last record that did. A daily mart sums its quarter-hourly twin,
    so it records no more than its twin has read. Without a record (the first build after an
    upgrade, or build_state dropped), or with an empty one (the staging table
    was empty), a build reads the whole staging table once: exact, at the cost
    of a full build.
-#}

{#- on-run-start: the tables of build state, made once (and brought up to date
    from the versions that recorded landings, or transaction ids, instead). -#}
{% macro create_build_state() -%}
    create schema if not exists build_state;
    create sequence if not exists build_state.staging_batches;
    comment on sequence build_state.staging_batches is
        'Numbers the builds of the event staging tables (their staged_batch column; macros/incremental_staging.sql).';
    {{ usage_reports.align_staging_batches() }};
    create table if not exists build_state.incremental_watermarks (
        mart text not null,
        staging_model text not null,
        staged_through bigint,
        recorded_at timestamp with time zone not null,
        advanced_at timestamp with time zone,
        primary key (mart, staging_model)
    );
    alter table build_state.incremental_watermarks add column if not exists staged_through bigint;
    alter table build_state.incremental_watermarks add column if not exists advanced_at timestamp with time zone;
    alter table build_state.incremental_watermarks drop column if exists newest_landing;
    comment on table build_state.incremental_watermarks is
        'Per incremental mart and staging model it reads: the newest staged_batch of that staging model the mart has read, and when that last moved (macros/incremental_watermarks.sql).';
    create table if not exists build_state.staging_horizons (
        staging_model text primary key,
        horizon_xid bigint not null,
        cluster_id bigint,
        recorded_at timestamp with time zone not null
    );
    alter table build_state.staging_horizons add column if not exists cluster_id bigint;
    comment on table build_state.staging_horizons is
        'Per event staging model: the oldest transaction running when its last build read raw, on the server cluster_id (pg_control_system()); the next build reads the raw rows written by that transaction or later ones (macros/incremental_staging.sql).';
    create table if not exists build_state.refresh_generation (
        singleton boolean primary key default true check (singleton),
        generation integer not null,
        recorded_at timestamp with time zone not null
    );
    comment on table build_state.refresh_generation is
        'The refresh generation (dbt var refresh_generation) of the last build that rebuilt every model in full; also in the comment of schema marts (macros/refresh_generation.sql).'
{%- endmacro %}

{#- Part of on-run-start: move the batch sequence past the highest batch the
    event staging tables hold. A build_state dropped, or restored from before
    the staging tables, would otherwise number new staging rows below batches
    the marts have already read past, and they would never be read. -#}
{% macro align_staging_batches() -%}
    {%- set tables = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == "model" and node.name.startswith("stg_")
                and node.config.materialized == "incremental" -%}
                {%- do tables.append((node.schema, node.alias or node.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    do $align$
    declare
        held bigint;
    begin
        {%- for schema, identifier in tables %}
        if exists (
            select from information_schema.columns
            where table_schema = {{ dbt.string_literal(schema) }}
                and table_name = {{ dbt.string_literal(identifier) }}
                and column_name = 'staged_batch'
        ) then
            select max(staged_batch) into held from {{ adapter.quote(schema) }}.{{ adapter.quote(identifier) }};
            if held > (select last_value from build_state.staging_batches) then
                perform setval('build_state.staging_batches', held);
            end if;
        end if;
        {%- endfor %}
    end
    $align$
{%- endmacro %}

{#- A filter on rows of `staging_relation` (alias `alias`): those its staging
    table stored since the current mart was last built (all of them without a
    record, or with an empty one). The record is read when the model is
    compiled, so the planner sees a literal and walks the staged_batch index. -#}
{% macro staged_since_mart_build(staging_relation, alias) -%}
    {%- set recorded = usage_reports.recorded_staging_read(this.identifier, staging_relation.identifier) -%}
    {%- if recorded is none -%}
    1 = 1
    {%- else -%}
    {{ alias }}.staged_batch > cast({{ recorded }} as bigint)
    {%- endif -%}
{%- endmacro %}

{#- What `mart` recorded of `staging_model`, read now: none without a record. -#}
{% macro recorded_staging_read(mart, staging_model) -%}
    {{ return(usage_reports.query_value(usage_reports.recorded_staging_sql(mart, staging_model))) }}
{%- endmacro %}

{#- A query for what `mart` recorded of `staging_model` (no row: no record). -#}
{% macro recorded_staging_sql(mart, staging_model) -%}
    select staged_through from build_state.incremental_watermarks
    where mart = {{ dbt.string_literal(mart) }} and staging_model = {{ dbt.string_literal(staging_model) }}
{%- endmacro %}

{#- Post-hook of the incremental marts (dbt_project.yml): record the newest
    staged_batch of every staging model the mart depends on, inside the mart's
    own transaction; a mart built from another (a daily mart from its
    quarter-hourly twin) records no more than that one's record (none: 0, so
    the next build reads every row). A `--empty` run removes the mart's
    records instead. Other materializations record nothing. -#}
{% macro record_mart_watermarks() -%}
    {%- if execute and config.get("materialized") == "incremental" -%}
    {%- if flags.EMPTY -%}
    {#- a `--empty` run read no staging row (and a full one left the mart empty):
        no record, so the next build reads every staging row -#}
    delete from build_state.incremental_watermarks where mart = {{ dbt.string_literal(this.identifier) }}
    {%- else -%}
        {%- set staged = [] -%}
        {%- set read_marts = [] -%}
        {%- for node_id in model.depends_on.nodes -%}
            {%- set node = graph.nodes.get(node_id) -%}
            {%- if node is not none and node.resource_type == "model" -%}
                {%- do (staged if node.name.startswith("stg_") else read_marts).append(node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if staged -%}
        insert into build_state.incremental_watermarks as recorded (
            mart, staging_model, staged_through, recorded_at, advanced_at
        )
        {% for node in staged -%}
        {%- set staging_model = node.alias or node.name -%}
        select
            {{ dbt.string_literal(this.identifier) }},
            {{ dbt.string_literal(staging_model) }},
            least(
                (select max(staged_batch) from {{ adapter.quote(node.schema) }}.{{ adapter.quote(staging_model) }})
                {%- for read in read_marts %},
                coalesce(({{ usage_reports.recorded_staging_sql(read.alias or read.name, staging_model) }}), 0)
                {%- endfor %}
            ),
            {{ dbt.current_timestamp() }},
            {{ dbt.current_timestamp() }}
        {% if not loop.last %}union all{% endif %}
        {% endfor -%}
        on conflict (mart, staging_model) do update
        set
            staged_through = excluded.staged_through,
            recorded_at = excluded.recorded_at,
            advanced_at = case
                when excluded.staged_through is distinct from recorded.staged_through then excluded.recorded_at
                else recorded.advanced_at
            end
        {%- endif -%}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}
