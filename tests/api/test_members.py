"""GET /members: active members, role names, sorted by display name then id."""

from __future__ import annotations

from tests.api import fixture_data as data
from tests.api.conftest import ApiClient, Key, body


def test_members_of_the_workspace(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"/api/v2/w/{data.W1}/members", keys["member"])
    assert response.status_code == 200
    # Eve is deleted (her later copy); the two "Ada Admin" sort by id (…01 before …09) although …09
    # landed first; Zoë's role belongs to W2, so it has no name here; Ben's duplicate copy counts once.
    assert body(response) == [
        {"memberId": data.ADA, "displayName": "Ada Admin", "role": "Admin"},
        {"memberId": data.ADA_TWIN, "displayName": "Ada Admin", "role": "Member"},
        {"memberId": data.BEN, "displayName": "Ben Analyst", "role": "Analyst"},
        {"memberId": data.CLEO, "displayName": "Cleo Member", "role": "Member"},
        {"memberId": data.GUS, "displayName": "Gus Viewer", "role": "Viewer"},
        {"memberId": data.ZOE, "displayName": "Zoë Foreign-Role", "role": None},
    ]


def test_members_are_utf8_json(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"/api/v2/w/{data.W1}/members", keys["admin"])
    assert "Zoë".encode() in response.get_data()


def test_members_of_another_tenant(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"/api/v2/w/{data.W2}/members", keys["w2_admin"])
    assert body(response) == [{"memberId": data.HAL, "displayName": "Hal Other", "role": "Admin"}]
