{#- phone_usage_daily_lists writes each day's rows as phone_usage_daily holds
    them (macros/day_texts_match.sql). -#}
{{ day_texts_match(
    'phone_usage_daily_lists', 'phone_usage_daily', 'call_count',
    [('inbound', 'inbound_calls'), ('outbound', 'outbound_calls'), ('totalDurationSeconds', 'duration_seconds')],
) }}
