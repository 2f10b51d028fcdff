"""Session fixtures of the API suite: a dedicated database built by the real
dbt project from a hand-made raw dataset, the app on it, and keys made with
the real ``keys`` commands. No mocks.

The database (``usage_reports_test_api``) is dropped and recreated at the
start of every session on the server the PG* variables name (``make test``
sets them; run directly, the project's private server is used through
``scripts/pgenv.py``). dbt writes its target and logs to a temporary folder
so the suite never disturbs a working ``target/``.

The marts are made with ``dbt build`` (data tests included, unit tests left
to ``make test-dbt`` since they do not read this dataset). Set
``API_TESTS_DBT_COMMAND=run`` to use ``dbt run`` instead while the models'
data tests are being changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from time import sleep
from typing import Any
from zoneinfo import ZoneInfo, reset_tzpath

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg.conninfo import make_conninfo
from werkzeug.test import TestResponse

from api import create_app, zones
from api.openapi import openapi_document
from api.zones import UTC_ZONE
from tests.api import fixture_data, name_data, zone_data
from tests.api.openapi_check import OpenApiChecker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# API_TESTS_DATABASE lets two sessions on one server keep out of each other's way.
DATABASE = os.environ.get("API_TESTS_DATABASE", "usage_reports_test_api")
DBT = str(PROJECT_ROOT / ".venv" / "bin" / "dbt")


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    if env.get("PGHOST"):
        return env
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "pgenv.py"), "--print-env"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for line in result.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        if name.startswith("PG"):
            env[name] = value
    return env


@dataclass(frozen=True)
class Warehouse:
    env: dict[str, str]
    dbt_env: dict[str, str]
    conninfo: str
    today: date

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True)

    def dbt(self, *args: str) -> None:
        _run_dbt(self.dbt_env, *args)

    def finished_calls(self, workspace_id: str) -> list[tuple[Any, ...]]:
        """The workspace's valid finished calls in staging, per UTC day and number: (day,
        number, inbound, outbound, seconds)."""
        with self.connect() as conn:
            return conn.execute(CALLS_SQL, {"ws": workspace_id}).fetchall()

    def voice_events(self, workspace_id: str) -> list[tuple[Any, ...]]:
        """The workspace's valid STT and TTS events in staging, per kind, UTC day, provider and
        model: (kind, day, provider, model, events, seconds or characters)."""
        with self.connect() as conn:
            return conn.execute(VOICE_EVENTS_SQL, {"ws": workspace_id}).fetchall()

    def ai_events(self, workspace_id: str) -> list[tuple[Any, ...]]:
        """The workspace's valid AI events in staging, per UTC day, provider, model and type:
        (day, provider, model, type, total, prompt, completion, cached, audio in, audio out
        tokens, credits)."""
        with self.connect() as conn:
            return conn.execute(AI_EVENTS_SQL, {"ws": workspace_id}).fetchall()


CALLS_SQL = """
select call_date, phone_number, count(*) filter (where direction = 'inbound'),
    count(*) filter (where direction = 'outbound'), sum(duration_seconds)
from staging.stg_product__call_events
where is_valid and is_finished and workspace_id = %(ws)s
group by 1, 2
"""

AI_EVENTS_SQL = """
select usage_date, provider, model, model_type, sum(total_tokens), sum(prompt_tokens), sum(completion_tokens),
    sum(cached_tokens), sum(audio_input_tokens), sum(audio_output_tokens), sum(credits)
