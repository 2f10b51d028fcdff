"""The API's own database role: it can read what it serves and touch its own tables, nothing else.

``flask --app api db grant-api-role`` (run as the user that runs dbt, from the
project root) creates the login role ``usage_reports_api`` when it is missing
and the connected user may create roles, then grants it exactly this
(``--sql-only`` prints the same script for a DBA, for a warehouse where the
project's user may not create roles)::

    -- once, by a user with CREATEROLE (a DBA on an existing warehouse), then its
    -- password from psql, which sends it hashed (never in clear to the server's log):
    create role usage_reports_api login;
    \\password usage_reports_api

    -- by the user that runs dbt (it owns the schemas and the tables):
    grant connect on database usage_reports to usage_reports_api;

    -- every mart, now and after each rebuild (default privileges cover the
    -- tables dbt creates later as this same user, e.g. marts.data_freshness)
    grant usage on schema marts to usage_reports_api;
    grant select on all tables in schema marts to usage_reports_api;
    alter default privileges in schema marts grant select on tables to usage_reports_api;
    -- ... but not the quarantine (raw row ids of every workspace; it serves none)
    revoke select on marts.quarantined_rows from usage_reports_api;

    -- the three live staging views authorization reads, and no other staging view
    grant usage on schema staging to usage_reports_api;
    grant select on staging.stg_product__members, staging.stg_product__roles,
        staging.stg_product__role_scopes to usage_reports_api;

    -- its key table: read keys, record their last use
    grant usage on schema api to usage_reports_api;
    grant select, update (last_used_at) on api.api_keys to usage_reports_api;

    -- the page's signed-out sessions: end one, check one, forget expired ones
    grant select, insert, delete on api.ended_page_sessions to usage_reports_api;

The command first creates schema ``api`` and its tables when missing
(``api.keystore.KEY_TABLE_DDL``). Before the first build it grants what exists
and names what is missing: run it again after the build.

Nothing on ``raw`` and nothing on the other staging views (SMS bodies and
phone numbers stay out of reach): the views run with their owner's rights,
so the role needs no access to ``raw``. dbt re-creates its views on every
run, which drops grants made on them by hand: a post-hook of every model the
API reads (``grant_api_read``, macros/grant_api_read.sql) grants them again to
this role, and to any role this command set up under another name, in the
transaction that swaps the new relation in, so the API never sees one it may
not read and this command need not run again after a build.

Then start the API with ``API_PGUSER=usage_reports_api`` (and
``API_PGPASSWORD`` when the server asks for a password).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import Connection, sql

from api import keystore

DEFAULT_ROLE = "usage_reports_api"
AUTHORIZATION_VIEWS = ("stg_product__members", "stg_product__roles", "stg_product__role_scopes")


class RoleSetupError(Exception):
    """The role cannot be set up by the connected user; the message says what to do."""


def _grant_groups(role: str, database: str) -> list[tuple[str, list[sql.Composed]]]:
    """The grants, grouped by what must exist for them: ``(relation or schema, statements)``."""
    grantee = sql.Identifier(role)
    groups: list[tuple[str, list[sql.Composed]]] = [
        ("", [sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), grantee)]),
        (
            "marts",
            [
                sql.SQL("grant usage on schema marts to {}").format(grantee),
                sql.SQL("grant select on all tables in schema marts to {}").format(grantee),
                sql.SQL("alter default privileges in schema marts grant select on tables to {}").format(
                    grantee
                ),
            ],
        ),
        # in schema marts but not served: raw row ids of every workspace (the build revokes it too)
        (
            "marts.quarantined_rows",
            [sql.SQL("revoke select on marts.quarantined_rows from {}").format(grantee)],
        ),
        ("staging", [sql.SQL("grant usage on schema staging to {}").format(grantee)]),
    ]
    groups += [
        (
            f"staging.{view}",
            [sql.SQL("grant select on {} to {}").format(sql.Identifier("staging", view), grantee)],
        )
        for view in AUTHORIZATION_VIEWS
    ]
    groups.append(
        (
            "api.api_keys",
            [
                sql.SQL("grant usage on schema api to {}").format(grantee),
                sql.SQL("grant select, update (last_used_at) on api.api_keys to {}").format(grantee),
            ],
        )
    )
    groups.append(
        (
            "api.ended_page_sessions",
            [sql.SQL("grant select, insert, delete on api.ended_page_sessions to {}").format(grantee)],
        )
    )
    return groups


def grant_script(role: str, database: str, *, password_placeholder: bool = True) -> str:
    """The SQL a DBA can run by hand (``--sql-only``), in psql. With ``password_placeholder``
    (``API_PGPASSWORD`` is set) the role's password is set with psql's ``\\password``, which
    hashes it first: a ``password '...'`` clause would reach the server's log in clear."""
    identifier = sql.Identifier(role).as_string()
    create = f"create role {identifier} login;" + (
        f"\n\\password {identifier}" if password_placeholder else ""
    )
    setup = [statement.rstrip() + ";" for statement in keystore.KEY_TABLE_DDL]
    grants = [
        statement.as_string() + ";" for _, group in _grant_groups(role, database) for statement in group
    ]
    return "\n".join(
        [
            "-- 1. as a user with CREATEROLE:",
            create,
            "-- 2. as the user that runs dbt, after the first dbt build:",
            *(" ".join(line.split()) for line in setup),
            *grants,
        ]
    )


