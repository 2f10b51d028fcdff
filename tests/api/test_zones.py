"""Reports in any time zone (CONTRACT §6): ``tz``, worked out by hand from
tests/api/zone_data.py (the local time of every instant is in its table), and
against the rules applied straight to the staging events."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from itertools import pairwise, product
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from api import buildlock, caching, reports, zones
from api.params import DateRange
from api.zones import UTC_ZONE, Zone, known_zones, parse_zone, reading
from tests.api import fixture_data as data
from tests.api.conftest import (
    BOTH,
    ApiClient,
    Key,
    Warehouse,
    body,
    create_key_with_cli,
    error_of,
    zone_only_zoneinfo_knows,
)
from tests.api.zone_data import MAYA, MODEL, NUMBER, ODD_MODEL, ODD_NUMBER, TOTAL_WEIGHT, WZ

D = Decimal
ZONED = f"/api/v2/w/{WZ}/reports"
W1_REPORTS = f"/api/v2/w/{data.W1}/reports"
REPORTS = ["ai-usage", "sms-usage", "phone-usage", "voice-usage", "member-usage/{member}"]
EDGE_DAYS = {"start_date": "2026-04-30", "end_date": "2026-05-01"}


@pytest.fixture(scope="module")
def zkey(app: Flask, keys: dict[str, Key]) -> Key:
    return create_key_with_cli(app, WZ, MAYA, "Zoneco export", BOTH)


def report(api: ApiClient, key: Key, path: str, **query: str) -> dict[str, Any]:
    response = api.get(f"{ZONED}/{path}", key, query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    return body(response)


def by_date(rows: list[dict[str, Any]], field: str) -> dict[str, Any]:
    sums: dict[str, Any] = defaultdict(int)
    for row in rows:
        sums[row["date"]] += row[field]
    return dict(sums)


# --- the zone's days, by hand ------------------------------------------------------

# Weights of the instants A1..A9 (1 .. 256) on 2026-04-30 and 2026-05-01 in each zone,
# and how many instants that is (see the table in zone_data.py):
#   UTC:       A1-A6 (1+2+4+8+16+32)            | A7-A9 (64+128+256)
#   Eucla:     A1 (15:14:59Z is 23:59:59 +8:45) | A2-A9
#   Kathmandu: A1-A3 (18:14:59Z is 23:59:59)    | A4-A9
#   Kolkata:   A1-A5 (18:29:59Z is 23:59:59)    | A6-A9
#   LA:        A1-A8 (06:59:59Z is 23:59:59)    | A9
EDGE_SPLITS = {
    "UTC": ((63, 6), (448, 3)),
    "Australia/Eucla": ((1, 1), (510, 8)),
    "Asia/Kathmandu": ((7, 3), (504, 6)),
    "Asia/Kolkata": ((31, 5), (480, 4)),
    "America/Los_Angeles": ((255, 8), (256, 1)),
}


@pytest.mark.parametrize("zone", list(EDGE_SPLITS))
def test_days_of_every_report_in_the_zone(api: ApiClient, zkey: Key, zone: str) -> None:
    (first, first_count), (second, second_count) = EDGE_SPLITS[zone]
    days = {"2026-04-30": first, "2026-05-01": second}
    counts = {"2026-04-30": first_count, "2026-05-01": second_count}
    query = {**EDGE_DAYS, "tz": zone}

    phone = report(api, zkey, "phone-usage", **query)
    assert by_date(phone["rows"], "totalDurationSeconds") == days
    assert by_date(phone["rows"], "inbound") == counts
    sms = report(api, zkey, "sms-usage", **query)
    assert by_date(sms["rows"], "segments") == days
    assert by_date(sms["rows"], "outbound") == counts
    voice = report(api, zkey, "voice-usage", **query)
    assert by_date(voice["ttsRows"], "characters") == days
    assert by_date(voice["sttRows"], "durationSeconds") == {
        day: D(weight) / 8 for day, weight in days.items()
    }
    assert by_date(voice["sttRows"], "messages") == counts
    for day, weight in days.items():
        one_day = {"start_date": day, "end_date": day, "tz": zone}
        ai = report(api, zkey, "ai-usage", **one_day)
        assert (ai["total_credits"], ai["total_prompt_tokens"], ai["total_messages"]) == (
            weight,
            weight,
            counts[day],
        )
        member = report(api, zkey, f"member-usage/{MAYA}", **one_day)
        assert (member["totalCredits"], member["totalTokens"], member["totalMessages"]) == (
            weight,
            weight,
            counts[day],
        )
    for result in (phone, sms, voice):
        if zone == "UTC":
            assert "tz" not in result
        else:
            assert result["tz"] == zone


def test_the_contract_call_is_on_april_30_in_los_angeles_and_may_1_in_utc(api: ApiClient, zkey: Key) -> None:
    # A7: started 2026-05-01 05:00Z = 2026-04-30 22:00 PDT, on the odd number, 64 seconds
    los_angeles = report(
        api, zkey, "phone-usage", start_date="2026-04-30", end_date="2026-04-30", tz="America/Los_Angeles"
    )
    assert los_angeles == {
        "workspaceId": WZ,
        "startDate": "2026-04-30",
        "endDate": "2026-04-30",
        "tz": "America/Los_Angeles",
        "dataAsOf": los_angeles["dataAsOf"],
        "totalCalls": 8,  # A1..A8: one on the odd number (A7), seven on the plain one
        "totalInbound": 8,
        "totalOutbound": 0,
        "totalDurationSeconds": 255,
        "rows": [
            # "+1 " sorts before "+15" (a space is U+0020)
            {"date": "2026-04-30", "phoneNumber": ODD_NUMBER, "inbound": 1, "outbound": 0, "totalDurationSeconds": 64},
            {"date": "2026-04-30", "phoneNumber": NUMBER, "inbound": 7, "outbound": 0, "totalDurationSeconds": 191},
        ],
    }  # fmt: skip
    utc = report(api, zkey, "phone-usage", start_date="2026-05-01", end_date="2026-05-01")
    assert utc["rows"] == [
        {"date": "2026-05-01", "phoneNumber": ODD_NUMBER, "inbound": 1, "outbound": 0, "totalDurationSeconds": 64},
        {"date": "2026-05-01", "phoneNumber": NUMBER, "inbound": 2, "outbound": 0, "totalDurationSeconds": 384},
    ]  # fmt: skip
    assert "tz" not in utc


def test_ai_body_in_los_angeles(api: ApiClient, zkey: Key, today: date) -> None:
    result = report(
        api, zkey, "ai-usage", start_date="2026-04-30", end_date="2026-04-30", tz="America/Los_Angeles"
    )
    # A1..A8: 255 credits and prompt tokens; A7 (64) is the odd model; eight messages
    amounts = {
        "total_tokens": 255,
        "total_cached_tokens": 0,
        "total_audio_input_tokens": 0,
        "total_audio_output_tokens": 0,
        "total_credits": 255,
    }
    assert list(result)[:5] == ["workspace_id", "start_date", "end_date", "tz", "data_as_of"]
    assert result == {
        "workspace_id": WZ,
        "start_date": "2026-04-30",
        "end_date": "2026-04-30",
        "tz": "America/Los_Angeles",
        "data_as_of": data.recent_loaded_at(today).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "total_messages": 8,
        "total_tokens": 255,
        "total_prompt_tokens": 255,
        "total_completion_tokens": 0,
        "total_cached_tokens": 0,
        "total_audio_input_tokens": 0,
        "total_audio_output_tokens": 0,
        "total_credits": 255,
        "by_provider": [{"provider": "openai", **amounts}],
        "by_type": [{"type": "chat", **amounts}],
        "top_models": [
            {"model": MODEL, "provider": "openai", "type": "chat", "total_tokens": 191, "total_credits": 191},
            {
                "model": ODD_MODEL,
                "provider": "openai",
                "type": "chat",
                "total_tokens": 64,
                "total_credits": 64,
            },
        ],
    }


def test_member_usage_in_kolkata(api: ApiClient, zkey: Key) -> None:
    result = report(
        api, zkey, f"member-usage/{MAYA}", start_date="2026-05-01", end_date="2026-05-01", tz="Asia/Kolkata"
    )
    # 2026-05-01 in Kolkata is [04-30 18:30Z, 05-01 18:30Z): A6..A9, and chat ZC4 (created at A9)
    assert result == {
        "workspaceId": WZ,
        "memberId": MAYA,
        "startDate": "2026-05-01",
        "endDate": "2026-05-01",
        "tz": "Asia/Kolkata",
        "dataAsOf": result["dataAsOf"],
        "totalChats": 1,
        "totalMessages": 4,
        "totalCredits": 480,
        "totalTokens": 480,
    }


@pytest.mark.parametrize(
    ("zone", "start", "end", "weight", "instants"),
    [
        # 05-01 .. 05-02 is [04-30 18:30Z, 05-02 18:30Z): UTC 04-30 from 18:30 (A6),
        # 05-01 whole (A7-A9), 05-02 nothing
        ("Asia/Kolkata", "2026-05-01", "2026-05-02", 32 + 64 + 128 + 256, 4),
        # [04-28 15:15Z, 04-30 15:15Z): UTC 04-28 nothing, 04-29 whole (nothing), 04-30 before 15:15 (A1)
        ("Australia/Eucla", "2026-04-29", "2026-04-30", 1, 1),
        # [04-30 07:00Z, 05-02 07:00Z): UTC 04-30 from 07:00 (A1-A6), 05-01 whole (A7-A9)
        ("America/Los_Angeles", "2026-04-30", "2026-05-01", 511, 9),
        # [03-07 05:00Z, 03-10 04:00Z): UTC 03-08 and 03-09 whole (N1-N4), the ends empty
        ("America/New_York", "2026-03-07", "2026-03-09", 512 + 1024 + 2048 + 4096, 4),
    ],
)
def test_totals_over_several_local_days(
    api: ApiClient, zkey: Key, zone: str, start: str, end: str, weight: int, instants: int
) -> None:
    """The AI body and member usage only total the range: the UTC dates wholly inside the
    window come from the daily marts, the two at its ends from the quarter hours."""
    query = {"start_date": start, "end_date": end, "tz": zone}
    ai = report(api, zkey, "ai-usage", **query)
    assert (ai["total_credits"], ai["total_tokens"], ai["total_messages"]) == (weight, weight, instants)
    member = report(api, zkey, f"member-usage/{MAYA}", **query)
    assert (member["totalCredits"], member["totalTokens"], member["totalMessages"]) == (
        weight,
        weight,
        instants,
    )


# --- daylight saving: days of 23 and 25 hours ------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # spring forward: 2026-03-08 is 05:00Z .. 04:00Z next day (23 hours)
        (
            {"start_date": "2026-03-07", "end_date": "2026-03-09", "tz": "America/New_York"},
            {"2026-03-07": 512, "2026-03-08": 1024 + 2048, "2026-03-09": 4096},
        ),
        ({"start_date": "2026-03-07", "end_date": "2026-03-09"}, {"2026-03-08": 512 + 1024, "2026-03-09": 2048 + 4096}),
        # fall back: 2026-11-01 is 04:00Z .. 05:00Z next day (25 hours)
        (
            {"start_date": "2026-10-31", "end_date": "2026-11-02", "tz": "America/New_York"},
            {"2026-10-31": 8192, "2026-11-01": 16384 + 32768, "2026-11-02": 65536},
        ),
        ({"start_date": "2026-10-31", "end_date": "2026-11-02"}, {"2026-11-01": 8192 + 16384, "2026-11-02": 32768 + 65536}),
    ],
)  # fmt: skip
def test_daylight_saving_days(
    api: ApiClient, zkey: Key, query: dict[str, str], expected: dict[str, int]
) -> None:
    assert by_date(report(api, zkey, "phone-usage", **query)["rows"], "totalDurationSeconds") == expected
    assert by_date(report(api, zkey, "sms-usage", **query)["rows"], "segments") == expected
    assert by_date(report(api, zkey, "voice-usage", **query)["ttsRows"], "characters") == expected
    for day, weight in expected.items():
        ai = report(api, zkey, "ai-usage", **{**query, "start_date": day, "end_date": day})
        assert ai["total_credits"] == weight


def test_a_range_ends_on_the_last_quarter_hour_of_its_local_day(api: ApiClient, zkey: Key) -> None:
    # 2026-03-08 alone in New York: N2 (its first second) and N3 (its last), not N1 or N4
    result = report(
        api, zkey, "voice-usage", start_date="2026-03-08", end_date="2026-03-08", tz="America/New_York"
    )
    assert result["totalTtsCharacters"] == 1024 + 2048
    assert result["totalSttDurationSeconds"] == D(3072) / 8
    assert result["sttRows"] == [
        {
            "date": "2026-03-08",
            "provider": "deepgram",
            "model": "nova-2",
            "durationSeconds": D("384"),
            "messages": 2,
        }
    ]


# --- the same data, whatever the zone -------------------------------------------------

ZONES = [
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Eucla",
    "America/Los_Angeles",
    "America/New_York",
    "Pacific/Kiritimati",  # +14
    "Etc/GMT+12",  # -12
]


def totals(result: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in result.items() if name.startswith("total")}


@pytest.mark.parametrize("zone", ZONES)
def test_sums_over_all_data_equal_the_utc_sums(
    api: ApiClient, keys: dict[str, Key], zkey: Key, zone: str
) -> None:
    everything = {"start_date": "2000-01-01", "end_date": "2100-12-31"}
    for base, key, member in ((ZONED, zkey, MAYA), (W1_REPORTS, keys["admin"], data.ADA)):
        for path in REPORTS:
            url = f"{base}/{path.format(member=member)}"
            utc = body(api.get(url, key, everything))
            zoned = body(api.get(url, key, {**everything, "tz": zone}))
            assert totals(zoned) == totals(utc), (url, zone)
            assert zoned["tz"] == zone
    wz_ai = body(api.get(f"{ZONED}/ai-usage", zkey, {**everything, "tz": zone}))
    assert wz_ai["total_credits"] == TOTAL_WEIGHT


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Etc/GMT+12", "Pacific/Kiritimati", "America/St_Johns"])
def test_the_widest_range_in_any_zone(api: ApiClient, keys: dict[str, Key], zone: str) -> None:
    # day 1 and day 9999 have no local midnight in UTC on one side: the window is clipped, not a 500
    widest = {"start_date": "0001-01-01", "end_date": "9999-12-31"}
    for path in REPORTS:
        url = f"{W1_REPORTS}/{path.format(member=data.ADA)}"
        utc = body(api.get(url, keys["admin"], widest))
        assert totals(body(api.get(url, keys["admin"], {**widest, "tz": zone}))) == totals(utc)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kathmandu", "America/New_York"])
def test_ai_days_match_the_events_put_on_local_days(
    api: ApiClient, keys: dict[str, Key], zkey: Key, warehouse: Warehouse, zone: str
) -> None:
    """The same rules applied to the events themselves (staging, not the marts):
    each valid event on the local date of its ``recorded_at``."""
    everything = {"start_date": "2000-01-01", "end_date": "2100-12-31", "tz": zone, "format": "csv"}
    with warehouse.connect() as conn:
        events = conn.execute(
            "select workspace_id::text, (recorded_at at time zone %s)::date, provider, model, sum(credits),"
            " sum(total_tokens) from staging.stg_product__ai_usage_events where is_valid and workspace_id in (%s, %s)"
            " group by 1, 2, 3, 4",
            (zone, data.W1, WZ),
        ).fetchall()
    for workspace, key in ((data.W1, keys["admin"]), (WZ, zkey)):
        response = api.get(f"/api/v2/w/{workspace}/reports/ai-usage", key, everything)
        assert response.status_code == 200
        lines = response.get_data(as_text=True).splitlines()[1:]
        got: dict[tuple[str, str, str], tuple[Decimal, int]] = defaultdict(lambda: (D(0), 0))
        for line in csv.reader(lines):
            group = (line[0], line[1], line[2])  # date, provider, model
            credits, tokens = got[group]
            got[group] = (credits + D(line[10]), tokens + int(line[6]))
        expected = {
            (day.isoformat(), provider, model): (D(credits), int(tokens))
            for ws, day, provider, model, credits, tokens in events
            if ws == workspace
        }
        assert dict(got) == expected


ORACLES = {
    # report, rows field, (date, key) -> amount: the events themselves, each on the local date of its time
    "sms-usage": (
        "rows", "phoneNumber", "segments",
        "select (sent_at at time zone %(tz)s)::date, phone_number, sum(segments) from staging.stg_product__sms_messages"
        " where is_valid and workspace_id = %(ws)s group by 1, 2",
    ),
    "phone-usage": (
        "rows", "phoneNumber", "totalDurationSeconds",
        "select (started_at at time zone %(tz)s)::date, phone_number, sum(duration_seconds)"
        " from staging.stg_product__call_events where is_valid and is_finished and workspace_id = %(ws)s group by 1, 2",
    ),
    "voice-usage": (
        "sttRows", "model", "durationSeconds",
        "select (recorded_at at time zone %(tz)s)::date, model, sum(duration_seconds) from staging.stg_product__stt_events"
        " where is_valid and workspace_id = %(ws)s group by 1, 2",
    ),
}  # fmt: skip


@pytest.mark.parametrize("zone", [*ZONES, "Europe/London", "America/Santiago", "America/Havana"])
@pytest.mark.parametrize("path", list(ORACLES))
def test_rows_match_the_events_put_on_local_days(
    api: ApiClient,
    keys: dict[str, Key],
    zkey: Key,
    warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    path: str,
) -> None:
    """Each day's row equals its events' sum straight from staging, whichever way the
    statement reads the marts: daily rows split by a plan (a year, a century) and, as while
    a build runs, every quarter hour of the window on its local day."""
    field, key_field, amount, oracle = ORACLES[path]
    windows = [("2024-01-01", "2024-12-31"), ("2026-01-01", "2026-12-31"), ("2000-01-01", "2100-12-31")]
    for workspace, key in ((data.W1, keys["admin"]), (WZ, zkey)):
        with warehouse.connect() as conn:
            events = conn.execute(oracle, {"tz": zone, "ws": workspace}).fetchall()
        for build_running, (start, end) in product((False, True), windows):
            monkeypatch.setattr(reports.common, "reads_unsettled", lambda _db, running=build_running: running)
            expected = {
                (day.isoformat(), name): D(total)
                for day, name, total in events
                if start <= day.isoformat() <= end
            }
            response = api.get(
                f"/api/v2/w/{workspace}/reports/{path}",
                key,
                {"start_date": start, "end_date": end, "tz": zone},
            )
            got = {(row["date"], row[key_field]): D(row[amount]) for row in body(response)[field]}
            assert got == expected, (workspace, start, end, build_running)


# W2 sends an SMS and takes a call on W1's number ``data.N1`` at 2024-03-03 10:00 UTC and
# records STT with deepgram nova-2 then; W1 uses that number at 10:00 and 11:00 and that model
# at 10:00. In these zones local midnight cuts the date after 11:00 UTC.
SHARED_KEY_ZONES = ["Asia/Kolkata", "Asia/Tokyo", "Etc/GMT+12"]


@pytest.mark.parametrize("zone", SHARED_KEY_ZONES)
@pytest.mark.parametrize("path", list(ORACLES))
def test_a_key_another_workspace_also_uses_is_cut_by_its_own_quarter_hours(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, zone: str, path: str
) -> None:
    """Where local midnight cuts a UTC date, a daily row's part before the cut is the running
    total of the last quarter hour before it of that workspace, number or model: another
    tenant's busier quarter hour on the same number and date is none of its business."""
    field, key_field, amount, oracle = ORACLES[path]
    with warehouse.connect() as conn:
        events = conn.execute(oracle, {"tz": zone, "ws": data.W2}).fetchall()
    expected = {(day.isoformat(), name): D(total) for day, name, total in events}
    response = api.get(
        f"/api/v2/w/{data.W2}/reports/{path}",
        keys["w2_admin"],
        {"start_date": "2024-03-01", "end_date": "2024-03-31", "tz": zone},
    )
    got = {(row["date"], row[key_field]): D(row[amount]) for row in body(response)[field]}
    assert got == expected


