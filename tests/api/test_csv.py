"""Reports as CSV (CONTRACT §6): negotiation, the file, exact lines worked by
hand from tests/api/zone_data.py, RFC 4180 quoting, and lines that add up to
the JSON totals."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from api.csvexport import PHONE_COLUMNS, SMS_COLUMNS, VOICE_COLUMNS
from tests.api import fixture_data as data
from tests.api import name_data
from tests.api.conftest import BOTH, ApiClient, Key, Warehouse, body, create_key_with_cli, error_of
from tests.api.test_caching import build_lock_held
from tests.api.test_csvsql import csv_cell
from tests.api.zone_data import MAYA, WZ

D = Decimal
W1_REPORTS = f"/api/v2/w/{data.W1}/reports"
ZONED = f"/api/v2/w/{WZ}/reports"
REPORTS = ["ai-usage", "sms-usage", "phone-usage", "voice-usage", "member-usage/{member}"]
MARCH = {"start_date": "2024-03-01", "end_date": "2024-03-31"}
CSV_TYPE = "text/csv; charset=utf-8"


@pytest.fixture(scope="module")
def zkey(app: Flask, keys: dict[str, Key]) -> Key:
    return create_key_with_cli(app, WZ, MAYA, "Zoneco CSV", BOTH)


def csv_text(
    api: ApiClient, key: Key, url: str, query: dict[str, str], headers: dict[str, str] | None = None
) -> str:
    response = api.get(url, key, {**query, "format": "csv"} if headers is None else query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == CSV_TYPE
    return response.get_data().decode("utf-8")


def csv_lines(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


# --- negotiation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ({}, None, "application/json"),
        ({"format": "csv"}, None, CSV_TYPE),
        ({"format": "json"}, None, "application/json"),
        ({}, "text/csv", CSV_TYPE),
        ({}, "text/*", CSV_TYPE),
        ({}, "text/csv, */*;q=0.1", CSV_TYPE),
        ({}, "application/json;q=0.5, text/csv", CSV_TYPE),
        ({}, "text/csv;q=0.5, application/json", "application/json"),
        ({}, "application/json, text/csv", "application/json"),  # a tie: JSON
        ({}, "*/*", "application/json"),
        ({}, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
        ({}, "text/plain", "application/json"),  # nothing we make: JSON, never 406
        ({}, "text/csv; charset=utf-8", CSV_TYPE),  # parameters do not change the type
        ({}, "text/csv;header=present", CSV_TYPE),
        ({}, "application/json;q=0.5, text/csv;charset=utf-8", CSV_TYPE),
        ({}, "text/csv;charset=utf-8;q=0.4, application/json", "application/json"),
        ({"format": "json"}, "text/csv", "application/json"),  # the parameter wins
        ({"format": "csv"}, "application/json", CSV_TYPE),
    ],
)
def test_format_and_accept(
    api: ApiClient, keys: dict[str, Key], query: dict[str, str], accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else None
    for path in REPORTS:
        url = f"{W1_REPORTS}/{path.format(member=data.ADA)}"
        response = api.get(url, keys["admin"], {**MARCH, **query}, headers=headers)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == expected, (path, query, accept)
        assert ("Content-Disposition" in response.headers) == (expected == CSV_TYPE)


@pytest.mark.parametrize("value", ["xml", "CSV", "", "json,csv", "text/csv"])
def test_an_unknown_format_is_a_400_naming_format(api: ApiClient, keys: dict[str, Key], value: str) -> None:
    for path in REPORTS:
        response = api.get(f"{W1_REPORTS}/{path.format(member=data.ADA)}", keys["admin"], {"format": value})
        assert response.status_code == 400
        error = error_of(response)
        assert error == {"status": 400, "code": "invalid_parameter", "message": "format must be json or csv."}


def test_format_given_twice_is_a_400(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"{W1_REPORTS}/ai-usage", keys["admin"], [("format", "csv"), ("format", "csv")])
    assert response.status_code == 400
    assert "format" in error_of(response)["message"]


# --- the file -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("ai-usage", MARCH, f"ai-usage_{data.W1}_2024-03-01_2024-03-31.csv"),
        ("sms-usage", MARCH, f"sms-usage_{data.W1}_2024-03-01_2024-03-31.csv"),
        ("phone-usage", MARCH, f"phone-usage_{data.W1}_2024-03-01_2024-03-31.csv"),
        ("voice-usage", {**MARCH, "tz": "UTC"}, f"voice-usage_{data.W1}_2024-03-01_2024-03-31.csv"),
        (
            f"member-usage/{data.ADA}",
            {**MARCH, "tz": "America/Los_Angeles"},
            f"member-usage_{data.W1}_{data.ADA}_2024-03-01_2024-03-31_America-Los_Angeles.csv",
        ),
        (
            "ai-usage",
            {**MARCH, "tz": "Etc/GMT+12"},
            f"ai-usage_{data.W1}_2024-03-01_2024-03-31_Etc-GMT+12.csv",
        ),
        (  # every slash of the zone, or the name would hold a directory
            "phone-usage",
            {**MARCH, "tz": "America/Argentina/Buenos_Aires"},
            f"phone-usage_{data.W1}_2024-03-01_2024-03-31_America-Argentina-Buenos_Aires.csv",
        ),
    ],
)
def test_the_file_name_names_report_workspace_range_and_zone(
    api: ApiClient, keys: dict[str, Key], path: str, query: dict[str, str], name: str
) -> None:
    response = api.get(f"{W1_REPORTS}/{path}", keys["admin"], {**query, "format": "csv"})
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'


def test_an_empty_range_is_the_header_alone(api: ApiClient, keys: dict[str, Key]) -> None:
    empty = {"start_date": "2020-01-01", "end_date": "2020-01-31"}
    headers = {
        "ai-usage": "date,provider,model,type,prompt_tokens,completion_tokens,total_tokens,cached_tokens,"
        "audio_input_tokens,audio_output_tokens,credits",
        "sms-usage": "date,phone_number,inbound,outbound,characters,segments,inbound_segments,outbound_segments",
        "phone-usage": "date,phone_number,inbound,outbound,total_duration_seconds",
        "voice-usage": "date,kind,provider,model,messages,duration_seconds,characters",
        f"member-usage/{data.ADA}": "date,chats,messages,credits,tokens",
    }
    for path, header in headers.items():
        assert csv_text(api, keys["admin"], f"{W1_REPORTS}/{path}", empty) == header + "\r\n"


def test_head_gives_the_headers_without_the_file(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.request(
        f"{W1_REPORTS}/sms-usage", keys["admin"], {**MARCH, "format": "csv"}, method="HEAD"
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CSV_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.get_data() == b""


# --- exact lines, by hand (zone_data.py; A7 is the odd model and number) ---------------------

LOS_ANGELES = {"start_date": "2026-04-30", "end_date": "2026-05-01", "tz": "America/Los_Angeles"}
ODD_NUMBER_FIELD = '"+1 555 0100, ""main"""'

