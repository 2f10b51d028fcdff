{#-
    Analysts' read access, kept by every build (README, "Read access for
    analysts"). Var `reader_roles` (a list, or names separated by commas;
    default: the environment variable USAGE_REPORTS_READER_ROLES) names the
    roles that may read schemas staging and marts: every relation there,
    quarantined_rows included; never schema api or raw. A rebuilt relation is
    a new one, so the grant is also made a default privilege of the building
    user in both schemas: what a build swaps in is readable at once. A name
    that is no role, or that the API's role is or belongs to, is skipped with a
    warning rather than failing the build. Removing a name revokes nothing.
-#}
{% macro reader_role_names() -%}
    {%- set given = var('reader_roles', env_var('USAGE_REPORTS_READER_ROLES', '')) -%}
    {%- set names = given.split(',') if given is string else given -%}
    {%- set wanted = [] -%}
    {%- for name in names if (name | string | trim) -%}
        {%- do wanted.append(name | string | trim) -%}
    {%- endfor -%}
    {{ return(wanted) }}
{%- endmacro %}

{#- on-run-end: usage on both schemas, select on what is in them now, and on what later builds make. -#}
{% macro grant_reader_roles() -%}
    {%- set wanted = reader_role_names() if execute else [] -%}
    {%- set roles = [] -%}
    {%- if wanted | length > 0 -%}
        {%- set literals = [] -%}
        {%- for name in wanted -%}
            {%- do literals.append(dbt.string_literal(name | replace("'", "''"))) -%}
        {%- endfor -%}
        {#- a role the API's role belongs to (or the API's role itself) is refused: the API
            must never read the quarantine, SMS bodies or phone numbers -#}
        {%- set found = run_query(
            "select reader.rolname, quote_ident(reader.rolname), exists ("
            ~ " select from (" ~ usage_reports.api_read_roles_sql() ~ ") as api_role"
            ~ " where pg_has_role(api_role.rolname, reader.oid, 'USAGE')) as reaches_api"
            ~ " from pg_roles as reader where reader.rolname in (" ~ literals | join(', ') ~ ") order by 1"
        ) -%}
        {%- set known = found.columns[0].values() -%}
        {%- for name in wanted if name not in known -%}
            {%- do exceptions.warn("reader_roles: there is no role " ~ name ~ "; it was not granted read access") -%}
        {%- endfor -%}
        {%- for row in found.rows -%}
            {%- if row[2] -%}
                {%- do exceptions.warn("reader_roles: " ~ row[0] ~ " is (or is a role of) the API's database role,"
                    ~ " which must not read all of staging and marts; it was not granted read access") -%}
            {%- else -%}
                {%- do roles.append(row[1]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set schemas = usage_reports.read_schemas_present() if roles | length > 0 else [] -%}
    {%- if roles | length > 0 and schemas | length > 0 -%}
        {%- set to_roles = roles | join(', ') -%}
        {%- for schema in schemas %}
        grant usage on schema {{ schema }} to {{ to_roles }};
        grant select on all tables in schema {{ schema }} to {{ to_roles }};
        alter default privileges in schema {{ schema }} grant select on tables to {{ to_roles }};
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
