{{
    config(
        materialized='incremental',
        incremental_strategy='replace_days',
        unique_key='usage_date',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}
rebuilt_days as (
    {{ changed_days(ref('stg_product__ai_usage_events')) }}
),
{% endif %}

ai_events as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        cached_tokens,
        audio_input_tokens,
        audio_output_tokens,
        credits,
        last_loaded_at
    from {{ ref('stg_product__ai_usage_events') }}
    where
        is_valid
        {% if is_incremental() %}
            and usage_date in (select rebuilt_date from rebuilt_days)
        {% endif %}
),

daily as (
    select
        workspace_id,
        usage_date,
        provider,
        model,
        model_type,
        count(*) as event_count,
        cast(sum(prompt_tokens) as bigint) as prompt_tokens,
        cast(sum(completion_tokens) as bigint) as completion_tokens,
        cast(sum(total_tokens) as bigint) as total_tokens,
        cast(sum(cached_tokens) as bigint) as cached_tokens,
        cast(sum(audio_input_tokens) as bigint) as audio_input_tokens,
        cast(sum(audio_output_tokens) as bigint) as audio_output_tokens,
        cast(sum(credits) as numeric(28, 6)) as credits,
        max(last_loaded_at) as last_loaded_at
    from ai_events
    group by workspace_id, usage_date, provider, model, model_type
)

{% if is_incremental() %}
    select {{ mart_columns() }} from daily
    union all
    {{ rebuilt_day_placeholders('rebuilt_days', 'usage_date') }}
{% else %}
    select * from daily
{% endif %}
