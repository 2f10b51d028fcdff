{#- Invalid raw rows do not stop the build: they are left out of every mart
    and counted here as a warning (see marts.quarantined_rows). -#}
{{ config(severity='warn') }}

select * from {{ ref('quarantined_rows') }}