@pytest.mark.parametrize("zone", [*ZONES, "Europe/London", "America/Santiago"])
def test_planned_windows_sum_to_the_utc_sums(
    api: ApiClient, keys: dict[str, Key], zkey: Key, zone: str
) -> None:
    # W1's dated rows are 2024-02-29 .. 2024-04-01 (UTC), WZ's 2026-03-08 .. 2026-11-02
    for base, key, member, span in (
        (W1_REPORTS, keys["admin"], data.ADA, {"start_date": "2024-02-01", "end_date": "2024-04-30"}),
        (ZONED, zkey, MAYA, {"start_date": "2026-03-01", "end_date": "2026-11-30"}),
    ):
        for path in REPORTS:
            url = f"{base}/{path.format(member=member)}"
            utc = body(api.get(url, key, span))
            assert totals(body(api.get(url, key, {**span, "tz": zone}))) == totals(utc), (url, zone)


# Single days and short windows on the edges of the fixtures' data (W1: 2024-02-29 ..
# 2024-04-01 UTC; WZ: 2026-03-08 .. 2026-11-02) and across daylight-saving changes, and three centuries.
SPLIT_WINDOWS = [
    ("2024-03-03", "2024-03-03"),
    ("2024-02-28", "2024-03-01"),
    ("2024-03-09", "2024-03-11"),
    ("2024-03-30", "2024-04-02"),
    ("2026-03-07", "2026-03-09"),
    ("2026-04-30", "2026-05-01"),
    ("2026-10-31", "2026-11-02"),
    ("1900-01-01", "2199-12-31"),  # planned over the dates events can have, 1970-2099
]


