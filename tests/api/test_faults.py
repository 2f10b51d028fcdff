"""Faults of the server (not of the client) get the same error body, say
nothing about their cause, and are logged."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from api import create_app
from api.errors import unready_warehouse
from tests.api import fixture_data as data
from tests.api.conftest import Key, Warehouse, error_of


def test_an_unexpected_exception_is_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app({"DATABASE_CONNINFO": "dbname=unused"})

    @app.get("/api/v2/boom")
    def boom() -> str:
        raise RuntimeError("secret detail from deep inside")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v2/boom")
    assert response.status_code == 500
    assert error_of(response) == {
        "status": 500,
        "code": "internal_error",
        "message": "The server failed to answer this request.",
    }
    assert "secret detail" not in response.get_data(as_text=True)
    assert "secret detail from deep inside" in caplog.text  # the traceback goes to the log


def test_an_unreachable_database_is_a_503_at_once(
    warehouse: Warehouse, keys: dict[str, Key], tmp_path: Path
) -> None:
    # no server listens there (a socket directory without a socket)
    conninfo = make_conninfo(warehouse.conninfo, host=str(tmp_path), port="5432")
    app = create_app({"DATABASE_CONNINFO": conninfo, "POOL_TIMEOUT_SECONDS": 120.0})
    try:
        began = time.monotonic()
        response = app.test_client().get(f"/api/v2/w/{data.W1}/members", headers=keys["admin"].header)
        # not held for the pool's timeout while it retries in the background (an outage
        # held every request 10 s): the request's own connection attempt fails at once
        assert time.monotonic() - began < 60
    finally:
        app.extensions["usage_reports_db"].close()
    assert response.status_code == 503
    assert error_of(response)["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert str(tmp_path) not in response.get_data(as_text=True)


NOLOGIN_ROLE = "usage_reports_test_nologin"


@pytest.mark.parametrize(
    "refused",
    [
        {"user": "usage_reports_test_no_such_role"},  # a server the warehouse moved to, before make api-role
        {"user": NOLOGIN_ROLE},
        {"dbname": "usage_reports_test_api_does_not_exist"},
    ],
)
def test_a_server_that_refuses_the_login_is_a_503_that_tells_the_operator_what_to_run(
    warehouse: Warehouse, keys: dict[str, Key], caplog: pytest.LogCaptureFixture, refused: dict[str, str]
) -> None:
    nologin = refused.get("user") == NOLOGIN_ROLE
    if nologin:
        with warehouse.connect() as conn:
            conn.execute(f"drop role if exists {NOLOGIN_ROLE}")  # a crashed run's
            conn.execute(f"create role {NOLOGIN_ROLE} nologin")
    conninfo = make_conninfo(warehouse.conninfo, **refused)
    app = create_app({"DATABASE_CONNINFO": conninfo, "POOL_TIMEOUT_SECONDS": 120.0})
    try:
        with caplog.at_level(logging.ERROR):
            response = app.test_client().get(f"/api/v2/w/{data.W1}/members", headers=keys["admin"].header)
    finally:
        app.extensions["usage_reports_db"].close()
        if nologin:
            with warehouse.connect() as conn:
                conn.execute(f"drop role {NOLOGIN_ROLE}")
    # not an outage that a retry in seconds mends: the answer of a warehouse not ready yet
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert error_of(response)["message"] == "The reports are not ready on this server yet; try again later."
    assert "the warehouse refuses the API's login" in caplog.text and "make api-role" in caplog.text
    assert next(iter(refused.values())) in caplog.text  # the server's own words, for the operator
    assert "usage_reports_test" not in response.get_data(as_text=True)


# What libpq says when a connection fails (its own words, or the server's after "FATAL:"),
# and whether that is a refused login (a setup to fix) rather than an outage (to retry soon).
_SOCKET = 'connection failed: connection to server on socket "/srv/.s.PGSQL.5432" failed: '
CONNECTION_FAILURES = [
    (_SOCKET + 'FATAL:  role "api" does not exist', True),
    (_SOCKET + 'FATAL:  role "api" is not permitted to log in', True),
    (_SOCKET + 'FATAL:  password authentication failed for user "api"', True),
    (_SOCKET + 'FATAL:  Peer authentication failed for user "api"', True),
    (
        _SOCKET + 'FATAL:  no pg_hba.conf entry for host "10.0.0.5", user "api", database "w", no encryption',
        True,
    ),
    (_SOCKET + 'FATAL:  pg_hba.conf rejects connection for host "[local]", user "api", database "w"', True),
    (_SOCKET + 'FATAL:  database "w" does not exist', True),
    (_SOCKET + 'FATAL:  permission denied for database "w"', True),
    (_SOCKET + "fe_sendauth: no password supplied", True),
    (_SOCKET + "FATAL:  the database system is starting up", False),
    (_SOCKET + "FATAL:  the database system is shutting down", False),
    (_SOCKET + "FATAL:  sorry, too many clients already", False),
    (_SOCKET + 'FATAL:  too many connections for role "api"', False),
    (_SOCKET + "FATAL:  terminating connection due to administrator command", False),
    (_SOCKET + "No such file or directory", False),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: Connection refused', False),
]


@pytest.mark.parametrize(("message", "refused"), CONNECTION_FAILURES)
def test_a_refused_login_is_told_from_an_outage(message: str, refused: bool) -> None:
    told = unready_warehouse(psycopg.OperationalError(message))
    assert (told is not None and "make api-role" in told) if refused else told is None


def test_a_busy_pool_makes_a_request_wait_its_turn(warehouse: Warehouse) -> None:
    # Every pooled connection in use by this process's other requests (a threaded server): a
    # request waits for one, as the pool's timeout allows, and opens none of its own, so a
    # burst never holds more than POOL_MAX_SIZE connections per process.
    app = create_app(
        {"DATABASE_CONNINFO": warehouse.conninfo, "POOL_MAX_SIZE": 1, "POOL_TIMEOUT_SECONDS": 10.0}
    )
    database = app.extensions["usage_reports_db"]
    backends: list[int] = []

    def request() -> None:
        with app.test_request_context():
            with database.connection() as conn:
                backends.append(conn.execute("select pg_backend_pid() as pid").fetchone()["pid"])
            database.release()

    try:
        with app.test_request_context():
            with database.connection() as held:  # the pool's only connection, held by a request
                first = held.execute("select pg_backend_pid() as pid").fetchone()["pid"]
                waiting = threading.Thread(target=request)
                waiting.start()
                waiting.join(timeout=1.0)
                assert waiting.is_alive()  # still waiting: no connection of its own after 50 ms
            database.release()
        waiting.join(timeout=10)
        assert backends == [first]  # then served with the pooled one
    finally:
        database.close()


def test_a_burst_never_uses_more_connections_than_the_pool_may_hold(warehouse: Warehouse) -> None:
    # 16 requests at once on a threaded server, each holding its connection a moment: a pool
    # that starts with one connection grows, some requests connect themselves meanwhile, and
    # at no moment do the process's requests hold more than POOL_MAX_SIZE (4) connections.
    app = create_app(
        {"DATABASE_CONNINFO": warehouse.conninfo, "POOL_MAX_SIZE": 4, "POOL_TIMEOUT_SECONDS": 30.0}
    )
    database = app.extensions["usage_reports_db"]
    lock = threading.Lock()
    holding: list[int] = [0]
    peak: list[int] = [0]
    served: list[int] = []

    def request() -> None:
        with app.test_request_context():
            with database.connection() as conn:
                conn.execute("select 1")
                with lock:
                    holding[0] += 1
                    peak[0] = max(peak[0], holding[0])
                time.sleep(0.3)
                with lock:
                    holding[0] -= 1
                served.append(1)
            database.release()

    try:
        threads = [threading.Thread(target=request) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(served) == 16
        assert peak[0] <= 4, peak[0]
    finally:
        database.close()


def _backend_pid(app: Flask) -> int:
    """The backend of the connection the app's pool hands out next (the request's own)."""
    with app.app_context():
        row = app.extensions["usage_reports_db"].fetch_one("select pg_backend_pid() as pid")
    assert row is not None
    return int(row["pid"])


def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(
    warehouse: Warehouse, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    ping = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection", lambda conn: pings.append(conn) or ping(conn))
    app = create_app(
        {"DATABASE_CONNINFO": warehouse.conninfo, "POOL_MAX_SIZE": 1, "POOL_TIMEOUT_SECONDS": 5.0}
    )  # one connection: the one the server ends is the one the next request gets
    url = f"/api/v2/w/{data.W1}/members"
    try:
        client = app.test_client()
        first = client.get(url, headers=keys["admin"].header)
        assert first.status_code == 200
        pid = _backend_pid(app)
        assert _backend_pid(app) == pid  # a healthy idle connection is kept, not replaced
        assert pings == []  # ... and taken from the pool without a round trip

        with warehouse.connect() as admin:
            assert admin.execute("select pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
            deadline = time.monotonic() + 10
            while admin.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
                assert time.monotonic() < deadline, "the terminated backend did not go away"
                time.sleep(0.05)

        again = client.get(url, headers=keys["admin"].header)
        assert again.status_code == 200, again.get_data(as_text=True)
        assert again.get_json() == first.get_json()
        assert _backend_pid(app) != pid
        assert len(pings) == 1  # only the connection with something to read was tested
    finally:
        app.extensions["usage_reports_db"].close()


def test_marts_older_than_the_api_are_a_503_until_the_next_build(
    app: Flask, warehouse: Warehouse, keys: dict[str, Key]
) -> None:
    # after an upgrade whose API reads a column the last build did not write yet
    client = app.test_client()
    path = f"/api/v2/w/{data.W1}/reports/ai-usage"
    with warehouse.connect() as conn:
        conn.execute("alter table marts.data_freshness rename column version_at to version_at_before")
    try:
        response = client.get(path, headers=keys["admin"].header)
    finally:
        with warehouse.connect() as conn:
            conn.execute("alter table marts.data_freshness rename column version_at_before to version_at")
    assert response.status_code == 503
    assert error_of(response)["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "60"
    assert "version_at" not in response.get_data(as_text=True)
    assert client.get(path, headers=keys["admin"].header).status_code == 200


def test_an_outage_after_requests_were_served_is_a_503_at_once_and_over_when_the_server_is_back(
    warehouse: Warehouse,
) -> None:
    # A database of its own that goes away (no connections allowed, sessions ended) after the
    # process served more requests than its pool holds: each request of the outage is a 503
    # at once (not held for the pool's timeout), and the first request after it is served.
    name = "usage_reports_test_api_outage"
    with warehouse.connect() as admin:
        admin.execute(f"drop database if exists {name} with (force)")
        admin.execute(f"create database {name}")
    app = create_app(
        {
            "DATABASE_CONNINFO": make_conninfo(warehouse.conninfo, dbname=name),
            "POOL_MAX_SIZE": 1,
            "POOL_TIMEOUT_SECONDS": 30.0,
        }
    )
    client = app.test_client()
    # a database without marts: a request that reaches it is "not ready" (503, Retry-After: 60);
    # one that cannot reach it is "unreachable" (503, Retry-After: 5)
    key = {"Authorization": "Bearer urk_" + "x" * 43}
    url = f"/api/v2/w/{data.W1}/members"

    def retry_after() -> str:
        response = client.get(url, headers=key)
        assert response.status_code == 503
        return response.headers["Retry-After"]

    try:
        for _ in range(3):
            assert retry_after() == "60"
        with warehouse.connect() as admin:
            admin.execute(f"alter database {name} allow_connections false")
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
            )
            deadline = time.monotonic() + 10
            while admin.execute("select 1 from pg_stat_activity where datname = %s", (name,)).fetchone():
                assert time.monotonic() < deadline, "the database's sessions did not end"
                time.sleep(0.05)
        for _ in range(2):
            began = time.monotonic()
            assert retry_after() == "5"
            assert time.monotonic() - began < 10  # at once, not after the pool's 30 s
        with warehouse.connect() as admin:
            admin.execute(f"alter database {name} allow_connections true")
        began = time.monotonic()
        for _ in range(3):
            assert retry_after() == "60"
        assert time.monotonic() - began < 10
    finally:
        app.extensions["usage_reports_db"].close()
        with warehouse.connect() as admin:
            admin.execute(f"drop database if exists {name} with (force)")


# W1's SMS in March 2024, a report the tests below hold up
MARCH_SMS = (f"/api/v2/w/{data.W1}/reports/sms-usage", {"start_date": "2024-03-01", "end_date": "2024-03-31"})


@contextmanager
def marts_locked(warehouse: Warehouse) -> Iterator[psycopg.Connection[Any]]:
    """marts.data_freshness (every report statement reads it) locked while the block runs, as a
    loader's TRUNCATE would hold a table."""
    with warehouse.connect() as holder, holder.transaction():
        holder.execute("lock table marts.data_freshness in access exclusive mode")
        yield holder


