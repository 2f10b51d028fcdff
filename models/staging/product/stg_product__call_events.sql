{#- One row per call: its state is the state row with the latest updated_at
    (on a tie, the one that landed last, then a final status over a non-final
    one). last_loaded_at is the newest landing of any of its state rows, so a
    state that arrives out of order still marks the call as changed. -#}
with source as (
    select * from {{ source('product', 'call_events') }}
),

deliveries as (
    select
        *,
        row_number() over (
            partition by call_id
            order by
                updated_at desc nulls last,
                _loaded_at desc,
                case when status in ('completed', 'busy', 'failed', 'no-answer', 'canceled') then 0 else 1 end
        ) as state_rank,
        max(_loaded_at) over (partition by call_id) as call_last_loaded_at,
        min({{ utc_date('started_at') }}) over (partition by call_id) as earliest_copy_date,
        max({{ utc_date('started_at') }}) over (partition by call_id) as latest_copy_date
    from source
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
            status = 'completed'
            and started_at is not null
            and ended_at is not null
            and ended_at >= started_at
        ) as is_finished,
        {{ call_duration_seconds('started_at', 'ended_at') }} as duration_seconds,
        (
            call_id is not null
            and workspace_id is not null
            and workspace_number is not null
            and coalesce(direction in ('inbound', 'outbound'), false)
            and coalesce(
                status in ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'),
                false
            )
            and coalesce(ended_at >= started_at, true)
        ) as is_valid,
        earliest_copy_date,
        latest_copy_date,
        call_last_loaded_at as last_loaded_at
    from deliveries
    where state_rank = 1
)

select * from renamed
