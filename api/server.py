"""The gunicorn worker of ``make serve`` (named by ``gunicorn.conf.py``).

gunicorn answers some requests itself, before the app sees them: a request
line or header fields over its limits (414, 431), bytes that are not HTTP
(400), an unsupported transfer coding (501), and a request still unread when
the worker's ``timeout`` ends it (a client that stalls in its head or its body:
408 here, a 500 in gunicorn). Its stock answer is an HTML page that echoes the offending request
line. This worker answers them like every other API error (CONTRACT §5): ``{"error": {"status", "code", "message"}}``
with a fixed message that repeats nothing the client sent, and the headers every
answer carries (``Date``; ``Cache-Control: no-store`` and ``nosniff`` as the app's errors).
"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker

# status -> (reason phrase, error code, message); fixed here, not taken from the Python or
# gunicorn release, so the codes never change under a client
_ANSWERS = {
    400: ("Bad Request", "bad_request", "The request is not valid HTTP."),
    403: ("Forbidden", "forbidden", "This request is forbidden."),
    408: ("Request Timeout", "request_timeout", "The request was not received in time."),
    414: ("URI Too Long", "uri_too_long", "The request line is too long."),
    417: ("Expectation Failed", "expectation_failed", "The expectation in this request cannot be met."),
    431: (
        "Request Header Fields Too Large",
        "request_header_fields_too_large",
        "The request's header fields are too large.",
    ),
    501: (
        "Not Implemented",
        "not_implemented",
        "This request uses a transfer coding the server does not support.",
    ),
}
_SERVER_ERROR = ("Internal Server Error", "internal_error", "The server failed to answer this request.")


def write_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """``gunicorn.util.write_error`` in the API's error shape; ``mesg`` (which may quote
    the request) is left out, and a status without an answer of its own is a 500."""
    del reason, mesg
    status = status_int if status_int in _ANSWERS else 500
    phrase, code, message = _ANSWERS.get(status, _SERVER_ERROR)
    body = json.dumps({"error": {"status": status, "code": code, "message": message}}, separators=(",", ":"))
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nDate: {util.http_date()}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin-1"))


class SyncWorker(GunicornSyncWorker):
    """gunicorn's sync worker, with its own error answers in the API's shape."""

    def init_process(self) -> None:
        util.write_error = write_error  # this worker process only
        super().init_process()

    # set while the app waits for the client's body (a page form), so a timeout then is the client's
    _reading_body = False

    def handle_request(self, listener: Any, req: Any, client: socket.socket, addr: Any) -> None:
        """gunicorn's, with every read of the request body flagged (``_reading_body``)."""
        self._reading_body = False
        read_reader = getattr(req.body, "_read_reader", None)
        if read_reader is None:  # not the gunicorn this was written for: no flag, a stalled body is a 500
            super().handle_request(listener, req, client, addr)
            return

        def flagged(size: int) -> bytes:
            self._reading_body = True
            data = read_reader(size)  # an exception leaves the flag up for handle_error
            self._reading_body = False
            return data

        req.body._read_reader = flagged
        super().handle_request(listener, req, client, addr)

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """The worker's ``timeout`` ends a worker with ``SystemExit`` (gunicorn's abort signal).
        While the request's head or body was still being read, that is a client that stalled
        (a request line or header that never finished, a form shorter than its
        Content-Length): 408, not gunicorn's 500. Otherwise the app was slow: 500."""
        # gunicorn's abort (the timeout) exits 1; a quick shutdown (SIGINT, SIGQUIT) exits 0
        if isinstance(exc, SystemExit) and exc.code == 1 and (req is None or self._reading_body):
            self.log.warning("a request was not received within the worker timeout: 408")
            with contextlib.suppress(OSError):  # the client may have gone
                write_error(client, 408, "", "")
            return
        super().handle_error(req, client, addr, exc)
