"""Signing in to the page with an API key: the same 401 rules as the API, the workspace
check, the session cookie's flags and lifetime, CSRF on both forms, and a session that
ends as soon as its key stops working (checked live on every page view)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from api import websession
from tests.api import fixture_data as data
from tests.api.conftest import Key, create_key_with_cli
from tests.page.conftest import (
    BOTH,
    SECRET,
    W1,
    W2,
    W3,
    Warehouse,
    csrf_token,
    page_path,
    sign_in,
    signed_in_client,
)


def session_cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    headers = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("usage_reports_session=")
    ]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [part.strip() for part in header.split(";")]
    return {name.lower(): value for name, _, value in (part.partition("=") for part in parts[1:])}


def is_signed_in(client: FlaskClient, workspace: str = W1) -> bool:
    html = client.get(page_path(workspace)).get_data(as_text=True)
    return 'name="api_key"' not in html and "Sign out" in html


# --- the form -------------------------------------------------------------------------------


def test_signed_out_the_page_is_a_sign_in_form(client: FlaskClient) -> None:
    response = client.get(page_path())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label for="api_key">API key</label>' in html
    assert 'type="password"' in html and 'autocomplete="off"' in html
    assert "ai.total_credits" not in html
    # an anonymous session holds only the CSRF token of the form
    attributes = cookie_attributes(session_cookie_header(response))
    assert attributes["path"] == page_path()
    assert "httponly" in attributes and attributes["samesite"] == "Lax"
    assert "secure" not in attributes  # plain HTTP
    assert "expires" not in attributes  # a browser-session cookie until sign-in
    assert response.headers["Cache-Control"] == "no-store"


def test_page_addresses_no_route_matches_are_pages_too(client: FlaskClient) -> None:
    # under /w/ an unmatched address or method is answered as the page answers errors (HTML,
    # its security headers, a way back), not with the API's JSON
    for method, path, status in (
        ("GET", f"{page_path()}/sign-out", 405),  # the form's target, opened as a link
        ("DELETE", page_path(), 405),
        ("GET", f"{page_path()}/", 404),
        ("GET", "/w/nothing-here", 404),
    ):
        response = client.open(path, method=method)
        assert response.status_code == status, path
        assert response.mimetype == "text/html" and "Content-Security-Policy" in response.headers
    allowed = client.open(f"{page_path()}/sign-out", method="GET").headers["Allow"]
    assert allowed == "POST"
    assert client.get("/api/v2/nothing").is_json


def test_the_root_stays_the_apis_json_404(client: FlaskClient) -> None:
    # (no landing page at "/": the API documents every path it answers, and "/" is not one)
    response = client.get("/")
    assert response.status_code == 404 and response.is_json


def test_a_missing_static_file_is_the_apis_json_error(client: FlaskClient) -> None:
    # the page's files are served under /static/, outside its /w/ addresses: a missing one (or
    # one reached by a climb out of the folder) is a JSON 404 as at /static itself, not the page
    for path in ("/static/nope.js", "/static/../api/__init__.py", "/static/%2e%2e/__init__.py", "/static"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
        assert response.get_json()["error"]["code"] == "not_found"
    response = client.post("/static/tz.js")
    assert response.status_code == 405 and response.is_json
    assert client.get("/static/tz.js").status_code == 200


# --- sign-in ---------------------------------------------------------------------------------


def test_sign_in_sets_a_signed_session_cookie(app: Flask, keys: dict[str, Key]) -> None:
    client = app.test_client()
    response = sign_in(client, keys["admin"].token, query="?start_date=2024-03-01&end_date=2024-03-31")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{page_path()}?start_date=2024-03-01&end_date=2024-03-31"
    header = session_cookie_header(response)
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"  # a link from elsewhere opens the page signed in
    assert attributes["path"] == page_path()
    assert "secure" not in attributes
    expires = parsedate_to_datetime(attributes["expires"])
    assert (
        datetime.now(UTC)
        < expires
        <= datetime.now(UTC) + timedelta(hours=websession.SESSION_HOURS, seconds=5)
    )
    # the cookie names the key by its id and never holds the key itself
    value = header.split(";", 1)[0].split("=", 1)[1]
    assert keys["admin"].token not in value
    payload = URLSafeTimedSerializer(SECRET, salt=websession._SALT).loads(value)
    assert payload["k"] == keys["admin"].key_id and payload["w"] == W1
    assert is_signed_in(client)


def test_the_cookie_is_secure_over_https(app: Flask, keys: dict[str, Key]) -> None:
    client = app.test_client()
    form = client.get(page_path(), base_url="https://reports.example")
    assert "secure" in cookie_attributes(session_cookie_header(form))
    response = client.post(
        page_path(),
        base_url="https://reports.example",
        data={"csrf_token": csrf_token(form.get_data(as_text=True)), "api_key": keys["admin"].token},
    )
    assert response.status_code == 303
    assert "secure" in cookie_attributes(session_cookie_header(response))


def test_the_session_expires_no_later_than_the_key(app: Flask, warehouse: Warehouse) -> None:
    key = create_key_with_cli(app, W1, data.ADA, "Short-lived", BOTH, days=1)
    with warehouse.connect() as conn:
        conn.execute(
            "update api.api_keys set expires_at = now() + interval '30 minutes' where key_id = %s",
            (key.key_id,),
        )
    response = sign_in(app.test_client(), key.token)
    assert response.status_code == 303
    expires = parsedate_to_datetime(cookie_attributes(session_cookie_header(response))["expires"])
    assert expires <= datetime.now(UTC) + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("hello", 401, "That is not an API key"),
        ("urk_" + "a" * 42, 401, "That is not an API key"),
        ("urk_" + "A" * 43, 401, "This API key is not known."),
        ("", 400, "Paste an API key"),
    ],
)
def test_bad_keys_are_refused(client: FlaskClient, token: str, status: int, message: str) -> None:
    response = sign_in(client, token)
    assert response.status_code == status
    if status == 401:  # a 401 names how to authenticate (RFC 9110): the form, no browser dialog
        assert response.headers["WWW-Authenticate"] == 'FormBased realm="Detailed reports"'
    html = response.get_data(as_text=True)
    assert message in html
    assert 'role="alert"' in html and 'name="api_key"' in html
    assert "<title>Error: Sign in · Detailed reports" in html  # a tab or history entry says so too
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    ("name", "message"),
    [("revoked", "This API key has been revoked."), ("expired", "This API key has expired.")],
)
def test_revoked_and_expired_keys_are_refused(
    client: FlaskClient, keys: dict[str, Key], name: str, message: str
) -> None:
    response = sign_in(client, keys[name].token)
    assert response.status_code == 401
    assert message in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_a_key_of_another_workspace_is_refused(client: FlaskClient, keys: dict[str, Key]) -> None:
    response = sign_in(client, keys["w2_admin"].token, workspace=W1)
    assert response.status_code == 403
    assert "belongs to another workspace" in response.get_data(as_text=True)
    assert not is_signed_in(client)
    assert not is_signed_in(client, W2)


def test_a_key_whose_role_grants_nothing_is_refused(client: FlaskClient, keys: dict[str, Key]) -> None:
    response = sign_in(client, keys["viewer"].token)  # Gus: the viewer role holds no scope
    assert response.status_code == 403
    assert "nothing it may show" in response.get_data(as_text=True)


def test_sign_in_needs_the_forms_csrf_token(client: FlaskClient, keys: dict[str, Key]) -> None:
    client.get(page_path())
    for form in ({"api_key": keys["admin"].token}, {"api_key": keys["admin"].token, "csrf_token": "forged"}):
        response = client.post(page_path(), data=form)
        assert response.status_code == 400
        assert "form had expired" in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_a_token_that_differs_only_at_its_end_is_refused(app: Flask, keys: dict[str, Key]) -> None:
    # the whole token must match, not a prefix of it
    client = app.test_client()
    token = csrf_token(client.get(page_path()).get_data(as_text=True))
    for near in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:8], token + "x"):
        response = client.post(page_path(), data={"csrf_token": near, "api_key": keys["admin"].token})
        assert response.status_code == 400, near
        assert "form had expired" in response.get_data(as_text=True)
    assert not is_signed_in(client)
    # and sign-out wants the signed-in page's own token just as whole
    signed_in = signed_in_client(app, keys["admin"])
    token = csrf_token(signed_in.get(page_path()).get_data(as_text=True))
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert signed_in.post(f"{page_path()}/sign-out", data={"csrf_token": near}).status_code == 403
    assert is_signed_in(signed_in)


def anonymous_cookie(signed_at: datetime) -> str:
    """The cookie the sign-in form writes before anyone signs in (its CSRF token "token"),
    as if written at ``signed_at``."""
    return cookie_signed_at({"w": W1, "c": "token"}, signed_at)


def test_a_sign_in_form_older_than_a_session_is_refused(app: Flask, keys: dict[str, Key]) -> None:
    # the form's token lives as long as a session (SESSION_HOURS), not twice that as a
    # signed-in session's cookie may
    now = datetime.now(UTC)
    for age, status in ((timedelta(hours=1), 303), (timedelta(hours=websession.SESSION_HOURS + 1), 400)):
        client = app.test_client()
        client.set_cookie(websession.COOKIE_NAME, anonymous_cookie(now - age), path=page_path())
        response = client.post(page_path(), data={"csrf_token": "token", "api_key": keys["admin"].token})
        assert response.status_code == status, age
        assert ("form had expired" in response.get_data(as_text=True)) is (status == 400)
        assert is_signed_in(client) is (status == 303)


def test_sign_in_without_any_cookie_is_refused(app: Flask, keys: dict[str, Key]) -> None:
    # a cross-site form post (login CSRF) carries no cookie (SameSite=Lax): no token match
    response = app.test_client().post(page_path(), data={"api_key": keys["admin"].token, "csrf_token": "x"})
    assert response.status_code == 400


# --- the live session ----------------------------------------------------------------------


def test_a_revoked_key_ends_the_session_on_the_next_view(app: Flask) -> None:
    key = create_key_with_cli(app, W1, data.ADA, "Revoked while signed in", BOTH)
    client = signed_in_client(app, key)
    assert client.get(page_path()).status_code == 200
    assert app.test_cli_runner().invoke(args=["keys", "revoke", key.key_id]).exit_code == 0
    response = client.get(page_path())
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "Your session has ended. This API key has been revoked." in html
    assert 'name="api_key"' in html and "ai.total_credits" not in html
    # the dead session is replaced by an anonymous one
    assert "expires" not in cookie_attributes(session_cookie_header(response))
    assert not is_signed_in(client)


def test_an_expired_key_ends_the_session(app: Flask, warehouse: Warehouse) -> None:
    key = create_key_with_cli(app, W1, data.ADA, "Expires while signed in", BOTH)
    client = signed_in_client(app, key)
    with warehouse.connect() as conn:
        conn.execute("update api.api_keys set expires_at = now() where key_id = %s", (key.key_id,))
    response = client.get(page_path())
    assert response.status_code == 401
    assert "This API key has expired." in response.get_data(as_text=True)


def cookie_signed_at(payload: dict[str, object], signed_at: datetime) -> str:
    """The page's session cookie holding ``payload``, as if written at ``signed_at``."""

    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(signed_at.timestamp())

    serializer = URLSafeTimedSerializer(SECRET, salt=websession._SALT, signer=SignedThen)
    return serializer.dumps(payload)


