"""flask --app api db grant-api-role: a login role that reads only what the API
serves, and the app running as it (API_PGUSER)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from api import create_app, dbrole
from api.config import config_from_env
from tests.api import fixture_data as data
from tests.api.conftest import ApiClient, Key, Warehouse
from tests.api.openapi_check import OpenApiChecker
from tests.page.conftest import csrf_token, page_path, sign_in

ROLE = "usage_reports_api_test"
DATABASE_PREFIX = "usage_reports_test_api"
PASSWORD = "test-only-password"


def _drop_role(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
        if exists:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(ROLE)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(ROLE)))


@pytest.fixture(scope="module")
def api_role(app: Flask, warehouse: Warehouse, keys: dict[str, Key]) -> Iterator[dict[str, str]]:
    with warehouse.connect() as conn:
        may = conn.execute(
            "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
        ).fetchone()
    if not may or not may[0]:
        pytest.fail("the test server's user may not create roles: run make test where it may (PGHOST)")
    _drop_role(warehouse)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "grant-api-role", "--role", ROLE], env={"API_PGPASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert f"created login role {ROLE}" in result.stderr
    again = runner.invoke(args=["db", "grant-api-role", "--role", ROLE], env={"API_PGPASSWORD": PASSWORD})
    assert again.exit_code == 0, again.output  # idempotent
    env = {**warehouse.env, "API_PGUSER": ROLE, "API_PGPASSWORD": PASSWORD}
    try:
        yield env
    finally:
        _drop_role(warehouse)


@pytest.fixture(scope="module")
def role_app(api_role: dict[str, str]) -> Iterator[Flask]:
    application = create_app({**config_from_env(api_role), "TESTING": True})
    yield application
    application.extensions["usage_reports_db"].close()


def as_role(api_role: dict[str, str]) -> psycopg.Connection[Any]:
    config = config_from_env(api_role)
    return psycopg.connect(config["DATABASE_CONNINFO"], autocommit=True)


def test_the_app_connects_as_the_api_role(role_app: Flask) -> None:
    assert f"user={ROLE}" in role_app.config["DATABASE_CONNINFO"]
    assert f"user={ROLE}" not in role_app.config["ADMIN_CONNINFO"]


def test_serving_as_a_superuser_is_warned_of_once_per_process(
    warehouse: Warehouse, role_app: Flask, keys: dict[str, Key], caplog: pytest.LogCaptureFixture
) -> None:
    # (make serve with PGHOST set and neither API_PGUSER nor PGUSER connects as postgres)
    with warehouse.connect() as conn:
        superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
    as_admin = create_app(
        {"TESTING": True, "DATABASE_CONNINFO": warehouse.conninfo, "ADMIN_CONNINFO": warehouse.conninfo}
    )
    path = f"/api/v2/w/{data.W1}/members"
    try:
        for application in (as_admin, role_app):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="api.db"):
                for _ in range(2):
                    response = application.test_client().get(path, headers=keys["admin"].header)
                    assert response.status_code == 200
            warned = [
                record.getMessage() for record in caplog.records if "a superuser" in record.getMessage()
            ]
            expected = 1 if application is as_admin and superuser else 0
            assert len(warned) == expected, warned
            if expected:
                assert "set API_PGUSER to its read-only role (make api-role" in warned[0]
    finally:
        as_admin.extensions["usage_reports_db"].close()


def test_the_api_role_serves_every_endpoint(
    role_app: Flask, keys: dict[str, Key], checker: OpenApiChecker, warehouse: Warehouse
) -> None:
    api = ApiClient(role_app.test_client(), checker)
    with warehouse.connect() as conn:  # make the request record its use (an update as the role)
        conn.execute("update api.api_keys set last_used_at = null where key_id = %s", (keys["admin"].key_id,))
    for path in ("ai-usage", "sms-usage", "phone-usage", "voice-usage", f"member-usage/{data.BEN}"):
        response = api.get(f"/api/v2/w/{data.W1}/reports/{path}", keys["admin"])
        assert response.status_code == 200, response.get_data(as_text=True)
    assert api.get(f"/api/v2/w/{data.W1}/members", keys["admin"]).status_code == 200
    with warehouse.connect() as conn:
        row = conn.execute("select last_used_at from api.api_keys where key_id = %s", (keys["admin"].key_id,))
        assert row.fetchone()[0] is not None  # type: ignore[index]


def test_the_api_role_serves_zoned_and_csv_reports(
    role_app: Flask, keys: dict[str, Key], checker: OpenApiChecker
) -> None:
    # the quarter-hourly marts, and pg_locks for the build lock (api.buildlock.build_running)
    api = ApiClient(role_app.test_client(), checker)
    span = {"start_date": "2024-03-01", "end_date": "2024-04-30", "tz": "Asia/Kolkata"}
    for path in ("ai-usage", "sms-usage", "phone-usage", "voice-usage", f"member-usage/{data.BEN}"):
        for query in (span, {**span, "format": "csv"}):
            response = api.get(f"/api/v2/w/{data.W1}/reports/{path}", keys["admin"], query)
            assert response.status_code == 200, response.get_data(as_text=True)


def test_the_api_role_ends_page_sessions(role_app: Flask, keys: dict[str, Key]) -> None:
    """Sign-out writes api.ended_page_sessions as the role; a copy of the cookie is refused."""
    browser = role_app.test_client()
    assert sign_in(browser, keys["admin"].token).status_code == 303
    cookie = browser.get_cookie("usage_reports_session", path=page_path())
    assert cookie is not None
    token = csrf_token(browser.get(page_path()).get_data(as_text=True))
    assert browser.post(f"{page_path()}/sign-out", data={"csrf_token": token}).status_code == 303
    copy = role_app.test_client()
    copy.set_cookie("usage_reports_session", cookie.value, path=page_path())
    assert copy.get(page_path()).status_code == 401


def test_a_missing_page_table_is_a_503_page_until_the_grant_runs_again(
    api_role: dict[str, str], keys: dict[str, Key], checker: OpenApiChecker, warehouse: Warehouse
) -> None:
    """An upgrade that adds a table to schema api: the role may not create it, so the page is
    unavailable (not a 500) and the reports keep working until grant-api-role runs again."""
    with warehouse.connect() as conn:
        conn.execute("drop table api.ended_page_sessions")
    application = create_app({**config_from_env(api_role), "TESTING": True})
    try:
        response = sign_in(application.test_client(), keys["admin"].token)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        api = ApiClient(application.test_client(), checker)
        assert api.get(f"/api/v2/w/{data.W1}/reports/ai-usage", keys["admin"]).status_code == 200
        result = application.test_cli_runner().invoke(args=["db", "grant-api-role", "--role", ROLE])
        assert result.exit_code == 0, result.output
        assert sign_in(application.test_client(), keys["admin"].token).status_code == 303
    finally:
        application.extensions["usage_reports_db"].close()


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) from raw.members",
        "select count(*) from raw.ai_usage_events",
        "select count(*) from staging.stg_product__sms_messages",
        "select count(*) from staging.stg_product__messages",
        "update api.api_keys set revoked_at = null",
        "update api.api_keys set scopes = array['analytics:read']",
        "delete from api.api_keys",
        "insert into api.api_keys (key_id) values ('x')",
        "update api.ended_page_sessions set expires_at = now()",
        "create table marts.intruder (id int)",
        "create table api.intruder (id int)",
        "select count(*) from marts.quarantined_rows",  # not served: raw row ids of every workspace
    ],
)
def test_the_api_role_can_do_nothing_else(api_role: dict[str, str], statement: str) -> None:
    with as_role(api_role) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_api_role_reads_the_marts_and_the_authorization_views(api_role: dict[str, str]) -> None:
    with as_role(api_role) as conn:
        for relation in (
            "marts.ai_usage_daily",
            "marts.member_usage_daily",
            "marts.data_freshness",
            "staging.stg_product__members",
            "staging.stg_product__roles",
            "staging.stg_product__role_scopes",
            "api.api_keys",
        ):
            conn.execute(f"select count(*) from {relation}").fetchone()


@pytest.fixture(scope="module")
def rebuilt(api_role: dict[str, str], warehouse: Warehouse) -> Iterator[None]:
    """A build replaces the table data_freshness and the view stg_product__members."""
    # no setting names the role: the models' post-hook finds it as a reader of api.api_keys
    # (what grant-api-role granted it), as a cron build with API_PGUSER unset must
    warehouse.dbt("run", "--select", "data_freshness", "stg_product__members")
    yield
    with warehouse.connect() as conn:  # restore the view's grant for any later test
        conn.execute(
            sql.SQL("grant select on staging.stg_product__members to {}").format(sql.Identifier(ROLE))
        )


def test_a_rebuilt_mart_stays_readable(api_role: dict[str, str], rebuilt: None) -> None:
    # default privileges on schema marts cover the tables dbt creates later
    with as_role(api_role) as conn:
        assert conn.execute("select count(*) from marts.data_freshness").fetchone() == (1,)


def test_a_rebuilt_quarantine_stays_out_of_reach(api_role: dict[str, str], warehouse: Warehouse) -> None:
    # the schema's default privileges grant every new relation in marts; the view's own
    # post-hook takes that back in the same build
    warehouse.dbt("run", "--select", "quarantined_rows")
    with as_role(api_role) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select count(*) from marts.quarantined_rows")


def test_a_rebuilt_authorization_view_stays_readable(api_role: dict[str, str], rebuilt: None) -> None:
    with as_role(api_role) as conn:
        conn.execute("select count(*) from staging.stg_product__members").fetchone()


def test_sql_only_prints_the_script(app: Flask) -> None:
    # for a DBA, so it needs no warehouse it can reach: only the database's name
    unreachable = create_app({"ADMIN_CONNINFO": "host=/nonexistent dbname=usage_reports"})
    result = unreachable.test_cli_runner().invoke(
        args=["db", "grant-api-role", "--role", "reporting_api", "--sql-only"]
    )
    assert result.exit_code == 0, result.output
    script = result.stdout
    assert 'create role "reporting_api" login;' in script  # no password: API_PGPASSWORD is not set
    for line in (
        'grant select on all tables in schema marts to "reporting_api";',
        'alter default privileges in schema marts grant select on tables to "reporting_api";',
        'revoke select on marts.quarantined_rows from "reporting_api";',
        'grant select on "staging"."stg_product__members" to "reporting_api";',
        'grant select on "staging"."stg_product__roles" to "reporting_api";',
        'grant select on "staging"."stg_product__role_scopes" to "reporting_api";',
        'grant select, update (last_used_at) on api.api_keys to "reporting_api";',
        'grant select, insert, delete on api.ended_page_sessions to "reporting_api";',
    ):
        assert line in script, line


def test_before_the_first_build_it_grants_what_exists(warehouse: Warehouse) -> None:
    bare, role = f"{DATABASE_PREFIX}_bare", f"{ROLE}_bare"
    admin = make_conninfo(warehouse.conninfo, dbname="postgres")

    def clean() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(bare)))
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))

    clean()
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(bare)))
        app = create_app({"ADMIN_CONNINFO": make_conninfo(warehouse.conninfo, dbname=bare)})
        result = app.test_cli_runner().invoke(args=["db", "grant-api-role", "--role", role])
        assert result.exit_code == 0, result.output
        assert "missing, so not granted yet" in result.stderr
        assert "marts" in result.stderr and "staging.stg_product__members" in result.stderr
        with psycopg.connect(make_conninfo(warehouse.conninfo, dbname=bare)) as conn:
            granted = conn.execute(
                "select has_table_privilege(%s, 'api.api_keys', 'select')", (role,)
            ).fetchone()
        assert granted == (True,)
    finally:
        clean()


def test_the_conninfo_comes_from_the_pg_variables() -> None:
    config = config_from_env(
        {"PGHOST": "db.internal", "PGPORT": "6543", "PGUSER": "dbt", "PGPASSWORD": "s3", "PGDATABASE": "wh"}
    )
    assert config["DATABASE_CONNINFO"] == make_conninfo(
        host="db.internal",
        port="6543",
        user="dbt",
        password="s3",
        dbname="wh",
        application_name="usage-reports-api",
    )
    assert config["ADMIN_CONNINFO"] == config["DATABASE_CONNINFO"]
    config = config_from_env(
        {"PGHOST": "db.internal", "PGUSER": "dbt", "PGPASSWORD": "s3", "API_PGUSER": "ro"}
    )
    assert "user=ro" in config["DATABASE_CONNINFO"] and "s3" not in config["DATABASE_CONNINFO"]
    assert "dbname=usage_reports" in config["DATABASE_CONNINFO"]
    assert "user=dbt" in config["ADMIN_CONNINFO"]


def test_a_build_grants_to_a_role_whatever_its_name(warehouse: Warehouse, api_role: dict[str, str]) -> None:
    # a role make api-role set up under a name that needs quoting (a double quote in it)
    odd = 'usage_reports "quoted" test'
    with warehouse.connect() as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(odd)))
        conn.execute(sql.SQL("create role {}").format(sql.Identifier(odd)))
        conn.execute(sql.SQL("grant select on api.api_keys to {}").format(sql.Identifier(odd)))
    try:
        warehouse.dbt("run", "--select", "stg_product__members", "data_freshness")
        with warehouse.connect() as conn:
            granted = conn.execute(
                "select has_table_privilege(%(role)s, 'staging.stg_product__members', 'select'),"
                " has_table_privilege(%(role)s, 'marts.data_freshness', 'select'),"
                # and the schemas they are in: a build may have created them (a new warehouse)
                " has_schema_privilege(%(role)s, 'staging', 'usage'), has_schema_privilege(%(role)s, 'marts', 'usage')",
                {"role": odd},
            ).fetchone()
        assert granted == (True, True, True, True)
    finally:
        with warehouse.connect() as conn:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(odd)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(odd)))


def test_reader_roles_read_staging_and_marts_across_rebuilds(
    warehouse: Warehouse, api_role: dict[str, str]
) -> None:
    """Analysts' roles (var reader_roles, or USAGE_REPORTS_READER_ROLES) read every relation in
    staging and marts, the quarantine too, after a build and after later builds replace them;
    never raw or api. A name that is no role is a warning, not a failed build; so is the API's
    role, or a role it belongs to (it must never read the quarantine or SMS bodies)."""
    reader, group = "usage_reports_reader_test", "usage_reports_reader_group_test"
    with warehouse.connect() as conn:
        for role in (reader, group):
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("create role {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), sql.Identifier(ROLE)))
    checks = (
        "select has_table_privilege(%(role)s, 'marts.ai_usage_daily', 'select'),"
        " has_table_privilege(%(role)s, 'marts.quarantined_rows', 'select'),"
        " has_table_privilege(%(role)s, 'marts.data_freshness', 'select'),"
        " has_table_privilege(%(role)s, 'staging.stg_product__sms_messages', 'select'),"
        " has_table_privilege(%(role)s, 'staging.scopes', 'select'),"
        " has_schema_privilege(%(role)s, 'marts', 'usage') and has_schema_privilege(%(role)s, 'staging', 'usage'),"
        " has_schema_privilege(%(role)s, 'raw', 'usage'), has_table_privilege(%(role)s, 'api.api_keys', 'select')"
    )
    try:
        names = f"[{reader}, no_such_role_here, {ROLE}, {group}]"
        warehouse.dbt("run", "--select", "data_freshness", "--vars", f"{{reader_roles: {names}}}")
        with warehouse.connect() as conn:
            assert conn.execute(checks, {"role": reader}).fetchone() == (True,) * 6 + (False, False)
            for refused in (ROLE, group):
                assert conn.execute(
                    "select has_table_privilege(%(role)s, 'marts.quarantined_rows', 'select'),"
                    " has_table_privilege(%(role)s, 'staging.stg_product__sms_messages', 'select')",
                    {"role": refused},
                ).fetchone() == (False, False), refused
        # later builds swap in new relations (a table and a view here): readable at once
        warehouse.dbt("run", "--select", "data_freshness", "quarantined_rows")
        with warehouse.connect() as conn:
            assert conn.execute(checks, {"role": reader}).fetchone() == (True,) * 6 + (False, False)
    finally:
        with warehouse.connect() as conn:
            for role in (reader, group):
                conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_the_password_reaches_the_server_hashed(warehouse: Warehouse, tmp_path: Any) -> None:
    # what the client sends, traced by libpq itself: a clear-text password in a statement
    # would be in the server's log whenever it logs DDL (and make serve runs this on every start)
    role = f"{ROLE}_password"
    trace = tmp_path / "libpq.trace"
    try:
        for _ in ("create", "alter"):
            with (
                psycopg.connect(warehouse.conninfo, autocommit=True, row_factory=dict_row) as conn,
                trace.open("a") as out,
            ):
                conn.pgconn.trace(out.fileno())
                dbrole.grant_api_role(conn, role, password=PASSWORD)
                conn.pgconn.untrace()
        sent = trace.read_text(errors="replace")
        assert "create role" in sent and "alter role" in sent and "SCRAM-SHA-256$" in sent
        assert PASSWORD not in sent
        with warehouse.connect() as conn:
            stored = conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()
        assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")
    finally:
        with warehouse.connect() as conn:
            if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_the_dba_script_sets_the_password_with_psqls_password_command(app: Flask) -> None:
    # psql's \\password hashes it before sending; a password '...' clause would be logged in clear
    unreachable = create_app({"ADMIN_CONNINFO": "host=/nonexistent dbname=usage_reports"})
    result = unreachable.test_cli_runner().invoke(
        args=["db", "grant-api-role", "--role", "reporting_api", "--sql-only"],
        env={"API_PGPASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert 'create role "reporting_api" login;\n\\password "reporting_api"\n' in result.stdout
    assert "password '" not in result.stdout and PASSWORD not in result.stdout


def test_a_password_it_may_not_set_is_a_warning_not_a_silence(warehouse: Warehouse) -> None:
    # the project's user without the right to change another role's password (no CREATEROLE;
    # since PostgreSQL 16 also a CREATEROLE role without the ADMIN option on that role)
    plain, target = f"{ROLE}_plain", f"{ROLE}_target"
    with warehouse.connect() as conn:
        for name in (plain, target):
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(plain)))
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(target)))
    try:
        as_plain = make_conninfo(warehouse.conninfo, user=plain)
        with psycopg.connect(as_plain, autocommit=True, row_factory=dict_row) as conn:
            said = dbrole._set_password(conn, target, PASSWORD, plain)
        assert said.startswith(f"warning: API_PGPASSWORD is set but {plain} may not change the password")
        assert f"\\password {target}" in said
        with warehouse.connect() as conn:
            stored = conn.execute(
                "select rolpassword from pg_authid where rolname = %s", (target,)
            ).fetchone()
        assert stored == (None,)
    finally:
        with warehouse.connect() as conn:
            for name in (plain, target):
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
