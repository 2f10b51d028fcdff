"""API keys: the ``api.api_keys`` table and what the CLI and the app do with it.

A key is ``urk_`` followed by 43 URL-safe characters (``secrets.token_urlsafe(32)``:
256 random bits). Only its SHA-256 digest is stored; with that much entropy a
fast hash is as safe as a slow one and lets a request find its key through a
unique index. Each key also has a short public id (``key_`` + 16 hex digits)
used to list and revoke it, so the secret is never needed again after it is
printed once by ``keys create``.

A key belongs to one member of one workspace. What it may do is decided on
every request (see ``api.auth``): the scopes it was granted that the member's
*current* role also holds.

Every function takes a psycopg connection whose rows are dicts (``dict_row``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection, errors

from api import buildlock

KNOWN_SCOPES = ("analytics:read", "members:read")
TOKEN_PREFIX = "urk_"
TOKEN_PATTERN = re.compile(r"urk_[A-Za-z0-9_-]{43}", re.ASCII)
KEY_ID_PREFIX = "key_"
MIN_EXPIRY_DAYS = 1
MAX_EXPIRY_DAYS = 365
LAST_USED_RESOLUTION_SECONDS = 60

# Serialises concurrent "create if missing" from several workers or a CLI run.
_DDL_LOCK_ID = 0x75726B5F6B657973  # "urk_keys"

KEY_TABLE_DDL = (
    "create schema if not exists api",
    """
    create table if not exists api.api_keys (
        key_id text primary key,
        workspace_id uuid not null,
        member_id uuid not null,
        name text not null check (char_length(name) between 1 and 200),
        scopes text[] not null check (cardinality(scopes) > 0),
        token_sha256 bytea not null unique check (octet_length(token_sha256) = 32),
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        last_used_at timestamptz,
        revoked_at timestamptz
    )
    """,
    "create index if not exists api_keys_workspace_idx on api.api_keys (workspace_id, created_at)",
    """
    comment on table api.api_keys is
        'Report API keys: only the SHA-256 of each token is stored. Managed by flask --app api keys.'
    """,
    # Page sessions signed out before their cookie expires (``api.websession``): the cookie is
    # signed, not stored, so a copy of it would otherwise stay good until it expires.
    """
    create table if not exists api.ended_page_sessions (
        session_sha256 bytea primary key check (octet_length(session_sha256) = 32),
        expires_at timestamptz not null
    )
    """,
    """
    comment on table api.ended_page_sessions is
        'Detailed Reports page sessions ended by sign-out (SHA-256 of each session token), kept until they expire.'
    """,
)
# The tables KEY_TABLE_DDL makes; an API request needs only the first.
KEY_TABLE = "api.api_keys"
API_TABLES = (KEY_TABLE, "api.ended_page_sessions")


class KeyRequestError(Exception):
    """A ``keys`` command that must be refused, with the reason to show the operator."""


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    token: str
    expires_at: datetime
    missing_role_scopes: tuple[str, ...]


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return KEY_ID_PREFIX + secrets.token_hex(8)


KEY_ID_PATTERN = re.compile(KEY_ID_PREFIX + "[0-9a-f]{16}")

# Characters a key's name may not hold: control characters (a line break or a terminal escape
# would forge rows in `keys list`), line and paragraph separators, lone surrogates (what
# Python makes of an argument that is not UTF-8), and the bidirectional controls (U+202E
# would show the rest of a row reversed). Other format characters, such as the zero-width
# joiner of emoji sequences, are names' own.
_NOT_IN_NAMES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unfit_for_names(char: str) -> bool:
    return unicodedata.category(char) in _NOT_IN_NAMES or char in _BIDI_CONTROLS


def printable_name(name: str) -> bool:
    return not any(_unfit_for_names(char) for char in name)


def shown_name(name: str) -> str:
    """A stored name for a terminal: any character a name may not hold (one stored before the
    rule) as U+FFFD."""
    return "".join("\ufffd" if _unfit_for_names(char) else char for char in name)


def ensure_key_table(conn: Connection[Any], tables: tuple[str, ...] = API_TABLES) -> None:
    """Create schema ``api`` and its tables (``KEY_TABLE_DDL``) when one of ``tables`` is missing.

    Checks first, so a role that may only use the tables (the API role) never
    needs the privilege to create them.
    """
    found = conn.execute(
        "select bool_and(to_regclass(name) is not null) as present from unnest(%s::text[]) as name",
        (list(tables),),
    ).fetchone()
    if found is not None and found["present"]:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK_ID,))
        for statement in KEY_TABLE_DDL:
            conn.execute(statement)


# Which role a member (alias ``members``) holds (alias ``roles``): the member's role id, and a
# default role (no workspace) or one of the member's own workspace. The one statement of this
# rule for every query that reads a member's role (authorization, the members list, the page).
MEMBER_ROLE = (
    "roles.role_id = members.role_id"
    " and (roles.workspace_id is null or roles.workspace_id = members.workspace_id)"
)

# The name of that role (null: none), for a query over members. A subquery, not a join: the
# role id reaches the roles view's index, one probe per member. A join let the planner rank
# every role of every workspace and compare each with each member (O(members x roles): 3 s
# for a workspace of 2,000 members among 3,000 workspaces with a custom role each).
MEMBER_ROLE_NAME = f"(select roles.role_name from staging.stg_product__roles as roles where {MEMBER_ROLE})"

MEMBER_ACCESS_SQL = f"""
select
    members.member_id,
    members.workspace_id,
    members.is_deleted,
    -- subqueries (not joins) so the role id reaches the views' indexes: no ranking of every role
    exists (
        select
        from staging.stg_product__roles as roles
        where {MEMBER_ROLE}
    ) as has_role,
    coalesce(
        (
            select array_agg(role_scopes.scope order by role_scopes.scope)
            from staging.stg_product__role_scopes as role_scopes
            where role_scopes.role_id = members.role_id
        ),
        cast(array[] as text[])
    ) as role_scopes