def replayed_cookie(key: Key, expires_at: datetime, signed_at: datetime) -> str:
    """A session cookie for ``key`` as sign-in would have written it at ``signed_at``."""
    return cookie_signed_at(
        {"w": W1, "c": "token", "k": key.key_id, "e": int(expires_at.timestamp())}, signed_at
    )


def test_a_session_replayed_after_it_expired_is_told_so(app: Flask) -> None:
    # A browser drops the cookie when it expires; a client that keeps sending it is told the
    # session ended (401, the sign-in form), on the page and on a download, whatever the key.
    key = create_key_with_cli(app, W1, data.ADA, "Replayed", BOTH)
    now = datetime.now(UTC)
    client = app.test_client()
    cookie = replayed_cookie(key, now - timedelta(minutes=1), now - timedelta(hours=2))
    client.set_cookie(websession.COOKIE_NAME, cookie, path=page_path())
    response = client.get(page_path())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("FormBased")
    html = response.get_data(as_text=True)
    assert "Your session has ended. This session expired" in html and 'name="api_key"' in html
    client.set_cookie(websession.COOKIE_NAME, cookie, path=page_path())
    assert client.get(page_path() + "/export/ai-usage.csv").status_code == 401
    # a day after sign-in the cookie is not a session any more: the plain form
    client.set_cookie(
        websession.COOKIE_NAME,
        replayed_cookie(key, now - timedelta(hours=12), now - timedelta(hours=24, minutes=1)),
        path=page_path(),
    )
    assert client.get(page_path()).status_code == 200


