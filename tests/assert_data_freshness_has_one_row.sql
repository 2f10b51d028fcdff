{#- data_freshness holds exactly one row: the one every report reads its
    data_as_of and ETag version from. -#}
select count(*) as row_count
from {{ ref('data_freshness') }}
having count(*) != 1
