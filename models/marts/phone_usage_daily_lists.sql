{#- The phone report's UTC answer, prepared: one row per workspace and UTC day
    with finished calls, its rows as JSON text and the workspace's running
    totals of calls (all, inbound, outbound) and their rounded seconds
    (macros/number_day_lists.sql). A UTC report over start..end joins the day
    texts of its days in date order and takes its totals as the running totals
    of the last row on or before end less those of the last row before start
    (api/reports/phone.py). Rebuilt from its workspace's first changed day on. -#}
{{ number_day_lists(
    'stg_product__call_events', 'phone_usage_daily',
    ['call_count', 'inbound_calls', 'outbound_calls', 'duration_seconds'],
    [('inbound', 'inbound_calls'), ('outbound', 'outbound_calls'), ('totalDurationSeconds', 'duration_seconds')],
) }}
