"""`make build` is safe to run from cron: concurrent builds serialize, a
killed build leaves the previous marts in place and the next one is exact, and
a build that fails part-way leaves no changed report under its old ETag."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from werkzeug.test import TestResponse

from api import create_app
from api.keystore import create_key
from tests.page.conftest import page_metrics, page_path, signed_in_client
from tests.pipeline.landings import W1, land
from tests.warehouse import PROJECT_ROOT, connect, database_env, dbt, fresh_warehouse, load_fixture

DATABASE = "usage_reports_test_refresh"
M1 = uuid.UUID("a0000000-0000-4000-8000-000000000001")  # W1's admin in raw_base.sql
BUILD = [str(PROJECT_ROOT / ".venv" / "bin" / "python"), str(PROJECT_ROOT / "scripts" / "build.py")]
MARTS = (
    *(
        f"{mart}_{grain}"
        for mart in ("ai_usage", "message_counts", "sms_usage", "phone_usage", "voice_usage", "member_usage")
        for grain in ("daily", "quarter_hourly")
    ),
    "voice_usage_daily_lists",
    "ai_usage_running_totals",
    "phone_usage_daily_lists",
    "sms_usage_daily_lists",
)


def snapshot(database: str) -> dict[str, list[tuple]]:
    with connect(database) as conn:
        return {
            table: sorted(conn.execute(f"select * from marts.{table}").fetchall(), key=repr)
            for table in MARTS
        }


def start_build(database: str, *args: str, unset: tuple[str, ...] = (), **env: str) -> subprocess.Popen[str]:
    environment = {**database_env(database), **env}
    for name in unset:
        environment.pop(name, None)
    return subprocess.Popen(
        [*BUILD, *args],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def warehouse() -> str:
    fresh_warehouse(DATABASE, "raw_base.sql")
    return DATABASE


def expected_after_late_rows(database: str) -> dict[str, list[tuple]]:
    """The marts a full rebuild gives after raw_late.sql (computed, then put back)."""
    dbt(database, "build", "--full-refresh")
    return snapshot(database)


def test_two_builds_at_once_serialize_and_end_exact(warehouse: str) -> None:
    load_fixture(warehouse, "raw_late.sql", append=True)
    first = start_build(warehouse)
    # the second as the README's scheduler line runs it: no DBT_PROFILES_DIR from make
    second = start_build(warehouse, unset=("DBT_PROFILES_DIR",))
    outputs = [build.communicate(timeout=300) for build in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert any("another build is running" in stderr for _, stderr in outputs)
    incremental = snapshot(warehouse)
    assert expected_after_late_rows(warehouse) == incremental


def test_a_build_that_cannot_wait_exits_cleanly(warehouse: str) -> None:
    with connect(warehouse) as holder:
        holder.execute("select pg_advisory_lock(7305118042)")
        blocked = start_build(warehouse, BUILD_LOCK_WAIT_SECONDS="0")
        _, stderr = blocked.communicate(timeout=60)
    assert blocked.returncode == 75
    assert "another build still holds the lock" in stderr


def test_a_loader_left_in_its_transaction_is_named_after_the_build(warehouse: str) -> None:
    # A loader session idle in a transaction that wrote to raw holds back where builds read
    # (README, "For the pipeline that loads raw"): the build still succeeds, and says who. So
    # does one that wrote in another database of the server (transaction ids are the server's).
    loader = psycopg.connect(dbname=warehouse, application_name="nightly loader")
    elsewhere = psycopg.connect(dbname="postgres", application_name="other app")
    try:
        land(loader, "ai_usage_events")  # not committed
        elsewhere.execute("select pg_current_xact_id()")  # as a write would, takes an id
        build = start_build(warehouse)
        _, stderr = build.communicate(timeout=300)
        assert build.returncode == 0, stderr
        for session, database, application in (
            (loader, warehouse, "nightly loader"),
            (elsewhere, "postgres", "other app"),
        ):
            assert (
                f"(pid {session.info.backend_pid}, database {database}, user {session.info.user}, "
                f"application '{application}', idle in transaction) holds back where builds read raw"
            ) in stderr
    finally:
        for session in (loader, elsewhere):
            session.rollback()
            session.close()
    build = start_build(warehouse)
    _, stderr = build.communicate(timeout=300)
    assert build.returncode == 0 and "holds back" not in stderr, stderr


def wait_for_dbt_query(database: str, timeout: float = 60.0, *, waiting_on_lock: bool = False) -> None:
    """Return once dbt is running a statement against the marts' database (``waiting_on_lock``:
    one that waits for a table lock)."""
    deadline = time.monotonic() + timeout
    with connect(database) as conn:
        while time.monotonic() < deadline:
            (busy,) = conn.execute(
                """select count(*) from pg_stat_activity
                   where datname = %s and pid <> pg_backend_pid() and state = 'active'
                     and query ilike '%%marts%%' and (not %s or wait_event_type = 'Lock')""",
                (database, waiting_on_lock),
            ).fetchone()  # type: ignore[misc]
            if busy:
                return
            time.sleep(0.02)
    raise AssertionError("dbt never started working on the marts")


def test_a_killed_build_leaves_the_previous_marts_and_the_next_build_is_exact(warehouse: str) -> None:
    before = snapshot(warehouse)
    load_fixture(warehouse, "raw_late.sql", append=True)
    build = start_build(warehouse)
    wait_for_dbt_query(warehouse)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait(timeout=30)
    # Each mart is whole: either as before the build, or fully refreshed. Never half.
    after_kill = snapshot(warehouse)
    with connect(warehouse) as conn:
        conn.execute("select pg_advisory_lock(7305118042)")  # the killed build's lock is gone
        conn.execute("select pg_advisory_unlock(7305118042)")
    finished = start_build(warehouse)
    _, stderr = finished.communicate(timeout=300)
    assert finished.returncode == 0, stderr
    incremental = snapshot(warehouse)
    expected = expected_after_late_rows(warehouse)
    assert incremental == expected
    for table in MARTS:
        assert after_kill[table] in (before[table], expected[table]), table


def live_processes_in_group(group: int) -> list[int]:
    """The processes of a process group that are not zombies (a zombie holds no lock and runs nothing)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            found.append(int(entry))
    return found


