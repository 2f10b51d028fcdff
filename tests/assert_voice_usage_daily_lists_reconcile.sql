{#- voice_usage_daily_lists says exactly what voice_usage_daily holds: each row's
    day texts are that day's rows, in provider then model code-point order, and
    each model's running totals grow from one listed day to the next by exactly
    that model's row on the later day (from nothing before its first). Linear in
    the tables, so every scheduled build can afford it. -#}
with

lists as (
    select * from {{ ref('voice_usage_daily_lists') }}
),

daily as (
    select * from {{ ref('voice_usage_daily') }}
),

listed_entries as (
    select
        lists.workspace_id,
        lists.usage_date,
        listed.kind,
        entry.position as entry_position,
        entry.value ->> 'date' as entry_date,
        entry.value ->> 'provider' as entry_provider,
        entry.value ->> 'model' as entry_model,
        cast(entry.value ->> 'messages' as bigint) as event_count,
        cast(coalesce(entry.value ->> 'durationSeconds', entry.value ->> 'characters') as numeric) as amount
    from lists
    cross join
        lateral (
            values ('stt', lists.stt_rows_json), ('tts', lists.tts_rows_json)
        ) as listed (kind, rows_json)
    cross join
        lateral json_array_elements(cast('[' || listed.rows_json || ']' as json))
        with ordinality as entry (value, position)
    where listed.rows_json is not null
),

expected_entries as (
    select
        workspace_id,
        usage_date,
        kind,
        row_number() over (
            partition by workspace_id, usage_date, kind
            order by convert_to(provider, 'UTF8'), convert_to(model, 'UTF8')
        ) as entry_position,
        cast(usage_date as text) as entry_date,
        provider as entry_provider,
        model as entry_model,
        event_count,
        case when kind = 'stt' then round(duration_seconds, 3) else characters end as amount
    from daily
    where event_count <> 0
),

listed_totals as (
    select
        lists.workspace_id,
        lists.usage_date,
        totals.kind,
        totals.provider,
        totals.model,
        totals.model_position,
        totals.event_count - coalesce(lag(totals.event_count) over by_model, 0) as event_count,
        totals.duration_seconds - coalesce(lag(totals.duration_seconds) over by_model, 0) as duration_seconds,
        totals.characters - coalesce(lag(totals.characters) over by_model, 0) as characters
    from lists
    cross join
        lateral unnest(
            lists.model_kinds,
            lists.model_providers,
            lists.model_names,
            lists.running_event_counts,
            lists.running_duration_seconds,
            lists.running_characters
        ) with ordinality as totals (kind, provider, model, event_count, duration_seconds, characters, model_position)
    window by_model as (
        partition by lists.workspace_id, totals.kind, totals.provider, totals.model
        order by lists.usage_date
    )
),

active_days as (
    select distinct
        workspace_id,
        usage_date
    from daily
),

first_uses as (
    select
        workspace_id,
        kind,
        provider,
        model,
        min(usage_date) as first_date
    from daily
    group by workspace_id, kind, provider, model
),

-- each listed day's models: every model used by then, in kind, provider, model order
expected_totals as (
    select
        active_days.workspace_id,
        active_days.usage_date,
        first_uses.kind,
        first_uses.provider,
        first_uses.model,
        row_number() over (
            partition by active_days.workspace_id, active_days.usage_date
            order by
                convert_to(first_uses.kind, 'UTF8'),
                convert_to(first_uses.provider, 'UTF8'),
                convert_to(first_uses.model, 'UTF8')
        ) as model_position,
        coalesce(day_rows.event_count, 0) as event_count,
        coalesce(day_rows.duration_seconds, 0) as duration_seconds,
        coalesce(day_rows.characters, 0) as characters
    from active_days
    inner join first_uses
        on
            active_days.workspace_id = first_uses.workspace_id
            and active_days.usage_date >= first_uses.first_date
    left join daily as day_rows
        on
            active_days.workspace_id = day_rows.workspace_id
            and active_days.usage_date = day_rows.usage_date
            and first_uses.kind = day_rows.kind
            and first_uses.provider = day_rows.provider
            and first_uses.model = day_rows.model
),

entry_mismatches as (
    select
        'day text' as mismatch,
        differing.workspace_id,
        differing.usage_date
    from (
        {{ differing_rows(
            'listed_entries', 'expected_entries',
            ['workspace_id', 'usage_date', 'kind', 'entry_position'],
            ['entry_date', 'entry_provider', 'entry_model', 'event_count', 'amount']
        ) }}
    ) as differing
),

total_mismatches as (
    select
        'running totals' as mismatch,
        differing.workspace_id,
        differing.usage_date
    from (
        {{ differing_rows(
            'listed_totals', 'expected_totals',
            ['workspace_id', 'usage_date', 'model_position'],
            ['kind', 'provider', 'model', 'event_count', 'duration_seconds', 'characters']
        ) }}
    ) as differing
)

select * from entry_mismatches
union all
select * from total_mismatches