from staging.stg_product__members as members
where members.member_id = %(member_id)s
"""


def member_access(conn: Connection[Any], member_id: uuid.UUID) -> dict[str, Any] | None:
    """The member's workspace, deletion and current role scopes, read live from staging.

    A role only counts when it is a default role or one of the member's own
    workspace; otherwise (or when the role is unknown) the member holds no scope.
    """
    row = conn.execute(MEMBER_ACCESS_SQL, {"member_id": member_id}).fetchone()
    if row is None:
        return None
    record = dict(row)
    scopes = record["role_scopes"] if record["has_role"] else []
    record["role_scopes"] = frozenset(scopes)
    return record


def create_key(
    conn: Connection[Any],
    *,
    workspace_id: uuid.UUID,
    member_id: uuid.UUID,
    name: str,
    scopes: list[str] | tuple[str, ...],
    expires_in_days: int,
) -> CreatedKey:
    """Store a new key and return it with its token (the only time it exists in clear)."""
    name = name.strip()
    if not name:
        raise KeyRequestError("--name must not be empty.")
    if len(name) > 200:
        raise KeyRequestError("--name must be at most 200 characters.")
    if not printable_name(name):
        raise KeyRequestError(
            "--name must be UTF-8 text without control characters, line breaks or direction controls."
        )
    if not scopes:
        raise KeyRequestError(f"give at least one --scope ({', '.join(KNOWN_SCOPES)}).")
    unknown = sorted(set(scopes) - set(KNOWN_SCOPES))
    if unknown:
        raise KeyRequestError(
            f"unknown scope {', '.join(unknown)}; known scopes are {', '.join(KNOWN_SCOPES)}."
        )
    if isinstance(expires_in_days, bool) or not MIN_EXPIRY_DAYS <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise KeyRequestError(
            f"--expires-in-days must be between {MIN_EXPIRY_DAYS} and {MAX_EXPIRY_DAYS}, got {expires_in_days}."
        )
    try:
        member = member_access(conn, member_id)
    except errors.UndefinedTable as error:
        raise KeyRequestError(
            "the staging views are missing: build the warehouse first (make build)."
        ) from error
    if member is None or member["workspace_id"] != workspace_id or member["is_deleted"]:
        raise KeyRequestError(f"member {member_id} is not an active member of workspace {workspace_id}.")

    ensure_key_table(conn)
    granted = sorted(set(scopes))
    token = new_token()
    key_id = new_key_id()
    row = conn.execute(
        """
        insert into api.api_keys (key_id, workspace_id, member_id, name, scopes, token_sha256, expires_at)
        values (%s, %s, %s, %s, %s, %s, now() + make_interval(days => %s))
        returning expires_at
        """,
        (key_id, workspace_id, member_id, name, granted, token_digest(token), expires_in_days),
    ).fetchone()
    assert row is not None
    missing = tuple(scope for scope in granted if scope not in member["role_scopes"])
    return CreatedKey(key_id=key_id, token=token, expires_at=row["expires_at"], missing_role_scopes=missing)


def list_keys(conn: Connection[Any], workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    ensure_key_table(conn)
    return conn.execute(
        """
        select
            key_id as id,
            name,
            workspace_id,
            member_id,
            scopes,
            created_at,
            expires_at,
            last_used_at,
            revoked_at is not null as revoked,
            revoked_at,
            expires_at <= now() as expired
        from api.api_keys
        where workspace_id = %s
        order by created_at, key_id
        """,
        (workspace_id,),
    ).fetchall()


def revoke_key(conn: Connection[Any], key_id: str) -> str:
    """Revoke a key: returns ``"revoked"``, ``"already revoked"`` or ``"not found"``."""
    ensure_key_table(conn)
    row = conn.execute(
        """
        update api.api_keys
        set revoked_at = coalesce(revoked_at, now())
        where key_id = %s
        returning revoked_at = now() as revoked_now
        """,
        (key_id,),
    ).fetchone()
    if row is None:
        return "not found"
    return "revoked" if row["revoked_now"] else "already revoked"


# A stored key, the server's verdict on it, and (read live from the staging views in the
# same statement) its member's workspace, deletion and current role scopes: one round trip
# per request. The member is found through a scalar subquery on the key rather than a
# join, so the views' de-duplication is narrowed to that one member id in every plan.
# The member columns are null when the member is not in staging.
KEY_LOOKUP_SQL = """
select
    api_keys.key_id,
    api_keys.workspace_id,
    api_keys.member_id,
    api_keys.scopes,
    api_keys.expires_at,
    api_keys.revoked_at is not null as is_revoked,
    api_keys.expires_at <= now() as is_expired,
    coalesce(
        api_keys.last_used_at < now() - interval '{resolution} seconds', true
    ) as needs_touch,
    member.workspace_id as member_workspace_id,
    member.is_deleted as member_is_deleted,
    member.has_role as member_has_role,
    member.role_scopes as member_role_scopes,
    {build_running} as build_running
