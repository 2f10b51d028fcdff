"""Operator commands: ``flask --app api keys ...`` and ``flask --app api db ...``.

They connect with ``ADMIN_CONNINFO`` (``PGUSER``), never as the API role; with no
``PGHOST`` set, to the project's private server (started if needed), as ``make`` does.

``keys create`` prints the new key alone on standard output (everything else
goes to standard error) and exits non-zero, with the reason on standard error,
for an expiry outside 1-365 days, an unknown scope, or a member that is not an
active member of the workspace. ``keys list`` never shows a key, only its id.
"""

from __future__ import annotations

import importlib.util
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from api import dbrole, keystore
from api.config import DEFAULT_DATABASE, conninfo_from_env
from api.db import set_session_formats
from api.jsonenc import timestamp_text

keys_cli = AppGroup("keys", help="Create, list and revoke report API keys.")
db_cli = AppGroup("db", help="Database setup for the report API.")


PGENV_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pgenv.py"


def _admin_conninfo() -> str:
    """``ADMIN_CONNINFO``; with no ``PGHOST`` set, the project's private server instead
    (started if needed, its database created, as ``make`` does through ``scripts/pgenv.py``),
    so the commands run from the project root exactly as CONTRACT §5 writes them."""
    if not current_app.config.get("PRIVATE_SERVER") or not PGENV_SCRIPT.is_file():
        return str(current_app.config["ADMIN_CONNINFO"])
    spec = importlib.util.spec_from_file_location("usage_reports_pgenv", PGENV_SCRIPT)
    assert spec is not None and spec.loader is not None
    pgenv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pgenv)
    try:
        return conninfo_from_env(pgenv.warehouse_env(), as_api_role=False)
    except pgenv.UnsupportedSetting as error:
        raise click.UsageError(str(error)) from error


@contextmanager
def admin_connection() -> Iterator[psycopg.Connection[dict[str, Any]]]:
    try:
        conn = psycopg.connect(_admin_conninfo(), autocommit=True, row_factory=dict_row)
    except psycopg.OperationalError as error:
        raise click.ClickException(f"cannot connect to the warehouse: {error}".strip()) from error
    with conn:
        try:
            set_session_formats(conn)
            yield conn
        except psycopg.Error as error:  # no rights on a schema, a connection lost, ...
            message = " ".join(str(error).split())
            raise click.ClickException(
                f"the warehouse refused (as user {conn.info.user}): {message}"
            ) from error


def _stamp(value: datetime | None) -> str | None:
    return timestamp_text(value) if value is not None else None


@keys_cli.command("create")
@click.option("--workspace", "workspace_id", type=click.UUID, required=True, help="The workspace's UUID.")
@click.option("--member", "member_id", type=click.UUID, required=True, help="The member the key acts for.")
@click.option("--name", required=True, help='What the key is for, e.g. "Monthly Billing Export".')
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help=f"A scope to grant (repeatable): {', '.join(keystore.KNOWN_SCOPES)}.",
)
@click.option(
    "--expires-in-days",
    type=int,
    default=90,
    show_default=True,
    help=f"Days until the key expires ({keystore.MIN_EXPIRY_DAYS}-{keystore.MAX_EXPIRY_DAYS}).",
)
def create_key_command(
    workspace_id: uuid.UUID, member_id: uuid.UUID, name: str, scopes: tuple[str, ...], expires_in_days: int
) -> None:
    """Create a key and print it (alone, once) on standard output."""
    with admin_connection() as conn:
        try:
            created = keystore.create_key(
                conn,
                workspace_id=workspace_id,
                member_id=member_id,
                name=name,
                scopes=scopes,
                expires_in_days=expires_in_days,
            )
        except keystore.KeyRequestError as error:
            if _workspace_unknown(conn, workspace_id):
                raise click.ClickException(f"no workspace {workspace_id} in the warehouse.") from error
            raise click.ClickException(str(error)) from error
    click.echo(
        f"Created key {created.key_id} ({', '.join(sorted(set(scopes)))}), expires {_stamp(created.expires_at)}. "
        "It is shown once; store it now.",
        err=True,
    )
    if created.missing_role_scopes:
        click.echo(
            f"Note: the member's current role does not hold {', '.join(created.missing_role_scopes)}; "
            "the key cannot use it until the role does.",
            err=True,
        )
    click.echo(created.token)


