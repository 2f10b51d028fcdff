"""Who is calling, and what they may see.

Every workspace endpoint runs its checks in this order, and stops at the
first failure:

1. **401 authentication** (``authenticate``). ``Authorization: Bearer <key>``
   must carry a well-formed key (``urk_`` + 43 URL-safe characters) that is
   stored, not revoked and not expired, and whose member still exists, is not
   deleted and still belongs to the key's workspace (read live from the staging
   views, so a deletion or a move in ``raw`` takes effect on the next request).
   Nothing else about the request is looked at first, so a caller without a
   valid key learns nothing about ids, parameters or data.
2. **400 validation**: the path ids (``workspace_id``, ``member_id``) and the
   query parameters (see ``api.params``). Purely syntactic: it reveals nothing.
3. **403 authorization**: the key's workspace must be the path's workspace, and
   the effective scopes must include what the endpoint needs. Effective scopes
   are the key's scopes that the member's *current* role also holds, read live
   on every request (a demotion takes effect on the next request, no build).
4. **404**: only for member usage, and only once the caller may ask (see
   ``authorize_member_usage``).

``last_used_at`` is written at most once a minute per key, so a busy key does
not cost a write per request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import request
from psycopg import Connection

from api import buildlock, keystore
from api.db import get_db
from api.errors import ApiError

ANALYTICS_READ = "analytics:read"
MEMBERS_READ = "members:read"


@dataclass(frozen=True)
class Caller:
    key_id: str
    workspace_id: uuid.UUID
    member_id: uuid.UUID
    scopes: frozenset[str]  # effective: the key's scopes that the member's role grants now
    key_scopes: frozenset[str]  # the key's own, as created

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def _unauthorized(code: str, message: str, *, invalid_token: bool = True) -> ApiError:
    challenge = 'Bearer realm="usage-reports"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    return ApiError(401, code, message, {"WWW-Authenticate": challenge})


def _forbidden(code: str, message: str, *, scope: str | None = None) -> ApiError:
    headers = {}
    if scope is not None:
        headers["WWW-Authenticate"] = (
            f'Bearer realm="usage-reports", error="insufficient_scope", scope="{scope}"'
        )
    return ApiError(403, code, message, headers)


def bearer_token() -> str:
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        raise _unauthorized(
            "missing_api_key",
            "This endpoint needs an API key: send 'Authorization: Bearer <key>'.",
            invalid_token=False,
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not keystore.TOKEN_PATTERN.fullmatch(token):
        raise _unauthorized(
            "invalid_api_key",
            "The Authorization header must be 'Bearer <key>' with a key made by 'flask --app api keys create'.",
        )
    return token


def authenticate() -> Caller:
    """The caller behind the request's key, or a 401."""
    token = bearer_token()
    database = get_db()
    with database.connection() as conn:
        database.ensure_key_table(conn)
        return caller_for_key(conn, keystore.find_key(conn, token))


def caller_for_key(conn: Connection[Any], key: dict[str, Any] | None) -> Caller:
    """The 401 rules for a stored key (a row shaped like ``keystore.find_key``'s), live.

    Shared by the API (key from the ``Authorization`` header) and the page
    (key named by its signed session): unknown, revoked, expired, or a member
    no longer active in the key's workspace is a 401; otherwise the use is
    recorded and the caller returned with its effective scopes.
    """
    if key is None:
        raise _unauthorized("invalid_api_key", "This API key is not known.")
    buildlock.note_running(bool(key["build_running"]))  # (the request's first statement read it)
    if key["is_revoked"]:
        raise _unauthorized("revoked_api_key", "This API key has been revoked.")
    if key["is_expired"]:
        raise _unauthorized("expired_api_key", "This API key has expired.")
    member = keystore.key_member(key)
    if member is None or member["is_deleted"] or member["workspace_id"] != key["workspace_id"]:
        raise _unauthorized(
            "inactive_member",
            "The member this API key belongs to is no longer active in its workspace.",
        )
    if key["needs_touch"]:
        keystore.touch_key(conn, key["key_id"])
    return Caller(
        key_id=key["key_id"],
        workspace_id=key["workspace_id"],
        member_id=key["member_id"],
        scopes=frozenset(key["scopes"]) & member["role_scopes"],
        key_scopes=frozenset(key["scopes"]),
    )


def authorize(caller: Caller, workspace_id: uuid.UUID, scope: str) -> None:
    """403 unless the key is of this workspace and holds ``scope`` now."""
    require_workspace(caller, workspace_id)
    if not caller.has(scope):
        raise _forbidden(
            "insufficient_scope",
            f"This endpoint needs the {scope} scope, which this key lacks or the member's role no longer grants.",
            scope=scope,
        )


def require_workspace(caller: Caller, workspace_id: uuid.UUID) -> None:
    if caller.workspace_id != workspace_id:
        raise _forbidden("wrong_workspace", "This API key belongs to another workspace.")


def authorize_member_usage(caller: Caller, workspace_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Whether the caller may ask for ``member_id``'s usage (403 otherwise).

    * Own usage: ``members:read`` or ``analytics:read``.
    * Anyone else's: ``analytics:read``. The check comes before any lookup of
      the other member, so a caller without ``analytics:read`` gets the same
      403 whether that member exists or not and cannot probe who is in the
      workspace; only a caller who passed it can receive the 404 for a member
      who is not (or no longer, or never was) in this workspace.
    """
    require_workspace(caller, workspace_id)
    if member_id == caller.member_id:
        if not (caller.has(MEMBERS_READ) or caller.has(ANALYTICS_READ)):
            raise _forbidden(
                "insufficient_scope",
                f"Your own usage needs the {MEMBERS_READ} or {ANALYTICS_READ} scope.",
                scope=f"{MEMBERS_READ} {ANALYTICS_READ}",
            )
    elif not caller.has(ANALYTICS_READ):
        raise _forbidden(
            "insufficient_scope",
            f"Another member's usage needs the {ANALYTICS_READ} scope.",
            scope=ANALYTICS_READ,
        )