from staging.stg_product__ai_usage_events
where is_valid and workspace_id = %(ws)s
group by 1, 2, 3, 4
"""

VOICE_EVENTS_SQL = """
select kind, usage_date, provider, model, count(*) as messages, sum(amount) as amount
from (
    select 'stt' as kind, usage_date, provider, model, duration_seconds as amount
    from staging.stg_product__stt_events where is_valid and workspace_id = %(ws)s
    union all
    select 'tts', usage_date, provider, model, characters
    from staging.stg_product__tts_events where is_valid and workspace_id = %(ws)s
) as events
group by 1, 2, 3, 4
"""


def _run_dbt(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [DBT, "--no-use-colors", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        )


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    env = _server_env()
    with psycopg.connect(make_conninfo(_conninfo(env), dbname="postgres"), autocommit=True) as conn:
        conn.execute(f"drop database if exists {DATABASE} with (force)")
        conn.execute(f"create database {DATABASE}")
    env["PGDATABASE"] = DATABASE
    conninfo = _conninfo(env)

    profiles = PROJECT_ROOT / ".dbt" / "profiles.yml"
    if not profiles.exists():
        profiles.parent.mkdir(exist_ok=True)
        shutil.copy(PROJECT_ROOT / "profiles.example.yml", profiles)
    scratch = tmp_path_factory.mktemp("dbt")
    dbt_env = {
        **env,
        "DBT_PROFILES_DIR": str(profiles.parent),
        "DBT_TARGET_PATH": str(scratch / "target"),
        "DBT_LOG_PATH": str(scratch / "logs"),
    }
    _run_dbt(dbt_env, "run-operation", "create_raw_tables")
    wait_past_midnight()
    today = UTC_ZONE.today()
    with psycopg.connect(conninfo) as conn:
        fixture_data.load(conn, today)
        zone_data.load(conn)  # a workspace of its own for the time-zone, CSV and caching tests
        name_data.load(conn)  # and one whose voice models have awkward names
    command = os.environ.get("API_TESTS_DBT_COMMAND", "build")
    # dbt's unit tests carry their own inputs (make test-dbt runs them); here the
    # data tests run on this suite's dataset. `dbt run` loads no seeds: the scopes seed first.
    if command == "build":
        _run_dbt(dbt_env, "build", "--exclude-resource-type", "unit_test")
    else:
        _run_dbt(dbt_env, "seed")
        _run_dbt(dbt_env, command)
    return Warehouse(env=env, dbt_env=dbt_env, conninfo=conninfo, today=today)


def _conninfo(env: dict[str, str]) -> str:
    params = {
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER"),
        "password": env.get("PGPASSWORD"),
        "dbname": env.get("PGDATABASE"),
    }
    return make_conninfo(**{name: value for name, value in params.items() if value})


@pytest.fixture(scope="session")
def app(warehouse: Warehouse) -> Iterator[Flask]:
    application = create_app(
        {"TESTING": True, "DATABASE_CONNINFO": warehouse.conninfo, "ADMIN_CONNINFO": warehouse.conninfo}
    )
    yield application
    application.extensions["usage_reports_db"].close()


# The API and page suites take minutes; a dataset placed this close to UTC midnight waits for
# the new date, so no test meets a "today" the data was not placed around.
MIDNIGHT_MARGIN = timedelta(minutes=20)


def wait_past_midnight() -> None:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), UTC)
    if midnight - now < MIDNIGHT_MARGIN:
        sleep((midnight - now).total_seconds() + 1)


@pytest.fixture(scope="session")
def today(warehouse: Warehouse) -> date:
    """The UTC date the dataset was placed around (placed at least MIDNIGHT_MARGIN before the
    next midnight, so a session meets another date only if it runs that long)."""
    assert UTC_ZONE.today() == warehouse.today, (
        f"the session ran past UTC midnight ({MIDNIGHT_MARGIN} after the data)"
    )
    return warehouse.today


# --- keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    key_id: str
    token: str

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_key_with_cli(
    app: Flask, workspace: str, member: str, name: str, scopes: list[str], days: int = 90
) -> Key:
    args = ["keys", "create", "--workspace", workspace, "--member", member, "--name", name]
    for scope in scopes:
        args += ["--scope", scope]
    args += ["--expires-in-days", str(days)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    match = re.search(r"Created key (key_[0-9a-f]{16})", result.stderr)
    assert match is not None, result.stderr
    return Key(key_id=match.group(1), token=result.stdout.strip())


BOTH = ["analytics:read", "members:read"]


@pytest.fixture(scope="session")
def keys(app: Flask, warehouse: Warehouse) -> dict[str, Key]:
    w1, w2, w3 = fixture_data.W1, fixture_data.W2, fixture_data.W3
    made = {
        "admin": create_key_with_cli(app, w1, fixture_data.ADA, "Admin export", BOTH),
        "admin_members_only": create_key_with_cli(
            app, w1, fixture_data.ADA, "Admin, members only", ["members:read"]
        ),
        "analyst": create_key_with_cli(app, w1, fixture_data.BEN, "Analyst", BOTH),
        "member": create_key_with_cli(app, w1, fixture_data.CLEO, "Member", ["members:read"]),
        "viewer": create_key_with_cli(app, w1, fixture_data.GUS, "Viewer", BOTH),
        "foreign_role": create_key_with_cli(app, w1, fixture_data.ZOE, "Foreign role", BOTH),
        "w2_admin": create_key_with_cli(app, w2, fixture_data.HAL, "Other tenant", BOTH),
        "revoked": create_key_with_cli(app, w1, fixture_data.ADA, "Revoked", ["analytics:read"]),
        "expired": create_key_with_cli(app, w1, fixture_data.ADA, "Expired", ["analytics:read"], days=1),
        "demoted": create_key_with_cli(app, w3, fixture_data.DAN, "Demoted", BOTH),
        "leaving": create_key_with_cli(app, w3, fixture_data.FAY, "Leaving", BOTH),
        "mover": create_key_with_cli(app, w3, fixture_data.IVY, "Mover", BOTH),
    }
    result = app.test_cli_runner().invoke(args=["keys", "revoke", made["revoked"].key_id])
    assert result.exit_code == 0, result.output
    with warehouse.connect() as conn:
        # The CLI refuses expiries under a day; age this key as time would.
        conn.execute(
            "update api.api_keys set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' "
            "where key_id = %s",
            (made["expired"].key_id,),
        )
    return made


# --- the client ---------------------------------------------------------------


class ApiClient:
    """Flask's test client on the real database; every response is checked
    against the OpenAPI document before the test sees it."""

    def __init__(self, client: FlaskClient, checker: OpenApiChecker) -> None:
        self.client = client
        self.checker = checker

    def request(
        self,
        path: str,
        key: Key | None = None,
        query: dict[str, Any] | list[tuple[str, str]] | str | None = None,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        all_headers = dict(key.header if key else {})
        all_headers.update(headers or {})
        response = self.client.open(path, method=method, query_string=query, headers=all_headers)
        self.checker.check(method, path, response.status_code, response.headers, response.get_data())
        return response

    get = request


@pytest.fixture(scope="session")
def checker() -> OpenApiChecker:
    return OpenApiChecker(openapi_document())


@pytest.fixture
def api(app: Flask, checker: OpenApiChecker) -> ApiClient:
    return ApiClient(app.test_client(), checker)


def body(response: TestResponse) -> Any:
    """The JSON body with every non-integer number as an exact Decimal."""
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


def error_of(response: TestResponse) -> dict[str, Any]:
    payload = body(response)
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"status", "code", "message"}
    assert payload["error"]["status"] == response.status_code
    return payload["error"]


@contextmanager
def zone_only_zoneinfo_knows(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[str]:
    """A zone the API's rules hold and PostgreSQL's do not, as if the two time-zone databases
    disagreed about a name: "Mars/Olympus", a copy of UTC's rules, the only name the API
    accepts while the block runs."""
    rules = folder / "Mars" / "Olympus"
    rules.parent.mkdir()
    rules.write_bytes((resources.files("tzdata.zoneinfo") / "UTC").read_bytes())
    monkeypatch.setattr(zones, "known_zones", lambda: frozenset({"Mars/Olympus"}))
    reset_tzpath(to=[str(folder)])
    try:
        yield "Mars/Olympus"
    finally:
        reset_tzpath(to=[])
        ZoneInfo.clear_cache(only_keys=["Mars/Olympus"])