@pytest.mark.parametrize(
    "zone",
    [*ZONES, "America/St_Johns", "Europe/London", "Pacific/Chatham", "Pacific/Apia", "America/Havana"],
)
def test_split_daily_rows_answer_as_the_quarter_hours_do(
    api: ApiClient, keys: dict[str, Key], zkey: Key, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    """The daily rows split at local midnight (no build running) give exactly the bodies
    and CSV files of summing every quarter hour on its local day (what a build forces)."""
    asks = [
        (f"{base}/{path.format(member=member)}", key, {"start_date": start, "end_date": end, "tz": zone, **extra})
        for base, key, member in ((W1_REPORTS, keys["admin"], data.ADA), (ZONED, zkey, MAYA))
        for start, end in SPLIT_WINDOWS
        for path in REPORTS
        for extra in ({}, {"format": "csv"})
    ]  # fmt: skip
    split = [api.get(url, key, query).get_data() for url, key, query in asks]
    asked: list[bool] = []

    def build_running(_database: object) -> bool:
        asked.append(True)
        return True

    monkeypatch.setattr(reports.common, "reads_unsettled", build_running)
    quarter_hours = [api.get(url, key, query).get_data() for url, key, query in asks]
    assert len(asked) >= len(asks)  # every request read as while a build runs
    for ask, planned, every_quarter_hour in zip(asks, split, quarter_hours, strict=True):
        assert planned == every_quarter_hour, ask


# --- defaults and validation ------------------------------------------------------------


def default_ranges_in_a_zone_ahead_or_behind(now: datetime) -> tuple[str, dict[str, tuple[date, date]]]:
    """A zone whose date is not UTC's at ``now`` (+14 from 10:00Z, -11 before) and each
    report's default range there."""
    zone, shift = ("Pacific/Kiritimati", 1) if now.hour >= 10 else ("Pacific/Pago_Pago", -1)
    local_today = now.date() + timedelta(days=shift)
    month_start = local_today.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return zone, {
        "ai-usage": (local_today - timedelta(days=30), local_today),
        "sms-usage": (month_start, month_end),
        "phone-usage": (month_start, month_end),
        "voice-usage": (month_start, month_end),
        f"member-usage/{data.ADA}": (month_start, local_today),
    }


def test_default_ranges_are_taken_in_the_zone(api: ApiClient, keys: dict[str, Key]) -> None:
    for path in default_ranges_in_a_zone_ahead_or_behind(datetime.now(UTC))[1]:
        # the expectation of the hour the answer came in (asked again if the hour turned)
        while True:
            zone, expected = default_ranges_in_a_zone_ahead_or_behind(before := datetime.now(UTC))
            result = body(api.get(f"{W1_REPORTS}/{path}", keys["admin"], {"tz": zone}))
            if datetime.now(UTC).replace(minute=0, second=0, microsecond=0) == before.replace(
                minute=0, second=0, microsecond=0
            ):
                break
        start, end = expected[path]
        names = ("start_date", "end_date") if path == "ai-usage" else ("startDate", "endDate")
        assert (result[names[0]], result[names[1]]) == (start.isoformat(), end.isoformat()), path
        assert result["tz"] == zone


BAD_ZONES = ["Mars/Olympus", "", "utc", "America/New York", "../../etc/passwd", "localtime", "posixrules", "+05:30",
             "Europe/Berlin/", "UTC\x00"]  # fmt: skip


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize("zone", BAD_ZONES)
def test_an_unknown_zone_is_a_400_naming_tz(
    api: ApiClient, keys: dict[str, Key], path: str, zone: str
) -> None:
    response = api.get(f"{W1_REPORTS}/{path.format(member=data.ADA)}", keys["admin"], {"tz": zone})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith("tz must be an IANA time-zone name")


@pytest.mark.parametrize(
    ("zone", "meant"),
    [("utc", "UTC"), ("america/new_york", "America/New_York"), ("America/New York", "America/New_York"),
     ("Asia/Kolkata ", "Asia/Kolkata"), ("Mars/Olympus", None), ("UTC\x00", None)],
)  # fmt: skip
def test_a_zone_spelt_differently_is_named_in_the_400(
    api: ApiClient, keys: dict[str, Key], zone: str, meant: str | None
) -> None:
    response = api.get(f"{W1_REPORTS}/ai-usage", keys["admin"], {"tz": zone})
    assert response.status_code == 400
    message = error_of(response)["message"]
    hint = f" Names are exact, case included: did you mean {meant}?"
    assert message.endswith(hint) if meant else "did you mean" not in message


def test_tz_given_twice_is_a_400(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"{W1_REPORTS}/ai-usage", keys["admin"], [("tz", "UTC"), ("tz", "Asia/Kolkata")])
    assert response.status_code == 400
    assert "tz" in error_of(response)["message"]


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "Pacific/Kiritimati"])
@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-10"), ("9999-12-20", "9999-12-31")])
def test_the_ends_of_the_calendar_answer_in_any_zone(
    api: ApiClient, keys: dict[str, Key], path: str, zone: str, start: str, end: str
) -> None:
    url = f"{W1_REPORTS}/{path.format(member=data.ADA)}"
    for query in ({}, {"format": "csv"}):
        response = api.get(url, keys["admin"], {"start_date": start, "end_date": end, "tz": zone, **query})
        assert response.status_code == 200, response.get_data(as_text=True)