def _exists(conn: Connection[Any], name: str) -> bool:
    """Whether a schema (``marts``) or a relation (``staging.view``) exists."""
    if "." in name:
        row = conn.execute("select to_regclass(%s) is not null as present", (name,)).fetchone()
    else:
        row = conn.execute(
            "select exists (select from pg_namespace where nspname = %s) as present", (name,)
        ).fetchone()
    return bool(row and row["present"])


def _hashed(conn: Connection[Any], role: str, password: str) -> str:
    """``password`` as the server stores it (SCRAM-SHA-256, or what ``password_encryption``
    names), hashed here: a statement with the clear text would reach the server's log
    whenever it logs DDL (``log_statement``), and ``make serve`` runs this on every start."""
    return conn.pgconn.encrypt_password(password.encode(), role.encode()).decode("ascii")


def _set_password(conn: Connection[Any], role: str, password: str, me: str) -> str:
    """Set an existing role's password (``API_PGPASSWORD``), or say why not: only a superuser,
    or since PostgreSQL 16 a role with CREATEROLE and the ADMIN option on ``role``, may. The
    grants go on either way; the API cannot log in until the password is set."""
    try:
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                sql.Identifier(role), sql.Literal(_hashed(conn, role, password))
            )
        )
    except psycopg.errors.InsufficientPrivilege:
        return (
            f"warning: API_PGPASSWORD is set but {me} may not change the password of {role} (a superuser, or a "
            f"role with CREATEROLE and the ADMIN option on it, may): ask a DBA to set it with psql's "
            f"`\\password {role}`, which sends it hashed"
        )
    return f"set the password of {role}"


def grant_api_role(conn: Connection[Any], role: str, *, password: str | None = None) -> list[str]:
    """Create the role if missing (and allowed), then grant it what the API needs. Idempotent."""
    report: list[str] = []
    existing = conn.execute("select rolcanlogin from pg_roles where rolname = %s", (role,)).fetchone()
    me = conn.execute(
        "select current_user as name, rolsuper or rolcreaterole as may_create_roles "
        "from pg_roles where rolname = current_user"
    ).fetchone()
    assert me is not None
    if existing is None:
        if not me["may_create_roles"]:
            raise RoleSetupError(
                f"role {role} does not exist and {me['name']} may not create roles; ask a DBA to run "
                f"`create role {role} login;` and psql's `\\password {role}` (see --sql-only), then run this again."
            )
        statement = sql.SQL("create role {} login").format(sql.Identifier(role))
        if password:
            statement = sql.SQL("{} password {}").format(
                statement, sql.Literal(_hashed(conn, role, password))
            )
        conn.execute(statement)
        report.append(f"created login role {role}")
    else:
        if not existing["rolcanlogin"]:
            report.append(f"warning: role {role} exists but cannot log in")
        if password:
            report.append(_set_password(conn, role, password, me["name"]))

    keystore.ensure_key_table(conn)
    missing: list[str] = []
    with conn.transaction():
        for needed, statements in _grant_groups(role, conn.info.dbname):
            if needed and not _exists(conn, needed):
                missing.append(needed)
                continue
            for statement in statements:
                conn.execute(statement)
    report.append(
        f"granted {role}: select on the marts (now and future), on staging."
        f"{', staging.'.join(AUTHORIZATION_VIEWS)}, select and update (last_used_at) on api.api_keys, "
        f"select, insert and delete on api.ended_page_sessions"
        + (" (except what is missing, below)" if missing else "")
    )
    if missing:
        report.append(
            f"warning: {', '.join(missing)} missing, so not granted yet: run this again after the first build"
        )
    return report
