"""Signing in to the Detailed Reports page with an API key, and the session that follows.

The product's own login is outside this project, so a person signs in by
pasting an API key. The key is checked exactly as an API request checks it
(``api.auth.caller_for_key``: the same 401 rules) and must belong to the
page's workspace; the browser then gets a signed session cookie that names the
key by its public id (``key_...``), never the key itself.

* **Live.** Every page request reads the key by its id and runs the same 401
  rules again, and the scopes are the key's scopes the member's *current* role
  holds: a revocation, an expiry, a deleted member or a role change takes
  effect on the next page view, as it does for the API.
* **Cookie.** ``usage_reports_session``, signed with ``SECRET_KEY``
  (itsdangerous, timestamped), ``HttpOnly``, ``SameSite=Lax``, ``Secure``
  when the request came over HTTPS, scoped to the workspace's page path, and
  expiring at the earlier of the key's ``expires_at`` and
  ``SESSION_HOURS`` after sign-in (the expiry is inside the signed value too,
  so a replayed cookie is refused server-side as well: a 401 that says the
  session has ended, until twice ``SESSION_HOURS`` after sign-in, then no session at all).
* **CSRF.** ``SameSite=Lax`` keeps the cookie off forms posted from other
  sites while a link from elsewhere (a shared view in an e-mail) still opens the
  page signed in (``Strict`` would arrive without the cookie and sign the
  visitor out). A form the browser marks as posted from another site
  (``Sec-Fetch-Site``) is refused before anything is read or written, and every
  form that changes state (sign-in, sign-out) carries a per-session token that
  must match the cookie's. A first visit gets an anonymous session holding only
  that token, so the sign-in form is protected too (login CSRF).
* **The secret.** ``SECRET_KEY`` from the app's config or the environment;
  otherwise a random one made once and kept in ``instance/secret_key`` (mode
  0600, git-ignored), so every gunicorn worker signs with the same key and
  sessions survive a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from api import auth, keystore
from api.config import ConfigError
from api.db import get_db
from api.errors import ApiError

COOKIE_NAME = "usage_reports_session"
SESSION_HOURS = 12
_SALT = "usage-reports.page-session.v1"
_SECRET_FILE = "secret_key"


@dataclass(frozen=True)
class PageSession:
    """What the signed cookie holds (a signed-in session has a ``key_id``; an anonymous one
    written by sign-out is ``signed_out`` until the sign-in form has said so once)."""

    workspace_id: str
    csrf_token: str
    key_id: str | None = None
    expires_at: datetime | None = None
    signed_out: bool = False

    @property
    def signed_in(self) -> bool:
        return self.key_id is not None


# --- the secret --------------------------------------------------------------


# Anything shorter signs nothing worth trusting (an empty file would sign with "").
MIN_SECRET_LENGTH = 32


def load_or_create_secret(path: Path) -> str:
    """The secret stored at ``path``, made once (atomically, so concurrent workers agree).

    A file that holds less than ``MIN_SECRET_LENGTH`` characters (emptied, truncated) is
    replaced, under a lock so every worker ends up with the same new secret."""
    existing = _stored_secret(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        existing = _stored_secret(path)  # another worker may have made it meanwhile
        if existing is not None:
            return existing
        descriptor, scratch = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            os.chmod(scratch, 0o600)
            os.replace(scratch, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(scratch)
    made = _stored_secret(path)
    assert made is not None
    return made


def _stored_secret(path: Path) -> str | None:
    """The secret in ``path`` when it is long enough, else None (missing, empty, too short)."""
    try:
        stored = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return stored if len(stored) >= MIN_SECRET_LENGTH else None


def check_given_secret(app: Flask) -> None:
    """At start-up: a ``SECRET_KEY`` given (the app's config or the environment) that is
    shorter than ``MIN_SECRET_LENGTH`` stops the app from starting (gunicorn, the operator
    commands) with the reason, rather than failing every page view later. Reads no file."""
    if given := _given_secret(app):
        _long_enough(given)


def _given_secret(app: Flask) -> str:
    """``SECRET_KEY`` from the app's config, else the environment; empty when neither sets one."""
    return str(app.config.get("SECRET_KEY") or os.environ.get("SECRET_KEY", "").strip())


def _long_enough(secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"SECRET_KEY holds {len(secret)} characters, fewer than {MIN_SECRET_LENGTH}: page sessions "
            "signed with it could be forged. Set a longer one, or unset it to use instance/secret_key."
        )
    return secret


def secret_key(app: Flask) -> str:
    """The app's ``SECRET_KEY``: its config, else the environment, else the instance file.

    Looked up on first use (not in ``create_app``), so the operator commands
    and the API alone never write to the instance folder. A ``SECRET_KEY`` shorter than
    ``MIN_SECRET_LENGTH`` is refused (``create_app`` already refuses one it is given).
    """
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _given_secret(app) or load_or_create_secret(
            Path(app.instance_path) / _SECRET_FILE
        )
    return _long_enough(str(app.config["SECRET_KEY"]))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(current_app), salt=_SALT)


# --- reading and writing the cookie -------------------------------------------


