{#- One row per call: its state is the state row with the latest updated_at
    (on a tie, the one that landed last, then a final status over a non-final
    one). last_loaded_at is the newest landing of any of its state rows, so a
    state that arrives out of order still marks the call as changed.
    Incremental: new state rows are ranked together with the state earlier
    builds chose (earlier_call_states), which equals ranking every row.
    The rank and the call's aggregates share one window whose frame spans the
    partition, so one WindowAgg passes over the sorted rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='call_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['call_id']},
            {'columns': ['call_date']},
            {'columns': ['last_loaded_at']},
            {'columns': ['staged_batch']},
        ],
    )
}}

with source as (
    select * from {{ source('product', 'call_events') }}
    where call_id is not null and {{ committed_since_last_build() }}
),

earlier_states as (
    {{ earlier_call_states(source('product', 'call_events')) }}
),

state_rows as (
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
        {{ utc_date('started_at') }} as earliest_copy_date,
        {{ utc_date('started_at') }} as latest_copy_date,
        false as workspace_moved,
        _loaded_at as last_loaded_at
    from source
    union all
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
        earliest_copy_date,
        latest_copy_date,
        workspace_moved,
        last_loaded_at
    from earlier_states
),

ranked as (
    select
        *,
        row_number() over call_states as state_rank,
        max(last_loaded_at) over call_states as call_last_loaded_at,
        min(earliest_copy_date) over call_states as call_earliest_copy_date,
        max(latest_copy_date) over call_states as call_latest_copy_date,
        -- states of more than one workspace (a null one counting as its own), now or before
        (
            {{ copies_name_workspaces('call_states') }}
            or bool_or(workspace_moved) over call_states
        ) as call_workspace_moved
    from state_rows
    window call_states as (
        partition by call_id
        order by
            updated_at desc nulls last,
            _loaded_at desc,
            case when status in ('completed', 'busy', 'failed', 'no-answer', 'canceled') then 0 else 1 end,
            {{ copy_tiebreak(
                'row(call_id, workspace_id, direction, workspace_number, remote_number, status, '
                ~ 'started_at, ended_at, answered_by)'
            ) }}
        rows between unbounded preceding and unbounded following
    )
),

renamed as (
    select
        call_id,
        workspace_id,
        direction,
        workspace_number as phone_number,
        remote_number,
        status as call_status,
        started_at,
        ended_at,
        answered_by,
        updated_at,
        {{ utc_date('started_at') }} as call_date,
        (
            coalesce(status = 'completed', false)
            and coalesce({{ event_time_ok('started_at') }}, false)
            and coalesce({{ event_time_ok('ended_at') }}, false)
            and ended_at >= started_at
        ) as is_finished,
        {{ call_duration_seconds('started_at', 'ended_at') }} as duration_seconds,
        (
            workspace_id is not null
            and {{ label_ok('workspace_number') }}
            and coalesce(direction in ('inbound', 'outbound'), false)
            and coalesce(
                status in ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'),
                false
            )
            and coalesce(ended_at >= started_at, true)
            and coalesce({{ event_time_ok('started_at') }}, true)
            and coalesce({{ event_time_ok('ended_at') }}, true)
        ) as is_valid,
        call_earliest_copy_date as earliest_copy_date,
        call_latest_copy_date as latest_copy_date,
        call_workspace_moved as workspace_moved,
        _loaded_at as state_loaded_at,
        call_last_loaded_at as last_loaded_at,
        {{ staging_batch() }} as staged_batch
    from ranked
    where state_rank = 1
)

{{ changed_rows('renamed', 'call_id') }}
