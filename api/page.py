"""The Detailed Reports page: ``/w/<workspace_id>/settings/billing``.

Server-rendered HTML with inline SVG charts, one style sheet and two small
scripts (``tz.js`` on the reports, ``sign_in.js`` on the sign-in form). Signing
in exchanges an API key for a signed session cookie (``api.websession``); every
view re-checks the key live and shows exactly what its effective scopes allow:

* ``analytics:read``: the AI, SMS, phone and voice reports and the members
  table (each member's usage, the fifth report), with names and roles only
  when the key also holds ``members:read`` (as ``GET /members``), else by id;
* ``members:read`` alone: the signed-in member's own usage, nothing workspace-wide.

This module holds the views (the page, sign-in, sign-out, CSV downloads) and
their responses and errors. What each section shows is ``api.pagesections``
(the API's own report functions); the range control is ``api.pageranges``;
numbers are formatted by ``api.pageformat``.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.wrappers import Response  # what views return: Flask's own or a redirect

from api import auth, csvexport, keystore, reports, websession, zones
from api.errors import (
    OPENAPI_PATH,
    PAGE_ERRORS,
    PAGE_PREFIX,
    RETRY_AFTER_SECONDS,
    TOO_HEAVY,
    UNREACHABLE,
    UNREADY,
    ApiError,
    http_exception_response,
    unavailability,
)
from api.jsonenc import timestamp_text
from api.pageformat import (
    fmt_count,
    fmt_credits_short,
    fmt_day,
    fmt_duration,
    fmt_range,
    fmt_timestamp,
    is_exact_short,
    literal,
    num,
    share,
)
from api.pageranges import (
    PAGE_PARAMETERS,
    REPORT_DEFAULTS,
    form_dates,
    in_form_words,
    not_in_the_form,
    page_values,
    page_zone,
    quick_picks,
    range_args,
    resolve_ranges,
    resolved_range,
    wrong_date_field,
    zone_choices,
)
from api.pagesections import (
    ai_section,
    identity,
    members_section,
    oldest,
    own_section,
    phone_section,
    sms_section,
    voice_section,
)
from api.params import DateRange, parse_uuid
from api.zones import UTC_ZONE, Zone

bp = Blueprint(
    "page",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

SECURITY_HEADERS = {
    # Nothing but this origin's style sheet and scripts (tz.js, sign_in.js); forms post here only.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class PageError(Exception):
    """A page that cannot be shown, with its status and a sentence for people."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


# --- template helpers -----------------------------------------------------------------


def zone_name() -> str:
    """The zone of the view being rendered (UTC where there is none)."""
    return str(getattr(g, "page_zone", UTC_ZONE).name)


def zone_days(count: int) -> str:
    """ "UTC day(s)", or "day(s) in Asia/Kolkata"."""
    noun = "day" if count == 1 else "days"
    name = zone_name()
    return f"UTC {noun}" if name == zones.UTC_NAME else f"{noun} in {name}"


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "zone_name": zone_name,
        "zone_days": zone_days,
        "fmt_count": fmt_count,
        "fmt_credits_short": fmt_credits_short,
        "is_exact_short": is_exact_short,
        "fmt_duration": fmt_duration,
        "fmt_day": fmt_day,
        "fmt_range": fmt_range,
        "fmt_timestamp": fmt_timestamp,
        "literal": literal,
        "num": num,
        "export_url": export_url,
        "share": share,
        "metric_key": metric_key,
        "timestamp_text": timestamp_text,
        "openapi_path": OPENAPI_PATH,
    }


def metric_key(*parts: Any) -> str:
    """How a list item is named in ``data-metric`` (``ai.top_models[gpt-4o|openai|chat].total_credits``)."""
    return "|".join("" if part is None else str(part) for part in parts)


# --- responses ---------------------------------------------------------------------


