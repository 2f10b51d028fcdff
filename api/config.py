"""Configuration from the environment (CONTRACT §2).

The warehouse is reached through the standard libpq variables ``PGHOST``,
``PGPORT``, ``PGUSER``, ``PGPASSWORD`` and ``PGDATABASE`` (default user
``postgres`` and database ``usage_reports``, as in ``profiles.example.yml``, so
dbt and the API reach the same warehouse as the same user; libpq alone would
take the operating-system user's name).

Two connection strings are built from them:

* ``DATABASE_CONNINFO``, used by the web application. When ``API_PGUSER`` is
  set the application connects as that role instead of ``PGUSER`` (in
  production the read-only role made by ``flask --app api db grant-api-role``),
  with ``API_PGPASSWORD`` as its password when that is set (otherwise libpq's
  usual fallbacks apply: ``.pgpass``, then ``PGPASSWORD``).
* ``ADMIN_CONNINFO``, used by the operator commands (``keys``, ``db``): always
  ``PGUSER``, because creating keys and roles needs more than the API role may do.

Optional tuning: ``API_POOL_MAX_SIZE`` (connections per process, default 4) and
``API_STATEMENT_TIMEOUT_MS`` (default 15000).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from psycopg.conninfo import make_conninfo

DEFAULT_USER = "postgres"
DEFAULT_DATABASE = "usage_reports"
APPLICATION_NAME = "usage-reports-api"


def conninfo_from_env(env: Mapping[str, str], *, as_api_role: bool) -> str:
    """A libpq connection string built from the PG* variables in ``env``."""
    params: dict[str, str | None] = {
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER") or DEFAULT_USER,
        "password": env.get("PGPASSWORD"),
        "dbname": env.get("PGDATABASE") or DEFAULT_DATABASE,
    }
    if as_api_role and env.get("API_PGUSER"):
        params["user"] = env["API_PGUSER"]
        params["password"] = env.get("API_PGPASSWORD")
    present = {name: value for name, value in params.items() if value}
    return make_conninfo(**present, application_name=APPLICATION_NAME)


class ConfigError(click.ClickException, ValueError):
    """A setting the application cannot start with. The operator commands (``flask --app api
    ...``) print its message alone, ``Error: ...``, and exit 1; gunicorn logs it and stops,
    as for any worker that cannot boot."""


def _int_setting(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def config_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The Flask config keys this application reads, from the environment."""
    return {
        "DATABASE_CONNINFO": conninfo_from_env(env, as_api_role=True),
        "ADMIN_CONNINFO": conninfo_from_env(env, as_api_role=False),
        "POOL_MIN_SIZE": 1,
        "POOL_MAX_SIZE": _int_setting(env, "API_POOL_MAX_SIZE", 4, 1),
        "STATEMENT_TIMEOUT_MS": _int_setting(env, "API_STATEMENT_TIMEOUT_MS", 15000, 100),
        # How long a request waits for a pooled connection before answering 503.
        "POOL_TIMEOUT_SECONDS": 10.0,
        # No PGHOST: the operator commands reach the project's private server (api.cli).
        "PRIVATE_SERVER": not env.get("PGHOST"),
    }
