{#-
    Incremental staging for the event tables.

    A view that de-duplicates raw rows must sort every raw row on each read,
    so the seven event staging models are tables that merge only what was
    committed to raw since their last build. Which rows those are is decided by
    PostgreSQL's transaction ids, not by `_loaded_at`: a loader's transaction
    that stays open for hours stamps its rows when it starts, yet they become
    visible only when it commits, long after builds have passed that stamp.

    Every build of a staging model records, in its own transaction and before
    it reads raw, the oldest transaction still running (`record_staging_horizon`,
    a pre-hook; build_state.staging_horizons). Every raw row its read could not
    see belongs to that transaction or a later one, so the next build reads the
    rows whose `xmin` is at or after that horizon (`committed_since_last_build`):
    exactly what was committed since, plus the few rows committed while the
    previous build ran, which it may have seen already and which rank the same
    way again. Those rows name the ids to merge; each such id is ranked over
    every raw copy it has (through the raw id index), so a copy committed late
    with an older `_loaded_at` loses to the newer copy merged before, as in a
    full build. delete+insert on the id replaces each changed id's row. The copy
    that landed last wins (CONTRACT §4), and `earlier_copies` carries forward
    the day range of copies merged before, so the marts can clear a day an
    event moved away from. Every row carries the build that stored it
    (`staged_xid`), which is how the marts find what changed.
-#}

{#- When a raw copy landed, as a staging table keeps it (`last_loaded_at`): its
    `_loaded_at`, but never later than the build that stores it. A loader whose
    clock runs ahead stamps rows in the future; kept as is, such a stamp would
    put data_as_of (the newest landing the reports were built from) in the
    future. Ranking copies still uses the raw stamps. -#}
{% macro seen_landing(loaded_at) -%}
    least({{ loaded_at }}, {{ dbt.current_timestamp() }})
{%- endmacro %}

{#- The build that stores a staging row, as a number that grows with every
    build: a transaction id of this model's build (64 bits, never wrapping),
    read when the model is compiled, so the statement stays a plain literal
    (a call to pg_current_xact_id() in the statement would keep PostgreSQL from
    reading raw with parallel workers). The marts read the staging rows stored
    after the last one they read (macros/incremental_watermarks.sql). -#}
{% macro staging_batch() -%}
    {%- set batch = usage_reports.query_value("select cast(cast(pg_current_xact_id() as text) as bigint)") -%}
    cast({{ "null" if batch is none else batch }} as bigint)
{%- endmacro %}

{#- Pre-hook of the event staging tables (dbt_project.yml), inside the model's
    transaction, before it reads raw: the oldest transaction running now. Every
    raw row the read that follows cannot see was written by that transaction or
    a later one. Written in the model's transaction, it moves only when the
    build commits. Other materializations (the views) record nothing. -#}
{% macro record_staging_horizon() -%}
    {%- if execute and config.get("materialized") == "incremental" -%}
    insert into build_state.staging_horizons (staging_model, horizon_xid, recorded_at)
    values (
        {{ dbt.string_literal(this.identifier) }},
        cast(cast(pg_snapshot_xmin(pg_current_snapshot()) as text) as bigint),
        {{ dbt.current_timestamp() }}
    )
    on conflict (staging_model) do update
    set horizon_xid = excluded.horizon_xid, recorded_at = excluded.recorded_at
    {%- endif -%}
{%- endmacro %}

{#- The horizon the last build of this model recorded, read when the model is
    compiled (before its pre-hook records the next one); none without a record. -#}
{% macro recorded_staging_horizon() -%}
    {{ return(usage_reports.query_value(
        "select horizon_xid from build_state.staging_horizons where staging_model = "
        ~ dbt.string_literal(this.identifier)
    )) }}
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

{#- Raw rows committed at or after the horizon the last build recorded. A row
    keeps the 32-bit id of the transaction that wrote it (`xmin`); `age(xmin)`
    is how far back it is from this build's own transaction (T, which the
    pre-hook's insert has assigned), modulo 2^32 as a signed 32-bit number. A
    row committed since the horizon H is at most T - H back, or a little ahead
    of T (a transaction that began after T and committed before this statement
    began, at most X - T ahead, X the statement's first unassigned id). Both
    bounds matter: a row older than 2^31 transactions (one a long-lived,
    busy server has frozen) wraps around to a negative age, and without the
    lower bound half of those would be read by every build. With both, such a
    row falls in the window for one build or two in every 2^32 transactions,
    and is ranked the same way again. Over 2.5 million rows `age` beat turning
    `xmin` into a number, even with that cast's scan split over parallel
    workers (which `age` does not allow). The lower bound is evaluated first,
    so T is assigned before the first `age` call fixes it even without the
    pre-hook.
    Every row on a full build, or without a record (the first build after an
    upgrade, or build_state dropped): exact, and as slow as a full build once.
    The raw table is scanned (a transaction id cannot be indexed), which costs
    about as much as counting its rows. -#}
{% macro committed_since_last_build() -%}
    {%- set horizon = usage_reports.recorded_staging_horizon() if is_incremental() else none -%}
    {%- if horizon is not none -%}
    (
        select
            cast(cast(pg_current_xact_id() as text) as bigint)
            - cast(cast(pg_snapshot_xmax(pg_current_snapshot()) as text) as bigint)
    ) <= age(xmin)
    and age(xmin) <= (select cast(cast(pg_current_xact_id() as text) as bigint) - {{ horizon }})
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The CTEs every de-duplicating event staging model starts with, ending in
    `latest_copies`: for each id to merge, the copy that landed last (ties: the
    later event time, then the text), with earliest_copy_date / latest_copy_date
    spanning every copy seen so far.
    Use: `with {{ latest_copies(source('product', 't'), 'id', 'event_at') }}, renamed as (...)`.
    An incremental build ranks every copy of the ids committed since the last
    build (`ranked_copies`) and joins the earlier copies; a full build ranks
    only the ids that have more than one copy (`full_build_copies`). -#}
{% macro latest_copies(source_relation, id_column, event_time_column) -%}
    {%- if is_incremental() -%}
    {{ usage_reports.ranked_copies(source_relation, id_column, event_time_column) }}
    {%- else -%}
    {{ usage_reports.full_build_copies(source_relation, id_column, event_time_column) }}
    {%- endif -%}
{%- endmacro %}

{#- `source` names the ids with a copy committed since the last build;
    `delivered_copies` is every raw copy of those ids, fetched through the id
    index (`= any(array(...))`: the planner then walks the index for a handful
    of values instead of hashing the whole raw table against a guess). -#}
{% macro ranked_copies(source_relation, id_column, event_time_column) -%}
source as (
    select {{ id_column }} from {{ source_relation }}
    where {{ id_column }} is not null and {{ usage_reports.committed_since_last_build() }}
),

delivered_copies as (
    select * from {{ source_relation }}
    where {{ id_column }} = any(array(select distinct source.{{ id_column }} from source))
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
    from delivered_copies as delivered_copy
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

{#- What earlier builds merged: each id's copy-day range. Only joined to the
    ids merged now (by index on the id), so it needs no filter of its own; a
    filter on `source` here made the planner re-read `source` for every row
    it joined. Incremental builds only. -#}
{% macro earlier_copies(id_column) -%}
    select
        {{ id_column }} as known_id,
        earliest_copy_date,
        latest_copy_date
    from {{ this }}
{%- endmacro %}

{#- The current state row of each call in CTE `source`, as merged by earlier
    builds, shaped like a raw state row; empty on a full build. A call's state
    is decided by updated_at, so an older state committed now must be ranked
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