def test_a_report_held_up_by_a_lock_is_a_503_to_retry_shortly(
    warehouse: Warehouse, keys: dict[str, Key], caplog: pytest.LogCaptureFixture
) -> None:
    # A table locked (a loader's TRUNCATE) past half the statement timeout: "unavailable, try
    # again shortly", not "ask for a shorter range" (that is for a statement that computed for
    # the whole timeout).
    app = create_app({"DATABASE_CONNINFO": warehouse.conninfo, "STATEMENT_TIMEOUT_MS": 400})
    path, query = MARCH_SMS
    try:
        with marts_locked(warehouse), caplog.at_level(logging.ERROR):
            response = app.test_client().get(path, query_string=query, headers=keys["admin"].header)
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert (
            error_of(response)["message"]
            == "The report database is unavailable right now; try again shortly."
        )
        assert "lock timeout" in caplog.text  # the cause, for the operator
        # the lock gone, the same request answers
        assert (
            app.test_client().get(path, query_string=query, headers=keys["admin"].header).status_code == 200
        )
    finally:
        app.extensions["usage_reports_db"].close()


@pytest.mark.parametrize(
    "error",
    [psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
     psycopg.errors.ProgramLimitExceeded("out of memory: String of 1073741824 bytes is too long"),
     psycopg.errors.OutOfMemory("out of memory"),
     psycopg.errors.ConfigurationLimitExceeded("temporary file size exceeds temp_file_limit (1kB)")],
)  # fmt: skip
def test_a_report_that_asks_more_than_the_server_allows_is_a_503_that_says_so(error: psycopg.Error) -> None:
    # its statement ran for the whole timeout (a request that has run that long when
    # cancelled), or past PostgreSQL's limits: not "unavailable, try again in 5 s", which a
    # BI tool's retry loop would repeat at the same cost every 5 s
    app = create_app({"DATABASE_CONNINFO": "dbname=unused", "STATEMENT_TIMEOUT_MS": 200})

    @app.get("/api/v2/too-big")
    def too_big() -> str:
        time.sleep(0.2)
        raise error

    response = app.test_client().get("/api/v2/too-big")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert error_of(response) == {
        "status": 503,
        "code": "service_unavailable",
        "message": "This report took more than the server allows to compute; ask for a shorter range.",
    }


