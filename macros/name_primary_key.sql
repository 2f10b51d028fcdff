{#-
    Post-hook, outside the build's transaction: the model's primary key gets
    the name PostgreSQL gives a table's own, `<table>_pkey`. A full build
    creates the table under a temporary name and renames it into place, so
    the key declared in its contract keeps the temporary one
    (`<table>__dbt_tmp_pkey`), which is what an analyst's `\d` showed. This
    runs after the replaced table is dropped (its key held the name until
    then), renames only when the name differs and is free, does nothing on a
    model without a primary key, and waits at most a second for the table's
    lock (a later build renames what a busy table kept).
-#}
{% macro name_primary_key() -%}
    {%- set table = this.include(database=false) -%}
    {%- set wanted = this.identifier ~ '_pkey' -%}
    do $name_primary_key$
    declare
        current_name name;
    begin
        select pg_constraint.conname into current_name
        from pg_constraint
        where
            pg_constraint.conrelid = to_regclass({{ dbt.string_literal(table) }})
            and pg_constraint.contype = 'p';
        if
            current_name is not null
            and current_name <> {{ dbt.string_literal(wanted) }}
            and to_regclass({{ dbt.string_literal(adapter.quote(this.schema) ~ '.' ~ adapter.quote(wanted)) }}) is null
        then
            -- the rename locks the table: waiting behind a long reader would
            -- queue the API's statements behind it too, so give up after a
            -- second and leave the name to the next build
            perform set_config('lock_timeout', '1s', true);
            execute format(
                'alter table %s rename constraint %I to %I',
                {{ dbt.string_literal(table) }}, current_name, {{ dbt.string_literal(wanted) }}
            );
        end if;
    exception
        when lock_not_available then
            raise notice 'name_primary_key: % is busy, its key keeps the name %', {{ dbt.string_literal(table) }}, current_name;
    end
    $name_primary_key$
{%- endmacro %}