def test_a_bad_zone_is_still_after_the_key(api: ApiClient) -> None:
    assert api.get(f"{W1_REPORTS}/ai-usage", None, {"tz": "Mars/Olympus"}).status_code == 401


@pytest.mark.parametrize("path", REPORTS)
def test_utc_bodies_are_exactly_those_without_tz(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    url = f"{W1_REPORTS}/{path.format(member=data.ADA)}"
    march = {"start_date": "2024-03-01", "end_date": "2024-03-31"}
    plain = api.get(url, keys["admin"], march).get_data()
    assert api.get(url, keys["admin"], {**march, "tz": "UTC"}).get_data() == plain
    assert b'"tz"' not in plain
    # another name for the same offset is a zone like any other: named, same numbers
    etc = body(api.get(url, keys["admin"], {**march, "tz": "Etc/UTC"}))
    assert etc.pop("tz") == "Etc/UTC"
    assert etc == body(api.get(url, keys["admin"], march))


# --- units: windows and names -------------------------------------------------------------


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "low", "high"),
    [
        ("Asia/Kolkata", "2026-05-01", "2026-04-30 18:30", "2026-05-01 18:30"),
        ("Asia/Kathmandu", "2026-05-01", "2026-04-30 18:15", "2026-05-01 18:15"),
        ("Australia/Eucla", "2026-05-01", "2026-04-30 15:15", "2026-05-01 15:15"),
        ("America/Los_Angeles", "2026-04-30", "2026-04-30 07:00", "2026-05-01 07:00"),
        ("America/New_York", "2026-03-08", "2026-03-08 05:00", "2026-03-09 04:00"),  # 23 hours
        ("America/New_York", "2026-11-01", "2026-11-01 04:00", "2026-11-02 05:00"),  # 25 hours
        # clocks jump at midnight: the day starts when they land (01:00), 23 hours
        ("America/Santiago", "2026-09-06", "2026-09-06 04:00", "2026-09-07 03:00"),
        ("America/Havana", "2026-03-08", "2026-03-08 05:00", "2026-03-09 04:00"),
        # clocks go back at midnight: the day before has 25 hours
        ("America/Santiago", "2026-04-04", "2026-04-04 03:00", "2026-04-05 04:00"),
        # Havana's clocks go back at 01:00 to 00:00: midnight happens twice, the day starts at
        # the first (25 hours), and the day before ends there
        ("America/Havana", "2026-11-01", "2026-11-01 04:00", "2026-11-02 05:00"),
        ("America/Havana", "2026-10-31", "2026-10-31 04:00", "2026-11-01 04:00"),
        # Samoa skipped 2011-12-30: an empty day
        ("Pacific/Apia", "2011-12-30", "2011-12-30 10:00", "2011-12-30 10:00"),
        ("UTC", "2026-05-01", "2026-05-01 00:00", "2026-05-02 00:00"),
    ],
)
def test_the_utc_window_of_a_local_day(zone: str, day: str, low: str, high: str) -> None:
    window = Zone(zone).window(DateRange(date.fromisoformat(day), date.fromisoformat(day)))
    assert (window.low, window.high) == (_utc(low), _utc(high))
    assert window.low_date == _utc(low).date()


