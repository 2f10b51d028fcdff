"""Fixtures of the page suite: its own database (``usage_reports_test_page``) built by the
real dbt project from the API suite's hand-made raw dataset (``tests/api/fixture_data.py``),
the app on it, keys made with the real ``keys`` command, and helpers to sign in and to read
the numbers the page shows. No mocks.

The tests here change members and keys (revocations, a demotion, a deletion), so the
database is their own and is recreated at the start of every session.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg.conninfo import make_conninfo
from werkzeug.test import TestResponse

from api import create_app
from api.zones import UTC_ZONE
from tests.api import fixture_data, zone_data
from tests.api.conftest import Key, _conninfo, _run_dbt, _server_env, create_key_with_cli

DATABASE = "usage_reports_test_page"
SECRET = "page-suite-secret-not-for-production"
W1, W2, W3 = fixture_data.W1, fixture_data.W2, fixture_data.W3
BOTH = ["analytics:read", "members:read"]
# The page's four report sections and the API paths (under API) it shows the same bodies as.
API = f"/api/v2/w/{W1}"
REPORTS = {
    "ai": "reports/ai-usage",
    "sms": "reports/sms-usage",
    "phone": "reports/phone-usage",
    "voice": "reports/voice-usage",
}


@dataclass(frozen=True)
class Warehouse:
    env: dict[str, str]
    conninfo: str

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    env = _server_env()
    with psycopg.connect(make_conninfo(_conninfo(env), dbname="postgres"), autocommit=True) as conn:
        conn.execute(f"drop database if exists {DATABASE} with (force)")
        conn.execute(f"create database {DATABASE}")
    env["PGDATABASE"] = DATABASE
    conninfo = _conninfo(env)
    scratch = tmp_path_factory.mktemp("dbt")
    from tests.api.conftest import PROJECT_ROOT

    dbt_env = {
        **env,
        "DBT_PROFILES_DIR": str(PROJECT_ROOT / ".dbt"),
        "DBT_TARGET_PATH": str(scratch / "target"),
        "DBT_LOG_PATH": str(scratch / "logs"),
    }
    if not (PROJECT_ROOT / ".dbt" / "profiles.yml").exists():
        (PROJECT_ROOT / ".dbt").mkdir(exist_ok=True)
        (PROJECT_ROOT / ".dbt" / "profiles.yml").write_text(
            (PROJECT_ROOT / "profiles.example.yml").read_text()
        )
    _run_dbt(dbt_env, "run-operation", "create_raw_tables")
    with psycopg.connect(conninfo) as conn:
        fixture_data.load(conn, UTC_ZONE.today())
        zone_data.load(conn)  # its weights name the instants in each local day's bar
    # The models' data tests run in make test-dbt and the API suite; here the marts are enough.
    _run_dbt(dbt_env, "run")
    return Warehouse(env=env, conninfo=conninfo)


@pytest.fixture(scope="session")
def app(warehouse: Warehouse) -> Iterator[Flask]:
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_CONNINFO": warehouse.conninfo,
            "ADMIN_CONNINFO": warehouse.conninfo,
            "SECRET_KEY": SECRET,
        }
    )
    yield application
    application.extensions["usage_reports_db"].close()


@pytest.fixture(scope="session")
def keys(app: Flask, warehouse: Warehouse) -> dict[str, Key]:
    """Keys shared by tests that do not change them (tests that revoke or demote make their own)."""
    made = {
        "admin": create_key_with_cli(app, W1, fixture_data.ADA, "Page admin", BOTH),
        "analyst": create_key_with_cli(app, W1, fixture_data.BEN, "Page analyst", BOTH),
        "member": create_key_with_cli(app, W1, fixture_data.CLEO, "Page member", ["members:read"]),
        "admin_members_only": create_key_with_cli(
            app, W1, fixture_data.ADA, "Admin, members only", ["members:read"]
        ),
        "viewer": create_key_with_cli(app, W1, fixture_data.GUS, "Page viewer", BOTH),
        "w2_admin": create_key_with_cli(app, W2, fixture_data.HAL, "Other tenant", BOTH),
        "revoked": create_key_with_cli(app, W1, fixture_data.ADA, "Revoked", BOTH),
        "expired": create_key_with_cli(app, W1, fixture_data.ADA, "Expired", BOTH, days=1),
    }
    assert app.test_cli_runner().invoke(args=["keys", "revoke", made["revoked"].key_id]).exit_code == 0
    with warehouse.connect() as conn:
        conn.execute(
            "update api.api_keys set expires_at = now() - interval '1 second' where key_id = %s",
            (made["expired"].key_id,),
        )
    return made


# --- signing in ------------------------------------------------------------------------


def page_path(workspace: str = W1) -> str:
    return f"/w/{workspace}/settings/billing"


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match is not None, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: FlaskClient, token: str, workspace: str = W1, query: str = "") -> TestResponse:
    """What a person does: open the page, paste the key, submit."""
    form = client.get(page_path(workspace) + query)
    assert form.status_code == 200, form.get_data(as_text=True)[:500]
    return client.post(
        page_path(workspace) + query,
        data={"csrf_token": csrf_token(form.get_data(as_text=True)), "api_key": token},
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def signed_in_client(app: Flask, key: Key, workspace: str = W1) -> FlaskClient:
    browser = app.test_client()
    response = sign_in(browser, key.token, workspace)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return browser


# --- reading the page's numbers ------------------------------------------------------------


class _MetricParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.row_keys: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr":
            self.row_keys.append(attributes.get("data-key"))
        value = attributes.get("value") if tag == "data" else attributes.get("datetime")
        if tag not in ("data", "time") or value is None:
            return
        name = attributes.get("data-metric")
        if name is None and attributes.get("data-field") is not None:
            row = next((key for key in reversed(self.row_keys) if key), None)
            assert row is not None, f"data-field {attributes['data-field']} outside a keyed row"
            name = f"{row}.{attributes['data-field']}"
        if name is not None:
            assert name not in self.metrics, f"{name} shown twice"
            self.metrics[name] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.row_keys:
            self.row_keys.pop()


def page_metrics(html: str) -> dict[str, str]:
    """Every machine-readable number on the page: ``{"ai.total_credits": "1.700001", ...}``."""
    parser = _MetricParser()
    parser.feed(html)
    return parser.metrics


def with_prefix(metrics: dict[str, str], prefix: str) -> dict[str, str]:
    return {name: value for name, value in metrics.items() if name.startswith(prefix)}


# What identifies an item of each list the page shows (the voice day rows are charted, not listed).
LIST_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "ai": {"by_provider": ("provider",), "by_type": ("type",), "top_models": ("model", "provider", "type")},
    "sms": {"rows": ("date", "phoneNumber")},
    "phone": {"rows": ("date", "phoneNumber")},
    "voice": {"sttByProvider": ("provider", "model"), "ttsByProvider": ("provider", "model")},
    "member": {},
}
RANGE_FIELDS = {"start_date", "end_date", "startDate", "endDate"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def expected_metrics(prefix: str, body: dict[str, Any]) -> dict[str, str]:
    """The API body flattened the way the page names its numbers (values as JSON literals)."""
    lists = LIST_KEYS[prefix]
    out: dict[str, str] = {}
    for name, value in body.items():
        if name in lists:
            for item in value:
                key = "|".join("" if item[part] is None else str(item[part]) for part in lists[name])
                for field, amount in item.items():
                    if field not in lists[name] and _is_number(amount):
                        out[f"{prefix}.{name}[{key}].{field}"] = _literal(amount)
        elif _is_number(value) or name in RANGE_FIELDS:
            out[f"{prefix}.{name}"] = _literal(value)
    return out


def _literal(value: Any) -> str:
    if isinstance(value, Decimal):
        return "0" if value.is_zero() else format(value.normalize(), "f")
    return str(value)


def api_json(client: FlaskClient, path: str, key: Key, query: dict[str, str] | None = None) -> Any:
    response = client.get(path, query_string=query or {}, headers=key.header)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


def new_uuid() -> str:
    return str(uuid.uuid4())