from api.api_keys
left join (
    {member_access}
) as member on true
where api_keys.{column} = %(key)s
"""


def _key_lookup_sql(column: str) -> str:
    member = f"(select keyed.member_id from api.api_keys as keyed where keyed.{column} = %(key)s)"
    return KEY_LOOKUP_SQL.format(
        build_running=buildlock.BUILD_RUNNING,
        resolution=LAST_USED_RESOLUTION_SECONDS,
        member_access=MEMBER_ACCESS_SQL.replace("%(member_id)s", member).strip(),
        column=column,
    )


KEY_BY_TOKEN_SQL = _key_lookup_sql("token_sha256")
KEY_BY_ID_SQL = _key_lookup_sql("key_id")


def find_key(conn: Connection[Any], token: str) -> dict[str, Any] | None:
    """The key a well-formed token names, with its member (``KEY_LOOKUP_SQL``)."""
    return conn.execute(KEY_BY_TOKEN_SQL, {"key": token_digest(token)}).fetchone()


def find_key_by_id(conn: Connection[Any], key_id: str) -> dict[str, Any] | None:
    """The key with this public id, with its member (``KEY_LOOKUP_SQL``)."""
    return conn.execute(KEY_BY_ID_SQL, {"key": key_id}).fetchone()


def key_member(key: dict[str, Any]) -> dict[str, Any] | None:
    """The member part of a ``find_key`` row, shaped like ``member_access``'s answer."""
    if key["member_workspace_id"] is None:
        return None
    scopes = key["member_role_scopes"] if key["member_has_role"] else []
    return {
        "member_id": key["member_id"],
        "workspace_id": key["member_workspace_id"],
        "is_deleted": key["member_is_deleted"],
        "role_scopes": frozenset(scopes),
    }


def touch_key(conn: Connection[Any], key_id: str) -> None:
    """Record a use, at most once per ``LAST_USED_RESOLUTION_SECONDS`` per key."""
    conn.execute(
        f"""
        update api.api_keys
        set last_used_at = now()
        where
            key_id = %s
            and (last_used_at is null or last_used_at < now() - interval '{LAST_USED_RESOLUTION_SECONDS} seconds')
        """,
        (key_id,),
    )
