"""The authorization matrix (CONTRACT §5): 401, 403 and 404, in the order
api/auth.py documents, on every endpoint, with role changes landing in raw
while the API runs (no build in between)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from tests.api import fixture_data as data
from tests.api.conftest import BOTH, ApiClient, Key, Warehouse, create_key_with_cli, error_of

W1 = f"/api/v2/w/{data.W1}"
W3 = f"/api/v2/w/{data.W3}"
REPORTS = ["reports/ai-usage", "reports/sms-usage", "reports/phone-usage", "reports/voice-usage"]
EVERY_ENDPOINT = [*REPORTS, f"reports/member-usage/{data.ADA}", "members"]
UNKNOWN_MEMBER = str(uuid.UUID(int=0xDEADBEEF))


def assert_401(response, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.get_data(as_text=True)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    error = error_of(response)
    if code is not None:
        assert error["code"] == code
        assert 'error="invalid_token"' in challenge or code == "missing_api_key"


def assert_403(response, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.get_data(as_text=True)
    assert error_of(response)["code"] == code


# --- 401 ------------------------------------------------------------------------


@pytest.mark.parametrize("path", EVERY_ENDPOINT)
def test_no_key_is_401(api: ApiClient, path: str) -> None:
    response = api.get(f"{W1}/{path}")
    assert_401(response, "missing_api_key")
    assert 'error="invalid_token"' not in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token urk_" + "a" * 43,
        "Bearer urk_short",
        "Bearer " + "x" * 47,
        "Bearer urk_" + "a" * 44,
        "Bearer urk_" + "a" * 42 + "!",
        "Bearer urk_" + "a" * 43 + " extra",
        "Bearer \x00",
        "Bearer urk_ü" + "a" * 42,
        "Bearer " + "urk_" + "a" * 10_000,
    ],
)
def test_malformed_key_is_401(api: ApiClient, header: str) -> None:
    response = api.get(f"{W1}/reports/ai-usage", headers={"Authorization": header})
    assert_401(response, "invalid_api_key")


def test_unknown_key_is_401(api: ApiClient) -> None:
    response = api.get(f"{W1}/reports/ai-usage", headers={"Authorization": "Bearer urk_" + "A" * 43})
    assert_401(response, "invalid_api_key")


def test_bearer_scheme_is_case_insensitive(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"{W1}/members", headers={"Authorization": f"bearer {keys['admin'].token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("scheme", ["Token", "Basic", "Bearers", "MAC"])
def test_a_valid_key_under_another_scheme_is_401(api: ApiClient, keys: dict[str, Key], scheme: str) -> None:
    # the key itself is good: only "Bearer" carries it
    response = api.get(f"{W1}/members", headers={"Authorization": f"{scheme} {keys['admin'].token}"})
    assert_401(response, "invalid_api_key")


def test_revoked_key_is_401(api: ApiClient, keys: dict[str, Key]) -> None:
    assert_401(api.get(f"{W1}/reports/ai-usage", keys["revoked"]), "revoked_api_key")


def test_expired_key_is_401(api: ApiClient, keys: dict[str, Key]) -> None:
    assert_401(api.get(f"{W1}/reports/ai-usage", keys["expired"]), "expired_api_key")


def test_401_comes_before_400(api: ApiClient) -> None:
    # nothing about a request is looked at before its key
    assert_401(api.get("/api/v2/w/not-a-uuid/reports/ai-usage?start_date=garbage"), "missing_api_key")


# --- 403 ------------------------------------------------------------------------


@pytest.mark.parametrize("path", EVERY_ENDPOINT)
def test_key_of_another_workspace_is_403(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    assert_403(api.get(f"{W1}/{path}", keys["w2_admin"]), "wrong_workspace")


@pytest.mark.parametrize("path", REPORTS)
def test_reports_need_analytics_read_on_the_key(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    # Ada's role holds analytics:read, but this key was granted members:read only
    response = api.get(f"{W1}/{path}", keys["admin_members_only"])
    assert_403(response, "insufficient_scope")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert_403(api.get(f"{W1}/{path}", keys["member"]), "insufficient_scope")


@pytest.mark.parametrize("path", [*REPORTS, "members"])
def test_a_role_without_the_scope_is_403(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    # Gus's key was granted both scopes, but his role (viewer) holds none; Zoë's role is another
    # workspace's custom role, which counts for nothing in W1
    assert_403(api.get(f"{W1}/{path}", keys["viewer"]), "insufficient_scope")
    assert_403(api.get(f"{W1}/{path}", keys["foreign_role"]), "insufficient_scope")


def test_effective_scopes_are_the_intersection(api: ApiClient, keys: dict[str, Key]) -> None:
    # Ben's key has both scopes; his role "Analyst" only analytics:read
    assert api.get(f"{W1}/reports/ai-usage", keys["analyst"]).status_code == 200
    assert_403(api.get(f"{W1}/members", keys["analyst"]), "insufficient_scope")
    # Cleo: members:read on key and role
    assert api.get(f"{W1}/members", keys["member"]).status_code == 200


def test_403_checks_run_after_validation(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"{W1}/reports/ai-usage", keys["w2_admin"], {"start_date": "2024-13-01"})
    assert response.status_code == 400


# --- member usage ---------------------------------------------------------------


def member_usage(api: ApiClient, key: Key, member: str):  # type: ignore[no-untyped-def]
    return api.get(f"{W1}/reports/member-usage/{member}", key)


def test_own_usage_with_members_read_or_analytics_read(api: ApiClient, keys: dict[str, Key]) -> None:
    assert member_usage(api, keys["member"], data.CLEO).status_code == 200  # members:read
    assert member_usage(api, keys["analyst"], data.BEN).status_code == 200  # analytics:read
    assert member_usage(api, keys["admin_members_only"], data.ADA).status_code == 200
    assert_403(member_usage(api, keys["viewer"], data.GUS), "insufficient_scope")  # neither


def test_someone_elses_usage_needs_analytics_read(api: ApiClient, keys: dict[str, Key]) -> None:
    assert member_usage(api, keys["admin"], data.BEN).status_code == 200
    assert member_usage(api, keys["analyst"], data.ADA).status_code == 200
    assert_403(member_usage(api, keys["member"], data.ADA), "insufficient_scope")
    assert_403(member_usage(api, keys["admin_members_only"], data.BEN), "insufficient_scope")


def test_members_outside_the_workspace_are_404_for_those_who_may_ask(
    api: ApiClient, keys: dict[str, Key]
) -> None:
    for member in (UNKNOWN_MEMBER, data.HAL, data.DAN):  # unknown, W2's, W3's
        response = member_usage(api, keys["admin"], member)
        assert response.status_code == 404
        assert error_of(response)["code"] == "member_not_found"


def test_members_outside_the_workspace_are_403_for_those_who_may_not(
    api: ApiClient, keys: dict[str, Key]
) -> None:
    # the same 403 as for a real member: existence is not revealed
    for member in (UNKNOWN_MEMBER, data.HAL, data.ADA):
        assert_403(member_usage(api, keys["member"], member), "insufficient_scope")


def test_a_deleted_members_usage_is_still_reported(api: ApiClient, keys: dict[str, Key]) -> None:
    response = member_usage(api, keys["admin"], data.EVE)
    assert response.status_code == 200


# --- live changes in raw, no build ----------------------------------------------


def test_a_demotion_takes_effect_on_the_next_request(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    assert api.get(f"{W3}/reports/ai-usage", keys["demoted"]).status_code == 200
    with warehouse.connect() as conn:
        data.add_member_copy(conn, data.DAN, data.W3, "member", "Dan Demoted")
    assert_403(api.get(f"{W3}/reports/ai-usage", keys["demoted"]), "insufficient_scope")
    # the member role still holds members:read
    assert api.get(f"{W3}/members", keys["demoted"]).status_code == 200


def test_a_deleted_members_key_stops_working(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    assert api.get(f"{W3}/members", keys["leaving"]).status_code == 200
    with warehouse.connect() as conn:
        data.add_member_copy(
            conn, data.FAY, data.W3, "admin", "Fay Leaving", deleted_at="2024-06-01T00:00:00Z"
        )
    assert_401(api.get(f"{W3}/members", keys["leaving"]), "inactive_member")


def test_a_member_who_left_the_workspace_loses_the_key(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    assert api.get(f"{W3}/members", keys["mover"]).status_code == 200
    with warehouse.connect() as conn:
        data.add_member_copy(conn, data.IVY, data.W4, "admin", "Ivy Mover")
    assert_401(api.get(f"{W3}/members", keys["mover"]), "inactive_member")
    assert_401(api.get(f"/api/v2/w/{data.W4}/members", keys["mover"]), "inactive_member")


# --- last use -------------------------------------------------------------------


def test_last_used_at_is_written_at_most_once_a_minute(
    api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    key = keys["analyst"]

    def last_used():  # type: ignore[no-untyped-def]
        with warehouse.connect() as conn:
            row = conn.execute(
                "select last_used_at from api.api_keys where key_id = %s", (key.key_id,)
            ).fetchone()
        assert row is not None
        return row[0]

    with warehouse.connect() as conn:
        conn.execute("update api.api_keys set last_used_at = null where key_id = %s", (key.key_id,))
    assert api.get(f"{W1}/reports/ai-usage", key).status_code == 200
    first = last_used()
    assert first is not None
    assert api.get(f"{W1}/reports/ai-usage", key).status_code == 200
    assert last_used() == first  # within the minute: no write
    with warehouse.connect() as conn:
        conn.execute(
            "update api.api_keys set last_used_at = now() - interval '2 minutes' where key_id = %s",
            (key.key_id,),
        )
    stale = last_used()
    assert api.get(f"{W1}/reports/ai-usage", key).status_code == 200
    assert last_used() > stale


def test_a_use_records_only_its_own_key(
    app: Flask, api: ApiClient, keys: dict[str, Key], warehouse: Warehouse
) -> None:
    # a key never used (another workspace's) keeps "never" while another key is used
    unused = create_key_with_cli(app, data.W2, data.HAL, "Never used", BOTH)
    key = keys["admin"]
    with warehouse.connect() as conn:
        conn.execute("update api.api_keys set last_used_at = null where key_id = %s", (key.key_id,))
    assert api.get(f"{W1}/members", key).status_code == 200
    with warehouse.connect() as conn:
        rows = dict(
            conn.execute(
                "select key_id, last_used_at from api.api_keys where key_id in (%s, %s)",
                (key.key_id, unused.key_id),
            ).fetchall()
        )
    assert rows[key.key_id] is not None
    assert rows[unused.key_id] is None