def test_a_deleted_member_loses_the_session(app: Flask, warehouse: Warehouse) -> None:
    key = create_key_with_cli(app, W3, data.FAY, "Leaving", BOTH)
    client = signed_in_client(app, key, W3)
    assert client.get(page_path(W3)).status_code == 200
    with warehouse.connect() as conn:
        data.add_member_copy(conn, data.FAY, W3, "admin", "Fay Leaving", deleted_at="2024-06-01T00:00:00Z")
    response = client.get(page_path(W3))
    assert response.status_code == 401
    assert "no longer active in its workspace" in response.get_data(as_text=True)


def test_a_demotion_shows_only_the_members_own_usage_next_time(app: Flask, warehouse: Warehouse) -> None:
    key = create_key_with_cli(app, W3, data.DAN, "Demoted", BOTH)
    client = signed_in_client(app, key, W3)
    html = client.get(page_path(W3)).get_data(as_text=True)
    assert 'id="ai"' in html and 'id="members"' in html
    with warehouse.connect() as conn:
        data.add_member_copy(conn, data.DAN, W3, "member", "Dan Demoted")
    response = client.get(page_path(W3))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="own"' in html
    assert 'id="ai"' not in html and 'id="members"' not in html


def test_a_role_that_stops_granting_both_scopes_leaves_nothing_to_show(
    app: Flask, warehouse: Warehouse
) -> None:
    member = "c3000000-0000-4000-8000-0000000000f1"  # this test's own member: no other test sees it
    with warehouse.connect() as conn:
        data.add_member_copy(conn, member, W3, "admin", "Nell Narrowed")
    client = signed_in_client(app, create_key_with_cli(app, W3, member, "Narrowed", BOTH), W3)
    assert client.get(page_path(W3)).status_code == 200
    with warehouse.connect() as conn:
        data.add_member_copy(conn, member, W3, "viewer", "Nell Narrowed")
    response = client.get(page_path(W3))
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Nothing to show for this key" in html and "nothing it may show" in html
    assert "<title>No access: Detailed reports" in html
    assert 'id="ai"' not in html and 'id="own"' not in html


