"""The usage reports (CONTRACT §4 and §5): ``/api/v2/w/<workspace_id>/reports/...``,
one module per report (``ai``, ``sms``, ``phone``, ``voice``, ``member``) on the
blueprint and steps they share (``common``, and ``lists`` for those that write long lists).

Each endpoint is: authenticate -> parse and validate -> authorize -> one SQL
statement over the marts -> shape the JSON. Each statement reads the mart
through its primary key (``workspace_id``, ``usage_date``, ...) with bound
parameters, sums the range in one pass (the lists of day rows are written in
that pass; breakdowns come from ``grouping sets``) and reads
``marts.data_freshness`` in the same statement, so a report is one
consistent snapshot even while a build runs.

Every report also takes ``tz`` and ``format`` (CONTRACT §6). The statements
are templates with a slot for the rows they read (``api.zones.range_rows``,
``rows_by_day`` and ``day_rows``): with UTC the daily marts by ``usage_date``,
exactly as before; with another zone the quarter-hourly twins where the zone's local
days cut UTC dates and the daily marts for the rest, each row on its local
day. A day, provider or model that nets to no activity there (a count of
zero: a zoned statement also sees the empty side of a UTC date it splits) is
left out by ``having``. CSV (``api.csvexport``) lists each report's finest rows, the
lines written by the warehouse (``api.csvsql``) in a statement of their own; ``ETag``
and ``If-None-Match`` are in ``api.caching``.

Lists are sorted by Unicode code point (the same order whatever collation
or encoding the warehouse uses), nulls last:

* AI ``by_provider`` / ``by_type``: credits descending, then name;
  ``top_models``: credits descending, then model, provider and type; at most 10.
  Sorted in Python (``ai.shape_ai_usage``: a few dozen items).
* SMS and phone ``rows``: date, then phone number.
* Voice ``sttRows`` / ``ttsRows``: date, provider, model;
  ``sttByProvider`` / ``ttsByProvider``: provider, model.
  These run to thousands of items: the statement writes each as JSON text
  (``api.jsonsql``), exactly as ``api.jsonenc`` would, in the same pass that
  sums the day rows (``api.zones.day_rows``).

Credits are rounded half up to 6 decimals, voice seconds to 3; both are
written as exact JSON numbers (see ``api.jsonenc``). Counts are integers.
"""

from __future__ import annotations

from api.reports import ai, common, lists, member, phone, sms, voice
from api.reports.ai import AI_USAGE_SQL, ai_usage_csv, ai_usage_report, ai_usage_sql
from api.reports.common import (
    AI_DEFAULT_RANGE,
    CREDIT_PLACES,
    FRESHNESS,
    MEMBER_DEFAULT_RANGE,
    PHONE_DEFAULT_RANGE,
    SECONDS_PLACES,
    SMS_DEFAULT_RANGE,
    VOICE_DEFAULT_RANGE,
    bp,
    fetch_reading,
    statement_reading,
)
from api.reports.member import (
    MEMBER_MEASURES,
    MEMBER_USAGE_SQL,
    member_usage_csv,
    member_usage_report,
    member_usage_sql,
    shape_member_usage,
)
from api.reports.phone import PHONE_USAGE_SQL, phone_usage_csv, phone_usage_report, phone_usage_sql
from api.reports.sms import SMS_USAGE_SQL, sms_usage_csv, sms_usage_report, sms_usage_sql
from api.reports.voice import VOICE_USAGE_SQL, voice_usage_csv, voice_usage_report, voice_usage_sql

__all__ = [
    "AI_DEFAULT_RANGE",
    "AI_USAGE_SQL",
    "CREDIT_PLACES",
    "FRESHNESS",
    "MEMBER_DEFAULT_RANGE",
    "MEMBER_MEASURES",
    "MEMBER_USAGE_SQL",
    "PHONE_DEFAULT_RANGE",
    "PHONE_USAGE_SQL",
    "SECONDS_PLACES",
    "SMS_DEFAULT_RANGE",
    "SMS_USAGE_SQL",
    "VOICE_DEFAULT_RANGE",
    "VOICE_USAGE_SQL",
    "ai",
    "ai_usage_csv",
    "ai_usage_report",
    "ai_usage_sql",
    "bp",
    "common",
    "fetch_reading",
    "lists",
    "member",
    "member_usage_csv",
    "member_usage_report",
    "member_usage_sql",
    "phone",
    "phone_usage_csv",
    "phone_usage_report",
    "phone_usage_sql",
    "shape_member_usage",
    "sms",
    "sms_usage_csv",
    "sms_usage_report",
    "sms_usage_sql",
    "statement_reading",
    "voice",
    "voice_usage_csv",
    "voice_usage_report",
    "voice_usage_sql",
]
