{#- sms_usage_daily_lists writes each day's rows as sms_usage_daily holds
    them (macros/day_texts_match.sql). -#}
{{ day_texts_match(
    'sms_usage_daily_lists', 'sms_usage_daily', 'message_count',
    [('inbound', 'inbound_messages'), ('outbound', 'outbound_messages'), ('characters', 'characters'),
     ('segments', 'segments'), ('inboundSegments', 'inbound_segments'), ('outboundSegments', 'outbound_segments')],
) }}