def test_window_dates_bound_the_primary_key_scan() -> None:
    window = Zone("Asia/Kolkata").window(DateRange(date(2026, 5, 1), date(2026, 5, 31)))
    # [04-30 18:30Z, 05-31 18:30Z): usage_date 04-30 .. 05-31
    assert (window.low_date, window.high_date) == (date(2026, 4, 30), date(2026, 5, 31))
    window = Zone("America/Los_Angeles").window(DateRange(date(2026, 5, 1), date(2026, 5, 1)))
    assert (window.low_date, window.high_date) == (date(2026, 5, 1), date(2026, 5, 2))
    # ending exactly at a UTC midnight does not reach into the next UTC date
    window = Zone("Europe/London").window(DateRange(date(2026, 1, 5), date(2026, 1, 5)))
    assert (window.low_date, window.high_date) == (date(2026, 1, 5), date(2026, 1, 5))


def test_the_first_and_last_days_do_not_overflow() -> None:
    for name in ("Asia/Tokyo", "Etc/GMT+12", "Pacific/Kiritimati"):
        window = Zone(name).window(DateRange(date.min, date.max))
        assert window.low <= window.high


def test_zone_names() -> None:
    assert parse_zone(None) == UTC_ZONE
    assert parse_zone("UTC").is_utc
    assert not parse_zone("Etc/UTC").is_utc
    assert parse_zone("Asia/Kathmandu").name == "Asia/Kathmandu"
    assert {"UTC", "Asia/Kolkata", "Australia/Eucla", "America/Los_Angeles"} <= known_zones()
    assert not {"localtime", "posixrules"} & known_zones()


