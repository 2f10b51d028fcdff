{#-
    Post-hook for what the API reads (marts, and the three staging views it
    authorizes with): grant select to the API's database role in the same
    transaction that swaps the relation in, so a rebuild never takes the
    API's access away. The role is var `api_role` when given; otherwise
    usage_reports_api and every role that `make api-role` set up under
    another name (API_PGUSER), found as the roles that may read
    api.api_keys, so a build needs no setting to keep a custom role's access.
    Role names are quoted by PostgreSQL (quote_ident), whatever they hold.
    Does nothing while there is no such role (a warehouse without it, or
    before `make api-role`); see README, "The API's database role".
-#}
{% macro grant_api_read() -%}
    {%- if execute -%}
        {%- set roles_sql -%}
            select quote_ident(rolname) from pg_roles
            where rolname = {{ dbt.string_literal(var('api_role', 'usage_reports_api')) }}
            {%- if var('api_role', none) is none %}
            union
            select quote_ident(grantee.rolname)
            from pg_class as api_keys
            cross join lateral aclexplode(api_keys.relacl) as granted
            inner join pg_roles as grantee on granted.grantee = grantee.oid
            where
                api_keys.oid = to_regclass('api.api_keys')
                and granted.privilege_type = 'SELECT'
                and granted.grantee <> api_keys.relowner
            {%- endif %}
            order by 1
        {%- endset -%}
        {%- set roles = run_query(roles_sql).columns[0].values() -%}
        {%- if roles | length > 0 -%}
            grant select on {{ this }} to
            {%- for role in roles %} {{ role }}{{ "," if not loop.last }}{% endfor %}
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
