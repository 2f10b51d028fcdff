{#- Every daily mart is exactly the sum of its quarter-hourly mart per
    workspace and UTC day (one measure per pair that covers every row). -#}
{% set pairs = [
    ('ai_usage', 'credits'),
    ('message_counts', 'message_count'),
    ('sms_usage', 'segments'),
    ('phone_usage', 'duration_seconds'),
    ('voice_usage', 'event_count'),
    ('member_usage', 'credits'),
] %}

with

{% for mart, measure in pairs %}
    {{ mart }}_days as (
        select
            workspace_id,
            usage_date,
            sum({{ measure }}) as total
        from {{ ref(mart ~ '_daily') }}
        group by workspace_id, usage_date
    ),

    {{ mart }}_quarters as (
        select
            workspace_id,
            usage_date,
            sum({{ measure }}) as total
        from {{ ref(mart ~ '_quarter_hourly') }}
        group by workspace_id, usage_date
    ),

    {{ mart }}_check as (
        select
            '{{ mart }}' as mart,
            coalesce({{ mart }}_days.workspace_id, {{ mart }}_quarters.workspace_id) as workspace_id,
            coalesce({{ mart }}_days.usage_date, {{ mart }}_quarters.usage_date) as usage_date,
            {{ mart }}_days.total as daily_total,
            {{ mart }}_quarters.total as quarter_hour_total
        from {{ mart }}_days
        full outer join {{ mart }}_quarters
            on
                {{ mart }}_days.workspace_id = {{ mart }}_quarters.workspace_id
                and {{ mart }}_days.usage_date = {{ mart }}_quarters.usage_date
        where {{ mart }}_days.total is distinct from {{ mart }}_quarters.total
    ),
{% endfor %}

mismatches as (
    {% for mart, measure in pairs %}
        select * from {{ mart }}_check
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from mismatches