# A 401 must name how to authenticate (RFC 9110, 15.5.2): here the sign-in form, which no
# registered scheme describes; browsers show no dialog for a scheme they do not know.
PAGE_CHALLENGE = 'FormBased realm="Detailed reports"'


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    if status == 401:
        response.headers["WWW-Authenticate"] = PAGE_CHALLENGE
    return response


def _workspace(workspace_id: str) -> uuid.UUID:
    try:
        return parse_uuid(workspace_id, "workspace_id")
    except ApiError as error:
        raise PageError(
            400, "Not a workspace address", "The workspace id in this address is not a UUID. Check the link."
        ) from error


def _canonical(workspace_id: str, workspace: uuid.UUID, endpoint: str, **path: Any) -> Response | None:
    """Uppercase ids are accepted (as by the API) but redirected, so the cookie's path always matches.
    The query goes along as it came (still percent-encoded), never as ``url_for`` arguments: a
    parameter named like one of its options (``_external``, ``_anchor``) would steer the address."""
    if workspace_id == str(workspace):
        return None
    target = url_for(endpoint, workspace_id=str(workspace), **path)
    if request.query_string:
        target += "?" + quote(request.query_string, safe="/?:@!$&'()*+,;=%")
    return redirect(target, code=308)


def sign_in_page(
    workspace: uuid.UUID,
    session: websession.PageSession | None,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    fresh = session is None or session.signed_in
    session = websession.anonymous_session(workspace) if fresh else session
    assert session is not None
    said = session.signed_out  # sign-out's own notice, shown once
    if said:
        notice = notice or "You have signed out. Sign in again with an API key to see the reports."
        session = websession.PageSession(session.workspace_id, session.csrf_token)
    response = _html(
        render_template(
            "page/sign_in.html",
            workspace_id=str(workspace),
            csrf_token=session.csrf_token,
            action=url_for("page.sign_in", workspace_id=str(workspace), **range_args()),
            notice=notice,
            error=error,
        ),
        status,
    )
    if fresh or said:
        websession.write_session(response, session)
    return response


def _without_empty_bounds(
    workspace: uuid.UUID, endpoint: str = "page.billing", **path: Any
) -> Response | None:
    """The range form sends ``start_date=`` for an empty field, meaning "the report's default"
    (and an empty ``tz`` means UTC):
    redirect to the same view (or download) without it (the API itself refuses empty values)."""
    empty = [name for name in PAGE_PARAMETERS if request.args.getlist(name) == [""]]
    if not empty:
        return None
    kept = [(name, value) for name, value in request.args.items(multi=True) if name not in empty]
    target = url_for(endpoint, workspace_id=str(workspace), **path)
    if kept:
        target += "?" + urlencode(kept, safe="/")  # tz=Europe/Berlin, as the page's own links
    return redirect(target, code=303)


def _caller_or_sign_in(
    workspace: uuid.UUID,
) -> tuple[auth.Caller, websession.PageSession] | Response:
    session = websession.read_session(workspace)
    if session is None or not session.signed_in:
        return sign_in_page(workspace, session)
    try:
        caller = websession.caller_for_session(session)
    except ApiError as error:
        # The key stopped working (revoked, expired, member gone): same rules as the API.
        return sign_in_page(
            workspace, None, status=error.status, notice=f"Your session has ended. {error.message}"
        )
    return caller, session


def _scope_problem(caller: auth.Caller, workspace: uuid.UUID) -> str | None:
    if caller.workspace_id != workspace:
        return "This API key belongs to another workspace."
    if not (caller.has(auth.ANALYTICS_READ) or caller.has(auth.MEMBERS_READ)):
        return (
            f"This key has neither {auth.ANALYTICS_READ} nor {auth.MEMBERS_READ}, "
            "or the member's role no longer grants them, so there is nothing it may show."
        )
    return None


# --- views -------------------------------------------------------------------------


@bp.get("/w/<workspace_id>/settings/billing")
def billing(workspace_id: str) -> Response:
    workspace = _workspace(workspace_id)
    if (moved := _canonical(workspace_id, workspace, "page.billing")) is not None:
        return moved
    found = _caller_or_sign_in(workspace)
    if isinstance(found, Response):
        return found
    caller, session = found
    if (cleaned := _without_empty_bounds(workspace)) is not None:
        return cleaned
    person = identity(caller.member_id)
    context: dict[str, Any] = {
        "workspace_id": str(workspace),
        "csrf_token": session.csrf_token,
        "person": person,
        "key_id": caller.key_id,
        "analytics": caller.has(auth.ANALYTICS_READ),
        # a key granted analytics:read whose member's role does not grant it: own usage alone
        "role_lacks_analytics": auth.ANALYTICS_READ in caller.key_scopes
        and not caller.has(auth.ANALYTICS_READ),
        "sign_out_action": url_for("page.sign_out", workspace_id=str(workspace), **range_args()),
        "zone": UTC_ZONE,
        "zone_choices": zone_choices(),
    }
    if (problem := _scope_problem(caller, workspace)) is not None:
        return _html(render_template("page/billing.html", forbidden=problem, **context), 403)

    given = (request.args.get("start_date"), request.args.get("end_date"))
    context["given"] = given
    try:
        zone = page_zone(request.args)
    except ApiError as error:
        context.update(
            range_error=_refused(error),
            error_field="tz",
            given=form_dates(given),
            picks=quick_picks(UTC_ZONE.today(), given),
        )
        return _html(render_template("page/billing.html", **context), error.status)
    context["zone"] = g.page_zone = zone
    context["today"] = zone.today()
    context["picks"] = quick_picks(context["today"], given)
    try:
        # a members:read-only key sees its own usage alone: only that range is resolved (and named)
        shown = tuple(REPORT_DEFAULTS) if context["analytics"] else ("member",)
        ranges = resolve_ranges(request.args, zone, shown)
    except ApiError as error:
        context["range_error"] = _refused(error)
        context["error_field"] = wrong_date_field(given)
        context["given"] = form_dates(given)
        return _html(render_template("page/billing.html", **context), error.status)

    span = DateRange(
        min(dates.start for dates in ranges.values()), max(dates.end for dates in ranges.values())
    )
    context["clocks_change"] = zones.clocks_change(zone, span)
    # named in the title when every report shows it (both dates given), so tabs and history differ
    context["shared_range"] = span if all(given) else None
    try:
        with zones.known_to_the_warehouse(zone):
            _sections(context, workspace, caller, ranges, zone)
    except zones.ZoneUnknownToWarehouse as error:  # as an unknown name: said in the range form
        context["range_error"] = in_form_words(error)
        context["error_field"] = "tz"
        return _html(render_template("page/billing.html", **context), error.status)
    return _html(render_template("page/billing.html", **context))


def _refused(error: ApiError) -> str:
    """The message of a refused range or zone, in the form's words, and the values the form cannot show."""
    return " ".join(filter(None, (in_form_words(error), not_in_the_form(request.args))))


def _sections(
    context: dict[str, Any],
    workspace: uuid.UUID,
    caller: auth.Caller,
    ranges: dict[str, DateRange],
    zone: Zone,
) -> None:
    if context["analytics"]:
        context["ai"] = ai_section(workspace, ranges["ai"], zone)
        context["sms"] = sms_section(workspace, ranges["sms"], zone)
        context["phone"] = phone_section(workspace, ranges["phone"], zone)
        context["voice"] = voice_section(workspace, ranges["voice"], zone)
        context["team"] = members_section(workspace, ranges["member"], zone, caller.has(auth.MEMBERS_READ))
        context["data_as_of"] = oldest(
            context["ai"]["body"]["data_as_of"],
            context["sms"]["body"]["dataAsOf"],
            context["phone"]["body"]["dataAsOf"],
            context["voice"]["body"]["dataAsOf"],
            context["team"]["data_as_of"],
        )
    else:
        context["own"] = own_section(workspace, caller.member_id, ranges["member"], zone)
        context["data_as_of"] = context["own"]["body"]["dataAsOf"]


# The bodies Werkzeug parses as a form; any other body is left unread (and the form is empty).
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# What a browser's Fetch Metadata says of a request from another site (or another origin of this one).
_FOREIGN_SITES = ("cross-site", "same-site")


def _posted_from_elsewhere() -> bool:
    """What the browser says of where a form comes from: ``Sec-Fetch-Site`` (current browsers,
    over HTTPS and on localhost), else the ``Origin`` of a POST (older ones, and plain HTTP),
    compared with the address the request came to (``Host``, or the ``X-Forwarded-Host`` a
    proxy sets; a form cannot set either). A browser that sends neither leaves it to the token."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in _FOREIGN_SITES
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    hosts = {request.host.lower(), request.headers.get("X-Forwarded-Host", "").split(",")[0].strip().lower()}
    return origin == "null" or _origin_host(origin) not in hosts


def _origin_host(origin: str) -> str | None:
    """The ``host[:port]`` of an ``Origin`` header, lower-cased; ``None`` for one that is not a
    URL (``http://[::1`` has an unclosed bracket): no browser sends that, so it is foreign."""
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return None


def _refuse_foreign_form() -> None:
    """A form posted from another site is a 403, refused before it is read and with no cookie
    written. The browser sends no session cookie with it (``SameSite=Lax``), so answered like
    a cookie-less visit it would replace the visitor's session cookie: any site could sign
    the visitor out."""
    if _posted_from_elsewhere():
        raise PageError(
            403,
            "Form from another site",
            "This form was sent from another site. Use the form on the reports page itself.",
        )


def _posted_form() -> ImmutableMultiDict[str, str]:
    """The sign-in or sign-out form (after ``_refuse_foreign_form``). A body over ``MAX_CONTENT_LENGTH`` is a 413 however it
    is framed: Werkzeug refuses a longer ``Content-Length`` but stops reading a chunked form
    at the limit without a word, so one byte past it is looked for (after a form only: any
    other body was not read, and looking would wait for it). A body the server
    cannot decode (gunicorn's errors for a broken chunk, raised while the form is read)
    is a 400, not a 500."""
    try:
        form = request.form
        if (
            request.content_length is None
            and request.mimetype in _FORM_TYPES  # a body Werkzeug read to its end (or to the limit)
            and request.environ.get("wsgi.input_terminated")  # a read past the end cannot block
            and request.environ["wsgi.input"].read(1)
        ):
            raise RequestEntityTooLarge()
    except HTTPException:
        raise
    except Exception as error:  # whatever the server raises for a body it cannot decode
        raise PageError(
            400, "Form not readable", "The server could not read this form's body. Send the form again."
        ) from error
    return form


@bp.post("/w/<workspace_id>/settings/billing")
def sign_in(workspace_id: str) -> Response:
    workspace = _workspace(workspace_id)
    if (moved := _canonical(workspace_id, workspace, "page.sign_in")) is not None:
        return moved
    _refuse_foreign_form()
    form = _posted_form()
    session = websession.read_session(workspace)
    if not websession.csrf_ok(session, form.get("csrf_token")):
        return sign_in_page(
            workspace,
            None,
            status=400,
            error="This sign-in form had expired (or cookies are blocked for this site). Paste the key again.",
        )
    token = form.get("api_key", "").strip()
    if not token:
        return sign_in_page(workspace, session, status=400, error="Paste an API key to sign in.")
    if not keystore.TOKEN_PATTERN.fullmatch(token):
        return sign_in_page(
            workspace,
            session,
            status=401,
            error="That is not an API key: a key starts with urk_ and has 47 characters.",
        )
    try:
        caller, key_expires_at = websession.caller_for_token(token)
    except ApiError as error:
        return sign_in_page(workspace, session, status=error.status, error=error.message)
    if (problem := _scope_problem(caller, workspace)) is not None:
        return sign_in_page(workspace, session, status=403, error=problem)
    response = redirect(url_for("page.billing", workspace_id=str(workspace), **range_args()), code=303)
    websession.write_session(response, websession.signed_in_session(workspace, caller.key_id, key_expires_at))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/w/<workspace_id>/settings/billing/sign-out")
def sign_out(workspace_id: str) -> Response:
    workspace = _workspace(workspace_id)
    if (moved := _canonical(workspace_id, workspace, "page.sign_out")) is not None:
        return moved
    _refuse_foreign_form()
    form = _posted_form()
    session = websession.read_session(workspace)
    if session is not None and session.signed_in and not websession.csrf_ok(session, form.get("csrf_token")):
        raise PageError(
            403,
            "Sign-out refused",
            "This sign-out did not come from the reports page (its form token is missing or wrong). "
            "Use the Sign out button on the page.",
        )
    response = redirect(url_for("page.billing", workspace_id=str(workspace), **range_args()), code=303)
    if session is not None and session.signed_in:
        websession.end_session(session)
        # no key any more: an anonymous session that has the sign-in form say so
        websession.write_session(response, websession.anonymous_session(workspace, signed_out=True))
    elif websession.COOKIE_NAME in request.cookies:  # one that is not a session (any more): drop it
        websession.clear_session(response, workspace)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- CSV downloads ----------------------------------------------------------------------
#
# The API's CSV needs a Bearer key, which a link cannot send, so the page serves the same
# files under its session: the same functions build the same lines, file name and headers
# (``api.csvexport``), authorized like the page (the session's key re-checked live).


def _workspace_csv(report: Any) -> Any:
    def lines(workspace: uuid.UUID, dates: DateRange, zone: Zone, caller: auth.Caller) -> csvexport.CsvTable:
        return report(workspace, dates, zone)

    return lines


def _member_csv(
    workspace: uuid.UUID, dates: DateRange, zone: Zone, caller: auth.Caller
) -> csvexport.CsvTable:
    return reports.member_usage_csv(workspace, caller.member_id, dates, zone)


@dataclass(frozen=True)
class Export:
    report: str  # its key in pageranges.REPORT_DEFAULTS (its default range and name)
    lines: Any  # (workspace, dates, zone, caller) -> CsvTable
    scope: str | None  # None: the member's own usage (members:read or analytics:read)


EXPORTS: dict[str, Export] = {
    "ai-usage": Export("ai", _workspace_csv(reports.ai_usage_csv), auth.ANALYTICS_READ),
    "sms-usage": Export("sms", _workspace_csv(reports.sms_usage_csv), auth.ANALYTICS_READ),
    "phone-usage": Export("phone", _workspace_csv(reports.phone_usage_csv), auth.ANALYTICS_READ),
    "voice-usage": Export("voice", _workspace_csv(reports.voice_usage_csv), auth.ANALYTICS_READ),
    "member-usage": Export("member", _member_csv, None),
}


def export_url(report: str, workspace_id: str, dates: DateRange, zone: Zone) -> str:
    """A download link for exactly the range and zone a section shows."""
    return url_for(
        "page.export",
        workspace_id=workspace_id,
        report=report,
        start_date=dates.start.isoformat(),
        end_date=dates.end.isoformat(),
        tz=zone.name,
    )


@bp.get("/w/<workspace_id>/settings/billing/export/<report>.csv")
def export(workspace_id: str, report: str) -> Response:
    """One report as the API's CSV (``format=csv``) for the same range and zone, for the
    signed-in session: workspace reports need ``analytics:read``; ``member-usage`` is the
    signed-in member's own usage (``members:read`` or ``analytics:read``)."""
    workspace = _workspace(workspace_id)
    if (moved := _canonical(workspace_id, workspace, "page.export", report=report)) is not None:
        return moved
    if (found := EXPORTS.get(report)) is None:
        raise PageError(404, "No such download", "There is no CSV download by that name.")
    if (cleaned := _without_empty_bounds(workspace, "page.export", report=report)) is not None:
        return cleaned
    session = websession.read_session(workspace)
    if session is None or not session.signed_in:
        raise PageError(401, "Sign in first", "Sign in on the reports page to download its CSV files.")
    try:
        caller = websession.caller_for_session(session)
    except ApiError as error:
        raise PageError(error.status, "Your session has ended", error.message) from error
    if caller.workspace_id != workspace:
        raise PageError(403, "Download refused", "This API key belongs to another workspace.")
    allowed = (
        caller.has(found.scope)
        if found.scope is not None
        else caller.has(auth.MEMBERS_READ) or caller.has(auth.ANALYTICS_READ)
    )
    if not allowed:
        needed = found.scope or f"{auth.MEMBERS_READ} or {auth.ANALYTICS_READ}"
        raise PageError(403, "Download refused", f"This download needs a key with {needed}.")
    values = page_values(request.args)
    zone = zones.parse_zone(values.get("tz"), "tz")
    dates = resolved_range(values, found.report, zone.today())
    with zones.known_to_the_warehouse(zone):  # an ApiError: the error page says what tz is
        table = found.lines(workspace, dates, zone, caller)
    member = caller.member_id if found.scope is None else None
    response = csvexport.csv_response(table, csvexport.filename(report, workspace, dates, zone, member))
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response


# --- errors and headers ------------------------------------------------------------


def _error_page(status: int, title: str, message: str) -> Response:
    """An error page, with a way back to the workspace's reports (and the range asked for)
    when the address named a well-formed workspace."""
    back = None
    with contextlib.suppress(ValueError, TypeError):
        workspace = uuid.UUID((request.view_args or {}).get("workspace_id", ""))
        back = url_for("page.billing", workspace_id=str(workspace), **range_args())
    return _html(
        render_template("page/error.html", status=status, title=title, message=message, back=back), status
    )


@bp.errorhandler(PageError)
def _page_error(error: PageError) -> Response:
    return _error_page(error.status, error.title, error.message)


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    """A refused download's range or zone, in the form's words (as on the page itself)."""
    return _error_page(error.status, "This page cannot be shown", in_form_words(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response | HTTPException:
    if (error.code or 500) < 400:
        return error
    if not request.path.startswith(PAGE_PREFIX):
        # the blueprint's static files (/static/...): outside the page's addresses, so the
        # API's JSON error, as for every other address there
        return http_exception_response(error)
    if isinstance(error, NotFound):
        response = _error_page(404, "No such page", "There is no page at this address.")
    else:
        response = _error_page(error.code or 500, error.name, error.description or error.name)
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods or []))
    return _security_headers(response)  # (answered for the app, the blueprint's after_request does not run)


@bp.record_once
def _answer_the_page_areas_routing_errors(state: BlueprintSetupState) -> None:
    """An address under the page's prefix that no route matches is the app's to answer, not the
    blueprint's: api.errors hands it back here, so it gets a page (HTML), not the API's JSON."""
    state.app.extensions[PAGE_ERRORS] = _http_error


_UNAVAILABLE = {
    UNREADY: "The reports are not ready on this server yet. Try again later.",
    TOO_HEAVY: "These reports took more than the server allows to compute. Choose a shorter range.",
    UNREACHABLE: "The report database is unavailable right now. Try again in a moment.",
}


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    """As the API does (``api.errors``): 503 when the database is unreachable or not ready for
    this app, else a logged 500."""
    if (kind := unavailability(error)) is not None:
        response = _error_page(503, "Reports unavailable", _UNAVAILABLE[kind])
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS[kind])
        return response
    current_app.logger.exception("unhandled error on the reports page")
    return _error_page(
        500, "Something went wrong", "The server failed to show this page. The error has been logged."
    )


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
