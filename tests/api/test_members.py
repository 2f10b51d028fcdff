"""GET /members: active members, role names, sorted by display name then id."""

from __future__ import annotations

import uuid

from api.members import shape_members
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


def test_members_without_a_name_come_after_the_named_ones_by_id() -> None:
    def member(number: int, name: str | None) -> dict[str, object]:
        return {"member_id": uuid.UUID(int=number), "display_name": name, "role_name": "Member"}

    listed = shape_members([member(2, None), member(3, "Zoë"), member(1, None), member(4, "Ada")])
    assert [(item["memberId"], item["displayName"]) for item in listed] == [
        (str(uuid.UUID(int=4)), "Ada"),
        (str(uuid.UUID(int=3)), "Zoë"),
        (str(uuid.UUID(int=1)), None),
        (str(uuid.UUID(int=2)), None),
    ]


def test_members_are_in_code_point_order_not_by_case() -> None:
    def member(number: int, name: str) -> dict[str, object]:
        return {"member_id": uuid.UUID(int=number), "display_name": name, "role_name": "Member"}

    listed = shape_members([member(1, "bob"), member(2, "Émile"), member(3, "Zed"), member(4, "Ana")])
    # upper case before lower case before accented letters, as Python and the JSON lists sort text
    assert [item["displayName"] for item in listed] == ["Ana", "Zed", "bob", "Émile"]
