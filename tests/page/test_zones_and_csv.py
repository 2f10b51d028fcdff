"""The page in any time zone and its CSV downloads (issue 8, CONTRACT §6): the picker, every
number equal to the API's JSON for the same ``tz``, the 400 for an unknown zone, and CSV files
served under the session that are byte for byte the API's ``format=csv`` answers."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import pageformat, pagesections, reports
from api.params import DateRange
from api.zones import Zone
from tests.api import fixture_data as data
from tests.api import zone_data
from tests.api.conftest import Key, zone_only_zoneinfo_knows
from tests.page.conftest import (
    API,
    REPORTS,
    W1,
    api_json,
    expected_metrics,
    page_metrics,
    page_path,
    signed_in_client,
    with_prefix,
)

ZONES = ["Asia/Kolkata", "America/Los_Angeles", "Asia/Kathmandu"]
MARCH = {"start_date": "2024-03-01", "end_date": "2024-03-31"}


@pytest.fixture(scope="module")
def admin(app: Flask, keys: dict[str, Key]) -> FlaskClient:
    return signed_in_client(app, keys["admin"])


@pytest.fixture(scope="module")
def member(app: Flask, keys: dict[str, Key]) -> FlaskClient:
    return signed_in_client(app, keys["member"])


def get_page(client: FlaskClient, query: dict[str, str]) -> str:
    response = client.get(page_path(), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


# --- the picker ------------------------------------------------------------------------------


def test_the_picker_is_a_labelled_select_of_every_zone_utc_first(admin: FlaskClient) -> None:
    html = get_page(admin, MARCH)
    assert '<label for="tz">Time zone</label>' in html
    select = html[html.index('<select id="tz" name="tz"') : html.index("</select>")]
    options = re.findall(r"<option( selected)?>([^<]+)</option>", select)
    names = [name for _, name in options]
    assert names[0] == "UTC" and names[1:] == sorted(names[1:])
    assert {"Asia/Kolkata", "Asia/Kathmandu", "Australia/Eucla", "America/Los_Angeles"} <= set(names)
    assert [name for selected, name in options if selected] == ["UTC"]
    assert 'data-default="true"' in select  # no tz in the address: tz.js may pick the browser's
    assert len(html.encode()) < 120_000
    shown = get_page(admin, {**MARCH, "tz": "Asia/Kolkata"})
    assert re.search(r"<option selected>Asia/Kolkata</option>", shown)
    assert 'data-default="true"' not in shown


@pytest.mark.parametrize(
    ("query", "clocks_change"),
    [
        ({**MARCH, "tz": "Asia/Kolkata"}, False),  # no change in that zone since 1945
        ({**MARCH, "tz": "America/New_York"}, True),  # 10 March 2024: 23 hours
        ({"start_date": "2024-06-01", "end_date": "2024-06-30", "tz": "America/New_York"}, False),
        ({"start_date": "2024-04-01", "end_date": "2024-04-30", "tz": "Australia/Lord_Howe"}, True),  # 30 min
    ],
)
def test_the_zone_note_speaks_of_clock_changes_only_where_the_range_has_one(
    admin: FlaskClient, query: dict[str, str], clocks_change: bool
) -> None:
    html = get_page(admin, query)
    assert f"calendar day in {query['tz']}" in html
    # the range and zone are in the title too, so tabs and history entries differ
    shown = pageformat.fmt_range(
        date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
    )
    assert f"<title>Detailed reports · {shown}, {query['tz']} · Billing" in html
    assert ("a day on which the clocks change there" in html) is clocks_change


def test_the_zone_is_shown_and_kept_by_every_link(admin: FlaskClient) -> None:
    html = get_page(admin, {**MARCH, "tz": "Asia/Kolkata"})
    assert "calendar day in Asia/Kolkata" in html
    assert "UTC calendar day" not in html
    assert "31 days in Asia/Kolkata" in html
    links = [unescape(link) for link in re.findall(r'<a class="chip[^"]*" href="([^"]+)"', html)]
    assert links and all(link.endswith("tz=Asia/Kolkata") for link in links), links
    utc = get_page(admin, MARCH)
    assert "UTC calendar day" in utc and "31 UTC days" in utc


def test_defaults_are_taken_in_the_zone(admin: FlaskClient) -> None:
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11: a day apart, or two
        today = Zone(name).today()
        shown = page_metrics(get_page(admin, {"tz": name}))
        assert shown["ai.end_date"] == today.isoformat(), name
        assert shown["members.endDate"] == today.isoformat(), name
        assert shown["sms.startDate"] == today.replace(day=1).isoformat(), name


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("query", [MARCH, {}, {"start_date": "2024-03-03", "end_date": "2024-03-03"}])
def test_every_number_equals_the_api_in_the_zone(
    admin: FlaskClient, keys: dict[str, Key], zone: str, query: dict[str, str]
) -> None:
    zoned = {**query, "tz": zone}
    shown = page_metrics(get_page(admin, zoned))
    for prefix, path in REPORTS.items():
        body = api_json(admin, f"{API}/{path}", keys["admin"], zoned)
        assert body["tz"] == zone
        assert with_prefix(shown, prefix + ".") == expected_metrics(prefix, body), prefix
    listed = {name.split("]")[0].removeprefix("members[") for name in with_prefix(shown, "members[")}
    assert data.ADA in listed
    for member_id in listed:
        body = api_json(admin, f"{API}/reports/member-usage/{member_id}", keys["admin"], zoned)
        for field in ("totalChats", "totalMessages", "totalCredits", "totalTokens"):
            assert (
                shown[f"members[{member_id}].{field}"] == expected_metrics("member", body)[f"member.{field}"]
            )


def test_a_zone_changes_the_numbers(admin: FlaskClient) -> None:
    """The fixture has events near UTC midnight, so the zones do not all agree (or the tests above
    would prove nothing)."""
    views = {zone: page_metrics(get_page(admin, {**MARCH, "tz": zone})) for zone in ["UTC", *ZONES]}
    assert len({tuple(sorted(view.items())) for view in views.values()}) > 1


def test_the_ai_chart_adds_up_in_a_zone(app: Flask, admin: FlaskClient, keys: dict[str, Key]) -> None:
    query = {"start_date": "2024-02-01", "end_date": "2024-04-30", "tz": "America/Los_Angeles"}
    body = api_json(admin, f"{API}/reports/ai-usage", keys["admin"], query)
    with app.test_request_context():
        section = pagesections.ai_section(
            uuid.UUID(W1), DateRange(date(2024, 2, 1), date(2024, 4, 30)), Zone("America/Los_Angeles")
        )
    chart = section["chart"]
    assert [series.name for series in chart.series] == [row["provider"] for row in body["by_provider"]]
    for series, row in zip(chart.series, body["by_provider"], strict=True):
        assert series.total == row["total_credits"]


@pytest.mark.parametrize(
    ("zone", "bars"),
    [
        ("UTC", {"2026-04-30": 63, "2026-05-01": 448}),
        ("America/Los_Angeles", {"2026-04-30": 255, "2026-05-01": 256}),
        ("Asia/Kolkata", {"2026-04-30": 31, "2026-05-01": 480}),
    ],
)
def test_each_bar_of_the_ai_chart_holds_its_local_days_credits(
    app: Flask, zone: str, bars: dict[str, int]
) -> None:
    """The zone workspace's weights (``tests.api.zone_data``) name the instants in each bar. On
    2026-05-01 UTC openai has two models (A7's and the rest); a bar once took its running total
    at local midnight from whichever model had the last quarter hour: right over the range,
    wrong (even negative) day by day."""
    with app.test_request_context():
        chart = pagesections.ai_section(
            uuid.UUID(zone_data.WZ), DateRange(date(2026, 4, 30), date(2026, 5, 1)), Zone(zone)
        )["chart"]
    [series] = chart.series
    assert series.name == "openai"
    shown = {bucket.key: value for bucket, value in zip(chart.buckets, series.values, strict=True)}
    assert shown == {day: Decimal(credits) for day, credits in bars.items()}


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "utc", "localtime", "Asia/Kolkata ", "../../etc/passwd"])
def test_an_unknown_zone_is_a_400_page(admin: FlaskClient, tz: str) -> None:
    response = admin.get(page_path(), query_string={"tz": tz})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "\u201cTime zone\u201d must be an IANA time-zone name" in html
    assert '<select id="tz" name="tz"' in html  # the form is there to fix it


def test_a_zone_the_warehouse_does_not_know_is_a_400_page(
    admin: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # as the API (tests/api/test_zones.py): the plan needs zoneinfo alone; while a build runs
    # every quarter hour is put on its local day by the warehouse, which does not know the zone
    with zone_only_zoneinfo_knows(monkeypatch, tmp_path) as zone:
        long = {"start_date": "2000-01-01", "end_date": "2100-12-31", "tz": zone}
        assert admin.get(page_path(), query_string=long).status_code == 200
        assert admin.get(f"{page_path()}/export/sms-usage.csv", query_string=long).status_code == 200
        monkeypatch.setattr(reports.common, "reads_unsettled", lambda _db: True)
        response = admin.get(page_path(), query_string=long)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "“Time zone” names a time zone the warehouse does not know." in unescape(html)
        assert 'id="range-error"' in html
        response = admin.get(f"{page_path()}/export/sms-usage.csv", query_string=long)
        assert response.status_code == 400 and response.mimetype == "text/html"
        assert "“Time zone” names a time zone the warehouse does not know." in unescape(
            response.get_data(as_text=True)
        )


def test_an_empty_zone_means_utc_and_sign_in_keeps_the_zone(app: Flask, keys: dict[str, Key]) -> None:
    browser = app.test_client()
    form = browser.get(page_path(), query_string={"tz": "Asia/Kolkata", "start_date": "2024-03-01"})
    assert f'action="/w/{W1}/settings/billing?start_date=2024-03-01&amp;tz=Asia/Kolkata"' in (
        form.get_data(as_text=True)
    )
    browser = signed_in_client(app, keys["admin"])
    response = browser.get(page_path(), query_string={"start_date": "2024-03-01", "tz": ""})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{page_path()}?start_date=2024-03-01"


# --- CSV downloads ---------------------------------------------------------------------------


def export_path(report: str) -> str:
    return f"{page_path()}/export/{report}.csv"


def api_csv(client: FlaskClient, path: str, key: Key, query: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    response = client.get(path, query_string={**query, "format": "csv"}, headers=key.header)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(), dict(response.headers)


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "America/Los_Angeles"])
@pytest.mark.parametrize("report", ["ai-usage", "sms-usage", "phone-usage", "voice-usage"])
def test_a_csv_download_is_the_api_csv(
    app: Flask, admin: FlaskClient, keys: dict[str, Key], report: str, tz: str
) -> None:
    query = {**MARCH, "tz": tz}
    expected, headers = api_csv(app.test_client(), f"{API}/reports/{report}", keys["admin"], query)
    response = admin.get(export_path(report), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.get_data() == expected
    assert expected.count(b"\r\n") > 1  # a header and some lines
    for name in ("Content-Type", "Content-Disposition"):
        assert response.headers[name] == headers[name], name
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_page_links_each_report_csv(app: Flask, admin: FlaskClient, keys: dict[str, Key]) -> None:
    html = get_page(admin, {**MARCH, "tz": "Asia/Kolkata"})
    links = {
        report: unescape(href)
        for href, report in re.findall(
            r'<a class="download" href="([^"]+)" download\s+data-report="([^"]+)"', html
        )
    }
    assert set(links) == {"ai-usage", "sms-usage", "phone-usage", "voice-usage"}
    for report, link in links.items():
        assert link == f"{export_path(report)}?start_date=2024-03-01&end_date=2024-03-31&tz=Asia/Kolkata"
    for report, link in links.items():
        expected, _ = api_csv(
            app.test_client(), f"{API}/reports/{report}", keys["admin"], {**MARCH, "tz": "Asia/Kolkata"}
        )
        assert admin.get(link).get_data() == expected, report


def test_defaults_in_a_csv_download_are_the_api_defaults(
    app: Flask, admin: FlaskClient, keys: dict[str, Key]
) -> None:
    for report in ("ai-usage", "sms-usage"):
        expected, headers = api_csv(
            app.test_client(), f"{API}/reports/{report}", keys["admin"], {"tz": "Pacific/Kiritimati"}
        )
        response = admin.get(export_path(report), query_string={"tz": "Pacific/Kiritimati"})
        assert response.get_data() == expected
        assert response.headers["Content-Disposition"] == headers["Content-Disposition"]
        # empty fields (as the form sends them, and as the README writes the address) mean the same
        response = admin.get(
            export_path(report), query_string={"start_date": "", "end_date": "", "tz": "Pacific/Kiritimati"}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == f"{export_path(report)}?tz=Pacific/Kiritimati"
        assert admin.get(response.headers["Location"]).get_data() == expected
    # a To alone before the default start: said as the page says it
    refused = admin.get(export_path("sms-usage"), query_string={"end_date": "2020-01-05"})
    assert refused.status_code == 400
    assert "where the SMS report starts when From is empty" in refused.get_data(as_text=True)


def test_a_members_only_session_downloads_only_its_own_usage(
    app: Flask, member: FlaskClient, keys: dict[str, Key]
) -> None:
    html = get_page(member, MARCH)
    assert re.findall(r'data-report="([^"]+)"', html) == ["member-usage"]
    for report in ("ai-usage", "sms-usage", "phone-usage", "voice-usage"):
        response = member.get(export_path(report), query_string=MARCH)
        assert response.status_code == 403, report
        assert "analytics:read" in response.get_data(as_text=True)
    for tz in ("UTC", "Asia/Kolkata"):
        query = {**MARCH, "tz": tz}
        expected, headers = api_csv(
            app.test_client(), f"{API}/reports/member-usage/{data.CLEO}", keys["member"], query
        )
        response = member.get(export_path("member-usage"), query_string=query)
        assert response.status_code == 200
        assert response.get_data() == expected
        assert response.headers["Content-Disposition"] == headers["Content-Disposition"]


def test_an_admin_downloads_their_own_member_usage(
    app: Flask, admin: FlaskClient, keys: dict[str, Key]
) -> None:
    expected, _ = api_csv(app.test_client(), f"{API}/reports/member-usage/{data.ADA}", keys["admin"], MARCH)
    assert admin.get(export_path("member-usage"), query_string=MARCH).get_data() == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "“Time zone” must be an IANA time-zone name"),
        ({"start_date": "2024-02-30"}, "“From” is not a real calendar date."),
        ({"start_date": "2024-03-02", "end_date": "2024-03-01"}, "“From” must not be after “To”."),
        ({"tz": ["UTC", "UTC"]}, "“Time zone” must be given at most once."),
    ],
)
def test_bad_download_parameters_are_a_400_in_the_forms_words(
    admin: FlaskClient, query: dict[str, str], message: str
) -> None:
    response = admin.get(export_path("sms-usage"), query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in unescape(response.get_data(as_text=True))


def test_a_download_ignores_parameters_it_has_no_use_for(admin: FlaskClient) -> None:
    """As the page: a link may carry tracking tags; a download is CSV whatever ``format`` says."""
    response = admin.get(
        export_path("sms-usage"), query_string={**MARCH, "format": "json", "utm_medium": "email"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data() == admin.get(export_path("sms-usage"), query_string=MARCH).get_data()


def test_downloads_need_a_live_session(app: Flask, client: FlaskClient, keys: dict[str, Key]) -> None:
    refused = client.get(export_path("ai-usage"), query_string={"start_date": "2024-03-01", "tz": "UTC"})
    assert refused.status_code == 401
    # the error page leads back to the reports, with the range asked for
    back = f'<a class="button button--primary" href="{page_path()}?start_date=2024-03-01&amp;tz=UTC">'
    assert back + "Back to Detailed reports</a>" in refused.get_data(as_text=True)
    assert client.get(export_path("nothing")).status_code == 404
    other = signed_in_client(app, keys["w2_admin"], data.W2)
    assert other.get(export_path("ai-usage")).status_code == 401  # its cookie is for W2's page only


def test_per_number_tables_order_by_traffic_not_by_number(app: Flask) -> None:
    # In Los Angeles on 30 Apr - 1 May the odd number sorts first by its text ("+1 555 ..."
    # before "+1555...") but carried the least: 64 segments and 64 s, against 191 + 256.
    dates, zone = DateRange(date(2026, 4, 30), date(2026, 5, 1)), Zone("America/Los_Angeles")
    with app.test_request_context():
        sms = pagesections.sms_section(uuid.UUID(zone_data.WZ), dates, zone)["by_number"]
        phone = pagesections.phone_section(uuid.UUID(zone_data.WZ), dates, zone)["by_number"]
    assert [(row["phoneNumber"], row["segments"]) for row in sms] == [
        (zone_data.NUMBER, 191 + 256),
        (zone_data.ODD_NUMBER, 64),
    ]
    assert [(row["phoneNumber"], row["totalDurationSeconds"]) for row in phone] == [
        (zone_data.NUMBER, 191 + 256),
        (zone_data.ODD_NUMBER, 64),
    ]


def test_per_number_tables_count_the_local_days_each_number_carried_traffic(app: Flask) -> None:
    # In Los Angeles on 30 Apr - 1 May the plain number is busy on both days (A1-A6 and A8,
    # then A9), the odd one on 30 Apr alone (A7)
    dates, zone = DateRange(date(2026, 4, 30), date(2026, 5, 1)), Zone("America/Los_Angeles")
    with app.test_request_context():
        sms = pagesections.sms_section(uuid.UUID(zone_data.WZ), dates, zone)["by_number"]
        phone = pagesections.phone_section(uuid.UUID(zone_data.WZ), dates, zone)["by_number"]
    days = {zone_data.NUMBER: 2, zone_data.ODD_NUMBER: 1}
    assert {row["phoneNumber"]: row["days"] for row in sms} == days
    assert {row["phoneNumber"]: row["days"] for row in phone} == days
