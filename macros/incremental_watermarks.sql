{#-
    How far each incremental mart has read each staging model it is built from.

    A staging table merges the raw rows that landed after its own newest
    landing, less the lookback (`build_watermark`). A mart must then read
    exactly the staging rows taken since the mart was last built. Its own rows
    cannot say how far that is: a mart fed by several staging models (voice:
    STT and TTS; member usage: chats, messages, AI events) holds the busiest
    one's newest landing, so rows a quieter one took late would be skipped;
    and rows that never reach a mart (invalid ones, AI events without a chat,
    messages no member sent) would hold its watermark back, so every build
    would re-read them.

    So every build of an incremental mart records, in the same transaction as
    its rows, the newest landing each of its staging models holds
    (`record_mart_watermarks`, a post-hook), in
    build_state.incremental_watermarks; the next build reads what landed after
    that, less the lookback (`staged_since_mart_build`): the very rows the
    staging table took meanwhile, since its own watermark was computed from the
    same newest landing. A build killed before a mart commits records nothing,
    so the next one reads from the last record that did. A daily mart sums its
    quarter-hourly twin, so it records no more than its twin has read. Without
    a record (the first build after an upgrade, or build_state dropped), or
    with an empty one (the staging table was empty), a build reads the whole
    staging table once: exact, at the cost of a full build.
-#}

{#- on-run-start: the table of records, made once. -#}
{% macro create_mart_watermarks() -%}
    create schema if not exists build_state;
    create table if not exists build_state.incremental_watermarks (
        mart text not null,
        staging_model text not null,
        newest_landing timestamp with time zone,
        recorded_at timestamp with time zone not null,
        primary key (mart, staging_model)
    );
    comment on table build_state.incremental_watermarks is
        'Per incremental mart and staging model it reads: the newest landing that staging model held when the mart was last built (macros/incremental_watermarks.sql).'
{%- endmacro %}

{#- A filter on rows of `staging_relation` (alias `alias`): those its staging
    table took since the current mart was last built (all of them without a
    record, or with an empty one: the watermark_literal's floor). -#}
{% macro staged_since_mart_build(staging_relation, alias) -%}
    {%- set recorded = usage_reports.recorded_landing(this.identifier, staging_relation.identifier) -%}
    {{ alias }}.last_loaded_at > ({{ usage_reports.watermark_literal(recorded) }})
{%- endmacro %}

{#- A query for what `mart` recorded of `staging_model` (no row: no record). -#}
{% macro recorded_landing(mart, staging_model) -%}
    select newest_landing from build_state.incremental_watermarks
    where mart = {{ dbt.string_literal(mart) }} and staging_model = {{ dbt.string_literal(staging_model) }}
{%- endmacro %}

{#- Post-hook of the incremental marts (dbt_project.yml): record the newest
    landing of every staging model the mart depends on, inside the mart's own
    transaction; a mart built from another (a daily mart from its
    quarter-hourly twin) records no more than that one's record (none: the
    floor). Other materializations record nothing. -#}
{% macro record_mart_watermarks() -%}
    {%- if execute and config.get("materialized") == "incremental" -%}
        {%- set staged = [] -%}
        {%- set read_marts = [] -%}
        {%- for node_id in model.depends_on.nodes -%}
            {%- set node = graph.nodes.get(node_id) -%}
            {%- if node is not none and node.resource_type == "model" -%}
                {%- do (staged if node.name.startswith("stg_") else read_marts).append(node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if staged -%}
        insert into build_state.incremental_watermarks (mart, staging_model, newest_landing, recorded_at)
        {% for node in staged -%}
        {%- set staging_model = node.alias or node.name -%}
        select
            {{ dbt.string_literal(this.identifier) }},
            {{ dbt.string_literal(staging_model) }},
            least(
                (select max(last_loaded_at) from {{ adapter.quote(node.schema) }}.{{ adapter.quote(staging_model) }})
                {%- for read in read_marts %},
                coalesce(
                    ({{ usage_reports.recorded_landing(read.alias or read.name, staging_model) }}),
                    {{ usage_reports.landing_floor() }}
                )
                {%- endfor %}
            ),
            {{ dbt.current_timestamp() }}
        {% if not loop.last %}union all{% endif %}
        {% endfor -%}
        on conflict (mart, staging_model) do update
        set newest_landing = excluded.newest_landing, recorded_at = excluded.recorded_at
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
