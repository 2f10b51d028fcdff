"""Every report's numbers, order and rounding, worked out by hand from
tests/api/fixture_data.py and CONTRACT §4 (the arithmetic is in the comments)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.api import fixture_data as data
from tests.api.conftest import ApiClient, Key, Warehouse, body

W1_REPORTS = f"/api/v2/w/{data.W1}/reports"
MARCH = {"start_date": "2024-03-01", "end_date": "2024-03-31"}
D = Decimal


def report(api: ApiClient, key: Key, path: str, query: dict[str, str] | None = None) -> dict:
    response = api.get(f"{W1_REPORTS}/{path}", key, query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    return body(response)


def data_as_of(today: date) -> str:
    # the newest _loaded_at of any row in the marts: the rows placed around today
    return data.recent_loaded_at(today).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- AI -------------------------------------------------------------------------


def test_ai_usage_for_march(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "ai-usage", MARCH)
    # Valid W1 events in March (UTC): e1, e2, e3 (its later copy), e4, e5, e6, e7.
    # e8 is 04-01 UTC, e9 is 02-29 UTC, e10 has negative tokens.
    assert result == {
        "workspace_id": data.W1,
        "start_date": "2024-03-01",
        "end_date": "2024-03-31",
        "data_as_of": data_as_of(today),
        # d1 (delivered twice), d2, d3, d4, d5; d6 is in April, d7 is W2's
        "total_messages": 5,
        # prompt 100+200+300+10+1+40+1000 = 1651, completion 50+100+0+5+2+10+500 = 667
        "total_tokens": 2318,
        "total_prompt_tokens": 1651,
        "total_completion_tokens": 667,
        # cached 10+20+5+100; audio only on e4
        "total_cached_tokens": 135,
        "total_audio_input_tokens": 1000,
        "total_audio_output_tokens": 2000,
        # 0.1+0.2+0.3+0.25+0.55+0.000001+0.3
        "total_credits": D("1.700001"),
        "by_provider": [
            # openai: e1 150, e2 300, e4 15, e6 50 tokens; credits 0.1+0.2+0.25+0.000001
            {
                "provider": "openai",
                "total_tokens": 515,
                "total_cached_tokens": 35,
                "total_audio_input_tokens": 1000,
                "total_audio_output_tokens": 2000,
                "total_credits": D("0.550001"),
            },
            {
                "provider": "google",
                "total_tokens": 3,
                "total_cached_tokens": 0,
                "total_audio_input_tokens": 0,
                "total_audio_output_tokens": 0,
                "total_credits": D("0.55"),
            },
            # anthropic and azure tie at 0.3: by name
            {
                "provider": "anthropic",
                "total_tokens": 300,
                "total_cached_tokens": 0,
                "total_audio_input_tokens": 0,
                "total_audio_output_tokens": 0,
                "total_credits": D("0.3"),
            },
            {
                "provider": "azure",
                "total_tokens": 1500,
                "total_cached_tokens": 100,
                "total_audio_input_tokens": 0,
                "total_audio_output_tokens": 0,
                "total_credits": D("0.3"),
            },
        ],
        "by_type": [
            # chat: everything but e4: 150+300+300+3+50+1500 tokens, 1.700001-0.25 credits
            {
                "type": "chat",
                "total_tokens": 2303,
                "total_cached_tokens": 135,
                "total_audio_input_tokens": 0,
                "total_audio_output_tokens": 0,
                "total_credits": D("1.450001"),
            },
            {
                "type": "realtime",
                "total_tokens": 15,
                "total_cached_tokens": 0,
                "total_audio_input_tokens": 1000,
                "total_audio_output_tokens": 2000,
                "total_credits": D("0.25"),
            },
        ],
        "top_models": [
            {
                "model": "gemini-pro",
                "provider": "google",
                "type": "chat",
                "total_tokens": 3,
                "total_credits": D("0.55"),
            },
            # three-way tie at 0.3: model name, then provider
            {
                "model": "claude-sonnet",
                "provider": "anthropic",
                "type": "chat",
                "total_tokens": 300,
                "total_credits": D("0.3"),
            },
            {
                "model": "gpt-4o",
                "provider": "azure",
                "type": "chat",
                "total_tokens": 1500,
                "total_credits": D("0.3"),
            },
            # e1 + e2: 0.1 + 0.2 is exactly 0.3 (no float noise)
            {
                "model": "gpt-4o",
                "provider": "openai",
                "type": "chat",
                "total_tokens": 450,
                "total_credits": D("0.3"),
            },
            {
                "model": "gpt-4o-realtime",
                "provider": "openai",
                "type": "realtime",
                "total_tokens": 15,
                "total_credits": D("0.25"),
            },
            {
                "model": "gpt-4o-mini",
                "provider": "openai",
                "type": "chat",
                "total_tokens": 50,
                "total_credits": D("0.000001"),
            },
        ],
    }


def test_ai_credits_are_exact_json_numbers(api: ApiClient, keys: dict[str, Key]) -> None:
    text = api.get(f"{W1_REPORTS}/ai-usage", keys["admin"], MARCH).get_data(as_text=True)
    assert '"total_credits":1.700001' in text
    assert '"total_credits":0.3}' in text
    assert '"total_credits":0.000001}' in text
    assert "0.30000000000000004" not in text
    assert '"total_tokens":2318,' in text  # integers stay integers


def test_ai_utc_days_and_leap_day(api: ApiClient, keys: dict[str, Key]) -> None:
    # e9 was recorded 2024-03-01 01:00 at UTC+2: 2024-02-29 in UTC, 1+1 tokens, 8 credits
    result = report(api, keys["admin"], "ai-usage", {"start_date": "2024-02-29", "end_date": "2024-02-29"})
    assert (result["total_tokens"], result["total_credits"], result["total_messages"]) == (2, D(8), 0)
    assert [item["provider"] for item in result["by_provider"]] == ["openai"]
    # e8 was recorded 2024-03-31 23:30 at UTC-5: 2024-04-01 in UTC; d6 was sent then too
    result = report(api, keys["admin"], "ai-usage", {"start_date": "2024-04-01", "end_date": "2024-04-01"})
    assert (result["total_tokens"], result["total_credits"], result["total_messages"]) == (2, D(7), 1)


def test_ai_one_day(api: ApiClient, keys: dict[str, Key]) -> None:
    # 2024-03-03: e1, e2, e3 (e10 is invalid); d1, d2, d4
    result = report(api, keys["admin"], "ai-usage", {"start_date": "2024-03-03", "end_date": "2024-03-03"})
    assert result["total_tokens"] == 150 + 300 + 300
    assert result["total_credits"] == D("0.6")
    assert result["total_messages"] == 3
    assert [(item["provider"], item["total_credits"]) for item in result["by_provider"]] == [
        ("anthropic", D("0.3")),  # tie with openai's 0.1 + 0.2: by name
        ("openai", D("0.3")),
    ]


def test_ai_top_models_holds_at_most_ten(api: ApiClient, keys: dict[str, Key]) -> None:
    # W2 on 2024-03-03: models m01..m13 with k credits (m13 capped at 12, tying m12)
    response = api.get(
        f"/api/v2/w/{data.W2}/reports/ai-usage",
        keys["w2_admin"],
        {"start_date": "2024-03-03", "end_date": "2024-03-03"},
    )
    result = body(response)
    assert [item["model"] for item in result["top_models"]] == [
        "m12", "m13", "m11", "m10", "m09", "m08", "m07", "m06", "m05", "m04",
    ]  # fmt: skip
    assert [item["total_credits"] for item in result["top_models"][:3]] == [12, 12, 11]
    # 1+2+...+12 + 12 = 90 credits, 1+...+13 = 91 prompt tokens; by_type has one entry
    assert (result["total_credits"], result["total_tokens"]) == (90, 91)
    assert result["by_type"] == [
        {
            "type": "chat",
            "total_tokens": 91,
            "total_cached_tokens": 0,
            "total_audio_input_tokens": 0,
            "total_audio_output_tokens": 0,
            "total_credits": 90,
        }
    ]


def test_ai_lists_are_ordered_by_credits_then_by_name(api: ApiClient, keys: dict[str, Key]) -> None:
    """W2 on 2024-03-05: realtime (0.5 credits) before chat (0.2), though "chat" sorts first
    by name; on 2024-03-06 both have 0.3 credits, and the name decides."""
    url = f"/api/v2/w/{data.W2}/reports/ai-usage"
    first = body(api.get(url, keys["w2_admin"], {"start_date": "2024-03-05", "end_date": "2024-03-05"}))
    assert [(item["type"], item["total_credits"]) for item in first["by_type"]] == [
        ("realtime", D("0.5")),
        ("chat", D("0.2")),
    ]
    # prompt + completion (audio apart): the realtime event's 40 + 60 are audio
    assert [
        (item["total_tokens"], item["total_audio_input_tokens"], item["total_audio_output_tokens"])
        for item in first["by_type"]
    ] == [(0, 40, 60), (10, 0, 0)]
    assert [item["model"] for item in first["top_models"]] == ["gpt-4o-realtime", "gpt-4o"]
    tie = body(api.get(url, keys["w2_admin"], {"start_date": "2024-03-06", "end_date": "2024-03-06"}))
    assert [(item["type"], item["total_credits"]) for item in tie["by_type"]] == [
        ("chat", D("0.3")),
        ("realtime", D("0.3")),
    ]
    assert [item["provider"] for item in tie["by_provider"]] == ["anthropic", "openai"]


def test_ai_default_range_is_the_last_30_days(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "ai-usage")
    assert (result["start_date"], result["end_date"]) == (
        (today - timedelta(days=30)).isoformat(),
        today.isoformat(),
    )
    # e11 today (0.01) and e12 on today - 30 days (0.02); e13 on today - 31 days is out
    assert result["total_credits"] == D("0.03")
    assert result["total_tokens"] == 4
    assert [item["provider"] for item in result["by_provider"]] == ["anthropic", "openai"]
    # d8 today; d9 on the last day of the month counts only when that is today
    assert result["total_messages"] == 1 + (data.month_end(today) == today)


AI_TOTALS = (
    "total_tokens",
    "total_prompt_tokens",
    "total_completion_tokens",
    "total_cached_tokens",
    "total_audio_input_tokens",
    "total_audio_output_tokens",
    "total_credits",
)
AI_BREAKDOWN = (
    "total_tokens",
    "total_cached_tokens",
    "total_audio_input_tokens",
    "total_audio_output_tokens",
    "total_credits",
)


def expected_ai(events: list[tuple], start: date, end: date) -> dict:
    """The AI body's totals and breakdowns for start..end, added up in Python from staging."""
    inside = [event for event in events if start <= event[0] <= end]

    def sums(rows: list[tuple]) -> dict:
        return {name: sum((row[4 + index] for row in rows), 0) for index, name in enumerate(AI_TOTALS)}

    def by(position: int) -> dict:
        groups: dict = {}
        for event in inside:
            groups.setdefault(event[position], []).append(event)
        return {name: {field: sums(rows)[field] for field in AI_BREAKDOWN} for name, rows in groups.items()}

    models: dict = {}
    for event in inside:
        models.setdefault(event[1:4], []).append(event)
    return {
        **sums(inside),
        "by_provider": by(1),
        "by_type": by(3),
        "top_models": {
            key: (sums(rows)["total_tokens"], sums(rows)["total_credits"]) for key, rows in models.items()
        },
    }