# 2026-04-30 in Los Angeles holds A1..A8 (255; A7 = 64 on the odd model and number), 05-01 holds A9 (256)
EXPECTED_LINES = {
    "ai-usage": [
        "date,provider,model,type,prompt_tokens,completion_tokens,total_tokens,cached_tokens,"
        "audio_input_tokens,audio_output_tokens,credits",
        "2026-04-30,openai,gpt-4o,chat,191,0,191,0,0,0,191",
        '2026-04-30,openai,"gpt-4o, ""mini""",chat,64,0,64,0,0,0,64',
        "2026-05-01,openai,gpt-4o,chat,256,0,256,0,0,0,256",
    ],
    "sms-usage": [
        "date,phone_number,inbound,outbound,characters,segments,inbound_segments,outbound_segments",
        f"2026-04-30,{ODD_NUMBER_FIELD},0,1,2,64,0,64",
        "2026-04-30,+15550100000,0,7,14,191,0,191",
        "2026-05-01,+15550100000,0,1,2,256,0,256",
    ],
    "phone-usage": [
        "date,phone_number,inbound,outbound,total_duration_seconds",
        f"2026-04-30,{ODD_NUMBER_FIELD},1,0,64",
        "2026-04-30,+15550100000,7,0,191",
        "2026-05-01,+15550100000,1,0,256",
    ],
    "voice-usage": [
        # STT seconds are weight / 8: 255 / 8 = 31.875
        "date,kind,provider,model,messages,duration_seconds,characters",
        "2026-04-30,stt,deepgram,nova-2,8,31.875,",
        "2026-04-30,tts,azure,turbo,8,,255",
        "2026-05-01,stt,deepgram,nova-2,1,32,",
        "2026-05-01,tts,azure,turbo,1,,256",
    ],
    # chats ZC1 (created at A1) and ZC4 (at A9)
    f"member-usage/{MAYA}": [
        "date,chats,messages,credits,tokens",
        "2026-04-30,1,8,255,255",
        "2026-05-01,1,1,256,256",
    ],
}


