"""What a client sends: malformed ids and dates are 400s naming the parameter,
unknown paths and methods get the JSON error body, and nothing is a 500."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api import fixture_data as data
from tests.api.conftest import ApiClient, Key, error_of

W1 = f"/api/v2/w/{data.W1}"
DATED = [
    "reports/ai-usage",
    "reports/sms-usage",
    "reports/phone-usage",
    "reports/voice-usage",
    f"reports/member-usage/{data.ADA}",
]


def assert_400(response, parameter: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)
    error = error_of(response)
    assert parameter in error["message"], error
    assert error["code"] in ("invalid_parameter", "unknown_parameter")


@pytest.mark.parametrize(
    "workspace",
    [
        "not-a-uuid",
        "10000000000040008000000000000001",
        "{10000000-0000-4000-8000-000000000001}",
        "1" * 36,
        "%00",
    ],
)
@pytest.mark.parametrize("path", [*DATED, "members"])
def test_malformed_workspace_id_is_400(
    api: ApiClient, keys: dict[str, Key], workspace: str, path: str
) -> None:
    assert_400(api.get(f"/api/v2/w/{workspace}/{path}", keys["admin"]), "workspace_id")


@pytest.mark.parametrize(
    "member", ["nope", "a1000000-0000-4000-8000-00000000000", "a1000000-0000-4000-8000-00000000000g"]
)
def test_malformed_member_id_is_400(api: ApiClient, keys: dict[str, Key], member: str) -> None:
    assert_400(api.get(f"{W1}/reports/member-usage/{member}", keys["admin"]), "member_id")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"/api/v2/w/{data.W1}0/members", "workspace_id"),
        (f"/api/v2/w/{data.W1}-0/reports/ai-usage", "workspace_id"),
        (f"{W1}/reports/member-usage/{data.ADA}0", "member_id"),
        (f"{W1}/reports/member-usage/{data.ADA}%20", "member_id"),
    ],
)
def test_an_id_followed_by_more_is_400(
    api: ApiClient, keys: dict[str, Key], path: str, parameter: str
) -> None:
    # a well-formed UUID with anything after it is not a UUID (and never a 500)
    assert_400(api.get(path, keys["admin"]), parameter)


def test_uuids_are_case_insensitive(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"/api/v2/w/{data.W1.upper()}/reports/member-usage/{data.ADA.upper()}", keys["admin"])
    assert response.status_code == 200
    assert response.json["workspaceId"] == data.W1  # type: ignore[index]
    assert response.json["memberId"] == data.ADA  # type: ignore[index]


BAD_DATES = [
    "",
    "2024-3-01",
    "2024-03-1",
    "24-03-01",
    "2024/03/01",
    "2024-03-01T00:00:00",
    "2024-03-01 ",
    " 2024-03-01",
    "2024-03-01\n",
    "20240301",
    "2024-02-30",
    "2025-02-29",
    "2024-13-01",
    "2024-00-10",
    "0000-01-01",
    "99999-01-01",
    "-001-01-01",
    "\uff12\uff10\uff12\uff14-03-01",  # fullwidth digits
    "\u0662\u0660\u0662\u0664-03-01",  # Arabic-Indic digits
    "2024-03-01\x00",
    "yesterday",
    "x" * 5000,
]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize("parameter", ["start_date", "end_date"])
def test_malformed_or_impossible_dates_are_400(
    api: ApiClient, keys: dict[str, Key], value: str, parameter: str
) -> None:
    assert_400(api.get(f"{W1}/reports/ai-usage", keys["admin"], {parameter: value}), parameter)


@pytest.mark.parametrize("path", DATED)
def test_start_after_end_is_400(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    response = api.get(f"{W1}/{path}", keys["admin"], {"start_date": "2024-03-02", "end_date": "2024-03-01"})
    assert_400(response, "start_date")


def test_a_start_after_the_default_end_is_400(api: ApiClient, keys: dict[str, Key], today: date) -> None:
    response = api.get(f"{W1}/reports/ai-usage", keys["admin"], {"start_date": "9999-12-31"})
    assert_400(response, "start_date")
    assert response.json["error"]["message"] == (  # type: ignore[index]
        f"start_date is after this report's default end_date ({today.isoformat()}); give end_date too."
    )


def test_an_end_before_the_default_start_names_the_default(
    api: ApiClient, keys: dict[str, Key], today: date
) -> None:
    # the client sent no start_date: the message says which one the report took
    response = api.get(f"{W1}/reports/sms-usage", keys["admin"], {"end_date": "2024-03-04"})
    assert_400(response, "end_date")
    assert response.json["error"]["message"] == (  # type: ignore[index]
        f"end_date is before this report's default start_date ({today.replace(day=1).isoformat()});"
        " give start_date too."
    )


def test_one_end_of_the_range_may_be_given(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(
        f"{W1}/reports/sms-usage", keys["admin"], {"start_date": "2024-03-04", "end_date": "2024-03-04"}
    )
    assert response.json["totalMessages"] == 3  # type: ignore[index]  # s4, s5, s6
    response = api.get(f"{W1}/reports/sms-usage", keys["admin"], {"start_date": "2024-03-04"})
    assert response.json["startDate"] == "2024-03-04"  # type: ignore[index]


def test_unknown_query_parameters_are_400(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"{W1}/reports/ai-usage", keys["admin"], {"start": "2024-03-01"})
    assert_400(response, "start")
    assert error_of(response)["code"] == "unknown_parameter"
    assert_400(api.get(f"{W1}/members", keys["admin"], {"limit": "5"}), "limit")
    # a name that is not shown back is still refused
    response = api.get(f"{W1}/reports/ai-usage", keys["admin"], {"\x00" * 3: "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", "x" * 41, "start date", "\x00\x00\x00", "d\u00e9but"]
)
def test_an_unknown_name_is_not_echoed_unless_short_and_printable(
    api: ApiClient, keys: dict[str, Key], name: str
) -> None:
    response = api.get(f"{W1}/reports/ai-usage", keys["admin"], {name: "2024-03-01"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "unknown_parameter"
    assert error["message"] == (
        "Unknown query parameter; this endpoint accepts: start_date, end_date, tz, format."
    )


def test_repeated_query_parameters_are_400(api: ApiClient, keys: dict[str, Key]) -> None:
    query = [("start_date", "2024-03-01"), ("start_date", "2024-03-02")]
    assert_400(api.get(f"{W1}/reports/sms-usage", keys["admin"], query), "start_date")


def test_unknown_path_is_a_json_404(api: ApiClient, keys: dict[str, Key]) -> None:
    for path in (
        "/",
        "/api/v2",
        "/api/v2/w",
        f"{W1}/reports",
        f"{W1}/reports/ai-usage/",
        f"{W1}/reports/nope",
        f"{W1}//reports/ai-usage",  # not Werkzeug's HTML 308 to the merged path
        f"{W1}/reports//ai-usage",
    ):
        response = api.get(path, keys["admin"])
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_wrong_method_is_a_json_405(api: ApiClient, keys: dict[str, Key], method: str) -> None:
    for path in (f"{W1}/reports/ai-usage", f"{W1}/members", "/api/v2/openapi.json"):
        response = api.request(path, keys["admin"], method=method)
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"
        assert response.headers["Allow"] == "GET, HEAD"


def test_error_bodies_carry_no_trace(api: ApiClient, keys: dict[str, Key]) -> None:
    response = api.get(f"{W1}/reports/ai-usage", keys["admin"], {"start_date": "2024-02-30"})
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "psycopg" not in text and "File " not in text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/w/%00/members",
        "/api/v2/w/%ff%fe/members",
        "/api/v2/w/%E2%80%AE/members",
        f"{W1}/reports/member-usage/%00",
        f"{W1}/reports/member-usage/{'9' * 4000}",
        "/api/v2/w/" + "a" * 10_000 + "/members",
        f"{W1}/reports/ai-usage?start_date=%00",
        f"{W1}/reports/ai-usage?start_date=%ff",
        f"{W1}/reports/ai-usage?%ff=1",
        f"{W1}/reports/ai-usage?start_date",
        f"{W1}/reports/ai-usage?&&&",
        f"{W1}/reports/ai-usage?start_date=2024-03-01&start_date=2024-03-01",
        f"{W1}/reports/voice-usage?end_date=2024-03-01;drop table raw.members",
    ],
)
def test_nothing_a_client_sends_is_a_500(api: ApiClient, keys: dict[str, Key], path: str) -> None:
    response = api.get(path, keys["admin"])
    assert response.status_code < 500  # and the body matches the document (the client checks)
    if response.status_code >= 400:
        error_of(response)