def test_a_zone_the_warehouse_does_not_know_is_a_400(
    api: ApiClient, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Whenever the warehouse is asked for a row's local day (every quarter hour of the window
    # on its local day, as while a build runs) that is a 400. Otherwise local days come from
    # zoneinfo alone (the plan, the window's ends) and the zone serves, however long the range;
    # totals (the AI body, member usage) need only the window.
    with zone_only_zoneinfo_knows(monkeypatch, tmp_path) as zone:
        long = {"start_date": "2000-01-01", "end_date": "2100-12-31", "tz": zone}
        by_day = (("sms-usage", long), ("voice-usage", long), ("ai-usage", {**long, "format": "csv"}))
        for path, query in by_day:
            response = api.get(f"{W1_REPORTS}/{path}", keys["admin"], query)
            assert response.status_code == 200, response.get_data(as_text=True)
        monkeypatch.setattr(reports.common, "reads_unsettled", lambda _database: True)
        for path, query in by_day:
            response = api.get(f"{W1_REPORTS}/{path}", keys["admin"], query)
            assert response.status_code == 400, response.get_data(as_text=True)
            assert error_of(response)["message"] == "tz names a time zone the warehouse does not know."
        assert api.get(f"{W1_REPORTS}/ai-usage", keys["admin"], long).status_code == 200


def test_plans_cover_the_dates_staging_keeps() -> None:
    # a plan leaves out the UTC dates no mart row can have: those outside the macro that
    # keeps events (a wider macro would otherwise lose rows from zoned lists)
    macro = (Path(__file__).resolve().parents[2] / "macros" / "utc_date.sql").read_text()
    bounds = re.findall(r"cast\('([0-9-]{10}) 00:00:00\+00' as timestamp with time zone\)", macro)
    last_date = zones.LAST_EVENT_DATE + timedelta(days=1)
    assert bounds == [zones.FIRST_EVENT_DATE.isoformat(), last_date.isoformat()]


def _plan_of(zone: str, start: str, end: str) -> list[tuple[str, str, str, Any, Any]] | None:
    read = reading(DateRange(date.fromisoformat(start), date.fromisoformat(end)), Zone(zone))
    if not read.planned:
        return None
    p = read.params
    return [
        (first.isoformat(), last.isoformat(), "-" if cut is None else f"{datetime.min + cut:%H:%M}",
         "-" if before is None else before, after)
        for first, last, cut, before, after in zip(
            p["plan_first"], p["plan_last"], p["plan_cut"], p["plan_before"], p["plan_after"], strict=True
        )
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "start", "end", "plan"),
    [
        # runs of UTC dates (first, last) cut alike: where local midnight cuts each date, and
        # the local days of the parts before and from the cut, in days from the UTC date
        # ("-": no cut). [04-30 07:00Z, 05-03 07:00Z): 00:00-07:00 UTC is the day before
        ("America/Los_Angeles", "2026-04-30", "2026-05-02", [("2026-04-30", "2026-05-03", "07:00", -1, 0)]),
        # 18:30-24:00 UTC is the next day in Kolkata
        ("Asia/Kolkata", "2026-05-01", "2026-05-02", [("2026-04-30", "2026-05-02", "18:30", 0, 1)]),
        # +14: 00:00-10:00 UTC is the same local day, the rest the next
        ("Pacific/Kiritimati", "2026-05-01", "2026-05-02", [("2026-04-30", "2026-05-02", "10:00", 0, 1)]),
        # London in winter is UTC: nothing is cut; in summer 23:00-24:00 is the next day
        ("Europe/London", "2026-01-05", "2026-01-07", [("2026-01-05", "2026-01-07", "-", "-", 0)]),
        ("Europe/London", "2026-07-06", "2026-07-07", [("2026-07-05", "2026-07-07", "23:00", 0, 1)]),
        # London's spring change at 01:00 UTC: 03-29 starts at 00:00Z and ends at 23:00Z
        ("Europe/London", "2026-03-29", "2026-03-29", [("2026-03-29", "2026-03-29", "23:00", 0, 1)]),
        # ... in a longer window it starts the summer run, not the end of the winter one; the
        # autumn change at 01:00 UTC leaves all of 10-25 on local 10-25 (a 25-hour day, no cut)
        ("Europe/London", "2026-03-27", "2026-03-31",
         [("2026-03-27", "2026-03-28", "-", "-", 0), ("2026-03-29", "2026-03-31", "23:00", 0, 1)]),
        ("Europe/London", "2026-10-24", "2026-10-26",
         [("2026-10-23", "2026-10-24", "23:00", 0, 1), ("2026-10-25", "2026-10-26", "-", "-", 0)]),
        # New York across the spring change: the cut moves from 05:00 to 04:00
        ("America/New_York", "2026-03-07", "2026-03-09",
         [("2026-03-07", "2026-03-08", "05:00", -1, 0), ("2026-03-09", "2026-03-10", "04:00", -1, 0)]),
        # Samoa skipped 2011-12-30: a UTC date with two local midnights is not planned
        ("Pacific/Apia", "2011-12-28", "2012-01-02", None),
        # St John's fell back at 00:01 (2010-11-07): local dates go 7, 6, 7 within a UTC date
        ("America/St_Johns", "2010-11-06", "2010-11-08", None),
        ("Antarctica/Casey", "2010-03-03", "2010-03-05", None),
        # Liberia kept -0:44:30 until 1972-01-07: midnight off the quarter hours is not planned
        ("Africa/Monrovia", "1971-06-01", "1971-06-02", None),
        ("Africa/Monrovia", "1972-06-01", "1972-06-02", [("1972-06-01", "1972-06-02", "-", "-", 0)]),
        # any length: six years are one run; only the dates that can hold events (1970-2099)
        # are planned, and a window with none of them has no runs at all
        ("Asia/Kolkata", "2020-01-01", "2026-01-01", [("2019-12-31", "2026-01-01", "18:30", 0, 1)]),
        ("Asia/Kolkata", "0001-01-01", "9999-12-31", [("1970-01-01", "2099-12-31", "18:30", 0, 1)]),
        ("America/New_York", "2150-01-01", "2150-12-31", []),
        # daylight saving since 1980: two runs a year (Berlin changes at 01:00 UTC, so each
        # change date is cut as the dates after it), after one run for 1970-1979
        ("Europe/Berlin", "1900-01-01", "2100-12-31", "241 runs, 1970-01-01 .. 2099-12-31"),
    ],
)  # fmt: skip
def test_the_plan_cuts_each_utc_date_at_local_midnight(
    zone: str, start: str, end: str, plan: list[tuple[str, str, str, Any, Any]] | str | None
) -> None:
    got = _plan_of(zone, start, end)
    if isinstance(plan, str):
        assert got is not None
        assert f"{len(got)} runs, {got[0][0]} .. {got[-1][1]}" == plan
        day = timedelta(days=1)
        assert all(
            earlier[1] == (date.fromisoformat(later[0]) - day).isoformat() for earlier, later in pairwise(got)
        )
        return
    assert got == plan
    assert not reading(DateRange(date(2026, 5, 1), date(2026, 5, 2)), UTC_ZONE).planned