def cookie_path(workspace_id: uuid.UUID) -> str:
    return f"/w/{workspace_id}/settings/billing"


def read_session(workspace_id: uuid.UUID) -> PageSession | None:
    """The request's session for this workspace, or None (absent, forged, stale or another
    workspace's). A signed-in session past its expiry is still returned until twice
    ``SESSION_HOURS`` after sign-in (``caller_for_session`` refuses it, so the page can say it
    ended); an anonymous one lives ``SESSION_HOURS``."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw or len(raw) > 4096:
        return None
    try:
        payload, signed_at = _serializer().loads(raw, max_age=2 * SESSION_HOURS * 3600, return_timestamp=True)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(payload, dict) or payload.get("w") != str(workspace_id):
        return None
    csrf_token = payload.get("c")
    if not isinstance(csrf_token, str) or not csrf_token:
        return None
    key_id = payload.get("k")
    expires = payload.get("e")
    if key_id is None:
        if datetime.now(UTC) - signed_at > timedelta(hours=SESSION_HOURS):
            return None
        return PageSession(str(workspace_id), csrf_token, signed_out=payload.get("o") == 1)
    if not isinstance(key_id, str) or not isinstance(expires, int):
        return None
    return PageSession(str(workspace_id), csrf_token, key_id, datetime.fromtimestamp(expires, UTC))


def anonymous_session(workspace_id: uuid.UUID, signed_out: bool = False) -> PageSession:
    return PageSession(str(workspace_id), secrets.token_urlsafe(32), signed_out=signed_out)


def signed_in_session(workspace_id: uuid.UUID, key_id: str, key_expires_at: datetime) -> PageSession:
    """A new session (and a new CSRF token) for a key that just passed sign-in."""
    cap = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
    expires_at = min(key_expires_at.astimezone(UTC), cap).replace(microsecond=0)
    return PageSession(str(workspace_id), secrets.token_urlsafe(32), key_id, expires_at)


def write_session(response: Response, session: PageSession) -> None:
    payload: dict[str, Any] = {"w": session.workspace_id, "c": session.csrf_token}
    if session.signed_in:
        assert session.expires_at is not None
        payload["k"] = session.key_id
        payload["e"] = int(session.expires_at.timestamp())
    elif session.signed_out:
        payload["o"] = 1
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps(payload),
        expires=session.expires_at,  # None: a browser-session cookie (the anonymous CSRF holder)
        path=cookie_path(uuid.UUID(session.workspace_id)),
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def clear_session(response: Response, workspace_id: uuid.UUID) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path=cookie_path(workspace_id),
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def csrf_ok(session: PageSession | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode())


# --- the key behind a sign-in or a session -------------------------------------


def caller_for_token(token: str) -> tuple[auth.Caller, datetime]:
    """Sign-in: the same 401 rules as an API request; returns the caller and the key's expiry."""
    database = get_db()
    with database.connection() as conn:
        database.ensure_api_tables(conn)
        key = keystore.find_key(conn, token)
        caller = auth.caller_for_key(conn, key)
        assert key is not None
        return caller, key["expires_at"]


SESSION_ENDED_SQL = """
select exists (
    select from api.ended_page_sessions where session_sha256 = %s
) as ended
"""

END_SESSION_SQL = """
insert into api.ended_page_sessions (session_sha256, expires_at)
values (%s, %s)
on conflict (session_sha256) do nothing
"""

FORGET_EXPIRED_SQL = "delete from api.ended_page_sessions where expires_at < now()"


def _session_digest(session: PageSession) -> bytes:
    """How ``api.ended_page_sessions`` names a session: the SHA-256 of its random token."""
    return hashlib.sha256(session.csrf_token.encode()).digest()


def caller_for_session(session: PageSession) -> auth.Caller:
    """Every page view: the session's key, checked live by the same 401 rules, unless the
    session expired (a replayed cookie) or was signed out (its cookie may have been copied
    before)."""
    if session.expires_at is not None and session.expires_at <= datetime.now(UTC):
        raise ApiError(
            401,
            "session_expired",
            f"This session expired (a session lasts {SESSION_HOURS} hours, or until its key expires)."
            " Sign in again with an API key.",
        )
    database = get_db()
    with database.connection() as conn:
        database.ensure_api_tables(conn)
        ended = conn.execute(SESSION_ENDED_SQL, (_session_digest(session),)).fetchone()
        if ended is not None and ended["ended"]:
            raise ApiError(401, "signed_out", "This session was signed out. Sign in again with an API key.")
        if session.key_id is None:  # callers pass signed-in sessions only; never a 500 if not
            raise ApiError(401, "signed_out", "This session holds no key. Sign in with an API key.")
        key = keystore.find_key_by_id(conn, session.key_id)
        return auth.caller_for_key(conn, key)


def end_session(session: PageSession) -> None:
    """Sign-out: no copy of this session's cookie is accepted again (ended sessions are kept
    until their cookies expire, then forgotten)."""
    database = get_db()
    with database.connection() as conn, conn.transaction():
        database.ensure_api_tables(conn)
        conn.execute(END_SESSION_SQL, (_session_digest(session), session.expires_at))
        conn.execute(FORGET_EXPIRED_SQL)
