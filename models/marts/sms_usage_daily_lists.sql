{#- The SMS report's UTC answer, prepared: one row per workspace and UTC day
    with messages, its rows as JSON text and the workspace's running totals
    (macros/number_day_lists.sql). A UTC report over start..end joins the day
    texts of its days in date order and takes its totals as the running totals
    of the last row on or before end less those of the last row before start
    (api/reports/sms.py). Rebuilt from its workspace's first changed day on. -#}
{{ number_day_lists(
    'stg_product__sms_messages', 'sms_usage_daily',
    ['message_count', 'inbound_messages', 'outbound_messages', 'characters', 'segments',
     'inbound_segments', 'outbound_segments'],
    [('inbound', 'inbound_messages'), ('outbound', 'outbound_messages'), ('characters', 'characters'),
     ('segments', 'segments'), ('inboundSegments', 'inbound_segments'), ('outboundSegments', 'outbound_segments')],
) }}
