"""Every error the API returns, in the one body of CONTRACT §5.

``{"error": {"status": <int>, "code": "<word>", "message": "<sentence>"}}``

``ApiError`` is what the views raise; Werkzeug's HTTP exceptions (unknown
path 404, wrong method 405, ...) are rendered the same way; anything else is
a fault of the server: it is logged with its traceback and answered with a
generic 500 (or 503 when the database cannot be reached, or holds no marts, or
marts older than this API, until the next build) that reveals nothing.
Messages never echo raw client input beyond a short, printable parameter name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

import psycopg
from flask import Flask, Response, current_app, g, jsonify, request
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

OPENAPI_PATH = "/api/v2/openapi.json"


class ApiError(Exception):
    """An expected failure with its HTTP status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    response = jsonify({"error": {"status": status, "code": code, "message": message}})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _code_word(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "error"


def _handle_api_error(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.headers)


# Where the page's addresses live, and the extension under which it answers its own errors:
# an address there that matches no route (a GET of the sign-out form's target, a trailing
# slash) is answered as a page, not as the API's JSON.
PAGE_PREFIX = "/w/"
PAGE_ERRORS = "usage_reports_page_errors"


def http_exception_response(error: HTTPException) -> Response | HTTPException:
    """Werkzeug's HTTP exception as the API's JSON error, or as a page under ``PAGE_PREFIX``."""
    status = error.code or 500
    if status < 400:
        # Routing redirects are not errors; let Werkzeug answer them as usual.
        return error
    page_errors = current_app.extensions.get(PAGE_ERRORS)
    if page_errors is not None and request.path.startswith(PAGE_PREFIX):
        return page_errors(error)
    headers: dict[str, str] = {}
    if isinstance(error, NotFound):
        message = f"There is no such endpoint; the API is described at {OPENAPI_PATH}."
    elif isinstance(error, MethodNotAllowed):
        allowed = sorted(error.valid_methods or [])
        headers["Allow"] = ", ".join(allowed)
        message = f"This endpoint does not accept that method; it accepts {', '.join(allowed)}."
    else:
        message = error.description or error.name
    return error_response(status, _code_word(error.name), message, headers)


# A connection the server refused because it is not set up for the API: the role missing (roles
# belong to a server, so a warehouse moved to another one has none until make api-role runs
# there) or not allowed to log in, a wrong or missing password, peer or ident authentication
# failed, pg_hba.conf without a line or with a reject line, the database missing, CONNECT not
# granted. No retry soon mends that, unlike an outage (a server starting up or shutting down,
# out of connection slots). libpq gives a failed connection no SQLSTATE, only the server's
# message, which is recognised in English (a server that answers in another language is taken
# for unreachable, as before), or its own when it has no password to send.
_REFUSED_LOGIN = re.compile(
    r"FATAL:\s+(role \"[^\"]*\" (does not exist|is not permitted to log in)"
    r"|\w+ authentication failed for user|no pg_hba\.conf entry|pg_hba\.conf rejects connection"
    r"|database \"[^\"]*\" does not exist|permission denied for database)"
    r"|fe_sendauth: no password supplied"
)


def unready_warehouse(error: Exception) -> str | None:
    """What the operator must do when ``error`` means the warehouse is not ready for this app
    (not a client's fault, so a 503): the marts (or a column the API reads) are not there,
    as before the first build or the build after an upgrade; the API's role lacks a
    privilege it needs, as after an upgrade that added a table to schema ``api``; or the
    server refuses the API's login (``_REFUSED_LOGIN``)."""
    if isinstance(error, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return 'the marts are missing or older than this API (run make build; after an upgrade, README "Upgrading")'
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return "the API's database role lacks a privilege (run make api-role)"
    if isinstance(error, psycopg.OperationalError) and _REFUSED_LOGIN.search(str(error)):
        return (
            "the warehouse refuses the API's login (on a server the warehouse moved to, run make api-role"
            " there, and give the role's password as API_PGPASSWORD; check API_PGUSER and PGDATABASE)"
        )
    return None


# Why the reports cannot be served right now (a 503 with Retry-After, not a 500): the warehouse
# is not ready for this app (marts missing or older, a privilege missing: until the next build
# or grant), the answer asked for more than the server allows (its statement ran past
# API_STATEMENT_TIMEOUT_MS, or past PostgreSQL's limits of memory or of one value's size: a
# shorter range answers; the same request again soon would only cost as much again, unless what
# held it up was a lock), or it cannot be reached (a restart, an outage: seconds).
UNREADY = "unready"
TOO_HEAVY = "too_heavy"
UNREACHABLE = "unreachable"
RETRY_AFTER_SECONDS = {UNREADY: 60, TOO_HEAVY: 60, UNREACHABLE: 5}
# PostgreSQL's limits one statement ran into: memory, temporary files (temp_file_limit), the
# size of one value (a list over 1 GB of text) and the like
_OVER_LIMITS = (
    psycopg.errors.ProgramLimitExceeded,
    psycopg.errors.OutOfMemory,
    psycopg.errors.ConfigurationLimitExceeded,
)
# When the request began (``note_request_start``): a cancelled statement is the statement
# timeout's doing only if the request has run about that long (a cancel by an operator's
# pg_cancel_backend, or by a server shutting down, has the same SQLSTATE, and its message
# is in the server's language)
_REQUEST_STARTED = "_usage_reports_request_started"
_TIMED_OUT_SHARE = 0.9


def note_request_start() -> None:
    setattr(g, _REQUEST_STARTED, time.monotonic())


def _ran_for_the_statement_timeout() -> bool:
    started = g.get(_REQUEST_STARTED)
    limit_seconds = current_app.config["STATEMENT_TIMEOUT_MS"] / 1000
    return started is not None and time.monotonic() - started >= _TIMED_OUT_SHARE * limit_seconds


def unavailability(error: Exception) -> str | None:
    """``UNREADY``, ``TOO_HEAVY`` or ``UNREACHABLE`` (logged, with the cause) when ``error`` means
    the warehouse cannot serve this report now; None for any other fault. The API and the page
    answer all three 503."""
    if (problem := unready_warehouse(error)) is not None:
        current_app.logger.error("%s: %s", problem, error)
        return UNREADY
    if isinstance(error, _OVER_LIMITS) or (
        isinstance(error, psycopg.errors.QueryCanceled) and _ran_for_the_statement_timeout()
    ):
        current_app.logger.error("the report asked too much of the database: %s", error)
        return TOO_HEAVY
    if isinstance(error, PoolTimeout | psycopg.OperationalError):
        current_app.logger.error("database unavailable: %s", error)
        return UNREACHABLE
    return None


_UNAVAILABLE_MESSAGES = {
    UNREADY: "The reports are not ready on this server yet; try again later.",
    TOO_HEAVY: "This report took more than the server allows to compute; ask for a shorter range.",
    UNREACHABLE: "The report database is unavailable right now; try again shortly.",
}


def _handle_unexpected(error: Exception) -> Response:
    if (kind := unavailability(error)) is not None:
        return error_response(
            503,
            "service_unavailable",
            _UNAVAILABLE_MESSAGES[kind],
            {"Retry-After": str(RETRY_AFTER_SECONDS[kind])},
        )
    current_app.logger.exception("unhandled error")
    return error_response(500, "internal_error", "The server failed to answer this request.")


def register_error_handlers(app: Flask) -> None:
    app.before_request(note_request_start)
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, http_exception_response)
    app.register_error_handler(Exception, _handle_unexpected)
