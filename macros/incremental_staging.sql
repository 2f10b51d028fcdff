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
    what was committed since, plus rows committed while the previous build ran
    (or by a transaction that was open then), which it may have seen already.
    Those rows name the ids to merge; each such id is ranked over every raw copy
    it has (through the raw id index), so a copy committed late with an older
    `_loaded_at` loses to the newer copy merged before, as in a full build. Only
    ids whose row then differs from the stored one are written
    (`changed_rows`), so reading a row again changes nothing downstream.
    delete+insert on the id replaces each changed id's row. The copy that
    landed last wins (CONTRACT §4), and `earlier_copies` carries forward the
    day range of copies merged before, so the marts can clear a day an event
    moved away from. Every row written carries the build that wrote it
    (`staged_batch`), which is how the marts find what changed.
-#}

{#- The build that writes a staging row, as a number from the sequence
    build_state.staging_batches (one per staging model per build, growing; a
    sequence keeps its value through a dump and restore, where transaction
    ids start again, and on-run-start moves it past the highest batch staging
    holds), drawn when the model is compiled so the statement carries a
    literal. The marts read the staging rows written after the last batch they
    read (macros/incremental_watermarks.sql). Null when the sequence does not
    exist (a compile before any build made it). -#}
{% macro staging_batch() -%}
    {%- set batch = usage_reports.query_value(
        "select case when to_regclass('build_state.staging_batches') is not null"
        ~ " then nextval('build_state.staging_batches') end"
    ) -%}
    cast({{ "null" if batch is none else batch }} as bigint)
{%- endmacro %}

{#- The statement's first unassigned transaction id (64 bits): every row the
    statement can see was written by an earlier one. -#}
{% macro next_transaction_id() -%}
    cast(cast(pg_snapshot_xmax(pg_current_snapshot()) as text) as bigint)
{%- endmacro %}

{#- Pre-hook of the event staging tables (dbt_project.yml), inside the model's
    transaction, before it reads raw: the oldest transaction running now, and
    the server it runs on. Every raw row the read that follows cannot see was
    written by that transaction or a later one. Written in the model's
    transaction, it moves only when the build commits. Not on `--empty` runs,
    which read nothing. Other materializations (the views) record nothing. -#}
{% macro record_staging_horizon() -%}
    {%- if execute and config.get("materialized") == "incremental" and not flags.EMPTY -%}
    insert into build_state.staging_horizons (staging_model, horizon_xid, cluster_id, recorded_at)
    values (
        {{ dbt.string_literal(this.identifier) }},
        cast(cast(pg_snapshot_xmin(pg_current_snapshot()) as text) as bigint),
        (select system_identifier from pg_control_system()),
        {{ dbt.current_timestamp() }}
    )
    on conflict (staging_model) do update
    set
        horizon_xid = excluded.horizon_xid,
        cluster_id = excluded.cluster_id,
        recorded_at = excluded.recorded_at
    {%- endif -%}
{%- endmacro %}

{#- The horizon the last build of this model recorded, read when the model is
    compiled (before its pre-hook records the next one). None, so that the
    build reads every raw row, on a full build; when there is no record; when it was recorded
    on another server (raw restored or replicated elsewhere, where the rows'
    transaction ids mean something else; pg_upgrade changes the identifier
    too, and costs one full read to be safe) or lies ahead of this server's
    transaction ids; and when the staging table is empty (truncated, or left
    empty by a `--empty` run). -#}
{% macro recorded_staging_horizon() -%}
    {%- if not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(usage_reports.query_value(
        "select horizon_xid from build_state.staging_horizons where staging_model = "
        ~ dbt.string_literal(this.identifier)
        ~ " and cluster_id = (select system_identifier from pg_control_system())"
        ~ " and horizon_xid <= " ~ usage_reports.next_transaction_id()
        ~ " and exists (select from " ~ this ~ ")"
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

{#- Raw rows written by a transaction at or after the horizon `horizon`. A row
    keeps the low 32 bits of that transaction's id (`xmin`). Every row the
    statement sees was written before X, its first unassigned id, so the
    distance back from X, taken modulo 2^32, is the true distance, and a row
    is new when that is at most X - horizon. A row older than 2^32
    transactions (a long-lived, busy server keeps its frozen rows' ids) comes
    round into that window for a build or two in every 2^32 transactions, is
    ranked again and written only if it changed (it does not). The arithmetic
    is plain, so PostgreSQL may split the scan over parallel workers. The raw
    table is read in full: the xmin system column cannot be indexed. On
    `--empty` runs (raw replaced by an empty subquery): every row of none. -#}
{% macro committed_since(horizon) -%}
    {%- if flags.EMPTY -%}
    1 = 1
    {%- else -%}
    (
        ((select {{ usage_reports.next_transaction_id() }}) - cast(cast(xmin as text) as bigint))
        & 4294967295
    ) <= (select {{ usage_reports.next_transaction_id() }} - {{ horizon }})
    {%- endif -%}
{%- endmacro %}

{#- The filter of the call states to read: those committed since the last
    build, or all of them without a usable horizon. -#}
{% macro committed_since_last_build() -%}
    {%- set horizon = usage_reports.recorded_staging_horizon() -%}
    {%- if horizon is none -%}
    1 = 1
    {%- else -%}
    {{ usage_reports.committed_since(horizon) }}
    {%- endif -%}
{%- endmacro %}

{#- The CTEs every de-duplicating event staging model starts with, ending in
    `latest_copies`: for each id to merge, the copy that landed last (ties: the
    later event time, then the text), with earliest_copy_date / latest_copy_date
    spanning every copy seen so far.
    Use: `with {{ latest_copies(source('product', 't'), 'id', 'event_at') }}, renamed as (...)`.
    An incremental build ranks every copy of the ids committed since the last
    build (`ranked_copies`) and joins the earlier copies; a full build, or an
    incremental one without a usable horizon, ranks only the ids that have
    more than one copy (`full_build_copies`), and `changed_rows` then keeps
    what differs from the table. -#}
{% macro latest_copies(source_relation, id_column, event_time_column) -%}
    {%- set horizon = usage_reports.recorded_staging_horizon() -%}
    {%- if horizon is not none -%}
    {{ usage_reports.ranked_copies(source_relation, id_column, event_time_column, horizon) }}
    {%- else -%}
    {{ usage_reports.full_build_copies(source_relation, id_column, event_time_column) }}
    {%- endif -%}
{%- endmacro %}

{#- `source` names the ids with a copy committed since the last build;
    `delivered_copies` is every raw copy of those ids, fetched through the id
    index (`= any(array(...))`: the planner then walks the index for a handful
    of values instead of hashing the whole raw table against a guess). -#}
{% macro ranked_copies(source_relation, id_column, event_time_column, horizon) -%}
source as (
    select {{ id_column }} from {{ source_relation }}
    where {{ id_column }} is not null and {{ usage_reports.committed_since(horizon) }}
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
        max({{ usage_reports.utc_date(event_time_column) }}) over (partition by {{ id_column }}) as new_latest_copy_date,
        {{ usage_reports.copies_name_workspaces('(partition by ' ~ id_column ~ ')') }} as new_workspace_moved
    from delivered_copies as delivered_copy
),

latest_copies as (
    select
        deliveries.*,
        least(deliveries.new_earliest_copy_date, earlier_copies.earliest_copy_date) as earliest_copy_date,
        greatest(deliveries.new_latest_copy_date, earlier_copies.latest_copy_date) as latest_copy_date,
        (
            deliveries.new_workspace_moved
            or coalesce(earlier_copies.workspace_moved, false)
            or (
                earlier_copies.known_id is not null
                and earlier_copies.known_workspace_id is distinct from deliveries.workspace_id
            )
        ) as workspace_moved
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
        max({{ usage_reports.utc_date(event_time_column) }}) over (partition by {{ id_column }}) as new_latest_copy_date,
        {{ usage_reports.copies_name_workspaces('(partition by ' ~ id_column ~ ')') }} as new_workspace_moved
    from source as delivered_copy
    where {{ id_column }} = any(array(select repeated_ids.repeated_id from repeated_ids))
),

latest_copies as (
    select
        deliveries.*,
        deliveries.new_earliest_copy_date as earliest_copy_date,
        deliveries.new_latest_copy_date as latest_copy_date,
        deliveries.new_workspace_moved as workspace_moved
    from deliveries
    where deliveries.delivery_rank = 1
    union all
    select
        source.*,
        cast(1 as bigint) as delivery_rank,
        {{ usage_reports.utc_date(event_time_column) }} as new_earliest_copy_date,
        {{ usage_reports.utc_date(event_time_column) }} as new_latest_copy_date,
        false as new_workspace_moved,
        {{ usage_reports.utc_date(event_time_column) }} as earliest_copy_date,
        {{ usage_reports.utc_date(event_time_column) }} as latest_copy_date,
        false as workspace_moved
    from source
    where not exists (
        select from repeated_ids
        where repeated_ids.repeated_id = source.{{ id_column }}
    )
)
{%- endmacro %}

{#- Whether the copies of one id name more than one workspace, a null
    workspace counting as one of its own: an id whose copies moved between
    workspaces. The marts then rebuild its days for every workspace
    (`changed_days`), as they cannot tell which one it left. `window`: a window
    partitioned by the id, named or written out. Compared as text: PostgreSQL
    has no min or max of uuid. -#}
{% macro copies_name_workspaces(window) -%}
    min(coalesce(cast(workspace_id as text), '')) over {{ window }}
    <> max(coalesce(cast(workspace_id as text), '')) over {{ window }}
{%- endmacro %}

{#- What earlier builds merged: each id's copy-day range, its workspace and
    whether its copies had moved between workspaces. Only joined to the
    ids merged now (by index on the id), so it needs no filter of its own; a
    filter on `source` here made the planner re-read `source` for every row
    it joined. Incremental builds only. -#}
{% macro earlier_copies(id_column) -%}
    select
        {{ id_column }} as known_id,
        workspace_id as known_workspace_id,
        earliest_copy_date,
        latest_copy_date,
        workspace_moved
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
        workspace_moved,
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
        false as workspace_moved,
        _loaded_at as last_loaded_at
    from {{ source_relation }}
    where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- The model's final select: on an incremental build, only the rows that
    differ from the stored row of their id (or are new), every column compared
    but the batch. Rows read again (committed while the previous build ran, a
    table rewritten, or every row when there was no usable horizon) that
    rank and classify as before are left alone, so the marts and the reports'
    versions do not move for them. A table built by another version of the
    project (other columns than the YAML declares) stops the build here, before
    raw is read, with the command to run. -#}
{% macro changed_rows(relation, id_column) -%}
    {%- if is_incremental() -%}
    {%- set stored = adapter.get_columns_in_relation(this) -%}
    {{- usage_reports.refuse_changed_columns(stored, enforced_only=false) -}}
    {%- set compared = stored | map(attribute="name") | reject("equalto", "staged_batch") | list -%}
    select {{ relation }}.*
    from {{ relation }}
    where not exists (
        select
        from {{ this }} as stored
        where
            stored.{{ id_column }} = {{ relation }}.{{ id_column }}
            and row({% for column in compared %}stored.{{ column }}{{ ", " if not loop.last }}{% endfor %})
            is not distinct from
            row({% for column in compared %}{{ relation }}.{{ column }}{{ ", " if not loop.last }}{% endfor %})
    )
    {%- else -%}
    select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
