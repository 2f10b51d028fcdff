"""What the signed-in page shows: exactly what the key's scopes allow, every number equal
to the API's JSON for the same range, the range control and its validation, empty ranges,
the charts, and no external resource anywhere."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from psycopg.conninfo import make_conninfo

from api import charts, create_app, pageformat, pagesections
from api.params import DateRange, current_month
from api.zones import UTC_ZONE, Zone
from tests.api import fixture_data as data
from tests.api.conftest import Key, create_key_with_cli
from tests.page.conftest import (
    API,
    BOTH,
    REPORTS,
    SECRET,
    W1,
    Warehouse,
    api_json,
    expected_metrics,
    page_metrics,
    page_path,
    sign_in,
    signed_in_client,
    with_prefix,
)

RANGES = [
    pytest.param({"start_date": "2024-03-01", "end_date": "2024-03-31"}, id="march-2024"),
    pytest.param({"start_date": "2024-02-29", "end_date": "2024-04-01"}, id="leap-day-to-april"),
    pytest.param({}, id="api-defaults"),
    pytest.param({"start_date": "2024-03-04"}, id="start-only"),
    pytest.param({"start_date": "2024-03-03", "end_date": "2024-03-03"}, id="one-day"),
    pytest.param({"start_date": "2020-01-01", "end_date": "2020-01-31"}, id="empty"),
]


@pytest.fixture(scope="module")
def admin(app: Flask, keys: dict[str, Key]) -> FlaskClient:
    return signed_in_client(app, keys["admin"])


def get_page(client: FlaskClient, query: dict[str, str]) -> str:
    response = client.get(page_path(), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("query", RANGES)
def test_every_report_number_equals_the_api(
    admin: FlaskClient, keys: dict[str, Key], query: dict[str, str]
) -> None:
    shown = page_metrics(get_page(admin, query))
    data_as_of = set()
    for prefix, path in REPORTS.items():
        body = api_json(admin, f"{API}/{path}", keys["admin"], query)
        assert with_prefix(shown, prefix + ".") == expected_metrics(prefix, body), prefix
        data_as_of.add(body.get("data_as_of") or body.get("dataAsOf"))
    assert len(data_as_of) == 1
    assert shown["data_as_of"] == data_as_of.pop()


@pytest.mark.parametrize("query", RANGES)
def test_the_members_table_equals_member_usage(
    admin: FlaskClient, keys: dict[str, Key], query: dict[str, str]
) -> None:
    shown = page_metrics(get_page(admin, query))
    listed = {name.split("]")[0].removeprefix("members[") for name in with_prefix(shown, "members[")}
    active = {member["memberId"] for member in api_json(admin, f"{API}/members", keys["admin"])}
    assert active <= listed  # every active member, and deleted ones with usage in the range
    for member_id in listed:
        body = api_json(admin, f"{API}/reports/member-usage/{member_id}", keys["admin"], query)
        for field in ("totalChats", "totalMessages", "totalCredits", "totalTokens"):
            assert Decimal(shown[f"members[{member_id}].{field}"]) == body[field], (member_id, field)
        assert shown["members.startDate"] == body["startDate"]
        assert shown["members.endDate"] == body["endDate"]


def test_members_table_in_march_2024(admin: FlaskClient) -> None:
    html = get_page(admin, {"start_date": "2024-03-01", "end_date": "2024-03-31"})
    shown = page_metrics(html)
    # Ada owns c1 and c2 (see tests/api/test_reports.py for the arithmetic)
    ada = {field: shown[f"members[{data.ADA}].{field}"] for field in ("totalChats", "totalCredits")}
    assert ada == {"totalChats": "2", "totalCredits": "0.850001"}
    table = html[html.index('id="members-table"') :]
    # sorted by credits: Ada (0.850001), then Ben (0.3), then members without usage
    assert table.index(data.ADA) < table.index(data.BEN) < table.index(data.CLEO)
    assert "Eve Deleted" not in table  # deleted and without usage in the range
    assert "Zoë Foreign-Role" in table
    # W1's members and nobody else's: W2's Hal has chats and credits in the same March
    listed = {name.removeprefix("members[").split("]")[0] for name in shown if name.startswith("members[")}
    assert listed == {data.ADA, data.ADA_TWIN, data.BEN, data.CLEO, data.GUS, data.ZOE}
    assert data.HAL not in html and "Hal Other" not in html


def test_day_rows_name_their_day_as_the_rest_of_the_page_does(admin: FlaskClient) -> None:
    html = get_page(admin, {"start_date": "2024-03-01", "end_date": "2024-03-31"})
    sms_rows = html[html.index('id="sms-rows"') :]
    assert '<th scope="row"><time datetime="2024-03-03">3 Mar 2024</time></th>' in sms_rows
    assert '<th scope="row">2024-03-03</th>' not in html


def test_long_day_tables_show_the_latest_days(
    admin: FlaskClient, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = {"start_date": "2024-03-01", "end_date": "2024-04-30"}
    for prefix in ("sms", "phone"):
        rows = api_json(admin, f"{API}/{REPORTS[prefix]}", keys["admin"], query)["rows"]
        days = sorted({row["date"] for row in rows})
        assert len(days) >= 3, (prefix, days)  # the fixture has room to cut
        # a limit that holds the last two days whole but not the third from the end
        last_two = [row for row in rows if row["date"] in days[-2:]]
        monkeypatch.setattr(pagesections, "DAY_TABLE_ROWS", len(last_two))
        caption, summary, shown = _day_table(get_page(admin, query), prefix)
        assert shown == [row["date"] for row in last_two], prefix
        assert f"({len(rows)}; the latest {len(last_two)} shown, the CSV has every one)" in summary
        assert "every day row of the range, summed" in caption
        # one more: the third day from the end would be cut in two, so it is still left out
        monkeypatch.setattr(pagesections, "DAY_TABLE_ROWS", len(last_two) + 1)
        assert _day_table(get_page(admin, query), prefix)[2] == [row["date"] for row in last_two], prefix
        # a limit the last day alone exceeds: that day, whole (a range ending on the busiest day)
        busiest = max(days, key=lambda day: sum(row["date"] == day for row in rows))
        held = sum(row["date"] == busiest for row in rows)
        assert held >= 2, (prefix, busiest)  # the fixture has a day to keep whole
        monkeypatch.setattr(pagesections, "DAY_TABLE_ROWS", held - 1)
        to_busiest = {**query, "end_date": busiest}
        assert _day_table(get_page(admin, to_busiest), prefix)[2] == [busiest] * held, prefix
        monkeypatch.setattr(pagesections, "DAY_TABLE_ROWS", len(rows))
        caption, summary, shown = _day_table(get_page(admin, query), prefix)
        assert shown == [row["date"] for row in rows], prefix
        assert f"({len(rows)})" in summary
        assert "the rows below, summed" in caption


def _day_table(html: str, prefix: str) -> tuple[str, str, list[str]]:
    """The by-number table's caption, the day table's summary and the days of its rows."""
    by_number = html[html.index(f'id="{prefix}-by-number"') :]
    start = html.index(f'id="{prefix}-rows"')
    summary = html[:start][html[:start].rindex("<summary>") :]
    table = html[start:]
    days = re.findall(r'data-key="[a-z]+\.rows\[([0-9-]+)\|', table[: table.index("</table>")])
    return by_number[: by_number.index("</caption>")], summary, days


def test_credits_per_active_member_leave_out_deleted_and_former_members() -> None:
    def pair(deleted: bool, elsewhere: bool, credits: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"is_deleted": deleted, "is_elsewhere": elsewhere}, {"totalCredits": Decimal(credits)}

    shaped = [
        pair(True, False, "69.5"),
        pair(False, True, "28.36"),
        pair(False, False, "2"),
        pair(False, False, "0"),
    ]
    assert pagesections.credits_per_active_member(shaped) == (2, Decimal("1"))
    assert pagesections.credits_per_active_member([pair(False, False, "1")] * 3) == (3, Decimal("1"))
    assert pagesections.credits_per_active_member(
        [pair(False, False, "1")] * 3 + [pair(False, False, "0")]
    ) == (
        4,
        Decimal("0.75"),
    )
    assert pagesections.credits_per_active_member([pair(True, False, "5")]) == (0, Decimal(0))


def test_the_ai_chart_adds_up_to_the_report(app: Flask, admin: FlaskClient, keys: dict[str, Key]) -> None:
    query = {"start_date": "2024-02-01", "end_date": "2024-04-30"}
    body = api_json(admin, f"{API}/reports/ai-usage", keys["admin"], query)
    with app.test_request_context():
        section = pagesections.ai_section(uuid.UUID(W1), DateRange(date(2024, 2, 1), date(2024, 4, 30)))
    chart = section["chart"]
    assert [series.name for series in chart.series] == [row["provider"] for row in body["by_provider"]]
    for series, row in zip(chart.series, body["by_provider"], strict=True):
        assert series.total == row["total_credits"]
    peak = chart.peak
    assert peak is not None and peak[0].start == date(2024, 2, 29) and peak[1] == Decimal(8)


def test_the_sms_phone_and_voice_charts_add_up(app: Flask) -> None:
    march = DateRange(date(2024, 3, 1), date(2024, 3, 31))
    workspace = uuid.UUID(W1)
    with app.test_request_context():
        sms = pagesections.sms_section(workspace, march)
        phone = pagesections.phone_section(workspace, march)
        voice = pagesections.voice_section(workspace, march)
    inbound, outbound = sms["chart"].series
    assert (inbound.total, outbound.total) == (
        sms["body"]["totalInboundSegments"],
        sms["body"]["totalOutboundSegments"],
    )
    # in the report's own unit, so every bar and the total are the report's numbers exactly
    assert phone["chart"].series[0].total == phone["body"]["totalDurationSeconds"]
    assert phone["chart"].title == "Call seconds per day"
    assert voice["stt_chart"].series[0].total == voice["body"]["totalSttDurationSeconds"]
    assert voice["tts_chart"].series[0].total == voice["body"]["totalTtsCharacters"]


def test_a_members_only_key_sees_only_its_own_usage(app: Flask, keys: dict[str, Key]) -> None:
    client = signed_in_client(app, keys["member"])  # Cleo: members:read
    for query in ({}, {"start_date": "2024-03-01", "end_date": "2024-03-31"}):
        html = get_page(client, query)
        shown = page_metrics(html)
        body = api_json(client, f"{API}/reports/member-usage/{data.CLEO}", keys["member"], query)
        assert with_prefix(shown, "member.") == expected_metrics("member", body)
        assert set(shown) - set(with_prefix(shown, "member.")) <= {"data_as_of"}
        for absent in ('id="ai"', 'id="sms"', 'id="phone"', 'id="voice"', 'id="members"', "members-table"):
            assert absent not in html
        assert "Cleo Member" in html and "members:read</strong> only" in html
        if not query:  # the default explained for what this key sees, not for reports it cannot
            assert "your usage is shown for this month to date" in html and "SMS, phone and voice" not in html
    # a range a default turns around names the member report, the only one this key sees
    refused = client.get(page_path(), query_string={"end_date": "2020-01-05"})
    assert refused.status_code == 400
    assert "where the member report starts when From is empty" in refused.get_data(as_text=True)


def test_a_key_whose_members_role_lacks_analytics_read_says_so(app: Flask) -> None:
    # Cleo's role (member) grants members:read alone, whatever the key was granted
    key = create_key_with_cli(app, W1, data.CLEO, "Granted more than the role", BOTH)
    html = get_page(signed_in_client(app, key), {"start_date": "2024-03-01", "end_date": "2024-03-31"})
    assert 'id="own"' in html and 'id="ai"' not in html
    assert "granted <strong>analytics:read</strong>, but your role does not grant it" in html
    assert "members:read</strong> only" not in html


def test_an_admin_key_with_members_read_alone_is_a_member_view(app: Flask, keys: dict[str, Key]) -> None:
    client = signed_in_client(app, keys["admin_members_only"])
    html = get_page(client, {"start_date": "2024-03-01", "end_date": "2024-03-31"})
    assert 'id="own"' in html and 'id="ai"' not in html
    assert page_metrics(html)["member.totalCredits"] == "0.850001"


def test_an_analytics_key_without_members_read_sees_every_report_but_no_names(
    app: Flask, keys: dict[str, Key], admin: FlaskClient
) -> None:
    # Ben's role grants analytics:read only: the five reports (members table included), as the
    # API allows, but members by id: names and roles are what GET /members guards (members:read)
    client = signed_in_client(app, keys["analyst"])
    query = {"start_date": "2024-03-01", "end_date": "2024-03-31"}
    html = get_page(client, query)
    for section in ('id="ai"', 'id="sms"', 'id="phone"', 'id="voice"', 'id="members"'):
        assert section in html
    members = html[html.index('id="members"') :]
    assert f'<code class="member-code">{data.ADA}</code>' in members
    assert "Ada Admin" not in members and "Ben Analyst" not in members and ">Role<" not in members
    assert 'id="members-by-id"' in members
    # nor the roster: no member without usage in the range (Cleo), no head count
    assert data.CLEO not in members and "active member" not in members
    empty = get_page(client, {"start_date": "2020-01-01", "end_date": "2020-01-31"})
    empty = empty[empty.index('id="members"') :]
    assert "No member usage in this range." in empty and "No members in this workspace" not in empty
    named = get_page(admin, query)
    credits = f"members[{data.ADA}].totalCredits"
    assert page_metrics(html)[credits] == page_metrics(named)[credits]
    named_members = named[named.index('id="members"') :]
    assert "Ada Admin" in named_members and ">Role<" in named_members
    assert 'id="members-by-id"' not in named_members
    assert data.CLEO in named_members and "active members" in named_members


def test_an_empty_range_shows_empty_states(admin: FlaskClient) -> None:
    html = get_page(admin, {"start_date": "2020-01-01", "end_date": "2020-01-31"})
    assert html.count('class="empty-state"') == 4
    assert 'role="status"' not in html  # nothing here changes after load: no live region to announce
    assert "No AI usage between 1 Jan 2020 and 31 Jan 2020." in html
    assert '<svg class="chart-svg"' not in html


# --- the range control -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message", "on_the_page"),
    [
        (
            {"start_date": "2024-02-30"},
            "start_date is not a real calendar date.",
            "“From” is not a real calendar date.",
        ),
        (
            {"end_date": "31/03/2024"},
            "end_date must be a date written YYYY-MM-DD.",
            "“To” must be a date written YYYY-MM-DD.",
        ),
        (
            {"start_date": "2024-04-01", "end_date": "2024-03-01"},
            "start_date must not be after end_date.",
            "“From” must not be after “To”.",
        ),
        (
            [("start_date", "2024-03-01"), ("start_date", "2024-03-02")],
            "start_date must be given at most once.",
            "“From” must be given at most once.",
        ),
    ],
)
def test_bad_ranges_are_a_400_page_in_the_forms_words(
    admin: FlaskClient, keys: dict[str, Key], query: Any, message: str, on_the_page: str
) -> None:
    response = admin.get(page_path(), query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert on_the_page in unescape(html) and 'role="alert"' in html
    assert 'id="start_date"' in html  # the form is there to fix it
    assert "ai.total_credits" not in html
    # the API's message, in the query's words
    api = admin.get(f"{API}/reports/ai-usage", query_string=query, headers=keys["admin"].header)
    assert api.status_code == 400 and message in api.get_data(as_text=True)


def test_a_refused_range_keeps_its_real_dates_in_the_form(admin: FlaskClient) -> None:
    html = admin.get(
        page_path(), query_string={"start_date": "2024-04-01", "end_date": "2024-03-01"}
    ).get_data(as_text=True)
    assert 'name="start_date" value="2024-04-01"' in html and 'name="end_date" value="2024-03-01"' in html
    assert "Correct the range" in html and "No range chosen" not in html
    html = admin.get(
        page_path(), query_string={"start_date": "2024-03-01", "end_date": "2024-02-30", "tz": "Mars/Base"}
    ).get_data(as_text=True)
    assert 'name="start_date" value="2024-03-01"' in html and 'name="end_date" value=""' in html
    footer = html[html.index('class="site-footer"') :]
    assert "UTC" not in footer and "tz=" not in footer  # no numbers shown, so no zone claimed for them
    # the field in error is marked and tied to the message: the zone here, the dates below
    assert re.search(
        r'<select id="tz" name="tz" aria-describedby="tz-help range-error"\s+aria-invalid="true"', html
    )
    assert 'name="start_date" value="2024-03-01"\n             aria-describedby="range-help">' in html
    assert "<title>Error: Detailed reports" in html
    inverted = admin.get(page_path(), query_string={"start_date": "2024-04-01", "end_date": "2024-03-01"})
    html = inverted.get_data(as_text=True)
    assert html.count('aria-describedby="range-help range-error" aria-invalid="true"') == 2
    assert html.count("autofocus") == 1  # the first field in error: where typing goes
    assert 'aria-describedby="tz-help"' in html


@pytest.mark.parametrize(
    ("query", "quoted"),
    [
        ({"tz": "Mars/Olympus"}, "The address gave “Time zone” as “Mars/Olympus”."),
        ({"start_date": "2024-02-30"}, "The address gave “From” as “2024-02-30”."),
        (
            {"start_date": "2024-02-30", "end_date": "31/03/2024"},
            "The address gave “From” as “2024-02-30” and “To” as “31/03/2024”.",
        ),
        # shortened, and no control or bidirectional character reaches the page
        (
            {"tz": "Europe/\u202e" + "x" * 60},
            "The address gave “Time zone” as “Europe/\ufffd" + "x" * 31 + "…”.",
        ),
    ],
)
def test_a_refused_value_the_form_cannot_show_is_quoted(
    admin: FlaskClient, query: dict[str, str], quoted: str
) -> None:
    response = admin.get(page_path(), query_string=query)
    assert response.status_code == 400
    assert quoted in unescape(response.get_data(as_text=True))


def test_a_refused_range_quotes_nothing_the_form_shows(admin: FlaskClient) -> None:
    html = admin.get(
        page_path(), query_string={"start_date": "2024-04-01", "end_date": "2024-03-01", "tz": "Asia/Tokyo"}
    ).get_data(as_text=True)
    assert "The address gave" not in html and "<option selected>Asia/Tokyo</option>" in html


@pytest.mark.parametrize(
    ("query", "wrong", "right"),
    [
        ({"start_date": "2024-02-30", "end_date": "2024-03-31"}, "start_date", "end_date"),
        ({"start_date": "2024-03-01", "end_date": "31/03/2024"}, "end_date", "start_date"),
        ({"end_date": "2024-13-01"}, "end_date", "start_date"),
    ],
)
def test_one_bad_bound_marks_its_own_field_alone(
    admin: FlaskClient, query: dict[str, str], wrong: str, right: str
) -> None:
    response = admin.get(page_path(), query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)

    def field(name: str) -> str:
        match = re.search(rf'<input type="date"[^>]*name="{name}"[^>]*>', html)
        assert match is not None, name
        return match.group(0)

    assert 'aria-describedby="range-help range-error" aria-invalid="true" autofocus' in field(wrong)
    assert "aria-invalid" not in field(right) and "autofocus" not in field(right)
    assert 'aria-describedby="range-help"' in field(right)


def test_a_date_given_twice_marks_the_dates_and_keeps_the_zone(admin: FlaskClient) -> None:
    query = [("start_date", "2024-03-01"), ("start_date", "2024-03-02"), ("end_date", "2024-03-31")]
    response = admin.get(page_path(), query_string=[*query, ("tz", "Asia/Tokyo")])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "“From” must be given at most once." in unescape(html)
    assert html.count('aria-describedby="range-help range-error" aria-invalid="true"') == 2
    assert 'aria-describedby="tz-help"' in html and "<option selected>Asia/Tokyo</option>" in html
    # the quick picks keep the zone too, so choosing one does not move the view to UTC
    assert "tz=UTC" not in html and "tz=Asia/Tokyo" in html


def test_parameters_the_page_has_no_field_for_are_ignored(admin: FlaskClient) -> None:
    """A link from an e-mail or a chat carries tracking tags; the view is the one without them."""
    query = {"start_date": "2024-03-01", "end_date": "2024-03-31", "tz": "Asia/Tokyo"}
    tagged = admin.get(page_path(), query_string={**query, "utm_source": "newsletter", "start": "x"})
    assert tagged.status_code == 200
    html = tagged.get_data(as_text=True)
    assert "<option selected>Asia/Tokyo</option>" in html and 'role="alert"' not in html
    plain = admin.get(page_path(), query_string=query).get_data(as_text=True)
    assert page_metrics(html) == page_metrics(plain) and page_metrics(html)
    # sign-in and sign-out carry the range and zone alone, as the page's own links do
    assert "utm_source" not in html


def test_a_range_turned_around_by_a_default_says_which_field_to_fill(admin: FlaskClient) -> None:
    today = UTC_ZONE.today()
    response = admin.get(page_path(), query_string={"end_date": "2020-01-05"})
    assert response.status_code == 400
    message = f"To (5 Jan 2020) is before {today - timedelta(days=30):%-d %b %Y}, where the AI report starts"
    assert message in response.get_data(as_text=True)
    assert "Choose a From date too." in response.get_data(as_text=True)
    response = admin.get(page_path(), query_string={"start_date": "2099-01-01"})
    assert response.status_code == 400
    assert f"From (1 Jan 2099) is after {today:%-d %b %Y}, where the AI report ends when To is empty." in (
        response.get_data(as_text=True)
    )
    # a wrong date itself keeps the API's message, in the form's words
    response = admin.get(page_path(), query_string={"end_date": "2020-02-30"})
    assert "“To” is not a real calendar date." in unescape(response.get_data(as_text=True))


def test_an_empty_date_field_means_the_default(admin: FlaskClient) -> None:
    response = admin.get(page_path(), query_string={"start_date": "2024-03-01", "end_date": ""})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{page_path()}?start_date=2024-03-01"
    response = admin.get(page_path(), query_string={"start_date": "", "end_date": ""})
    assert response.headers["Location"] == page_path()


def test_quick_picks_are_links_with_the_range_in_the_url(admin: FlaskClient) -> None:
    today = UTC_ZONE.today()
    html = get_page(admin, {})
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    for start, end in (
        (month_start, current_month(today).end),
        (last_month_end.replace(day=1), last_month_end),
        (today - timedelta(days=29), today),  # 30 days, as it says
    ):
        assert f'?start_date={start.isoformat()}&amp;end_date={end.isoformat()}&amp;tz=UTC"' in html
    picked = get_page(
        admin, {"start_date": (today - timedelta(days=29)).isoformat(), "end_date": today.isoformat()}
    )
    assert re.search(r'aria-current="true">Last 30 days', picked)
    assert "30 UTC days" in picked
    assert f'value="{today.isoformat()}"' in picked  # the form shows the range


def page_title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match is not None, "no <title>"
    return unescape(" ".join(match.group(1).split()))


def test_the_title_names_the_range_only_when_both_dates_are_given(admin: FlaskClient) -> None:
    # a tab or a history entry says which range it shows: both ends, each with its own month and year
    across_months = get_page(admin, {"start_date": "2024-02-29", "end_date": "2024-04-01"})
    assert page_title(across_months) == (
        "Detailed reports \u00b7 29 Feb \u2013 1 Apr 2024, UTC \u00b7 Billing \u00b7 Usage reports"
    )
    across_years = get_page(
        admin, {"start_date": "2023-12-30", "end_date": "2024-01-02", "tz": "Asia/Kolkata"}
    )
    assert page_title(across_years) == (
        "Detailed reports \u00b7 30 Dec 2023 \u2013 2 Jan 2024, Asia/Kolkata \u00b7 Billing \u00b7 Usage reports"
    )
    # one date given: each report fills the other end with its own default, so no one range is named
    for query in ({"start_date": "2024-03-04"}, {"end_date": UTC_ZONE.today().isoformat()}, {}):
        assert page_title(get_page(admin, query)) == "Detailed reports \u00b7 Billing \u00b7 Usage reports", (
            query
        )


def test_a_headline_of_credits_rounded_away_from_the_total_shows_it_exactly(admin: FlaskClient) -> None:
    html = get_page(admin, {"start_date": "2024-03-01", "end_date": "2024-03-31"})
    ai_stats = html[html.index('id="ai"') :]
    ai_stats = ai_stats[: ai_stats.index("</dl>")]
    assert '<dd class="stat__value">1.70</dd>' in ai_stats
    assert '<dd class="stat__sub">exactly <data value="1.700001" data-metric="ai.total_credits">' in ai_stats


def test_the_page_is_semantic_and_self_contained(admin: FlaskClient) -> None:
    response = admin.get(page_path(), query_string={"start_date": "2024-03-01", "end_date": "2024-03-31"})
    html = response.get_data(as_text=True)
    for landmark in ("<header", "<nav", "<main", "<section", "<caption", 'scope="col"', 'scope="row"'):
        assert landmark in html
    assert '<html lang="en">' in html and 'name="viewport"' in html
    for control in ("start_date", "end_date", "tz"):
        assert f'<label for="{control}">' in html
    assert re.search(
        r'<svg class="chart-svg" role="img" aria-labelledby="ai-chart-title" aria-describedby="ai-chart-desc"',
        html,
    )
    assert '<title id="ai-chart-title">AI credits per day by provider</title>' in html
    # a figure is named by its caption: the title alone, the legend beside it
    captions = re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", html, re.DOTALL)
    assert captions and not any("legend" in caption for caption in captions)
    # a table's region reads its caption and note as two sentences, not run together
    assert '<span class="visually-hidden">.</span> <span class="caption-note">' in html
    # nothing from elsewhere: no absolute URL in any src, href or action, and a policy that forbids it
    assert not re.search(r'(?:src|href|action)="(?:https?:)?//', html)
    # one script, from this server: the time-zone default (tz.js)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/tz.js" defer>']
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert admin.get("/static/page.css").status_code == 200
    assert admin.get("/static/tz.js").status_code == 200


# --- units ----------------------------------------------------------------------------------


def test_buckets_are_days_then_months_then_years() -> None:
    granularity, buckets = charts.buckets_for(date(2024, 3, 1), date(2024, 3, 31))
    assert granularity == "day" and len(buckets) == 31
    granularity, buckets = charts.buckets_for(date(2023, 1, 15), date(2024, 3, 31))
    assert granularity == "month" and len(buckets) == 15 and buckets[0].start == date(2023, 1, 15)
    granularity, buckets = charts.buckets_for(date(1, 1, 1), date(9999, 12, 31))
    assert granularity == "year" and buckets[-1].key == "9999"
    # at most MAX_BARS bars: the longest range of days, of months, then years
    start = date(2000, 1, 1)
    for end, granularity, count in (
        (start + timedelta(days=charts.MAX_BARS - 1), "day", charts.MAX_BARS),
        (start + timedelta(days=charts.MAX_BARS), "month", 14),
        (date(2000 + charts.MAX_BARS // 12, charts.MAX_BARS % 12, 28), "month", charts.MAX_BARS),
        (date(2000 + charts.MAX_BARS // 12, charts.MAX_BARS % 12 + 1, 1), "year", 34),
    ):
        assert charts.buckets_for(start, end)[0] == granularity, end
        assert len(charts.buckets_for(start, end)[1]) == count, end


def test_charts_span_only_the_days_an_event_can_fall_on() -> None:
    granularity, buckets = pagesections.chart_buckets(DateRange(date(1, 1, 1), date(9999, 12, 31)))
    assert granularity == "year" and (buckets[0].key, buckets[-1].key, len(buckets)) == ("1969", "2100", 132)
    assert (buckets[0].start, buckets[-1].end) == (date(1969, 12, 31), date(2100, 1, 1))
    march = DateRange(date(2024, 3, 1), date(2024, 3, 31))
    assert pagesections.chart_buckets(march) == charts.buckets_for(march.start, march.end)
    # a range no event can fall in: one bar (the section shows no chart, only that it is empty)
    assert len(pagesections.chart_buckets(DateRange(date(2200, 1, 1), date(9999, 12, 31)))[1]) == 1


def test_a_chart_is_accessible_and_empty_without_activity() -> None:
    _, buckets = charts.buckets_for(date(2024, 3, 1), date(2024, 3, 3))
    series = charts.series_by_bucket(
        "day",
        buckets,
        [(date(2024, 3, 2), "openai", Decimal("1.5")), (date(2024, 3, 2), "aws", Decimal("0.5"))],
    )
    chart = charts.Chart("c", "Credits", "credits", "day", buckets, series, pageformat.fmt_credits)
    svg = chart.svg("1 to 3 Mar 2024")
    assert 'role="img"' in svg and '<title id="c-title">Credits</title>' in svg
    assert "Highest day: Sat 2 Mar 2024, 2.000000 credits." in svg
    assert svg.count("<rect") == 2
    empty = charts.Chart("e", "Credits", "credits", "day", buckets, (), pageformat.fmt_credits)
    assert empty.is_empty and empty.peak is None


def test_a_chart_states_the_total_of_its_whole_range(admin: FlaskClient, keys: dict[str, Key]) -> None:
    # the range's last day holds credits (azure, 2024-03-06): the total a screen reader hears
    # is the report's, to the last day
    query = {"start_date": "2024-03-03", "end_date": "2024-03-06"}
    html = get_page(admin, query)
    body = api_json(admin, f"{API}/reports/ai-usage", keys["admin"], query)
    desc = re.search(r'<desc id="ai-chart-desc">([^<]*)</desc>', html)
    assert desc is not None
    assert body["total_credits"] == Decimal("1.700001")
    assert f"Total {pageformat.fmt_credits(body['total_credits'])} credits." in unescape(desc.group(1))


def test_the_highest_day_of_a_tie_is_the_first() -> None:
    _, buckets = charts.buckets_for(date(2024, 3, 1), date(2024, 3, 3))
    series = charts.series_by_bucket(
        "day", buckets, [(date(2024, 3, 1), "openai", Decimal(2)), (date(2024, 3, 3), "openai", Decimal(2))]
    )
    chart = charts.Chart("c", "Credits", "credits", "day", buckets, series, pageformat.fmt_credits)
    peak = chart.peak
    assert peak is not None and peak[0].start == date(2024, 3, 1)
    assert "Highest day: Fri 1 Mar 2024, 2.000000 credits." in chart.svg("1 to 3 Mar 2024")


def test_an_axis_has_one_unit_from_its_top_tick() -> None:
    def labels(maximum: float) -> list[str]:
        step = charts.nice_step(maximum)
        top = math.ceil(maximum / step) * step
        return [charts.axis_label(index * step, step, top) for index in range(round(top / step) + 1)]

    assert labels(63_287) == ["0", "20k", "40k", "60k", "80k"]  # 63,287 characters: not "8k" at the top
    assert labels(9_000) == ["0", "2.5k", "5.0k", "7.5k", "10.0k"]  # one unit for the whole axis
    assert labels(8_000) == ["0", "2,000", "4,000", "6,000", "8,000"]
    assert labels(12_500) == ["0", "5k", "10k", "15k"]
    assert labels(3_400_000) == ["0", "1M", "2M", "3M", "4M"]
    assert labels(1.5) == ["0", "0.5", "1.0", "1.5"]
    assert labels(0.000001) == ["0", "0.000001"]  # no finer than a credit's last decimal: no repeated ticks


def test_a_long_total_breaks_only_between_digit_groups(app: Flask) -> None:
    template = '{% from "page/_macros.html" import stat with context %}{{ stat("Tokens", value, None) }}'
    with app.test_request_context():
        html = render_template_string(template, value=905_032_295_783)
    assert "905,<wbr>032,<wbr>295,<wbr>783" in html and 'value="905032295783"' in html


def test_every_chart_colour_stands_out_from_the_white_plot() -> None:
    # WCAG 1.4.11: graphical objects at least 3:1 against what surrounds them
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    colours = {*charts.PALETTE, charts.OTHER_COLOR, *pagesections.SMS_COLORS.values()}
    colours |= {pagesections.PHONE_COLOR, pagesections.STT_COLOR, pagesections.TTS_COLOR}
    for colour in colours:
        assert 1.05 / (luminance(colour) + 0.05) >= 3, colour

    # WCAG 1.4.1: stacked neighbours differ in lightness, not by hue alone (apart in greyscale),
    # the last colour kept before "Other" as well
    def contrast(first: str, second: str) -> float:
        darker, lighter = sorted((luminance(first), luminance(second)))
        return (lighter + 0.05) / (darker + 0.05)

    stacked = [*charts.PALETTE[: charts.MAX_SERIES - 1], charts.OTHER_COLOR]
    for lower, upper in (*pairwise(charts.PALETTE), *pairwise(stacked)):
        assert contrast(lower, upper) >= 1.5, (lower, upper)
    assert contrast(*pagesections.SMS_COLORS.values()) >= 1.5


def test_many_series_fold_into_other() -> None:
    _, buckets = charts.buckets_for(date(2024, 3, 1), date(2024, 3, 1))
    points = [(date(2024, 3, 1), f"p{index}", Decimal(index)) for index in range(1, 12)]
    series = charts.series_by_bucket("day", buckets, points)
    assert len(series) == charts.MAX_SERIES and series[-1].name == "Other"
    assert sum(s.total for s in series) == sum(range(1, 12))


def test_the_largest_series_are_kept_and_the_smallest_fold_into_other() -> None:
    _, buckets = charts.buckets_for(date(2024, 3, 1), date(2024, 3, 1))
    points = [(date(2024, 3, 1), f"p{index:02d}", Decimal(index)) for index in range(1, 12)]
    series = charts.series_by_bucket("day", buckets, points)
    # by total, largest first: p11 .. p05 kept, p04 .. p01 (1 + 2 + 3 + 4) are "Other"
    assert [(s.name, s.total) for s in series] == [
        *((f"p{index:02d}", Decimal(index)) for index in range(11, 4, -1)),
        ("Other", Decimal(10)),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.5"), "1,234.500000"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal(0), "0.000000"),
    ],
)
def test_credits_are_shown_exactly(value: Decimal, text: str) -> None:
    assert pageformat.fmt_credits(value) == text


def test_number_formats() -> None:
    assert pageformat.fmt_credits_short(Decimal("4338.421132")) == "4,338.42"
    assert pageformat.fmt_credits_short(Decimal("0.005")) == "0.01"  # half up, like the API
    # voice seconds keep all three decimals, so a column of them lines up on the point
    assert pageformat.fmt_seconds(Decimal("75.275")) == "75.275"
    assert pageformat.fmt_seconds(Decimal("6140.05")) == "6,140.050"
    assert pageformat.fmt_seconds(Decimal("12.000")) == "12.000"
    assert pageformat.fmt_duration(132) == "2 min 12 s" and pageformat.fmt_duration(7384) == "2 h 3 min"
    # a share of a whole, in percent with one decimal; a share of nothing has none
    assert pageformat.share(1, 3) == "33.3%" and pageformat.share(0, 5) == "0.0%"
    assert pageformat.share(102, 132) == "77.3%" and pageformat.share(5, 0) == "\u2013"
    # from an hour on, to the nearest minute (not cut: 32:59:56 is 33 hours)
    assert (
        pageformat.fmt_duration(118_796) == "33 h 0 min" and pageformat.fmt_duration(59_513) == "16 h 32 min"
    )
    assert pageformat.fmt_duration(3_629) == "1 h 0 min" and pageformat.fmt_duration(3_630) == "1 h 1 min"
    assert pageformat.fmt_range(date(2024, 3, 1), date(2024, 3, 31)) == "1 \u2013 31 Mar 2024"
    # each end keeps its own month, and its own year when they differ
    assert pageformat.fmt_range(date(2024, 2, 29), date(2024, 4, 1)) == "29 Feb \u2013 1 Apr 2024"
    assert pageformat.fmt_range(date(2023, 12, 30), date(2024, 1, 2)) == "30 Dec 2023 \u2013 2 Jan 2024"
    # a headline's two decimals get the exact value beside them only when they are not exact
    assert pageformat.is_exact_short(Decimal("1.500000")) and not pageformat.is_exact_short(
        Decimal("1.700001")
    )
    # under a minute: seconds alone, no "0 min"
    assert pageformat.fmt_duration(45) == "45 s" and pageformat.fmt_duration(0) == "0 s"
    assert pageformat.literal(Decimal("1.500000")) == "1.5" and pageformat.literal(12) == "12"
    assert pageformat.literal(True) == "true" and pageformat.literal(None) == "null"
    # a number's markup: the exact value, its name escaped, the formatted text
    assert pageformat.num(Decimal("1234.50"), 'a"<b>&', "credits") == (
        '<data value="1234.5" data-metric="a&#34;&lt;b&gt;&amp;">1,234.500000</data>'
    )
    assert pageformat.num(Decimal("0E-6"), field="total_credits", kind="credits") == (
        '<data value="0" data-field="total_credits">0.000000</data>'
    )
    assert (
        pageformat.num(75, field="x'y", kind="seconds")
        == '<data value="75" data-field="x&#39;y">75.000</data>'
    )
    assert pageformat.num(12345) == '<data value="12345">12,345</data>'
    instant = datetime(2026, 11, 26, 1, 59, 30, tzinfo=UTC)
    assert pageformat.fmt_timestamp(instant) == "26 Nov 2026, 01:59 UTC"
    # beside reports of Los Angeles days, as a clock there shows it (not "tomorrow")
    assert (
        pageformat.fmt_timestamp(instant, Zone("America/Los_Angeles"))
        == "25 Nov 2026, 17:59 (America/Los_Angeles)"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/w/%00/settings/billing",
        "/w/%ff%fe/settings/billing",
        "/w/" + "a" * 10_000 + "/settings/billing",
        f"{page_path()}?start_date=%00",
        f"{page_path()}?start_date=%ff",
        f"{page_path()}?%ff=1",
        f"{page_path()}?start_date",
        f"{page_path()}?&&&",
        f"{page_path()}?start_date=2024-03-01&start_date=",
        f"{page_path()}?end_date=2024-03-01;drop table raw.members",
        f"{page_path()}?start_date=0001-01-01&end_date=9999-12-31",
        f"{page_path()}?start_date=9999-12-31",
        f"{page_path()}?tz=%00",
        f"{page_path()}?tz=Etc/GMT%2B14",
        f"{page_path()}?tz=UTC&tz=UTC",
        f"{page_path()}?tz=Pacific/Kiritimati&start_date=0001-01-01&end_date=9999-12-31",
        f"{page_path()}/export/ai-usage.csv?tz=%ff",
        f"{page_path()}/export/ai-usage.csv?start_date=0001-01-01&end_date=9999-12-31&tz=Asia/Kolkata",
        f"{page_path()}/export/nothing.csv",
    ],
)
def test_nothing_sent_to_the_page_is_a_500(admin: FlaskClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    assert response.mimetype == (
        "text/csv" if response.status_code == 200 and "/export/" in path else "text/html"
    )
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "form",
    [
        {"api_key": "urk_" + "a" * 100_000},
        {"api_key": "\x00", "csrf_token": "\x00"},
        {"api_key": "ü" * 47, "csrf_token": "ü"},
        {"csrf_token": ""},
    ],
)
def test_nothing_posted_to_the_page_is_a_500(client: FlaskClient, form: dict[str, str]) -> None:
    client.get(page_path())
    for path in (page_path(), f"{page_path()}/sign-out"):
        response = client.post(path, data=form)
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]


def test_a_garbage_cookie_is_no_session(client: FlaskClient) -> None:
    for value in ("", "x", "a.b.c", "é" * 10, "x" * 3900):
        client.set_cookie("usage_reports_session", value, path=page_path())
        response = client.get(page_path())
        assert response.status_code == 200 and 'name="api_key"' in response.get_data(as_text=True)


def by_number_rows(html: str, table_id: str) -> list[tuple[str, str, str]]:
    """The number, first figure and share of each row of a per-number table, in page order."""
    table = html[html.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    row = re.compile(
        r'<th scope="row" class="tel">([^<]*)</th>\s*<td class="num"><data value="([^"]*)">[^<]*</data></td>\s*'
        r'<td class="num muted">([^<]*)</td>'
    )
    return [match.groups() for match in row.finditer(table)]


def test_per_number_tables_put_the_busiest_number_first(admin: FlaskClient) -> None:
    html = get_page(admin, {"start_date": "2024-03-01", "end_date": "2024-03-31"})
    # SMS segments: N1 3 + 4 of 9, N2 1 + 1; call seconds: N1 101 + 1 of 132, N2 30
    assert by_number_rows(html, "sms-by-number") == [(data.N1, "7", "77.8%"), (data.N2, "2", "22.2%")]
    assert by_number_rows(html, "phone-by-number") == [(data.N1, "102", "77.3%"), (data.N2, "30", "22.7%")]


def test_an_unreachable_database_is_a_503_page_that_says_when_to_try_again(
    warehouse: Warehouse, keys: dict[str, Key], tmp_path: Path
) -> None:
    # as the API's 503 (tests/api/test_faults.py): a browser, a proxy or a monitor is told when to
    # retry; no server listens there (a socket directory without a socket)
    conninfo = make_conninfo(warehouse.conninfo, host=str(tmp_path), port="5432")
    down = create_app(
        {"TESTING": True, "DATABASE_CONNINFO": conninfo, "ADMIN_CONNINFO": conninfo, "SECRET_KEY": SECRET}
    )
    try:
        response = sign_in(down.test_client(), keys["admin"].token)
    finally:
        down.extensions["usage_reports_db"].close()
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:2000]
    assert response.headers["Retry-After"] == "5"
    assert "The report database is unavailable right now. Try again in a moment." in html
    assert str(tmp_path) not in html
