"""The page in a real browser: headless Chromium (Debian's, /usr/bin/chromium, driven by
Playwright) against the app served over real HTTP on 127.0.0.1.

It signs in with a test key using the keyboard, lands in the browser's time zone (tz.js; the
browser runs in America/Los_Angeles), changes the range with the form, picks another zone with
the keyboard, follows a quick pick, reads the numbers on the page and compares them with the
API's JSON for the same range and ``tz`` fetched over the same HTTP server, downloads a CSV with
the page's cookies and compares it with the API's, checks that nothing is loaded from anywhere
else and that nothing
overflows a 375 px wide screen, signs out, signs in with a members-only key and checks that
no workspace-wide report is there. A view opened from another site keeps the session, and a
sign-out form posted from there is refused. A link to a section lands on it after sign-in. Screenshots at 375 and 1440 px wide go to screenshots/
(git-ignored).

Chromium missing is a failure, not a skip: ``make test`` installs it first
(scripts/ensure_chromium.sh).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from werkzeug.serving import make_server

from api import pageformat
from tests.api import fixture_data as data
from tests.api.conftest import PROJECT_ROOT, Key
from tests.page.conftest import W1, expected_metrics, page_path, with_prefix

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "screenshots"
WIDTHS = (375, 1440)
TIMEOUT_MS = 15_000
BROWSER_ZONE = "America/Los_Angeles"

# Every number the page marks, read in the browser: data-metric, or a row's data-key + data-field.
READ_METRICS = """
() => {
  const out = {};
  for (const el of document.querySelectorAll('data[data-metric], data[data-field], time[data-metric]')) {
    let name = el.dataset.metric;
    if (!name) {
      const row = el.closest('tr[data-key]');
      name = row.dataset.key + '.' + el.dataset.field;
    }
    out[name] = el.tagName === 'TIME' ? el.getAttribute('datetime') : el.value;
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh (make test does) and try again")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@contextmanager
def chromium(playwright: Any, zone: str) -> Iterator[Any]:
    """A fresh headless Chromium (its own --user-data-dir) whose clock is in ``zone``."""
    with tempfile.TemporaryDirectory(prefix="page-test-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1440, "height": 900},
            locale="en-US",
            timezone_id=zone,  # the page's default zone (tz.js)
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    with chromium(playwright, BROWSER_ZONE) as context:
        yield context


def api_bytes(server: str, path: str, key: Key, query: dict[str, str]) -> bytes:
    url = f"{server}/api/v2/w/{W1}/{path}"
    if query:
        url += "?" + "&".join(f"{name}={value}" for name, value in query.items())
    request = urllib.request.Request(url, headers=key.header)
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def api(server: str, path: str, key: Key, query: dict[str, str]) -> Any:
    return json.loads(api_bytes(server, path, key, query), parse_float=Decimal)


def shown_range(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def screenshots(tab: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        tab.evaluate("window.scrollTo(0, 0)")
        overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
        # on a narrow screen a table's row names scroll with it: pinned, they would cover the
        # numbers scrolled under them; and every section's link is in view, none clipped
        pinned = tab.evaluate(
            "[...document.querySelectorAll('.data-table th[scope=row]')]"
            ".filter(th => getComputedStyle(th).position === 'sticky').length"
        )
        if width < 640:
            assert pinned == 0, f"{name}: {pinned} pinned row names at {width}px"
        clipped = tab.evaluate(
            "[...document.querySelectorAll('.section-nav a')].filter(a => {"
            " const box = a.getBoundingClientRect(), list = a.closest('ul').getBoundingClientRect();"
            " return box.right > list.right + 0.5 || box.left < list.left - 0.5; }).length"
        )
        assert clipped == 0, f"{name}: {clipped} section links cut off at {width}px"
        # a pinned section nav leaves room for itself above a section its links scroll to
        covering = tab.evaluate(
            "(() => { const nav = document.querySelector('.section-nav');"
            " if (!nav || getComputedStyle(nav).position !== 'sticky') return 0;"
            " const room = parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0;"
            " return nav.getBoundingClientRect().height - room; })()"
        )
        assert covering <= 0, f"{name}: the pinned nav covers {covering}px of a section at {width}px"
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    tab.set_viewport_size({"width": 1440, "height": 900})


def tab_to(tab: Any, element_id: str, presses: int = 4) -> None:
    for _ in range(presses):
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def assert_numbers_equal_the_api(tab: Any, server: str, key: Key) -> dict[str, str]:
    shown = tab.evaluate(READ_METRICS)
    query = shown_range(tab.url)
    for prefix, path in (
        ("ai", "reports/ai-usage"),
        ("sms", "reports/sms-usage"),
        ("phone", "reports/phone-usage"),
        ("voice", "reports/voice-usage"),
    ):
        body = api(server, path, key, query)
        assert with_prefix(shown, prefix + ".") == expected_metrics(prefix, body), prefix
    for name in [name for name in shown if name.startswith("members[") and name.endswith(".totalCredits")]:
        member = name.removeprefix("members[").split("]")[0]
        body = api(server, f"reports/member-usage/{member}", key, query)
        assert Decimal(shown[name]) == body["totalCredits"], member
    return shown


def test_an_admin_and_a_member_in_chromium(
    browser: Any, server: str, keys: dict[str, Key], app: Flask
) -> None:
    tab = browser.new_page()
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))

    # --- sign in with the keyboard only ---
    tab.goto(f"{server}{page_path()}")
    assert tab.locator("h1").inner_text() == "Sign in to Detailed reports"
    screenshots(tab, "page-sign-in")
    assert tab.evaluate("document.activeElement.id") == "api_key"  # autofocus
    tab.keyboard.type(keys["admin"].token)
    tab.keyboard.press("Enter")
    # tz.js loads the page once more in the browser's zone
    tab.wait_for_url(f"{server}{page_path()}?tz={BROWSER_ZONE}")
    tab.wait_for_selector("#ai")
    assert tab.locator("#ai h2").inner_text() == "AI usage"
    assert tab.locator("#tz").input_value() == BROWSER_ZONE
    assert f"calendar day in {BROWSER_ZONE}" in tab.locator("#zone-used").inner_text()

    # The default view: each report's API default range, in the browser's zone.
    assert_numbers_equal_the_api(tab, server, keys["admin"])

    # --- change the range with the form, by keyboard: skip link, then the date fields ---
    tab.evaluate("window.scrollTo(0, 0)")
    tab.locator("body").focus()
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to main content"
    tab.keyboard.press("Enter")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.id") == "start_date"
    tab.keyboard.type("03012024")  # en-US: mm dd yyyy
    tab_to(tab, "end_date")  # (a date field may keep focus for its picker button first)
    tab.keyboard.type("03312024")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert shown_range(tab.url) == {"start_date": "2024-03-01", "end_date": "2024-03-31", "tz": BROWSER_ZONE}
    assert_numbers_equal_the_api(tab, server, keys["admin"])

    # --- pick UTC, then Asia/Kolkata, with the keyboard (type-ahead in the select) ---
    for zone in ("UTC", "Asia/Kolkata"):
        tab.locator("#end_date").focus()
        tab_to(tab, "tz")
        tab.keyboard.type(zone)
        assert tab.locator("#tz").input_value() == zone
        tab_to(tab, "show")
        with tab.expect_navigation():
            tab.keyboard.press("Enter")
        assert shown_range(tab.url) == {"start_date": "2024-03-01", "end_date": "2024-03-31", "tz": zone}
        shown = assert_numbers_equal_the_api(tab, server, keys["admin"])
        if zone == "UTC":
            # hand-checked numbers (tests/api/test_reports.py) and how people read them
            assert shown["ai.total_credits"] == "1.700001"
            utc_shown = shown
    assert shown != utc_shown  # the zone moved events across a day boundary
    assert "calendar day in Asia/Kolkata" in tab.locator("#zone-used").inner_text()
    screenshots(tab, "page-admin-march-2024-kolkata")

    # --- a CSV link, fetched with the page's cookies: the API's CSV for the same range and zone ---
    link = tab.get_by_role("link", name="Download CSV").first
    href = link.get_attribute("href") or ""
    assert href.startswith(f"{page_path()}/export/ai-usage.csv?")
    download = tab.request.get(server + href)
    assert download.status == 200
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    query = shown_range(server + href)
    assert download.body() == api_bytes(server, "reports/ai-usage", keys["admin"], {**query, "format": "csv"})
    assert query["tz"] == "Asia/Kolkata"

    # --- back to UTC for the hand-checked numbers ---
    tab.goto(f"{server}{page_path()}?start_date=2024-03-01&end_date=2024-03-31&tz=UTC")
    shown = assert_numbers_equal_the_api(tab, server, keys["admin"])
    assert shown["phone.totalDurationSeconds"] == "132"
    assert tab.locator("#ai-by-provider tr[data-key='ai.by_provider[openai]'] td").first.inner_text() == (
        pageformat.fmt_credits(Decimal("0.550001"))
    )
    assert "exactly 1.700001" in tab.locator("#ai .stats").inner_text()
    chart = tab.get_by_role("img", name="AI credits per day by provider")  # the SVG's accessible name
    assert chart.count() == 1 and "Total 1.700001 credits." in (chart.locator("desc").text_content() or "")
    screenshots(tab, "page-admin-march-2024")

    # --- a quick pick: a plain link with the range in the address ---
    tab.get_by_role("link", name="Last 30 days").first.click()
    tab.wait_for_load_state()
    today = datetime.now(ZoneInfo("UTC")).date()
    assert shown_range(tab.url) == {
        "start_date": (today - timedelta(days=29)).isoformat(),
        "end_date": today.isoformat(),
        "tz": "UTC",
    }
    assert tab.get_by_role("link", name="Last 30 days").first.get_attribute("aria-current") == "true"
    assert_numbers_equal_the_api(tab, server, keys["admin"])
    screenshots(tab, "page-admin-last-30-days")

    # --- an empty range: empty states, no broken chart ---
    tab.goto(f"{server}{page_path()}?start_date=2020-01-01&end_date=2020-01-31&tz=UTC")
    assert tab.locator(".empty-state").count() == 4
    assert tab.locator("svg.chart-svg").count() == 0

    # --- a bad date: a clear 400 page with the form ---
    response = tab.goto(f"{server}{page_path()}?start_date=2024-02-30&tz=UTC")
    assert response is not None and response.status == 400
    assert "\u201cFrom\u201d is not a real calendar date." in tab.locator("#range-error").inner_text()

    # --- an unknown zone: a 400 page naming tz ---
    response = tab.goto(f"{server}{page_path()}?tz=Mars/Olympus_Mons")
    assert response is not None and response.status == 400
    assert "\u201cTime zone\u201d must be an IANA time-zone name" in tab.locator("#range-error").inner_text()

    # --- sign out, then a members-only key ---
    tab.goto(f"{server}{page_path()}?tz=UTC")
    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_selector("#api_key")
    tab.fill("#api_key", keys["member"].token)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(f"{server}{page_path()}?tz=UTC")  # the zone kept through sign-out and sign-in
    tab.wait_for_selector("#own")
    for section in ("#ai", "#sms", "#phone", "#voice", "#members", "#members-table"):
        assert tab.locator(section).count() == 0, section
    shown = tab.evaluate(READ_METRICS)
    body = api(server, f"reports/member-usage/{data.CLEO}", keys["member"], {"tz": "UTC"})
    assert with_prefix(shown, "member.") == expected_metrics("member", body)
    assert [link.get_attribute("data-report") for link in tab.locator("a.download").all()] == ["member-usage"]
    href = tab.locator("a.download").get_attribute("href") or ""
    own = tab.request.get(server + href)
    assert own.status == 200
    assert own.body() == api_bytes(
        server,
        f"reports/member-usage/{data.CLEO}",
        keys["member"],
        {**shown_range(server + href), "format": "csv"},
    )
    refused = tab.request.get(f"{server}{page_path()}/export/ai-usage.csv")
    assert refused.status == 403
    assert set(shown) - set(with_prefix(shown, "member.")) <= {"data_as_of"}
    assert "Cleo Member" in tab.get_by_role("banner").inner_text()
    screenshots(tab, "page-member")

    # Nothing came from anywhere but this server (no CDN, fonts or scripts).
    assert requests and all(url.startswith(server + "/") or url.startswith("data:") for url in requests), {
        url for url in requests if not url.startswith(server)
    }
    for name in ("page-sign-in", "page-admin-march-2024", "page-admin-march-2024-kolkata", "page-member"):
        for width in WIDTHS:
            assert Path(SCREENSHOTS / f"{name}-{width}.png").stat().st_size > 10_000


def test_back_shows_the_range_of_the_view_and_a_renamed_zone_reads_as_today(
    playwright: Any, server: str, keys: dict[str, Key]
) -> None:
    # Chromium's clock in India reports its zone by the old spelling, Asia/Calcutta
    with chromium(playwright, "Asia/Kolkata") as context:
        tab = context.new_page()
        tab.goto(f"{server}{page_path()}")
        tab.fill("#api_key", keys["admin"].token)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url(f"{server}{page_path()}?tz=Asia/Kolkata")  # tz.js: the tz database's name
        assert tab.locator("#tz").input_value() == "Asia/Kolkata"

        march = {"start_date": "2024-03-01", "end_date": "2024-03-31", "tz": "Europe/Berlin"}
        tab.goto(f"{server}{page_path()}?start_date=2024-03-01&end_date=2024-03-31&tz=Europe/Berlin")
        tab.fill("#start_date", "2024-04-03")
        tab.fill("#end_date", "2024-04-09")
        tab.select_option("#tz", "Asia/Kathmandu")
        with tab.expect_navigation():
            tab.get_by_role("button", name="Show").click()
        assert shown_range(tab.url) == {
            "start_date": "2024-04-03",
            "end_date": "2024-04-09",
            "tz": "Asia/Kathmandu",
        }
        tab.go_back()
        assert shown_range(tab.url) == march
        # the form says what the reports under it show, not what was typed before leaving
        shown = {name: tab.locator(f"#{name}").input_value() for name in march}
        assert shown == march


def test_a_link_to_a_section_lands_on_it_after_sign_in(
    playwright: Any, server: str, keys: dict[str, Key]
) -> None:
    """A shared link to the voice section meets the sign-in form; a mistyped key keeps the
    fragment too, and the right one lands on the section, scrolled to it (sign_in.js)."""
    view = f"{server}{page_path()}?start_date=2024-03-01&end_date=2024-03-31&tz=UTC"
    with chromium(playwright, "UTC") as context:
        tab = context.new_page()
        tab.goto(f"{view}#voice")
        tab.fill("#api_key", "not-a-key")
        with tab.expect_navigation():
            tab.get_by_role("button", name="Sign in").click()
        assert tab.locator("#sign-in-error").count() == 1
        assert tab.url.endswith("#voice")
        tab.fill("#api_key", keys["admin"].token)
        with tab.expect_navigation():
            tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_selector("#voice")
        assert tab.url == f"{view}#voice"
        # the browser scrolls to the section once the page has loaded (polled from here: the
        # page's CSP refuses the string evaluation wait_for_function uses)
        tab.wait_for_load_state("load")
        top = "document.getElementById('voice').getBoundingClientRect().top"
        for _ in range(50):
            if abs(tab.evaluate(top)) < 200:
                break
            tab.wait_for_timeout(100)
        assert abs(tab.evaluate(top)) < 200 and tab.evaluate("window.scrollY") > 0


POST_FROM_HERE = """
([action, token]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  const field = document.createElement('input');
  field.name = 'csrf_token';
  field.value = token;
  form.append(field);
  document.body.append(form);
  form.submit();
}
"""


def test_a_link_from_another_site_keeps_the_session_and_its_forms_are_refused(
    playwright: Any, server: str, keys: dict[str, Key]
) -> None:
    """A shared view opened from another site (here localhost, a different site from 127.0.0.1
    on the same server) arrives with the session cookie (SameSite=Lax) and shows the reports;
    a sign-out form that site posts is refused and leaves the session as it was."""
    elsewhere = server.replace("127.0.0.1", "localhost")
    view = f"{server}{page_path()}?start_date=2024-03-01&end_date=2024-03-31&tz=UTC"
    with chromium(playwright, "UTC") as context:
        tab = context.new_page()
        tab.goto(f"{server}{page_path()}")
        tab.fill("#api_key", keys["admin"].token)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_selector("#ai")
        token = tab.locator("input[name=csrf_token]").first.input_value()

        tab.goto(f"{elsewhere}/api/v2/openapi.json")
        with tab.expect_navigation():
            tab.evaluate("url => { location.href = url }", view)
        tab.wait_for_selector("#ai")
        assert tab.locator("#api_key").count() == 0
        assert_numbers_equal_the_api(tab, server, keys["admin"])

        tab.goto(f"{elsewhere}/api/v2/openapi.json")
        with tab.expect_navigation() as posted:
            tab.evaluate(POST_FROM_HERE, [f"{server}{page_path()}/sign-out", token])
        assert posted.value is not None and posted.value.status == 403
        assert "Form from another site" in tab.locator("body").inner_text()

        tab.goto(view)
        tab.wait_for_selector("#ai")
        assert tab.locator("#api_key").count() == 0
