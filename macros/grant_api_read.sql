{#-
    Post-hook for what the API reads (marts, and the three staging views it
    authorizes with): grant select to the API's database role, var
    `api_role` (default usage_reports_api), in the same transaction that
    swaps the relation in, so a rebuild never takes the API's access away.
    Does nothing while the role does not exist (a warehouse without it, or
    before `make api-role`); see README, "The API's database role".
-#}
{% macro grant_api_read() -%}
    {%- set role = var('api_role', 'usage_reports_api') -%}
    {%- if execute -%}
        {%- set found = run_query("select 1 from pg_roles where rolname = " ~ dbt.string_literal(role)) -%}
        {%- if found.rows | length > 0 -%}
            grant select on {{ this }} to {{ adapter.quote(role) }}
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
