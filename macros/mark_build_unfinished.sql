{#-
    on-run-start of `dbt run` and `dbt build`: a run that will write a report
    mart sets data_freshness.build_unfinished (committed before its first
    model), and its own data_freshness, built after every mart, clears it. A
    build that stops part-way (a model fails, so data_freshness is skipped; a
    kill) leaves it set: some marts then count rows that data_freshness's
    version does not name, and the API, which reads the flag with every
    report, makes ETags from the bodies until a build finishes, as while one
    runs. Nothing to set before the first build. A data_freshness made by a
    version before the column gets it here (a brief lock, once), so an API
    already upgraded can serve after a first build that fails.
-#}
{% macro mark_build_unfinished() -%}
    {%- set marts = [] -%}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- for unique_id in selected_resources -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {%- if node and node.resource_type == 'model' and node.schema == 'marts'
                and node.name not in ('data_freshness', 'quarantined_rows') -%}
                {%- do marts.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if marts -%}
        do $$
        begin
            if to_regclass('marts.data_freshness') is null then
                return;
            end if;
            if not exists (
                select from pg_attribute
                where
                    attrelid = to_regclass('marts.data_freshness')
                    and attname = 'build_unfinished'
                    and not attisdropped
            ) then
                alter table marts.data_freshness add column build_unfinished boolean not null default false;
            end if;
            update marts.data_freshness set build_unfinished = true where freshness_id = 1;
        end $$
    {%- endif -%}
{%- endmacro %}
