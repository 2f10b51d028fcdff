{#- Every daily mart is exactly the sum of its quarter-hourly mart at the
    daily mart's full grain, every measure, and every quarter hour lies on
    its row's UTC day. -#}
{% set marts = [
    ('ai_usage', ['provider', 'model', 'model_type'],
        ['event_count', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_tokens',
         'audio_input_tokens', 'audio_output_tokens', 'credits']),
    ('message_counts', [], ['message_count']),
    ('sms_usage', ['phone_number'],
        ['message_count', 'inbound_messages', 'outbound_messages', 'characters', 'segments',
         'inbound_segments', 'outbound_segments']),
    ('phone_usage', ['phone_number'], ['call_count', 'inbound_calls', 'outbound_calls', 'duration_seconds']),
    ('voice_usage', ['kind', 'provider', 'model'], ['event_count', 'duration_seconds', 'characters']),
    ('member_usage', ['member_id'],
        ['chats_created', 'messages_sent', 'ai_event_count', 'credits', 'prompt_tokens', 'completion_tokens',
         'total_tokens']),
] %}

with

{% for mart, keys, measures in marts %}
    {% set grain = ['workspace_id', 'usage_date'] + keys %}
    {{ mart }}_quarters as (
        select
            {{ grain | join(', ') }},
            {%- for measure in measures %}
                sum({{ measure }}) as {{ measure }},
            {%- endfor %}
            bool_and(
                cast(usage_quarter_hour at time zone 'UTC' as date) = usage_date
            ) as quarters_on_their_day
        from {{ ref(mart ~ '_quarter_hourly') }}
        group by {{ grain | join(', ') }}
    ),

    {{ mart }}_check as (
        select
            '{{ mart }}' as mart,
            workspace_id,
            usage_date
        from {{ ref(mart ~ '_daily') }} as daily
        full outer join {{ mart }}_quarters as quarters using ({{ grain | join(', ') }})  -- noqa: ST07
        where
            not coalesce(quarters.quarters_on_their_day, true)
            {%- for measure in measures %}
                or daily.{{ measure }} is distinct from quarters.{{ measure }}
            {%- endfor %}
    ),
{% endfor %}

mismatches as (
    {% for mart, keys, measures in marts %}
        select * from {{ mart }}_check
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from mismatches