def test_a_tampered_cookie_is_no_session(app: Flask, keys: dict[str, Key]) -> None:
    client = signed_in_client(app, keys["admin"])
    forged = URLSafeTimedSerializer("another secret", salt=websession._SALT).dumps(
        {"w": W1, "c": "x", "k": keys["admin"].key_id, "e": 4102444800}
    )
    client.set_cookie("usage_reports_session", forged, path=page_path())
    assert not is_signed_in(client)


def test_a_session_is_for_one_workspace(app: Flask, keys: dict[str, Key]) -> None:
    client = signed_in_client(app, keys["admin"])
    # the same signed value presented on another workspace's page does not sign anyone in there
    value = client.get_cookie("usage_reports_session", path=page_path())
    assert value is not None
    client.set_cookie("usage_reports_session", value.value, path=page_path(W2))
    assert not is_signed_in(client, W2)


# --- sign-out ------------------------------------------------------------------------------


def test_sign_out_needs_the_pages_csrf_token(app: Flask, keys: dict[str, Key]) -> None:
    client = signed_in_client(app, keys["admin"])
    for form in ({}, {"csrf_token": "forged"}):
        response = client.post(f"{page_path()}/sign-out", data=form)
        assert response.status_code == 403
        assert "Sign-out refused" in response.get_data(as_text=True)
    assert is_signed_in(client)