def test_ai_usage_over_every_range_matches_the_events(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    """The UTC AI body (the running totals of the range's last day less those before its
    start) equals the events added up, for every range between the days around W1's
    activity: before it, across it, on days without any, after it."""
    events = warehouse.ai_events(data.W1)
    days = sorted({event[0] for event in events})
    edges = sorted({day + timedelta(days=shift) for day in days for shift in (-1, 0, 1)} | {date(2000, 1, 1)})
    assert len(days) >= 4 and len({event[1:4] for event in events}) <= 10  # every model is a top model
    for start in edges:
        for end in (edge for edge in edges if edge >= start):
            result = report(api, keys["admin"], "ai-usage", {"start_date": str(start), "end_date": str(end)})
            got = {
                **{name: result[name] for name in AI_TOTALS},
                "by_provider": {row.pop("provider"): row for row in result["by_provider"]},
                "by_type": {row.pop("type"): row for row in result["by_type"]},
                "top_models": {
                    (row["provider"], row["model"], row["type"]): (row["total_tokens"], row["total_credits"])
                    for row in result["top_models"]
                },
            }
            assert got == expected_ai(events, start, end), (start, end)


# --- SMS ------------------------------------------------------------------------


def test_sms_usage_for_march(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "sms-usage", MARCH)
    # s1 (delivered twice) out "Hello" 5 chars 1 segment; s2 in 161 GSM-7 chars = 2 segments (153 + 8);
    # s3 out "Olá ç" UCS-2 5 chars 1 segment; s4 out "Hi" carrier_segments 3; s5 in "" 1 segment;
    # s6 out "€" carrier_segments 0 so computed: an extension character, 2 septets, 1 segment.
    # s7 has an invalid direction, s8 is in April, s9 is W2's.
    assert result == {
        "workspaceId": data.W1,
        "startDate": "2024-03-01",
        "endDate": "2024-03-31",
        "dataAsOf": data_as_of(today),
        "totalMessages": 6,
        "totalInbound": 2,
        "totalOutbound": 4,
        "totalCharacters": 5 + 161 + 5 + 2 + 0 + 1,
        "totalSegments": 1 + 2 + 1 + 3 + 1 + 1,
        "totalInboundSegments": 2 + 1,
        "totalOutboundSegments": 1 + 1 + 3 + 1,
        "rows": [
            {
                "date": "2024-03-03",
                "phoneNumber": data.N1,
                "inbound": 1,
                "outbound": 1,
                "characters": 166,
                "segments": 3,
                "inboundSegments": 2,
                "outboundSegments": 1,
            },
            {
                "date": "2024-03-03",
                "phoneNumber": data.N2,
                "inbound": 0,
                "outbound": 1,
                "characters": 5,
                "segments": 1,
                "inboundSegments": 0,
                "outboundSegments": 1,
            },
            {
                "date": "2024-03-04",
                "phoneNumber": data.N1,
                "inbound": 0,
                "outbound": 2,
                "characters": 3,
                "segments": 4,
                "inboundSegments": 0,
                "outboundSegments": 4,
            },
            {
                "date": "2024-03-04",
                "phoneNumber": data.N2,
                "inbound": 1,
                "outbound": 0,
                "characters": 0,
                "segments": 1,
                "inboundSegments": 1,
                "outboundSegments": 0,
            },
        ],
    }


def test_sms_default_range_is_the_current_month(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "sms-usage")
    first, last = today.replace(day=1), data.month_end(today)
    assert (result["startDate"], result["endDate"]) == (first.isoformat(), last.isoformat())
    # s10 today out "ok", s11 on the last day in "yo"; s12 on the day before the month is out
    assert (result["totalMessages"], result["totalInbound"], result["totalOutbound"]) == (2, 1, 1)
    assert (result["totalCharacters"], result["totalSegments"]) == (4, 2)
    assert [(row["date"], row["phoneNumber"]) for row in result["rows"]] == [
        (today.isoformat(), data.N1),
        (last.isoformat(), data.N2),
    ]


# --- phone ----------------------------------------------------------------------


def test_phone_usage_for_march(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "phone-usage", MARCH)
    # k1 completed 90.5 s -> 91 (halves up); k2 10.4 s -> 10; k3 started 03-03 23:59:50, 30 s, on 03-03;
    # k7 0.5 s -> 1. k4 in progress, k5 busy, k6 no end: not finished. k8 started 04-01 UTC. k9 is W2's.
    assert result == {
        "workspaceId": data.W1,
        "startDate": "2024-03-01",
        "endDate": "2024-03-31",
        "dataAsOf": data_as_of(today),
        "totalCalls": 4,
        "totalInbound": 2,
        "totalOutbound": 2,
        "totalDurationSeconds": 91 + 10 + 30 + 1,
        "rows": [
            {
                "date": "2024-03-03",
                "phoneNumber": data.N1,
                "inbound": 1,
                "outbound": 1,
                "totalDurationSeconds": 101,
            },
            {
                "date": "2024-03-03",
                "phoneNumber": data.N2,
                "inbound": 1,
                "outbound": 0,
                "totalDurationSeconds": 30,
            },
            {
                "date": "2024-03-04",
                "phoneNumber": data.N1,
                "inbound": 0,
                "outbound": 1,
                "totalDurationSeconds": 1,
            },
        ],
    }


def test_phone_usage_over_every_range_matches_the_calls(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    """The UTC phone body (the day texts of phone_usage_daily_lists and its running totals
    less those before the start) equals the finished calls added up, for every range
    between the days around W1's calls."""
    calls = warehouse.finished_calls(data.W1)
    days = sorted({call[0] for call in calls})
    edges = sorted({day + timedelta(days=shift) for day in days for shift in (-1, 0, 1)} | {date(2000, 1, 1)})
    assert len(days) >= 3
    for start in edges:
        for end in (edge for edge in edges if edge >= start):
            result = report(
                api, keys["admin"], "phone-usage", {"start_date": str(start), "end_date": str(end)}
            )
            inside = sorted(call for call in calls if start <= call[0] <= end)
            assert result["rows"] == [
                {"date": day.isoformat(), "phoneNumber": number, "inbound": inbound, "outbound": outbound,
                 "totalDurationSeconds": seconds}
                for day, number, inbound, outbound, seconds in inside
            ], (start, end)  # fmt: skip
            assert result["totalInbound"] == sum(call[2] for call in inside)
            assert result["totalOutbound"] == sum(call[3] for call in inside)
            assert result["totalCalls"] == result["totalInbound"] + result["totalOutbound"]
            assert result["totalDurationSeconds"] == sum(call[4] for call in inside)


def test_phone_default_range_is_the_current_month(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "phone-usage")
    assert (result["startDate"], result["endDate"]) == (
        today.replace(day=1).isoformat(),
        data.month_end(today).isoformat(),
    )
    # k10: today, outbound, 10 s
    assert result["rows"] == [
        {
            "date": today.isoformat(),
            "phoneNumber": data.N1,
            "inbound": 0,
            "outbound": 1,
            "totalDurationSeconds": 10,
        }
    ]
    assert (result["totalCalls"], result["totalDurationSeconds"]) == (1, 10)


# --- voice ----------------------------------------------------------------------


def test_voice_usage_for_march(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "voice-usage", MARCH)
    # STT: t1 12.5 + t2 0.25 (deepgram, 03-03), t4 1.1 (openai, 03-03), t3 60.125 (openai, 03-04),
    # t5 0.1 + t6 0.2 (azure, 03-05); t7 is negative (invalid), t8 is W2's.
    # TTS: u1 100 (elevenlabs, 03-03), u2 50 (elevenlabs, 03-04), u3 7 (openai, 03-04).
    assert result == {
        "workspaceId": data.W1,
        "startDate": "2024-03-01",
        "endDate": "2024-03-31",
        "dataAsOf": data_as_of(today),
        "totalSttDurationSeconds": D("74.275"),  # 12.5+0.25+1.1+60.125+0.1+0.2
        "totalSttMessages": 6,
        "totalTtsCharacters": 157,
        "totalTtsMessages": 3,
        "sttByProvider": [
            {"provider": "azure", "model": "speech", "durationSeconds": D("0.3"), "messages": 2},
            {"provider": "deepgram", "model": "nova-2", "durationSeconds": D("12.75"), "messages": 2},
            {"provider": "openai", "model": "whisper-1", "durationSeconds": D("61.225"), "messages": 2},
        ],
        "ttsByProvider": [
            {"provider": "elevenlabs", "model": "turbo", "characters": 150, "messages": 2},
            {"provider": "openai", "model": "tts-1", "characters": 7, "messages": 1},
        ],
        "sttRows": [
            {
                "date": "2024-03-03",
                "provider": "deepgram",
                "model": "nova-2",
                "durationSeconds": D("12.75"),
                "messages": 2,
            },
            {
                "date": "2024-03-03",
                "provider": "openai",
                "model": "whisper-1",
                "durationSeconds": D("1.1"),
                "messages": 1,
            },
            {
                "date": "2024-03-04",
                "provider": "openai",
                "model": "whisper-1",
                "durationSeconds": D("60.125"),
                "messages": 1,
            },
            {
                "date": "2024-03-05",
                "provider": "azure",
                "model": "speech",
                "durationSeconds": D("0.3"),
                "messages": 2,
            },
        ],
        "ttsRows": [
            {
                "date": "2024-03-03",
                "provider": "elevenlabs",
                "model": "turbo",
                "characters": 100,
                "messages": 1,
            },
            {
                "date": "2024-03-04",
                "provider": "elevenlabs",
                "model": "turbo",
                "characters": 50,
                "messages": 1,
            },
            {"date": "2024-03-04", "provider": "openai", "model": "tts-1", "characters": 7, "messages": 1},
        ],
    }


def test_voice_seconds_are_exact_json_numbers(api: ApiClient, keys: dict[str, Key]) -> None:
    text = api.get(f"{W1_REPORTS}/voice-usage", keys["admin"], MARCH).get_data(as_text=True)
    assert '"totalSttDurationSeconds":74.275,' in text
    assert '"durationSeconds":12.75,' in text
    assert '"durationSeconds":0.3,' in text


def expected_voice(events: list[tuple], start: date, end: date) -> dict:
    """The voice body's totals and lists for start..end, added up in Python from staging's events."""
    inside = [event for event in events if start <= event[1] <= end]
    measure = {"stt": "durationSeconds", "tts": "characters"}
    expected: dict = {}
    for kind in ("stt", "tts"):
        mine = [event for event in inside if event[0] == kind]
        models: dict[tuple[str, str], list] = {}
        for _, _, provider, model, messages, amount in mine:
            total = models.setdefault((provider, model), [0, 0])
            total[0] += messages
            total[1] += amount
        expected[f"{kind}ByProvider"] = [
            {"provider": provider, "model": model, measure[kind]: D(amount), "messages": messages}
            for (provider, model), (messages, amount) in sorted(models.items())
        ]
        expected[f"{kind}Rows"] = [
            {
                "date": day.isoformat(),
                "provider": provider,
                "model": model,
                measure[kind]: D(amount),
                "messages": messages,
            }
            for _, day, provider, model, messages, amount in sorted(mine, key=lambda event: event[1:4])
        ]
    expected["totalSttDurationSeconds"] = sum((row["durationSeconds"] for row in expected["sttRows"]), D(0))
    expected["totalSttMessages"] = sum(row["messages"] for row in expected["sttRows"])
    expected["totalTtsCharacters"] = sum(row["characters"] for row in expected["ttsRows"])
    expected["totalTtsMessages"] = sum(row["messages"] for row in expected["ttsRows"])
    return expected


def test_voice_usage_over_every_range_matches_the_events(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    """The UTC voice body (read from voice_usage_daily_lists: day texts and running totals
    less those before the start) equals the events added up, for every range between the
    days around W1's activity: before it, across it, on days without any, after it."""
    events = warehouse.voice_events(data.W1)
    days = sorted({event[1] for event in events})
    edges = sorted({day + timedelta(days=shift) for day in days for shift in (-1, 0, 1)} | {date(2000, 1, 1)})
    assert len(days) >= 4 and any(event[0] == "tts" for event in events)
    for start in edges:
        for end in (edge for edge in edges if edge >= start):
            result = report(
                api, keys["admin"], "voice-usage", {"start_date": str(start), "end_date": str(end)}
            )
            expected = expected_voice(events, start, end)
            assert {key: result[key] for key in expected} == expected, (start, end)


def test_voice_default_range_is_the_current_month(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], "voice-usage")
    assert result["startDate"] == today.replace(day=1).isoformat()
    assert result["endDate"] == data.month_end(today).isoformat()
    # t9 today 2.5 s (deepgram), u4 today 9 characters (openai)
    assert result["sttRows"] == [
        {
            "date": today.isoformat(),
            "provider": "deepgram",
            "model": "nova-2",
            "durationSeconds": D("2.5"),
            "messages": 1,
        }
    ]
    assert (result["totalTtsCharacters"], result["totalTtsMessages"]) == (9, 1)


# --- member ---------------------------------------------------------------------


def test_member_usage_for_march(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    result = report(api, keys["admin"], f"member-usage/{data.ADA}", MARCH)
    # Ada owns c1 (03-03) and c2 (03-04); sent d1 (twice delivered) and d3; AI in her chats:
    # c1: e1 0.1/150, e2 0.2/300, e6 0.000001/50 (a summary); c2: e5 0.55/3.
    # e8 (April) and e9 (February) are in c1 but out of range; e7 is in the agent-only c4.
    assert result == {
        "workspaceId": data.W1,
        "memberId": data.ADA,
        "startDate": "2024-03-01",
        "endDate": "2024-03-31",
        "dataAsOf": data_as_of(today),
        "totalChats": 2,
        "totalMessages": 2,
        "totalCredits": D("0.850001"),
        "totalTokens": 503,
    }
    # Ben: c3, d4, e3's later copy (300 tokens, 0.3 credits)
    result = report(api, keys["admin"], f"member-usage/{data.BEN}", MARCH)
    assert (result["totalChats"], result["totalMessages"], result["totalCredits"], result["totalTokens"]) == (
        1,
        1,
        D("0.3"),
        300,
    )


def test_member_usage_default_range_is_month_to_date(
    api: ApiClient, keys: dict[str, Key], today: date
) -> None:
    result = report(api, keys["admin"], f"member-usage/{data.ADA}")
    assert (result["startDate"], result["endDate"]) == (today.replace(day=1).isoformat(), today.isoformat())
    # c_today and d8 today, e11 (0.01, 2 tokens) in c_today; d9 on the month's last day only if that is today
    assert result["totalChats"] == 1
    assert result["totalMessages"] == 1 + (data.month_end(today) == today)
    assert (result["totalCredits"], result["totalTokens"]) == (D("0.01"), 2)


# --- ranges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["ai-usage", "sms-usage", "phone-usage", "voice-usage", f"member-usage/{data.CLEO}"]
)
def test_empty_range_gives_zeros_and_empty_lists(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    result = report(api, keys["admin"], path, {"start_date": "2023-01-01", "end_date": "2023-01-31"})
    for name, value in result.items():
        if name in ("workspace_id", "workspaceId", "memberId", "data_as_of", "dataAsOf"):
            continue
        if name in ("start_date", "startDate"):
            assert value == "2023-01-01"
        elif name in ("end_date", "endDate"):
            assert value == "2023-01-31"
        elif isinstance(value, list):
            assert value == [], name
        else:
            assert value == 0 and not isinstance(value, bool), name


def test_a_very_long_range_is_fine(api: ApiClient, keys: dict[str, Key]) -> None:
    result = report(api, keys["admin"], "phone-usage", {"start_date": "0001-01-01", "end_date": "9999-12-31"})
    # March's 4 calls, k8 (April 2024) and k10 (today)
    assert result["totalCalls"] == 6


def test_reports_never_mix_workspaces(api: ApiClient, keys: dict[str, Key]) -> None:
    # W2 has one SMS and one call on W1's number N1, and 100 s of STT, on 2024-03-03
    day = {"start_date": "2024-03-03", "end_date": "2024-03-03"}
    w2 = f"/api/v2/w/{data.W2}/reports"
    sms = body(api.get(f"{w2}/sms-usage", keys["w2_admin"], day))
    assert (sms["totalMessages"], sms["totalCharacters"]) == (1, 2)
    phone = body(api.get(f"{w2}/phone-usage", keys["w2_admin"], day))
    assert (phone["totalCalls"], phone["totalDurationSeconds"]) == (1, 60)
    voice = body(api.get(f"{w2}/voice-usage", keys["w2_admin"], day))
    assert voice["totalSttDurationSeconds"] == 100
    ai = body(api.get(f"{w2}/ai-usage", keys["w2_admin"], day))
    assert ai["total_messages"] == 1  # d7
    # and W1's numbers for that day leave W2's out
    w1_sms = report(api, keys["admin"], "sms-usage", day)
    assert w1_sms["totalMessages"] == 3  # s1, s2, s3


def test_reports_answer_head_without_a_body(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.request(f"{W1_REPORTS}/sms-usage", keys["admin"], MARCH, method="HEAD")
    assert response.status_code == 200
    assert response.get_data() == b""
