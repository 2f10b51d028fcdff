{#- The voice report's UTC answer, prepared: one row per workspace and UTC day
    with voice activity.

    * stt_rows_json, tts_rows_json: that day's entries of the report's sttRows and
      ttsRows lists, written as the API writes them (api/jsonsql.py: compact
      objects, seconds rounded half up to 3 places without trailing zeros,
      provider then model in code-point order), comma-separated, no brackets.
    * model_*, running_*: every kind, provider and model the workspace has used
      from its first day through this one, in kind, provider, model code-point
      order, each with its totals over all those days.

    A UTC report over start..end then joins the day texts of its days in date
    order, and takes each model's sums as the running totals of the last row on
    or before end less those of the last row before start: a row per day and two
    more, not every day's models added up again (api/reports/voice.py).

    Running totals carry forward, so an incremental build rebuilds each
    workspace's days from its first changed one on, adding the rebuilt days'
    rows of voice_usage_daily to the totals this table holds for the day before. -#}
with

changed_days as (
    {{ changed_days(ref('stg_product__stt_events')) }}
    union
    {{ changed_days(ref('stg_product__tts_events')) }}
),

rebuilt_days as (
    {{ running_totals_rebuilt_days(ref('voice_usage_daily')) }}
),

daily as (
    select
        workspace_id,
        usage_date,
        kind,
        provider,
        model,
        event_count,
        duration_seconds,
        characters,
        last_loaded_at
    from {{ ref('voice_usage_daily') }}
    where {{ in_rebuilt_days('usage_date') }}
),

totals_before as (
    {%- if is_incremental() %}
        -- the totals before each workspace's first rebuilt day, for each workspace with rows to rebuild:
        -- its last stored row before it
        select
            active.workspace_id,
            totals.kind,
            totals.provider,
            totals.model,
            totals.event_count,
            totals.duration_seconds,
            totals.characters
        from (select distinct daily.workspace_id from daily) as active
        cross join
            lateral (
                select
                    kept.model_kinds,
                    kept.model_providers,
                    kept.model_names,
                    kept.running_event_counts,
                    kept.running_duration_seconds,
                    kept.running_characters
                from {{ this }} as kept
                where
                    kept.workspace_id = active.workspace_id
                    and kept.usage_date < (
                        select min(rebuilt_days.rebuilt_date) from rebuilt_days
                        where rebuilt_days.workspace_id = active.workspace_id
                    )
                order by kept.usage_date desc
                limit 1
            ) as last_kept
        cross join lateral unnest(
            last_kept.model_kinds,
            last_kept.model_providers,
            last_kept.model_names,
            last_kept.running_event_counts,
            last_kept.running_duration_seconds,
            last_kept.running_characters
        ) as totals (kind, provider, model, event_count, duration_seconds, characters)
    {%- else %}
        select
            workspace_id,
            kind,
            provider,
            model,
            event_count,
            duration_seconds,
            characters
        from {{ ref('voice_usage_daily') }}
        where false
    {%- endif %}
),

{{ running_totals_ctes(
    ['kind', 'provider', 'model'],
    {'event_count': 'bigint', 'duration_seconds': 'numeric', 'characters': 'bigint'},
) }},

day_totals as (
    select
        workspace_id,
        usage_date,
        array_agg(kind order by key_order) as model_kinds,
        array_agg(provider order by key_order) as model_providers,
        array_agg(model order by key_order) as model_names,
        array_agg(running_event_count order by key_order) as running_event_counts,
        array_agg(running_duration_seconds order by key_order) as running_duration_seconds,
        array_agg(running_characters order by key_order) as running_characters
    from running
    group by workspace_id, usage_date
),

day_lists as (
    select
        workspace_id,
        usage_date,
        string_agg(
            '{"date":' || cast(to_json(usage_date) as text)
            || ',"provider":' || cast(to_json(provider) as text)
            || ',"model":' || cast(to_json(model) as text)
            || ',"durationSeconds":' || cast(trim_scale(round(duration_seconds, 3)) as text)
            || ',"messages":' || cast(event_count as text) || '}',
            ',' order by convert_to(provider, 'UTF8'), convert_to(model, 'UTF8')
        ) filter (where kind = 'stt' and event_count <> 0) as stt_rows_json,
        string_agg(
            '{"date":' || cast(to_json(usage_date) as text)
            || ',"provider":' || cast(to_json(provider) as text)
            || ',"model":' || cast(to_json(model) as text)
            || ',"characters":' || cast(characters as text)
            || ',"messages":' || cast(event_count as text) || '}',
            ',' order by convert_to(provider, 'UTF8'), convert_to(model, 'UTF8')
        ) filter (where kind = 'tts' and event_count <> 0) as tts_rows_json,
        max(last_loaded_at) as last_loaded_at
    from daily
    group by workspace_id, usage_date
),

final as (
    select
        day_lists.workspace_id,
        day_lists.usage_date,
        day_lists.stt_rows_json,
        day_lists.tts_rows_json,
        day_totals.model_kinds,
        day_totals.model_providers,
        day_totals.model_names,
        day_totals.running_event_counts,
        day_totals.running_duration_seconds,
        day_totals.running_characters,
        day_lists.last_loaded_at
    from day_lists
    inner join day_totals
        on
            day_lists.workspace_id = day_totals.workspace_id
            and day_lists.usage_date = day_totals.usage_date
)

{{ select_with_rebuilt_days('final', 'usage_date') }}