def test_while_a_build_runs_zoned_reports_read_the_quarter_hours_alone(
    app: Flask, api: ApiClient, zkey: Key, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build commits a quarter-hourly mart before its daily sums: while it holds the
    build lock, no statement combines the two (the same numbers, read more slowly)."""
    database = app.extensions["usage_reports_db"]
    statements: list[str] = []
    for name in ("fetch_all", "fetch_one"):
        original = getattr(database, name)

        def spy(query: str, params: Any = None, original: Any = original) -> Any:
            statements.append(query)
            return original(query, params)

        monkeypatch.setattr(database, name, spy)
    query = {"start_date": "2026-03-01", "end_date": "2026-05-31", "tz": "America/Los_Angeles"}
    asks = [(path.format(member=MAYA), query) for path in REPORTS]
    asks += [("ai-usage", {**query, "format": "csv"}), (f"member-usage/{MAYA}", {**query, "format": "csv"})]

    def answers() -> list[bytes]:
        return [api.get(f"{ZONED}/{path}", zkey, asked).get_data() for path, asked in asks]

    free = answers()
    assert any("_daily" in statement.replace(caching.MART_TABLE_IDS, "") for statement in statements)
    statements.clear()
    with warehouse.connect() as lock:
        lock.execute("select pg_advisory_lock(%s)", (buildlock.BUILD_LOCK_KEY,))
        building = answers()
        lock.execute("select pg_advisory_unlock(%s)", (buildlock.BUILD_LOCK_KEY,))
    reports = [
        statement.replace(caching.MART_TABLE_IDS, "")  # names every mart (for the ETag), reads none
        for statement in statements
        if "marts." in statement and statement != buildlock.BUILD_RUNNING_SQL
    ]
    assert len(reports) == len(asks)
    assert not any("_daily" in statement for statement in reports)
    assert building == free


def test_the_build_lock_is_the_one_make_build_takes() -> None:
    source = (Path(__file__).resolve().parents[2] / "scripts" / "build.py").read_text()
    assert f"BUILD_LOCK_KEY = {buildlock.BUILD_LOCK_KEY:_}" in source


# Instants where a fixed-offset reading of a zone name and the zone's rules disagree: summer
# evenings (CET, EET and WET read as +1, +2 and +0 all year, against their summer time)
# and dates before 1968 (EST, HST and MST before the US zones they now name settled).
PROBE_INSTANTS = (
    "2026-07-01 21:45:00+00",
    "2026-07-01 22:30:00+00",
    "2026-07-01 23:15:00+00",
    "2026-01-15 23:30:00+00",
    "1960-07-01 22:30:00+00",
    "1945-07-01 09:45:00+00",
    "1920-07-01 09:15:00+00",
)


def test_the_warehouse_puts_every_zones_instants_on_the_local_days_zoneinfo_does(
    warehouse: Warehouse,
) -> None:
    # The quarter-hour statements let PostgreSQL place instants on local days (``at time zone``),
    # the planned ones use zoneinfo: both must agree for every name ``tz`` accepts. PostgreSQL
    # reads a bare name such as CET as a fixed-offset abbreviation first, so statements pass
    # ``Zone.warehouse_name`` (CET -> the zone with the same rules it links to).
    names = sorted(known_zones() - {"UTC"})
    instants = [datetime.fromisoformat(instant) for instant in PROBE_INSTANTS]
    with warehouse.connect() as conn:
        rows = conn.execute(
            """select name, instant, (instant at time zone sql_name)::date
               from unnest(%s::text[], %s::text[]) as zone (name, sql_name)
               cross join unnest(%s::timestamptz[]) as instant""",
            (names, [Zone(name).warehouse_name for name in names], instants),
        ).fetchall()
    # Before 1970 only the replaced names: no event is that old (staging quarantines it), and a
    # warehouse's own tzdata release may tell history differently (Debian's PostgreSQL 15 put
    # Europe/Oslo's 1960-07-01 22:30 UTC on another day than 2026c does).
    wrong = [
        (name, instant)
        for name, instant, day in rows
        if (instant.year >= 1970 or name in zones.ABBREVIATION_ZONES)
        and instant.astimezone(ZoneInfo(name)).date() != day
    ]
    assert len(rows) == len(names) * len(instants)
    assert wrong == []
    assert Zone("CET").warehouse_name == "Europe/Brussels"
    assert Zone("Europe/Berlin").warehouse_name == "Europe/Berlin"


def test_only_names_the_warehouse_reads_as_abbreviations_are_replaced_and_by_the_same_rules(
    warehouse: Warehouse,
) -> None:
    # Each replacement names a zone with byte for byte the same rules in the pinned tzdata (so
    # zoneinfo means the same by both); and the replaced names are exactly the accepted names
    # PostgreSQL's abbreviation list holds (UTC never reaches a statement).
    def rules(name: str) -> bytes:
        return resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).read_bytes()

    assert all(rules(name) == rules(zone) for name, zone in zones.ABBREVIATION_ZONES.items())
    with warehouse.connect() as conn:
        abbreviations = {row[0].upper() for row in conn.execute("select abbrev from pg_timezone_abbrevs")}
    readable_as_abbreviations = {name for name in known_zones() if name.upper() in abbreviations}
    assert readable_as_abbreviations - {"UTC"} == set(zones.ABBREVIATION_ZONES)


@pytest.mark.parametrize(
    ("start", "end", "changes"),
    [
        (date(2024, 3, 10), date(2024, 3, 10), True),  # New York's 23-hour day alone
        (date(2024, 3, 1), date(2024, 3, 10), True),  # ... as the range's last day
        (date(2024, 3, 10), date(2024, 3, 20), True),  # ... as its first
        (date(2024, 3, 1), date(2024, 3, 9), False),  # the day before it
        (date(2024, 3, 11), date(2024, 11, 2), False),  # summer time throughout
        (date(2024, 11, 3), date(2024, 11, 3), True),  # the 25-hour day
    ],
)
def test_clocks_change_checks_every_day_of_the_range(start: date, end: date, changes: bool) -> None:
    assert zones.clocks_change(Zone("America/New_York"), DateRange(start, end)) is changes