def test_a_report_an_operator_cancels_is_a_503_to_retry_shortly(
    warehouse: Warehouse, keys: dict[str, Key]
) -> None:
    # pg_cancel_backend gives the same error as the statement timeout: long before the
    # timeout, it is no sign the report asks too much
    app = create_app({"DATABASE_CONNINFO": warehouse.conninfo, "STATEMENT_TIMEOUT_MS": 60_000})
    answers: list[Any] = []
    path, query = MARCH_SMS
    try:
        with marts_locked(warehouse) as holder:
            client = threading.Thread(
                target=lambda: answers.append(
                    app.test_client().get(path, query_string=query, headers=keys["admin"].header)
                )
            )
            client.start()
            deadline = time.monotonic() + 20
            while True:  # the request waits for the lock: cancel its statement
                holder.execute("select pg_stat_clear_snapshot()")  # activity as it is now
                waiting = holder.execute(
                    "select pid from pg_stat_activity where wait_event_type = 'Lock'"
                    " and datname = current_database() and pid <> pg_backend_pid()"
                ).fetchall()
                if waiting or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert waiting, "the report never waited for the lock"
            holder.execute("select pg_cancel_backend(%s)", (waiting[0][0],))
            client.join(timeout=20)
        (response,) = answers
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert (
            error_of(response)["message"]
            == "The report database is unavailable right now; try again shortly."
        )
    finally:
        app.extensions["usage_reports_db"].close()