@pytest.mark.parametrize("path", list(EXPECTED_LINES))
def test_exact_lines_in_los_angeles(api: ApiClient, zkey: Key, path: str) -> None:
    text = csv_text(api, zkey, f"{ZONED}/{path}", LOS_ANGELES)
    assert text == "".join(line + "\r\n" for line in EXPECTED_LINES[path])


def test_quoted_values_read_back(api: ApiClient, zkey: Key) -> None:
    ai = csv_lines(csv_text(api, zkey, f"{ZONED}/ai-usage", LOS_ANGELES))
    assert [line["model"] for line in ai] == ["gpt-4o", 'gpt-4o, "mini"', "gpt-4o"]
    sms = csv_lines(csv_text(api, zkey, f"{ZONED}/sms-usage", LOS_ANGELES, headers={"Accept": "text/csv"}))
    assert sms[0]["phone_number"] == '+1 555 0100, "main"'


# --- the lines add up to the JSON totals -------------------------------------------------------


def _sum(lines: list[dict[str, str]], column: str, kind: str | None = None) -> Any:
    values = [line[column] for line in lines if kind is None or line["kind"] == kind]
    return sum((D(value) for value in values if value != ""), D(0))


def assert_adds_up(path: str, lines: list[dict[str, str]], result: dict[str, Any]) -> None:
    if path == "ai-usage":
        for column in ("prompt_tokens", "completion_tokens", "cached_tokens", "audio_input_tokens",
                       "audio_output_tokens", "credits", "tokens"):  # fmt: skip
            name = "total_tokens" if column == "tokens" else f"total_{column}"
            source = "total_tokens" if column == "tokens" else column
            assert _sum(lines, source) == result[name], column
        for group, label in (("provider", "provider"), ("type", "type")):
            sums: dict[str, list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
            for line in lines:
                sums[line[group]][0] += D(line["total_tokens"])
                sums[line[group]][1] += D(line["credits"])
            listed = result["by_provider" if group == "provider" else "by_type"]
            assert {item[label]: [item["total_tokens"], item["total_credits"]] for item in listed} == dict(
                sums
            )
    elif path == "sms-usage":
        pairs = {"inbound": "totalInbound", "outbound": "totalOutbound", "characters": "totalCharacters",
                 "segments": "totalSegments", "inbound_segments": "totalInboundSegments",
                 "outbound_segments": "totalOutboundSegments"}  # fmt: skip
        for column, total in pairs.items():
            assert _sum(lines, column) == result[total], column
        assert _sum(lines, "inbound") + _sum(lines, "outbound") == result["totalMessages"]
    elif path == "phone-usage":
        assert _sum(lines, "inbound") == result["totalInbound"]
        assert _sum(lines, "outbound") == result["totalOutbound"]
        assert _sum(lines, "inbound") + _sum(lines, "outbound") == result["totalCalls"]
        assert _sum(lines, "total_duration_seconds") == result["totalDurationSeconds"]
    elif path == "voice-usage":
        assert _sum(lines, "duration_seconds", "stt") == result["totalSttDurationSeconds"]
        assert _sum(lines, "messages", "stt") == result["totalSttMessages"]
        assert _sum(lines, "characters", "tts") == result["totalTtsCharacters"]
        assert _sum(lines, "messages", "tts") == result["totalTtsMessages"]
        assert {line["kind"] for line in lines} <= {"stt", "tts"}
    else:
        pairs = {
            "chats": "totalChats",
            "messages": "totalMessages",
            "credits": "totalCredits",
            "tokens": "totalTokens",
        }
        for column, total in pairs.items():
            assert _sum(lines, column) == result[total], column


@pytest.mark.parametrize("zone", [None, "Asia/Kolkata", "America/Los_Angeles", "America/New_York"])
@pytest.mark.parametrize("path", REPORTS)
def test_csv_lines_add_up_to_the_json_totals(
    api: ApiClient, keys: dict[str, Key], zkey: Key, path: str, zone: str | None
) -> None:
    ranges = [MARCH, {"start_date": "2000-01-01", "end_date": "2100-12-31"}]
    cases = [(W1_REPORTS, keys["admin"], data.ADA, query) for query in ranges]
    cases.append((ZONED, zkey, MAYA, {"start_date": "2026-01-01", "end_date": "2026-12-31"}))
    for base, key, member, query in cases:
        url = f"{base}/{path.format(member=member)}"
        if zone is not None:
            query = {**query, "tz": zone}
        result = body(api.get(url, key, query))
        lines = csv_lines(csv_text(api, key, url, query))
        assert lines or all(not value for name, value in result.items() if name.startswith("total")), url
        assert_adds_up(path.split("/")[0], lines, result)


# --- the lines are the JSON rows -------------------------------------------------------------

# Each list report's CSV columns and the JSON row keys they come from (None: not in that row).
ROW_KEYS = {
    "sms-usage": {"rows": ("date", "phoneNumber", "inbound", "outbound", "characters", "segments",
                           "inboundSegments", "outboundSegments")},
    "phone-usage": {"rows": ("date", "phoneNumber", "inbound", "outbound", "totalDurationSeconds")},
    "voice-usage": {"sttRows": ("date", "stt", "provider", "model", "messages", "durationSeconds", None),
                    "ttsRows": ("date", "tts", "provider", "model", "messages", None, "characters")},
}  # fmt: skip


COLUMNS = {"sms-usage": SMS_COLUMNS, "phone-usage": PHONE_COLUMNS, "voice-usage": VOICE_COLUMNS}


def python_csv(result: dict[str, Any], path: str) -> str:
    """The lines Python's csv module writes for the body's rows (voice: STT and TTS rows in
    one file, by date, kind, provider, model; the others in the body's order)."""
    lines = []
    for name, keys in ROW_KEYS[path].items():
        for row in result[name]:
            cells = [key if key in ("stt", "tts") else row[key] if key else None for key in keys]
            lines.append([csv_cell(cell) for cell in cells])
    if path == "voice-usage":
        lines.sort(key=lambda line: line[:4])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue()


@pytest.mark.parametrize("zone", [None, "Etc/UTC", "Asia/Kolkata", "America/Los_Angeles"])
@pytest.mark.parametrize("path", list(ROW_KEYS))
def test_csv_lines_are_the_json_rows(
    app: Flask, api: ApiClient, keys: dict[str, Key], zkey: Key, path: str, zone: str | None
) -> None:
    """The CSV statement reads the daily marts, not the lists the JSON reads (in UTC, texts the
    build prepared), and writes its own text: line for line it is the body's rows. WN's voice
    names need quoting (a quote, a tab and a line feed)."""
    nameco = create_key_with_cli(app, name_data.WN, name_data.NORA, f"Nameco rows {path} {zone}", BOTH)
    cases = [
        (W1_REPORTS, keys["admin"], {"start_date": "2000-01-01", "end_date": "2100-12-31"}),
        (ZONED, zkey, {"start_date": "2026-01-01", "end_date": "2026-12-31"}),
        (f"/api/v2/w/{name_data.WN}/reports", nameco, {"start_date": "2025-06-01", "end_date": "2025-06-04"}),
    ]
    seen = 0
    for base, key, query in cases:
        if zone is not None:
            query = {**query, "tz": zone}
        url = f"{base}/{path}"
        result = body(api.get(url, key, query))
        text = csv_text(api, key, url, query)
        header, _, lines = text.partition("\r\n")
        assert header == ",".join(COLUMNS[path])
        assert lines == python_csv(result, path), url
        seen += lines.count("\r\n")
    assert seen >= 5


def test_w1_march_by_hand(api: ApiClient, keys: dict[str, Key]) -> None:
    # the AI lines of W1 in March 2024 (tests/api/test_reports.py works the events out)
    lines = csv_lines(csv_text(api, keys["admin"], f"{W1_REPORTS}/ai-usage", MARCH))
    assert [(line["date"], line["provider"], line["model"], line["credits"]) for line in lines] == [
        ("2024-03-03", "anthropic", "claude-sonnet", "0.3"),  # e3, the copy that landed last
        ("2024-03-03", "openai", "gpt-4o", "0.3"),  # e1 + e2
        ("2024-03-04", "google", "gemini-pro", "0.55"),  # e5 at 23:59:59.999
        ("2024-03-04", "openai", "gpt-4o-realtime", "0.25"),
        ("2024-03-05", "openai", "gpt-4o-mini", "0.000001"),
        ("2024-03-06", "azure", "gpt-4o", "0.3"),
    ]


def test_ai_types_ties_and_free_models(app: Flask, api: ApiClient) -> None:
    """One model used as chat and as realtime, before the range and in it; two models of equal
    credits; a model that costs nothing (name_data.AI_EVENTS). The JSON groups by model,
    provider and type, ties by model name then provider, and the CSV has a line for every
    day, provider, model and type with events, free ones too, adding up to the totals."""
    key = create_key_with_cli(app, name_data.WN, name_data.NORA, "Nameco AI", BOTH)
    url = f"/api/v2/w/{name_data.WN}/reports/ai-usage"
    query = {"start_date": "2025-06-01", "end_date": "2025-06-02"}
    report = body(api.get(url, key, query))
    assert [
        (m["model"], m["provider"], m["type"], m["total_tokens"], m["total_credits"])
        for m in report["top_models"]
    ] == [
        ("gpt-x", "openai", "realtime", 30, 3),
        ("gpt-x", "openai", "chat", 20, 2),
        ("alpha", "zeta", "chat", 5, Decimal("0.5")),
        ("zulu", "alpha", "chat", 6, Decimal("0.5")),
        ("gratis", "free", "chat", 7, 0),
    ]
    assert [(t["type"], t["total_tokens"], t["total_credits"]) for t in report["by_type"]] == [
        ("chat", 38, 3),  # 2 + 0.5 + 0.5 + 0: tied with realtime, so by name
        ("realtime", 30, 3),
    ]
    assert (report["total_tokens"], report["total_credits"]) == (68, 6)
    lines = csv_lines(api.get(url, key, {**query, "format": "csv"}).get_data(as_text=True))
    assert [(line["date"], line["provider"], line["model"], line["type"], line["total_tokens"], line["credits"])
            for line in lines] == [
        ("2025-06-01", "alpha", "zulu", "chat", "6", "0.5"),
        ("2025-06-01", "openai", "gpt-x", "chat", "20", "2"),
        ("2025-06-01", "zeta", "alpha", "chat", "5", "0.5"),
        ("2025-06-02", "free", "gratis", "chat", "7", "0"),
        ("2025-06-02", "openai", "gpt-x", "realtime", "30", "3"),
    ]  # fmt: skip
    assert sum(int(line["total_tokens"]) for line in lines) == report["total_tokens"]


# --- while a build runs ----------------------------------------------------------------------

# A build half-way: a daily mart committed with a change the marts made from it (the lists,
# the AI running totals) do not hold yet.
HALF_BUILT = {
    "ai-usage": "update marts.ai_usage_daily set credits = credits + 1",
    "sms-usage": "update marts.sms_usage_daily set characters = characters + 100",
    "phone-usage": "update marts.phone_usage_daily set duration_seconds = duration_seconds + 60",
    "voice-usage": "update marts.voice_usage_daily set characters = characters + 100, duration_seconds"
    " = duration_seconds + 1",
}
UNDONE = {
    "ai-usage": "update marts.ai_usage_daily set credits = credits - 1",
    "sms-usage": "update marts.sms_usage_daily set characters = characters - 100",
    "phone-usage": "update marts.phone_usage_daily set duration_seconds = duration_seconds - 60",
    "voice-usage": "update marts.voice_usage_daily set characters = characters - 100, duration_seconds"
    " = duration_seconds - 1",
}


@pytest.mark.parametrize("path", list(HALF_BUILT))
def test_while_a_build_runs_the_json_reads_the_marts_the_csv_reads(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, path: str
) -> None:
    """A build commits each mart on its own, the daily marts before the lists and running
    totals made from them, which a UTC body reads. While the build lock is held the body
    reads the daily marts, as the CSV does, so the two agree throughout a build; once it is
    over, the body reads the prepared marts again."""
    url = f"{W1_REPORTS}/{path}"
    where = " where workspace_id = %s and usage_date between %s and %s"
    before = body(api.get(url, keys["admin"], MARCH))
    with warehouse.connect() as conn:
        conn.execute(HALF_BUILT[path] + where, (data.W1, MARCH["start_date"], MARCH["end_date"]))
    try:
        with build_lock_held(warehouse):
            during = body(api.get(url, keys["admin"], MARCH))
            lines = csv_lines(csv_text(api, keys["admin"], url, MARCH))
        assert during != before  # the daily mart's change, read
        assert_adds_up(path, lines, during)
        assert body(api.get(url, keys["admin"], MARCH)) == before  # the prepared marts, as built
    finally:
        with warehouse.connect() as conn:
            conn.execute(UNDONE[path] + where, (data.W1, MARCH["start_date"], MARCH["end_date"]))
    assert body(api.get(url, keys["admin"], MARCH)) == before