def test_a_form_from_another_site_is_refused_and_writes_no_cookie(app: Flask, keys: dict[str, Key]) -> None:
    """A browser sends no session cookie with a form another site posts (SameSite=Lax). Answered
    like a cookie-less visit, the response's cookie would replace the visitor's session, so
    any site could sign a visitor out: such a form (Sec-Fetch-Site) is refused untouched."""
    client = signed_in_client(app, keys["admin"])
    token = csrf_token(client.get(page_path()).get_data(as_text=True))
    elsewhere: list[dict[str, str]] = [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}]
    # browsers without Fetch Metadata (older ones; any over plain HTTP but to localhost): Origin
    elsewhere += [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost.evil"}]
    # the same host on another port is another origin
    elsewhere += [{"Origin": "http://localhost:8080"}]
    # and an Origin that is no URL at all (an unclosed IPv6 bracket), which no browser sends
    elsewhere += [{"Origin": "http://[::1"}, {"Origin": "http://a]b"}]
    for headers in elsewhere:
        for path, form in (
            (f"{page_path()}/sign-out", {"csrf_token": token}),
            (page_path(), {"csrf_token": token, "api_key": keys["member"].token}),
        ):
            for sender in (client, app.test_client()):  # with the cookie, and as a browser sends it
                response = sender.post(path, data=form, headers=headers)
                assert response.status_code == 403, (headers, path)
                assert "Form from another site" in response.get_data(as_text=True)
                assert response.headers.getlist("Set-Cookie") == []
    assert is_signed_in(client)
    # the page's own forms: same-origin, or this origin (the test client's host is localhost;
    # a proxy's X-Forwarded-Host too), or neither header (an old browser: the token decides)
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}, {}):
        again = signed_in_client(app, keys["admin"])
        token = csrf_token(again.get(page_path()).get_data(as_text=True))
        response = again.post(f"{page_path()}/sign-out", data={"csrf_token": token}, headers=headers)
        assert response.status_code == 303 and not is_signed_in(again), headers
    proxied = signed_in_client(app, keys["admin"])
    token = csrf_token(proxied.get(page_path()).get_data(as_text=True))
    response = proxied.post(
        f"{page_path()}/sign-out",
        data={"csrf_token": token},
        headers={"Origin": "https://reports.example", "X-Forwarded-Host": "reports.example"},
    )
    assert response.status_code == 303
    # a page served on a port: its forms come from that host and port
    ported = signed_in_client(app, keys["admin"])
    token = csrf_token(ported.get(page_path(), base_url="http://localhost:8000").get_data(as_text=True))
    response = ported.post(
        f"{page_path()}/sign-out",
        data={"csrf_token": token},
        headers={"Origin": "http://localhost:8000"},
        base_url="http://localhost:8000",
    )
    assert response.status_code == 303 and not is_signed_in(ported)


def test_sign_out_without_a_cookie_writes_none(app: Flask) -> None:
    response = app.test_client().post(f"{page_path()}/sign-out", data={"csrf_token": "x"})
    assert response.status_code == 303
    assert response.headers.getlist("Set-Cookie") == []


def test_sign_out_drops_a_cookie_that_is_no_session(app: Flask) -> None:
    # a cookie that no longer verifies (another secret, tampered) is deleted where it lives,
    # on the page's path: a deletion for another path would leave it in the browser
    client = app.test_client()
    client.set_cookie(websession.COOKIE_NAME, "not-a-signed-value", path=page_path())
    response = client.post(f"{page_path()}/sign-out", data={"csrf_token": "x"})
    assert response.status_code == 303
    attributes = cookie_attributes(session_cookie_header(response))
    assert attributes["path"] == page_path()
    assert parsedate_to_datetime(attributes["expires"]) < datetime.now(UTC)
    assert client.get_cookie(websession.COOKIE_NAME, path=page_path()) is None


