"""Cacheable reports (CONTRACT §6): ETag, If-None-Match and 304, Cache-Control,
and the checks that must still come before a 304."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from flask import Flask

from api import buildlock, caching, reports
from api.db import Database
from tests.api import fixture_data as data
from tests.api.conftest import PROJECT_ROOT, ApiClient, Key, Warehouse, error_of

W1_REPORTS = f"/api/v2/w/{data.W1}/reports"
REPORTS = ["ai-usage", "sms-usage", "phone-usage", "voice-usage", f"member-usage/{data.ADA}"]
MARCH = {"start_date": "2024-03-01", "end_date": "2024-03-31"}
STRONG_TAG = re.compile(r'"[0-9a-f]{32}"')


def url(path: str) -> str:
    return f"{W1_REPORTS}/{path}"


def etag_of(api: ApiClient, key: Key, path: str, query: dict[str, str] | None = None, **headers: str) -> str:
    response = api.get(url(path), key, MARCH if query is None else query, headers=headers or None)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.headers["ETag"]


def conditional(
    api: ApiClient, key: Key | None, path: str, tags: str, query: dict[str, str] | None = None
) -> Any:
    return api.get(url(path), key, MARCH if query is None else query, headers={"If-None-Match": tags})


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize("query", [MARCH, {**MARCH, "format": "csv"}, {**MARCH, "tz": "Asia/Kolkata"}])
def test_every_report_answer_is_cacheable(
    api: ApiClient, keys: dict[str, Key], path: str, query: dict[str, str]
) -> None:
    first = api.get(url(path), keys["admin"], query)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert STRONG_TAG.fullmatch(tag)
    assert first.headers["Cache-Control"] == "private"
    assert first.headers["Vary"] == "Authorization, Accept"
    # the same question gets the same tag
    assert api.get(url(path), keys["admin"], query).headers["ETag"] == tag

    again = conditional(api, keys["admin"], path, tag, query)
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == "private"
    assert again.headers["Vary"] == "Authorization, Accept"
    assert "Content-Disposition" not in again.headers


def test_spellings_of_one_request_share_a_tag(api: ApiClient, keys: dict[str, Key]) -> None:
    # Ids in upper case name the same workspace and member, so the same body and the same tag.
    path = f"member-usage/{data.ADA}"
    tag = etag_of(api, keys["admin"], path)
    upper = f"/api/v2/w/{data.W1.upper()}/reports/member-usage/{data.ADA.upper()}"
    response = api.get(upper, keys["admin"], MARCH)
    assert response.status_code == 200
    assert response.headers["ETag"] == tag
    assert api.get(upper, keys["admin"], MARCH, headers={"If-None-Match": tag}).status_code == 304


@pytest.mark.parametrize(
    "header",
    ["{tag}", "W/{tag}", '"other", {tag}', 'W/"other",W/{tag}, "more"', "*", " {tag} "],
)
def test_if_none_match_forms(api: ApiClient, keys: dict[str, Key], header: str) -> None:
    tag = etag_of(api, keys["admin"], "phone-usage")
    assert conditional(api, keys["admin"], "phone-usage", header.format(tag=tag)).status_code == 304


# (an unquoted tag is read leniently, as Werkzeug parses it: it would match)
@pytest.mark.parametrize("header", ['"other"', 'W/"other"', "garbage", '"{bare}x"', '"{bare}'])
def test_a_tag_that_does_not_match_gets_the_report(api: ApiClient, keys: dict[str, Key], header: str) -> None:
    tag = etag_of(api, keys["admin"], "phone-usage")
    response = conditional(api, keys["admin"], "phone-usage", header.format(bare=tag.strip('"')))
    assert response.status_code == 200
    assert response.headers["ETag"] == tag
    assert response.json["totalCalls"] == 4  # type: ignore[index]


def test_head_answers_304_too(api: ApiClient, keys: dict[str, Key]) -> None:
    tag = etag_of(api, keys["admin"], "voice-usage")
    response = api.request(
        url("voice-usage"), keys["admin"], MARCH, method="HEAD", headers={"If-None-Match": tag}
    )
    assert response.status_code == 304
    assert response.headers["ETag"] == tag


def test_the_tag_names_path_range_zone_format_and_member(api: ApiClient, keys: dict[str, Key]) -> None:
    admin = keys["admin"]
    tags = {
        "march": etag_of(api, admin, "sms-usage"),
        "april": etag_of(api, admin, "sms-usage", {"start_date": "2024-04-01", "end_date": "2024-04-30"}),
        "march to april": etag_of(
            api, admin, "sms-usage", {"start_date": "2024-03-01", "end_date": "2024-04-01"}
        ),
        "kolkata": etag_of(api, admin, "sms-usage", {**MARCH, "tz": "Asia/Kolkata"}),
        "kathmandu": etag_of(api, admin, "sms-usage", {**MARCH, "tz": "Asia/Kathmandu"}),
        "csv": etag_of(api, admin, "sms-usage", {**MARCH, "format": "csv"}),
        "phone": etag_of(api, admin, "phone-usage"),
        "ada": etag_of(api, admin, f"member-usage/{data.ADA}"),
        "ben": etag_of(api, admin, f"member-usage/{data.BEN}"),
    }
    assert len(set(tags.values())) == len(tags), tags
    # the same resolved question asked another way is the same answer
    assert etag_of(api, admin, "sms-usage", {**MARCH, "tz": "UTC"}) == tags["march"]
    assert etag_of(api, admin, "sms-usage", {**MARCH, "format": "json"}) == tags["march"]
    assert etag_of(api, admin, "sms-usage", MARCH, Accept="text/csv") == tags["csv"]
    # another key of the same workspace asks the same question
    assert etag_of(api, keys["analyst"], "sms-usage") == tags["march"]
    # a tag of another question does not revalidate this one
    assert conditional(api, admin, "sms-usage", tags["kolkata"]).status_code == 200
    assert conditional(api, admin, "sms-usage", tags["csv"]).status_code == 200


@contextmanager
def freshness_moved(warehouse: Warehouse, column: str) -> Iterator[None]:
    """What a build that changed the marts leaves in ``data_freshness``: ``data_as_of`` moves
    when it landed newer rows; only ``version_at`` when it took a row whose loader
    committed late. Put back afterwards."""
    with warehouse.connect() as conn:
        conn.execute(f"update marts.data_freshness set {column} = {column} + interval '1 second'")
    try:
        yield
    finally:
        with warehouse.connect() as conn:
            conn.execute(f"update marts.data_freshness set {column} = {column} - interval '1 second'")


@pytest.mark.parametrize("column", ["data_as_of", "version_at"])
def test_the_tag_changes_when_the_marts_do(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, column: str
) -> None:
    before = {path: etag_of(api, keys["admin"], path) for path in REPORTS}
    with freshness_moved(warehouse, column):
        for path, tag in before.items():
            response = conditional(api, keys["admin"], path, tag)
            assert response.status_code == 200, path
            assert response.headers["ETag"] != tag
            assert conditional(api, keys["admin"], path, response.headers["ETag"]).status_code == 304


def test_the_tag_changes_when_a_full_refresh_replaces_a_mart(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    # A full refresh of one mart (--select), like a build killed half-way, never reaches
    # data_freshness, yet it can change reports (after an upgrade that adds a validity rule);
    # it replaces the mart's table, and the tags follow the tables.
    before = {path: etag_of(api, keys["admin"], path) for path in REPORTS}
    freshness = "select data_as_of, version_at from marts.data_freshness"
    with warehouse.connect() as conn:
        was = conn.execute(freshness).fetchone()
    warehouse.dbt("run", "--full-refresh", "--select", "ai_usage_daily")
    changed = {}
    try:
        with warehouse.connect() as conn:
            assert conn.execute(freshness).fetchone() == was
        for path, tag in before.items():
            response = conditional(api, keys["admin"], path, tag)
            assert response.status_code == 200, path
            assert response.headers["ETag"] != tag
            assert conditional(api, keys["admin"], path, response.headers["ETag"]).status_code == 304
            changed[path] = response.headers["ETag"]
    finally:
        # that run left data_freshness out, so until one builds it the tags are the bodies'
        # (and the other tests of this database would see them too)
        warehouse.dbt("run", "--select", "data_freshness")
    # then a version's again (the mart's new table in it), which holds
    for path, tag in changed.items():
        settled = etag_of(api, keys["admin"], path)
        assert settled not in (tag, before[path]), path
        assert conditional(api, keys["admin"], path, settled).status_code == 304


def test_the_tags_follow_every_mart_the_api_reads(warehouse: Warehouse) -> None:
    # The test above replaces one mart; every mart is in every tag, so it would pass with any
    # other table missing from caching.MART_TABLES. Each mart the report API's exposure names
    # (the lineage: what a changed-columns error asks to refresh alone) must be one whose
    # table the tags are derived from, by the table's current identity.
    exposures = yaml.safe_load((PROJECT_ROOT / "models/marts/_marts__exposures.yml").read_text())
    (api_exposure,) = (item for item in exposures["exposures"] if item["name"] == "report_api")
    read = {re.fullmatch(r"ref\('(\w+)'\)", ref)[1] for ref in api_exposure["depends_on"]}  # type: ignore[index]
    marts = {name for name in read if not name.startswith("stg_") and name != "data_freshness"}
    assert len(marts) == 16
    with warehouse.connect() as conn:
        (followed,) = conn.execute(f"select {caching.MART_TABLE_IDS}").fetchone()  # type: ignore[misc]
        for mart in sorted(marts):
            (table,) = conn.execute("select to_regclass(%s)::oid::text", (f"marts.{mart}",)).fetchone()  # type: ignore[misc]
            assert table in followed.split(","), mart


@contextmanager
def build_lock_held(warehouse: Warehouse) -> Iterator[None]:
    """What make build holds for a whole build (scripts/build.py)."""
    with warehouse.connect() as lock:
        lock.execute("select pg_advisory_lock(%s)", (buildlock.BUILD_LOCK_KEY,))
        try:
            yield
        finally:
            lock.execute("select pg_advisory_unlock(%s)", (buildlock.BUILD_LOCK_KEY,))


@pytest.mark.parametrize("path", REPORTS)
def test_while_a_build_runs_a_tag_names_only_its_own_body(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, path: str
) -> None:
    # A build commits each mart before data_freshness: for a moment a body may count rows its
    # version does not name. Meanwhile a tag is made from the body's bytes (never a version's,
    # which would name two bodies): a version's tag gets the body, its own tag a 304.
    before = api.get(url(path), keys["admin"], MARCH)
    tag = before.headers["ETag"]
    with build_lock_held(warehouse):
        during = conditional(api, keys["admin"], path, tag)
        assert during.status_code == 200 and during.get_data() == before.get_data()
        body_tag = during.headers["ETag"]
        assert STRONG_TAG.fullmatch(body_tag) and body_tag != tag
        again = conditional(api, keys["admin"], path, body_tag)
        assert again.status_code == 304 and again.headers["ETag"] == body_tag  # the same bytes, the same tag
    assert conditional(api, keys["admin"], path, tag).status_code == 304  # the build is over


# A day's sum moved in each daily mart (for W1, inside MARCH) while the marts made from it (lists,
# running totals) and the quarter hours it is made from keep the old numbers: what a build that
# stopped between them leaves. (mart, column, amount, which of the day's rows)
DAILY_BUMPS = (
    ("ai_usage_daily", "credits", "1", "true"),
    ("sms_usage_daily", "characters", "1000", "true"),
    ("phone_usage_daily", "duration_seconds", "1000", "true"),
    ("voice_usage_daily", "duration_seconds", "1000", "kind = 'stt'"),
    ("member_usage_daily", "credits", "1", f"member_id = '{data.ADA}'"),
)


@contextmanager
def daily_marts_ahead(warehouse: Warehouse) -> Iterator[Callable[[bool], None]]:
    """The daily marts a day ahead of the rest (``DAILY_BUMPS``); yields a switch for
    ``data_freshness.build_unfinished``. Everything is put back afterwards."""
    with warehouse.connect() as conn:
        for mart, column, amount, which in DAILY_BUMPS:
            conn.execute(f"create temporary table saved_{mart} as table marts.{mart}")
            bumped = conn.execute(
                f"""update marts.{mart} set {column} = {column} + {amount}
                where ctid = (
                    select ctid from marts.{mart}
                    where workspace_id = %s and usage_date = '2024-03-04' and {which}
                    limit 1
                )""",
                (data.W1,),
            ).rowcount
            assert bumped == 1, mart

        def mark(unfinished: bool) -> None:
            conn.execute("update marts.data_freshness set build_unfinished = %s", (unfinished,))

        try:
            yield mark
        finally:
            mark(False)
            for mart, *_ in DAILY_BUMPS:
                conn.execute(f"truncate marts.{mart}")
                conn.execute(f"insert into marts.{mart} table saved_{mart}")


def test_after_a_build_stopped_part_way_reports_read_as_during_a_build(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Until a build finishes, every report reads the marts others are made from, as while a
    # build runs: UTC the daily marts (not the lists and running totals), another zone the
    # quarter hours alone (not the daily sums of whole UTC dates), JSON and CSV alike.
    asks = [
        (path, {**MARCH, "tz": zone, **extra})
        for path in REPORTS
        for zone in ("UTC", "America/New_York")
        for extra in ({}, {"format": "csv"})
    ]

    def answers() -> list[bytes]:
        got = [api.get(url(path), keys["admin"], query) for path, query in asks]
        assert all(response.status_code == 200 for response in got)
        return [response.get_data() for response in got]

    with daily_marts_ahead(warehouse) as mark:
        settled = answers()  # the mark unset: what a finished build's marts are read as
        mark(True)
        unfinished = answers()
        monkeypatch.setattr(reports.common, "reads_unsettled", lambda _database: True)
        during_a_build = answers()
    assert unfinished == during_a_build
    # the moved day shows where a settled reading takes the daily sums: every UTC CSV, member
    # usage's UTC JSON; elsewhere it reads what is made from them (UTC) or the quarter hours
    same_either_way = [
        query["tz"] == "UTC" and (query.get("format") == "csv" or path.startswith("member-usage"))
        for path, query in asks
    ]
    for ask, before, after, same in zip(asks, settled, during_a_build, same_either_way, strict=True):
        assert (before == after) == same, ask


def test_a_build_that_ends_while_the_report_runs_still_gets_a_body_tag(
    app: Flask, api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock is held when the request's key is checked and let go just before the report's
    # statement: that statement reads the lock as it ends (free), but the build may have
    # committed marts before data_freshness meanwhile, so the tag must not be a version's.
    tag = etag_of(api, keys["admin"], "ai-usage")
    database = app.extensions["usage_reports_db"]
    with warehouse.connect() as lock:
        lock.execute("select pg_advisory_lock(%s)", (buildlock.BUILD_LOCK_KEY,))
        held = [True]
        report = database.fetch_all

        def release_first(query: str, params: Any = None) -> Any:
            if held[0] and "marts." in query:
                lock.execute("select pg_advisory_unlock(%s)", (buildlock.BUILD_LOCK_KEY,))
                held[0] = False
            return report(query, params)

        monkeypatch.setattr(database, "fetch_all", release_first)
        response = conditional(api, keys["admin"], "ai-usage", tag)
    assert not held[0]  # the statement ran after the build let go
    assert response.status_code == 200 and response.headers["ETag"] != tag


def test_a_build_that_starts_after_the_key_check_gets_no_304(
    app: Flask, api: ApiClient, keys: dict[str, Key], warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock is free when the request's key is checked and taken just before the version is
    # read: the build may already have committed marts ahead of data_freshness, so a tag that
    # still matches the old version must not answer 304.
    tag = etag_of(api, keys["admin"], "ai-usage")
    database = app.extensions["usage_reports_db"]
    with warehouse.connect() as lock:
        taken = [False]
        read_version = database.fetch_one

        def take_first(query: str, params: Any = None) -> Any:
            if query == caching.DATA_VERSION_SQL and not taken[0]:
                lock.execute("select pg_advisory_lock(%s)", (buildlock.BUILD_LOCK_KEY,))
                taken[0] = True
            return read_version(query, params)

        monkeypatch.setattr(database, "fetch_one", take_first)
        try:
            response = conditional(api, keys["admin"], "ai-usage", tag)
        finally:
            lock.execute("select pg_advisory_unlock_all()")
    assert taken[0]  # the version was read after the build began
    assert response.status_code == 200 and response.headers["ETag"] != tag


def test_the_tag_is_a_function_of_its_inputs() -> None:
    params = {"workspace_id": data.W1, "start_date": "2024-03-01", "tz": "UTC", "format": "json"}
    none = caching.Version(None, None)
    tag = caching.etag("/p", params, none)
    assert tag == caching.etag("/p", dict(reversed(params.items())), none)
    assert tag != caching.etag("/q", params, none)
    assert tag != caching.etag("/p", {**params, "tz": "Asia/Kolkata"}, none)


# --- what still comes first ------------------------------------------------------------------------


def test_401_403_404_and_400_still_win_over_304(api: ApiClient, keys: dict[str, Key]) -> None:
    tag = etag_of(api, keys["admin"], "ai-usage")
    for tags in (tag, "*"):
        unauthenticated = conditional(api, None, "ai-usage", tags)
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
        assert conditional(api, keys["revoked"], "ai-usage", tags).status_code == 401
        assert conditional(api, keys["expired"], "ai-usage", tags).status_code == 401
        # a key without the scope, and a key of another workspace
        assert conditional(api, keys["viewer"], "ai-usage", tags).status_code == 403
        assert conditional(api, keys["w2_admin"], "ai-usage", tags).status_code == 403
        assert conditional(api, keys["member"], "ai-usage", tags).status_code == 403
        # another member's usage without analytics:read; then a member not in the workspace
        member_tag = etag_of(api, keys["admin"], f"member-usage/{data.BEN}")
        assert conditional(api, keys["member"], f"member-usage/{data.BEN}", member_tag).status_code == 403
        assert conditional(api, keys["admin"], f"member-usage/{data.HAL}", "*").status_code == 404
        bad = conditional(api, keys["admin"], "ai-usage", tags, {**MARCH, "tz": "Mars/Olympus"})
        assert bad.status_code == 400
        assert "tz" in error_of(bad)["message"]
        for refused in (unauthenticated, bad):
            assert "ETag" not in refused.headers
            assert refused.headers["Cache-Control"] == "no-store"


class QueryLog:
    def __init__(self) -> None:
        self.statements: list[str] = []


@pytest.fixture
def query_log(app: Flask, monkeypatch: pytest.MonkeyPatch) -> QueryLog:
    log = QueryLog()
    database: Database = app.extensions["usage_reports_db"]
    for name in ("fetch_all", "fetch_one"):
        original = getattr(database, name)

        def spy(query: str, params: Any = None, original: Any = original) -> Any:
            log.statements.append(query)
            return original(query, params)

        monkeypatch.setattr(database, name, spy)
    return log


@pytest.mark.parametrize("path", REPORTS)
def test_a_304_reads_the_version_and_not_the_report(
    api: ApiClient, keys: dict[str, Key], query_log: QueryLog, path: str
) -> None:
    tag = etag_of(api, keys["admin"], path)
    assert len(query_log.statements) == 1  # the 200: the report's one statement, its version inside it
    assert "marts." in query_log.statements[0]
    query_log.statements.clear()
    assert conditional(api, keys["admin"], path, tag).status_code == 304
    assert query_log.statements == [caching.DATA_VERSION_SQL]
