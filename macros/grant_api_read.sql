{#-
    The API's read access, kept by every build (README, "The API's database
    role"). The role is var `api_role` when given; otherwise
    usage_reports_api and every role that `make api-role` set up under
    another name (API_PGUSER), found as the roles that may read
    api.api_keys, so a build needs no setting to keep a custom role's access.
    Role names are quoted by PostgreSQL (quote_ident), whatever they hold.
    Both macros do nothing while there is no such role (a warehouse without
    it, or before `make api-role`).
-#}
{% macro api_read_roles() -%}
    {%- set roles_sql -%}
        select quote_ident(api_role.rolname) from ({{ api_read_roles_sql() }}) as api_role order by 1
    {%- endset -%}
    {{ return(run_query(roles_sql).columns[0].values()) }}
{%- endmacro %}

{#- The API's roles as a query of one column, `rolname` (also used to keep analysts'
    grants, macros/grant_reader_roles.sql, away from them). -#}
{% macro api_read_roles_sql() -%}
    select rolname from pg_roles
    where rolname = {{ dbt.string_literal(var('api_role', 'usage_reports_api')) }}
    {%- if var('api_role', none) is none %}
    union
    select grantee.rolname
    from pg_class as api_keys
    cross join lateral aclexplode(api_keys.relacl) as granted
    inner join pg_roles as grantee on granted.grantee = grantee.oid
    where
        api_keys.oid = to_regclass('api.api_keys')
        and granted.privilege_type = 'SELECT'
        and granted.grantee <> api_keys.relowner
    {%- endif %}
{%- endmacro %}

{#-
    Post-hook for what the API reads (marts, and the three staging views it
    authorizes with): grant select in the same transaction that swaps the
    relation in, so a rebuild never takes the API's access away.
-#}
{% macro grant_api_read() -%}
    {{ api_read_privilege('grant', 'to') }}
{%- endmacro %}

{#-
    Post-hook for a relation in a schema the API reads that it does not serve
    (marts.quarantined_rows: raw row ids of every workspace): take back the
    select the schema's default privileges gave the role when it was created.
-#}
{% macro revoke_api_read() -%}
    {{ api_read_privilege('revoke', 'from') }}
{%- endmacro %}

{% macro api_read_privilege(verb, preposition) -%}
    {%- set roles = api_read_roles() if execute else [] -%}
    {%- if roles | length > 0 -%}
        {{ verb }} select on {{ this }} {{ preposition }}
        {%- for role in roles %} {{ role }}{{ "," if not loop.last }}{% endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#-
    on-run-end: usage on the schemas those relations are in. A build that
    creates a schema (a new warehouse, or one whose schema was dropped)
    would otherwise leave the role select on tables in a schema it may not
    enter. Once per run, not per model: concurrent grants on one schema
    fail ("tuple concurrently updated").
-#}
{% macro grant_api_schemas() -%}
    {%- set roles = api_read_roles() if execute else [] -%}
    {%- set present = read_schemas_present() if roles | length > 0 else [] -%}
    {%- if present | length > 0 -%}
        {%- for schema in present %}
        grant usage on schema {{ schema }} to
        {%- for role in roles %} {{ role }}{{ "," if not loop.last }}{% endfor %};
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Which of the schemas the builds write (marts, staging) exist now, quoted: a build may
    have just created them, or one may have been dropped. -#}
{% macro read_schemas_present() -%}
    {%- set found = run_query(
        "select nspname from pg_namespace where nspname in ('marts', 'staging') order by 1"
    ) -%}
    {%- set present = [] -%}
    {%- for name in found.columns[0].values() -%}
        {%- do present.append(adapter.quote(name)) -%}
    {%- endfor -%}
    {{ return(present) }}
{%- endmacro %}