def test_sign_out_clears_the_session(app: Flask, keys: dict[str, Key]) -> None:
    client = signed_in_client(app, keys["admin"])
    token = csrf_token(client.get(page_path()).get_data(as_text=True))
    response = client.post(f"{page_path()}/sign-out?start_date=2024-03-01", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{page_path()}?start_date=2024-03-01"
    attributes = cookie_attributes(session_cookie_header(response))
    assert attributes["path"] == page_path() and "expires" not in attributes  # keyless, for this visit
    first = client.get(page_path()).get_data(as_text=True)
    assert 'name="api_key"' in first and "You have signed out." in first  # said once
    assert "<title>Signed out: Sign in · Detailed reports" in first
    again = client.get(page_path()).get_data(as_text=True)
    assert 'name="api_key"' in again and "signed out" not in again.lower()
    assert "<title>Sign in · Detailed reports" in again
    assert not is_signed_in(client)


def test_a_cookie_copied_before_sign_out_is_refused_after(app: Flask, keys: dict[str, Key]) -> None:
    """The cookie is signed, not stored, so sign-out records the session as ended: a copy taken
    before (another tab's, a stolen one) no longer views or downloads. Another session of the
    same key is not affected."""
    client = signed_in_client(app, keys["admin"])
    elsewhere = signed_in_client(app, keys["admin"])
    cookie = client.get_cookie("usage_reports_session", path=page_path())
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("usage_reports_session", cookie.value, path=page_path())
    export = f"{page_path()}/export/ai-usage.csv"
    assert is_signed_in(copy)
    assert copy.get(export).status_code == 200

    token = csrf_token(client.get(page_path()).get_data(as_text=True))
    assert client.post(f"{page_path()}/sign-out", data={"csrf_token": token}).status_code == 303

    view = copy.get(page_path())
    assert view.status_code == 401
    assert 'name="api_key"' in view.get_data(as_text=True)
    assert "signed out" in view.get_data(as_text=True)
    refused = copy.get(export)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("FormBased ")
    assert is_signed_in(elsewhere)
    assert is_signed_in(signed_in_client(app, keys["admin"]))


# --- addresses and the secret ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/w/not-a-uuid/settings/billing", "/w/1234/settings/billing"])
def test_a_malformed_workspace_is_a_400_page(client: FlaskClient, path: str) -> None:
    for response in (client.get(path), client.post(path, data={})):
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert "not a UUID" in response.get_data(as_text=True)


def test_an_uppercase_workspace_redirects_to_the_canonical_address(client: FlaskClient) -> None:
    workspace = "abcdef00-0000-4000-8000-00000000000a"
    response = client.get(f"/w/{workspace.upper()}/settings/billing?start_date=2024-03-01")
    assert response.status_code == 308
    assert response.headers["Location"] == f"{page_path(workspace)}?start_date=2024-03-01"
    # every address under the cookie's path, so a download or a sign-out carries the cookie
    response = client.get(f"/w/{workspace.upper()}/settings/billing/export/ai-usage.csv?tz=UTC")
    assert response.status_code == 308
    assert response.headers["Location"] == f"{page_path(workspace)}/export/ai-usage.csv?tz=UTC"
    response = client.post(f"/w/{workspace.upper()}/settings/billing/sign-out", data={"csrf_token": "x"})
    assert response.status_code == 308  # a 308 keeps the method and the form
    assert response.headers["Location"] == f"{page_path(workspace)}/sign-out"


def test_a_form_body_over_the_limit_is_refused_unread(client: FlaskClient, keys: dict[str, Key]) -> None:
    html = client.get(page_path()).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "api_key": keys["admin"].token}
    padding = {"pad": "x" * 20_000}
    response = client.post(page_path(), data={**form, **padding})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert not is_signed_in(client)
    assert client.post(page_path(), data=form).status_code == 303  # the same form, without the padding
    assert is_signed_in(client)
    html = client.get(page_path()).get_data(as_text=True)
    response = client.post(page_path() + "/sign-out", data={"csrf_token": csrf_token(html), **padding})
    assert response.status_code == 413
    assert is_signed_in(client)


@pytest.mark.parametrize(
    "query",
    [
        "workspace_id=x",
        "endpoint=x",
        "_method=DELETE",
        "_external=1&start_date=2024-03-01",
        "_anchor=x",
        "_scheme=javascript",
        "tz=Asia%2FKolkata&tz=UTC&x=%20%C3%BC",
    ],
)
def test_the_redirect_carries_the_query_as_it_came(client: FlaskClient, query: str) -> None:
    """Query names are not options of the address builder: no 500, no other host, no anchor."""
    workspace = "abcdef00-0000-4000-8000-00000000000a"
    for response in (
        client.get(f"/w/{workspace.upper()}/settings/billing?{query}", headers={"Host": "evil.example"}),
        client.post(f"/w/{workspace.upper()}/settings/billing?{query}", data={"api_key": "x"}),
    ):
        assert response.status_code == 308
        assert response.headers["Location"] == f"{page_path(workspace)}?{query}"


def test_the_secret_is_made_once_and_shared(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "instance" / "secret_key"
    first = websession.load_or_create_secret(path)
    assert len(first) >= 40
    assert websession.load_or_create_secret(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(entry.name for entry in path.parent.iterdir()) == ["secret_key", "secret_key.lock"]
    # an emptied or truncated file would sign cookies with (almost) nothing: it is made anew
    for damaged in ("", "\n", "short"):
        path.write_text(damaged, encoding="ascii")
        remade = websession.load_or_create_secret(path)
        assert len(remade) >= websession.MIN_SECRET_LENGTH and remade != first
        assert websession.load_or_create_secret(path) == remade


def test_secret_key_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api import create_app

    monkeypatch.setenv("SECRET_KEY", "from-the-environment-" + "x" * 16)
    app = create_app()
    assert websession.secret_key(app) == "from-the-environment-" + "x" * 16
    monkeypatch.setenv("SECRET_KEY", "too-short")  # refused at start-up, not by every page view
    with pytest.raises(ValueError, match="SECRET_KEY holds 9 characters, fewer than 32"):
        create_app()
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ValueError, match="fewer than 32"):
        create_app({"SECRET_KEY": "short"})
    other = create_app()
    other.instance_path = str(tmp_path)
    made = websession.secret_key(other)
    assert (tmp_path / "secret_key").read_text().strip() == made
