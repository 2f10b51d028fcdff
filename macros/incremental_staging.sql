{#-
    Incremental staging for the event tables.

    A view that de-duplicates raw rows must sort every raw row on each read,
    so the seven event staging models are tables that merge only what landed
    since the last build: `landed_since_last_build()` selects raw rows newer
    than the newest landing the table holds (less the lookback), they are
    ranked per id, and delete+insert on the id replaces each changed id's row.
    The copy that landed last wins (CONTRACT §4), and `earlier_copies` carries
    forward the day range of copies merged before, so the marts can clear a
    day an event moved away from.
-#}

{#- When a raw copy landed, as a staging table keeps it (`last_loaded_at`): its
    `_loaded_at`, but never later than the build that stores it. A loader whose
    clock runs ahead stamps rows in the future; kept as is, such a stamp would be
    the newest landing the table holds and lift the next build's watermark past
    rows that land after this build but before that stamp (skipped for good once
    builds are further apart than the lookback). Capped, the newest landing a
    table holds is never later than the build that wrote it, so the next build
    re-reads everything that landed since, less the lookback; the row itself is
    re-read until its stamp has passed. Ranking copies still uses the raw stamps. -#}
{% macro seen_landing(loaded_at) -%}
    least({{ loaded_at }}, {{ dbt.current_timestamp() }})
{%- endmacro %}

{#- The last `order by` key that ranks copies of one id: copies that landed at
    the same instant with the same event time are ordered by their text, so
    every build keeps the same one whatever order the rows are stored or read
    in (a rebuild after a restore or a VACUUM FULL gives the same numbers).
    Byte order (`collate "C"`), so no collation change reorders them; the text
    of a timestamp follows the session's TimeZone, which every model sets to
    UTC first (the project's pre-hook), so a build under another PGTZ or role
    default ranks them the same way.
    `row_expression`: a raw row (a FROM item's alias that no column shares) or a
    row(...) of raw columns. -#}
{% macro copy_tiebreak(row_expression) -%}
    cast({{ row_expression }} as text) collate "C" desc
{%- endmacro %}

{#- Raw rows that landed since the table was last built (all rows on a full build). -#}
{% macro landed_since_last_build() -%}
    {%- if is_incremental() -%}
    _loaded_at > ({{ usage_reports.build_watermark() }})
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The CTEs every de-duplicating event staging model starts with, ending in
    `latest_copies`: for each id with a copy in `source` (what landed since
    the last build), the copy that landed last (ties: the later event time),
    with earliest_copy_date / latest_copy_date spanning every copy seen so far.
    Use: `with {{ latest_copies(source('product', 't'), 'id', 'event_at') }}, renamed as (...)`.
    An incremental build ranks what landed (`ranked_copies`) and joins the
    earlier copies; a full build ranks only the ids that have more than one
    copy (`full_build_copies`). -#}
{% macro latest_copies(source_relation, id_column, event_time_column) -%}
    {%- if is_incremental() -%}
    {{ usage_reports.ranked_copies(source_relation, id_column, event_time_column) }}
    {%- else -%}
    {{ usage_reports.full_build_copies(source_relation, id_column, event_time_column) }}
    {%- endif -%}
{%- endmacro %}

{% macro ranked_copies(source_relation, id_column, event_time_column) -%}
source as (
    select * from {{ source_relation }}
    where {{ id_column }} is not null and {{ usage_reports.landed_since_last_build() }}
),

earlier_copies as (
    {{ usage_reports.earlier_copies(id_column) }}
),

deliveries as (
    select
        *,
        row_number() over (
            partition by {{ id_column }}
            order by _loaded_at desc, {{ event_time_column }} desc, {{ usage_reports.copy_tiebreak('delivered_copy') }}
        ) as delivery_rank,
        min({{ usage_reports.utc_date(event_time_column) }}) over (partition by {{ id_column }}) as new_earliest_copy_date,
        max({{ usage_reports.utc_date(event_time_column) }}) over (partition by {{ id_column }}) as new_latest_copy_date
    from source as delivered_copy
),

latest_copies as (
    select
        deliveries.*,
        least(deliveries.new_earliest_copy_date, earlier_copies.earliest_copy_date) as earliest_copy_date,
        greatest(deliveries.new_latest_copy_date, earlier_copies.latest_copy_date) as latest_copy_date
    from deliveries
    left join earlier_copies
        on deliveries.{{ id_column }} = earlier_copies.known_id
    where deliveries.delivery_rank = 1
)
{%- endmacro %}

{#- `latest_copies` on a full build, equal to ranking every raw row but
    without sorting them all: an id delivered once is its own latest copy and
    spans its own day; only the few ids delivered more than once (found by a
    GROUP BY that the raw id index can serve in order) are ranked. The id
    list goes in as an array so their copies are fetched through the same
    index; every other row is read once and kept by an anti-join (NOT IN
    would fall back to a per-row search when the planner over-estimates the
    repeated ids). `source`
    is NOT MATERIALIZED: referenced three times, it would otherwise be copied
    to a temporary store first. -#}
{% macro full_build_copies(source_relation, id_column, event_time_column) -%}
source as not materialized (
    select * from {{ source_relation }}
    where {{ id_column }} is not null
),

repeated_ids as (
    select {{ id_column }} as repeated_id
    from source
    group by {{ id_column }}
    {#- count(*) > 1 as an equality: PostgreSQL estimates an equality as
        rare (0.5% of ids) and an inequality as a third of them, and with
        that over-estimate the anti-join below plans its hash table in
        batches and writes most raw rows to a temporary file. #}
    having least(count(*), 2) = 2
),

deliveries as (
    select
        *,
        row_number() over (
            partition by {{ id_column }}
            order by _loaded_at desc, {{ event_time_column }} desc, {{ usage_reports.copy_tiebreak('delivered_copy') }}
        ) as delivery_rank,
        min({{ usage_reports.utc_date(event_time_column) }}) over (partition by {{ id_column }}) as new_earliest_copy_date,
        max({{ usage_reports.utc_date(event_time_column) }}) over (partition by {{ id_column }}) as new_latest_copy_date
    from source as delivered_copy
    where {{ id_column }} = any(array(select repeated_ids.repeated_id from repeated_ids))
),

latest_copies as (
    select
        deliveries.*,
        deliveries.new_earliest_copy_date as earliest_copy_date,
        deliveries.new_latest_copy_date as latest_copy_date
    from deliveries
    where deliveries.delivery_rank = 1
    union all
    select
        source.*,
        cast(1 as bigint) as delivery_rank,
        {{ usage_reports.utc_date(event_time_column) }} as new_earliest_copy_date,
        {{ usage_reports.utc_date(event_time_column) }} as new_latest_copy_date,
        {{ usage_reports.utc_date(event_time_column) }} as earliest_copy_date,
        {{ usage_reports.utc_date(event_time_column) }} as latest_copy_date
    from source
    where not exists (
        select from repeated_ids
        where repeated_ids.repeated_id = source.{{ id_column }}
    )
)
{%- endmacro %}

{#- What earlier builds merged: each id's copy-day range and newest landing.
    Only joined to the ids that landed now (by index on the id), so it needs
    no filter of its own; a filter on `source` here made the planner re-read
    `source` for every row it joined. Empty on a full build. -#}
{% macro earlier_copies(id_column) -%}
    {%- if is_incremental() -%}
    select
        {{ id_column }} as known_id,
        earliest_copy_date,
        latest_copy_date,
        last_loaded_at
    from {{ this }}
    {%- else -%}
    select
        {{ id_column }} as known_id,
        cast(null as date) as earliest_copy_date,
        cast(null as date) as latest_copy_date,
        _loaded_at as last_loaded_at
    from source
    where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- The current state row of each call in CTE `source`, as merged by earlier
    builds, shaped like a raw state row; empty on a full build. A call's state
    is decided by updated_at, so an older state landing now must be ranked
    against the state already known. The empty select reads the raw relation,
    not CTE `source`: a CTE referenced twice is materialized, so PostgreSQL
    would copy every raw row to a temporary store first. -#}
{% macro earlier_call_states(source_relation) -%}
    {%- if is_incremental() -%}
    select
        call_id,
        workspace_id,
        direction,
        phone_number as workspace_number,
        remote_number,
        call_status as status,
        started_at,
        ended_at,
        answered_by,
        updated_at,
        state_loaded_at as _loaded_at,
        earliest_copy_date,
        latest_copy_date,
        last_loaded_at
    from {{ this }}
    where call_id in (select source.call_id from source)
    {%- else -%}
    select
        call_id,
        workspace_id,
        direction,
        workspace_number,
        remote_number,
        status,
        started_at,
        ended_at,
        answered_by,
        updated_at,
        _loaded_at,
        cast(null as date) as earliest_copy_date,
        cast(null as date) as latest_copy_date,
        _loaded_at as last_loaded_at
    from {{ source_relation }}
    where 1 = 0
    {%- endif -%}
{%- endmacro %}