def _workspace_unknown(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> bool:
    """Whether the warehouse has no such workspace (False before the first build made the view)."""
    view = conn.execute(
        "select to_regclass('staging.stg_product__workspaces') is not null as made"
    ).fetchone()
    if not view or not view["made"]:
        return False
    found = conn.execute(
        "select 1 from staging.stg_product__workspaces where workspace_id = %s", (workspace_id,)
    ).fetchone()
    return found is None


@keys_cli.command("list")
@click.option("--workspace", "workspace_id", type=click.UUID, required=True, help="The workspace's UUID.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def list_keys_command(workspace_id: uuid.UUID, as_json: bool) -> None:
    """List the workspace's keys (ids, never the keys themselves)."""
    with admin_connection() as conn:
        keys = keystore.list_keys(conn, workspace_id)
        if not keys:
            click.echo(
                f"no keys for workspace {workspace_id}"
                + (
                    " (the warehouse has no such workspace: check the id)"
                    if _workspace_unknown(conn, workspace_id)
                    else ""
                ),
                err=True,
            )
    records = [
        {
            "id": key["id"],
            "name": key["name"],
            "workspace_id": str(key["workspace_id"]),
            "member_id": str(key["member_id"]),
            "scopes": list(key["scopes"]),
            "created_at": _stamp(key["created_at"]),
            "expires_at": _stamp(key["expires_at"]),
            "expired": key["expired"],
            "last_used_at": _stamp(key["last_used_at"]),
            "revoked": key["revoked"],
            "revoked_at": _stamp(key["revoked_at"]),
        }
        for key in keys
    ]
    if as_json:
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    header = ("ID", "NAME", "MEMBER", "SCOPES", "EXPIRES", "LAST USED", "REVOKED")
    lines = [header] + [
        (
            record["id"],
            keystore.shown_name(record["name"]),
            record["member_id"],
            ",".join(record["scopes"]),
            (record["expires_at"] or "") + (" (expired)" if record["expired"] else ""),
            record["last_used_at"] or "never",
            "yes" if record["revoked"] else "no",
        )
        for record in records
    ]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for line in lines:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke_key_command(key_id: str) -> None:
    """Revoke a key by its id (as shown by `keys list`); it stops working at once."""
    if not keystore.KEY_ID_PATTERN.fullmatch(key_id):
        raise click.ClickException(
            f"no key with id {key_id!r}: an id is {keystore.KEY_ID_PREFIX} and 16 hex digits, as keys list shows."
        )
    with admin_connection() as conn:
        outcome = keystore.revoke_key(conn, key_id)
    if outcome == "not found":
        raise click.ClickException(f"no key with id {key_id!r}.")
    click.echo(f"Key {key_id} {outcome}.", err=True)


@db_cli.command("grant-api-role")
@click.option(
    "--role",
    default=None,
    help=f"The login role the API connects as (default: $API_PGUSER or {dbrole.DEFAULT_ROLE}).",
)
@click.option("--sql-only", is_flag=True, help="Print the SQL for a DBA instead of running it.")
def grant_api_role_command(role: str | None, sql_only: bool) -> None:
    """Create (if allowed) the API's login role and grant it exactly what the API reads."""
    role = role or os.environ.get("API_PGUSER") or dbrole.DEFAULT_ROLE
    password = os.environ.get("API_PGPASSWORD")
    if sql_only:  # for a DBA: needs no connection, only the database's name
        database = conninfo_to_dict(current_app.config["ADMIN_CONNINFO"]).get("dbname") or DEFAULT_DATABASE
        click.echo(dbrole.grant_script(role, str(database), password_placeholder=password is not None))
        return
    with admin_connection() as conn:
        try:
            report = dbrole.grant_api_role(conn, role, password=password)
        except dbrole.RoleSetupError as error:
            raise click.ClickException(str(error)) from error
    for line in report:
        click.echo(line, err=True)


def register_commands(app: Any) -> None:
    app.cli.add_command(keys_cli)
    app.cli.add_command(db_cli)
