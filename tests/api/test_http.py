"""Over real HTTP: the app in a threaded WSGI server on an ephemeral port, and
under gunicorn the way `make serve` runs it (configured only by PG* variables)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.api import fixture_data as data
from tests.api.conftest import PROJECT_ROOT, Key, Warehouse
from tests.api.openapi_check import OpenApiChecker

TIMEOUT = 10


def fetch(url: str, token: str | None = None, method: str = "GET") -> tuple[int, Any, Any]:
    request = urllib.request.Request(url, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=TIMEOUT)


def test_a_report_over_http(server: str, keys: dict[str, Key], checker: OpenApiChecker) -> None:
    path = f"/api/v2/w/{data.W1}/reports/phone-usage"
    status, headers, raw = fetch(
        f"{server}{path}?start_date=2024-03-01&end_date=2024-03-31", keys["admin"].token
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    checker.check("GET", path, status, headers, raw)
    result = json.loads(raw, parse_float=Decimal)
    assert (result["totalCalls"], result["totalDurationSeconds"]) == (4, 132)  # see test_reports


def test_errors_over_http(server: str, keys: dict[str, Key], checker: OpenApiChecker) -> None:
    path = f"/api/v2/w/{data.W1}/reports/ai-usage"
    status, headers, raw = fetch(f"{server}{path}")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    checker.check("GET", path, status, headers, raw)
    status, headers, raw = fetch(f"{server}{path}", keys["revoked"].token)
    assert (status, json.loads(raw)["error"]["code"]) == (401, "revoked_api_key")
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    status, headers, raw = fetch(f"{server}{path}", keys["w2_admin"].token)
    assert status == 403
    status, headers, raw = fetch(f"{server}{path}?end_date=2024-02-30", keys["admin"].token)
    assert status == 400 and "end_date" in json.loads(raw)["error"]["message"]
    status, headers, raw = fetch(f"{server}{path}", keys["admin"].token, method="POST")
    assert status == 405 and json.loads(raw)["error"]["status"] == 405
    status, headers, raw = fetch(f"{server}/nowhere")
    assert status == 404 and json.loads(raw)["error"]["code"] == "not_found"


def test_concurrent_requests_share_the_pool(server: str, keys: dict[str, Key]) -> None:
    url = f"{server}/api/v2/w/{data.W1}/reports/sms-usage?start_date=2024-03-01&end_date=2024-03-31"
    results: list[int] = []

    def worker() -> None:
        for _ in range(5):
            results.append(fetch(url, keys["admin"].token)[0])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [200] * 40


# gunicorn's worker timeout in test_under_gunicorn (30 s in make serve): short, so a stalled
# request meets it quickly; long enough for every other request there
WORKER_TIMEOUT = 6


# gunicorn's default access-log format, and the credential headers a custom one could name
ACCESS_LOG_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
    " env-auth=%({http_authorization}e)s auth=%({authorization}i)s cookie=%({cookie}i)s set-cookie=%({set-cookie}o)s"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_under_gunicorn(warehouse: Warehouse, keys: dict[str, Key]) -> None:
    port = _free_port()
    env = {
        name: value for name, value in warehouse.env.items() if name not in ("API_PGUSER", "API_PGPASSWORD")
    }
    process = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", str(WORKER_TIMEOUT), "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
         "api:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api/v2/w/{data.W1}/members"
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _, raw = fetch(url, keys["member"].token)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert status == 200
        assert [member["memberId"] for member in json.loads(raw)][:2] == [data.ADA, data.ADA_TWIN]
        secret = keys["member"].token
        _assert_keys_sent_the_wrong_way_are_refused(port, secret)
        _assert_gunicorn_errors_are_api_errors(port)
        _assert_page_forms_are_read_whole_or_refused(port)
        _assert_a_stalled_request_is_a_408(port)
        _assert_a_request_the_app_is_too_slow_for_is_a_500(port, warehouse, keys["member"])
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=TIMEOUT)
    assert f"GET /api/v2/w/{data.W1}/members" in output  # access log on stdout
    # ... without the key those requests carried, or any part of it (api/accesslog.py)
    assert secret[4:20] not in output and base64.b64encode(f"{secret}:".encode()).decode()[8:] not in output
    assert "".join(f"%{ord(char):02x}" for char in secret[4:12]) not in output
    assert '/members?api_key=urk_[redacted] HTTP/1.1" 401' in output
    assert output.count("/members?api_key=urk_[redacted]&") >= 3  # percent-encoded, cut whole
    assert "Invalid request from ip=127.0.0.1" in output  # gunicorn's warnings, cut too
    assert "127.0.0.1 - - [" in output and "urk_" not in output.replace("urk_[redacted]", "")
    # the credential headers (a Bearer key on every good request, a Basic one above) are "-"
    assert " env-auth=- auth=- cookie=- set-cookie=-\n" in output
    assert "auth=Basic" not in output and "auth=Bearer" not in output


def _assert_keys_sent_the_wrong_way_are_refused(port: int, token: str) -> None:
    """A key as a Basic user (``curl -u KEY:``) or in the query string is refused."""
    path = f"/api/v2/w/{data.W1}/members"
    basic = base64.b64encode(f"{token}:".encode()).decode()
    answered, _, body = _raw_exchange(
        port,
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert answered == 401, body
    answered, _, body = _raw_exchange(
        port, f"GET {path}?api_key={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert answered == 401, body  # no Authorization header: the key check comes first
    # percent-encoded: the prefix's underscore and the key's own -_, every character, twice
    for encoded in (
        "urk%5F" + "".join(f"%{ord(char):02X}" if char in "-_" else char for char in token[4:]),
        "".join(f"%{ord(char):02x}" for char in token),
        "urk%255F" + token[4:],
    ):
        answered, _, body = _raw_exchange(
            port,
            f"GET {path}?api_key={encoded}&x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        )
        assert answered == 401, body
    # requests gunicorn cannot parse, whose warning quotes the line: a raw byte, no colon
    for request in (
        f"GET {path}?tz=Qu\xe9bec&api_key={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode("latin-1"),
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization Bearer {token}\r\n\r\n".encode(),
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization Basic {basic}\r\n\r\n".encode(),
        f"GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {basic}\r\n\r\n".encode(),
    ):
        answered, _, body = _raw_exchange(port, request)
        assert answered in (400, 501), body  # 501: a transfer coding gunicorn does not implement


def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is (no client library would) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def _assert_gunicorn_errors_are_api_errors(port: int) -> None:
    """Requests gunicorn refuses before the app sees them get the API's JSON error body
    (gunicorn.conf.py, api/server.py), which repeats nothing they sent."""
    long_line = b"GET /api/v2/openapi.json?tz=" + b"Q" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    big_header = b"GET /api/v2/openapi.json HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"Q" * 9000 + b"\r\n\r\n"
    raw_byte = b"GET /api/v2/openapi.json?tz=Qu\xe9bec HTTP/1.1\r\nHost: x\r\n\r\n"
    for request, status, code in (
        (long_line, 414, "uri_too_long"),
        (big_header, 431, "request_header_fields_too_large"),
        (raw_byte, 400, "bad_request"),
    ):
        answered, headers, body = _raw_exchange(port, request)
        assert answered == status, body
        assert headers["content-type"] == "application/json"
        assert parsedate_to_datetime(headers["date"]).tzinfo is not None  # RFC 9110: an origin with a clock
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
        error = json.loads(body)["error"]
        assert (error["status"], error["code"]) == (status, code)
        assert b"Q" not in body


def _chunked_post(path: str, chunks: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode() + chunks


def _assert_page_forms_are_read_whole_or_refused(port: int) -> None:
    """The page's forms under gunicorn: a chunked body gunicorn cannot decode is a 400, and
    one over the 16 kB limit a 413, like a Content-Length over it (Werkzeug alone would
    stop reading at the limit and go on with what it read)."""
    page = f"/w/{data.W1}/settings/billing"
    body = b"csrf_token=x&pad=" + b"a" * 20_000
    too_long = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    for path in (page, page + "/sign-out"):
        for chunks, status in (
            (b"ZZZ\r\nabc\r\n0\r\n\r\n", 400),  # not a chunk size
            (b"3\r\nabcXX0\r\n\r\n", 400),  # no line end after the chunk
            (too_long, 413),
        ):
            answered, headers, answer = _raw_exchange(port, _chunked_post(path, chunks))
            assert answered == status, (path, chunks[:20], answer[:300])
            assert headers["content-type"].startswith("text/html")
        # a body that is not a form is not read, whatever its size: the form is empty (sign-in:
        # no token, 400; sign-out without a session: back to the page, 303)
        plain = _chunked_post(path, b"1\r\nx\r\n0\r\n\r\n").replace(
            b"application/x-www-form-urlencoded", b"text/plain"
        )
        assert _raw_exchange(port, plain)[0] == (400 if path == page else 303)


def _assert_a_stalled_request_is_a_408(port: int) -> None:
    """A request line and header that never end, or a page form shorter than its
    Content-Length: the worker's timeout ends the wait with a 408 in the API's shape
    (gunicorn's own answer is a 500, as if the app had failed)."""
    short_form = (
        f"POST /w/{data.W1}/settings/billing HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=abc"
    ).encode()
    for request in (b"GET /api/v2/openapi.json HTTP/1.1\r\nHost: x\r\n", short_form):
        started = time.monotonic()
        answered, headers, body = _raw_exchange(port, request)
        assert answered == 408, (request[:40], body)
        assert time.monotonic() - started >= WORKER_TIMEOUT - 1
        assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
        assert json.loads(body)["error"] == {
            "status": 408,
            "code": "request_timeout",
            "message": "The request was not received in time.",
        }


def _assert_a_request_the_app_is_too_slow_for_is_a_500(port: int, warehouse: Warehouse, key: Key) -> None:
    """A request read whole that the app cannot answer within the worker timeout (here its key
    check waits on a lock) is the server's fault: a 500, not the 408 of a client that stalled."""
    request = (
        f"GET /api/v2/w/{data.W1}/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key.token}\r\n\r\n"
    )
    with warehouse.connect() as conn, conn.transaction():
        conn.execute("lock table api.api_keys in access exclusive mode")
        started = time.monotonic()
        answered, _, body = _raw_exchange(port, request.encode())
        assert time.monotonic() - started >= WORKER_TIMEOUT - 1
    assert answered == 500, body
    assert json.loads(body)["error"]["code"] == "internal_error"