def test_killing_the_build_script_alone_stops_its_dbt(warehouse: str) -> None:
    # An operator kills the process that holds the lock (scripts/build.py), not its group: the
    # dbt it started must not go on building without the lock, beside the next build.
    # A reader's lock on a mart holds dbt inside the build, so it is surely still running when
    # the script is killed.
    load_fixture(warehouse, "raw_late.sql", append=True)
    with connect(warehouse) as reader, reader.transaction():
        reader.execute("lock table marts.ai_usage_daily in access exclusive mode")
        build = start_build(warehouse)
        wait_for_dbt_query(warehouse, waiting_on_lock=True)
        build.kill()
        build.wait(timeout=30)
        deadline = time.monotonic() + 10
        while live_processes_in_group(build.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert live_processes_in_group(build.pid) == []
    finished = start_build(warehouse)
    _, stderr = finished.communicate(timeout=300)
    assert finished.returncode == 0, stderr
    assert snapshot(warehouse) == expected_after_late_rows(warehouse)


def test_a_dbt_killed_under_the_script_is_exit_128_plus_the_signal(warehouse: str) -> None:
    # Something (the OOM killer, an operator) kills dbt alone: the script says so and exits as a
    # shell would report it (137 for SIGKILL), not with Python's negative status (247).
    with connect(warehouse) as reader, reader.transaction():
        reader.execute("lock table marts.ai_usage_daily in access exclusive mode")
        build = start_build(warehouse)
        wait_for_dbt_query(warehouse, waiting_on_lock=True)
        (child,) = Path(f"/proc/{build.pid}/task/{build.pid}/children").read_text().split()  # dbt
        os.kill(int(child), signal.SIGKILL)
        _, stderr = build.communicate(timeout=30)
    assert build.returncode == 128 + signal.SIGKILL, stderr
    # (a helper process dbt leaves behind may still write its own warnings after this line)
    assert re.search(rf"Z build: finished: exit {128 + signal.SIGKILL}$", stderr, re.MULTILINE), stderr


def test_a_warehouse_it_cannot_reach_or_without_raw_tables_is_one_line(warehouse: str) -> None:
    unreachable = start_build(warehouse, PGHOST="/nonexistent")
    _, stderr = unreachable.communicate(timeout=60)
    assert unreachable.returncode == 1
    assert "cannot connect to the warehouse" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    # a user the warehouse lets in but not into schema raw: one line, no traceback
    outsider = f"{warehouse}_outsider"[:63]
    with connect(warehouse) as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(outsider)))  # a crashed run's
        # with a password, so a server that asks for one lets it in (the private one trusts)
        conn.execute(
            sql.SQL("create role {} login password 'outsider-test-only'").format(sql.Identifier(outsider))
        )
    try:
        refused = start_build(warehouse, PGUSER=outsider, PGPASSWORD="outsider-test-only")
        _, stderr = refused.communicate(timeout=60)
    finally:
        with connect(warehouse) as conn:
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(outsider)))
    assert refused.returncode == 1 and "Traceback" not in stderr, stderr
    assert f"the build's checks failed (as user {outsider}): permission denied for schema raw" in stderr
    assert len(stderr.strip().splitlines()) == 1
    with connect(warehouse) as conn:
        conn.execute("drop schema raw cascade")
    missing = start_build(warehouse)
    _, stderr = missing.communicate(timeout=60)
    assert missing.returncode == 1
    assert f"no raw tables in database {warehouse}: run make raw" in stderr
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ build: ", stderr)
    for env, message in (
        ({"BUILD_LOCK_WAIT_SECONDS": "abc"}, "BUILD_LOCK_WAIT_SECONDS must be a number of seconds"),
        ({"BUILD_LOCK_WAIT_SECONDS": "nan"}, "BUILD_LOCK_WAIT_SECONDS must be a number of seconds"),
        ({"BUILD_LOCK_WAIT_SECONDS": "inf"}, "BUILD_LOCK_WAIT_SECONDS must be a number of seconds"),
        ({"BUILD_LOCK_WAIT_SECONDS": "-1"}, "BUILD_LOCK_WAIT_SECONDS must be a number of seconds"),
        ({"DBT_PROFILES_DIR": "/nonexistent"}, "no dbt profile in /nonexistent: run make setup"),
    ):
        refused = start_build(warehouse, **env)
        _, stderr = refused.communicate(timeout=60)
        assert refused.returncode == 1 and message in stderr, (env, stderr)
        assert len(stderr.strip().splitlines()) == 1


