-- Every primary key in marts is named as PostgreSQL names a table's own,
-- <table>_pkey (macros/name_primary_key.sql), not after the temporary table
-- a full build created it on. data_freshness is built after every mart.
-- A warning: a mart that was busy keeps the name until a later build
-- (tests/pipeline/test_marts.py checks both).
{{ config(severity='warn') }}
select
    mart_tables.relname as table_name,
    primary_keys.conname as key_name
from pg_catalog.pg_constraint as primary_keys
inner join pg_catalog.pg_class as mart_tables on primary_keys.conrelid = mart_tables.oid
inner join pg_catalog.pg_namespace as mart_schemas on mart_tables.relnamespace = mart_schemas.oid
where
    primary_keys.contype = 'p'
    and mart_schemas.nspname = '{{ ref("data_freshness").schema }}'
    and primary_keys.conname <> mart_tables.relname || '_pkey'
