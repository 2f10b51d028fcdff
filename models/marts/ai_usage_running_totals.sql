{#- AI usage to date: for each workspace and UTC day with AI activity, every
    provider, model and type the workspace has used from its first day through
    that one, with each measure's total over all those days (running_<measure>).

    Any range's sums are the totals of the workspace's last day on or before its
    end less those of its last day before its start: the UTC AI report reads two
    days' rows, whatever the range (api/reports/ai.py). Rebuilt from each workspace's first
    changed day on (macros/running_totals.sql), starting from the totals this
    table holds for each workspace's last day before it. -#}
{%- set measures = {
    'event_count': 'bigint',
    'prompt_tokens': 'bigint',
    'completion_tokens': 'bigint',
    'total_tokens': 'bigint',
    'cached_tokens': 'bigint',
    'audio_input_tokens': 'bigint',
    'audio_output_tokens': 'bigint',
    'credits': 'numeric(28, 6)',
} %}
with

changed_days as (
    {{ changed_days(ref('stg_product__ai_usage_events')) }}
),

rebuilt_days as (
    {{ running_totals_rebuilt_days(ref('ai_usage_daily')) }}
),

daily as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
        {{ measures.keys() | join(", ") }}
    from {{ ref('ai_usage_daily') }}
    where {{ in_rebuilt_days('usage_date') }}
),

totals_before as (
    {{ running_totals_before(ref('ai_usage_daily'), ['provider', 'model', 'model_type'], measures.keys()) }}
),

{{ running_totals_ctes(['provider', 'model', 'model_type'], measures) }},

final as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
    {% for measure in measures -%}
        running_{{ measure }}{{ "," if not loop.last }}
    {% endfor %}
    from running
)

{{ select_with_rebuilt_days('final', 'usage_date') }}