def test_a_build_that_fails_part_way_leaves_no_changed_report_under_its_old_tag(warehouse: str) -> None:
    # A model that fails stops dbt before data_freshness (it depends on every mart) while the
    # marts built before it stay committed: the SMS report then counts a message the version
    # in data_freshness does not name. Until a build finishes, its tag must come from its body.
    with psycopg.connect(dbname=warehouse, autocommit=True, row_factory=dict_row) as conn:
        key = create_key(
            conn,
            workspace_id=uuid.UUID(W1),
            member_id=M1,
            name="failed build",
            scopes=["analytics:read"],
            expires_in_days=1,
        )
    app = create_app({"DATABASE_CONNINFO": make_conninfo(dbname=warehouse)})
    client = app.test_client()
    sms = f"/api/v2/w/{W1}/reports/sms-usage?start_date=2026-05-01&end_date=2026-05-31"
    auth = {"Authorization": f"Bearer {key.token}"}

    def get(tag: str | None = None) -> TestResponse:
        return client.get(sms, headers={**auth, **({"If-None-Match": tag} if tag else {})})

    voice = f"/api/v2/w/{W1}/reports/voice-usage?start_date=2026-05-01&end_date=2026-05-31"

    def stt_seconds(tag: str = "") -> tuple[Decimal, Decimal, Decimal, str]:
        """The voice report's STT seconds as its JSON (asked with ``tag`` if any), as its CSV's
        lines add them up and as the page shows them; and the JSON's tag."""
        answer = client.get(voice, headers={**auth, **({"If-None-Match": tag} if tag else {})})
        assert answer.status_code == 200, answer.status
        lines = csv.DictReader(
            io.StringIO(client.get(voice + "&format=csv", headers=auth).get_data(as_text=True))
        )
        from_csv = sum(
            (Decimal(line["duration_seconds"]) for line in lines if line["kind"] == "stt"), Decimal(0)
        )
        page = browser.get(page_path(W1), query_string={"start_date": "2026-05-01", "end_date": "2026-05-31"})
        shown = page_metrics(page.get_data(as_text=True))["voice.totalSttDurationSeconds"]
        from_json = Decimal(str(answer.get_json()["totalSttDurationSeconds"]))
        return from_json, from_csv, Decimal(shown), answer.headers["ETag"]

    def unfinished() -> bool:
        with connect(warehouse) as conn:
            (flag,) = conn.execute("select build_unfinished from marts.data_freshness").fetchone()  # type: ignore[misc]
            return bool(flag)

    try:
        browser = signed_in_client(app, key, W1)
        before, (stt_before, *_, voice_tag) = get(), stt_seconds()
        tag = before.headers["ETag"]
        assert get(tag).status_code == 304 and not unfinished()
        with connect(warehouse) as conn:
            land(conn, "sms_messages")  # one more inbound message on 2026-05-03
            land(conn, "stt_events")  # and 1.5 s of STT: in voice_usage_daily, not in its lists
            # a column the model does not declare: the voice lists fail (on_schema_change: fail)
            conn.execute("alter table marts.voice_usage_daily_lists add column stray integer")
            # and data_freshness as a version before build_unfinished made it: the API reading
            # the column answers 503 until a build starts (its first hook adds the column)
            conn.execute("alter table marts.data_freshness drop column build_unfinished")
        assert get(tag).status_code == 503
        failed = start_build(warehouse)
        stdout, stderr = failed.communicate(timeout=300)
        assert failed.returncode == 1 and "voice_usage_daily_lists" in stdout + stderr, stderr
        assert unfinished()
        after = get(tag)
        assert after.status_code == 200, "the old tag got a 304 for a changed report"
        assert after.get_json()["totalMessages"] == before.get_json()["totalMessages"] + 1
        assert after.headers["ETag"] != tag
        assert get(after.headers["ETag"]).status_code == 304  # its own bytes' tag
        # the voice lists are stale, voice_usage_daily is not: until a build finishes, the JSON
        # and the page read the daily sums (as the CSV does), so all three count the new 1.5 s;
        # asked anew (the statement finds the mark) or with the old tag (the version read does)
        for asked_with in ("", voice_tag):
            assert stt_seconds(asked_with)[:3] == (stt_before + Decimal("1.5"),) * 3
        with connect(warehouse) as conn:
            conn.execute("alter table marts.voice_usage_daily_lists drop column stray")
        finished = start_build(warehouse)
        _, stderr = finished.communicate(timeout=300)
        assert finished.returncode == 0, stderr
        assert not unfinished()
        settled = get()
        # the same numbers; data_as_of, the last finished build's until now, moves with this one
        assert after.get_json()["dataAsOf"] == before.get_json()["dataAsOf"] < settled.get_json()["dataAsOf"]
        assert {**settled.get_json(), "dataAsOf": None} == {**after.get_json(), "dataAsOf": None}
        # a version's tag again: another tag than the body's, and it holds
        assert settled.headers["ETag"] not in (tag, after.headers["ETag"])
        assert get(settled.headers["ETag"]).status_code == 304
        # a run of some marts without data_freshness leaves the mark too; one of data_freshness clears it
        dbt(warehouse, "run", "--select", "sms_usage_daily")
        assert unfinished()
        dbt(warehouse, "run", "--select", "data_freshness")
        assert not unfinished()
    finally:
        app.extensions["usage_reports_db"].close()
