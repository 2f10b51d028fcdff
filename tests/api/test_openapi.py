"""The OpenAPI document, and a bounded property-based run (schemathesis)
against the live app: no 5xx, every response inside the document."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import csvexport
from api.openapi import openapi_document
from api.openapi_examples import EXAMPLES
from tests.api import fixture_data as data
from tests.api.conftest import ApiClient, Key, body
from tests.api.openapi_check import OpenApiChecker
from tests.api.test_csv import assert_adds_up, csv_lines, python_csv

OPENAPI = "/api/v2/openapi.json"
# What a schema-valid request may still be refused for (see the schemathesis run).
POSITIVE_REFUSALS = (
    "start_date must not be after end_date.",
    "end_date is before this report's default start_date (",
    "start_date is after this report's default end_date (",
    "tz must be an IANA time-zone name such as UTC, Europe/Berlin or America/Los_Angeles.",
)
WORKSPACE_PATHS = [
    "/api/v2/w/{workspace_id}/reports/ai-usage",
    "/api/v2/w/{workspace_id}/reports/sms-usage",
    "/api/v2/w/{workspace_id}/reports/phone-usage",
    "/api/v2/w/{workspace_id}/reports/voice-usage",
    "/api/v2/w/{workspace_id}/reports/member-usage/{member_id}",
    "/api/v2/w/{workspace_id}/members",
]


def test_the_document_is_served_without_a_key(api: ApiClient) -> None:
    response = api.get(OPENAPI)
    assert response.status_code == 200
    document = body(response)
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "urk_ followed by 43 URL-safe characters",
        "description": "An API key made by `flask --app api keys create`.",
    }
    assert document["security"] == [{"bearerAuth": []}]


def test_every_endpoint_is_documented_with_its_errors(api: ApiClient) -> None:
    document = body(api.get(OPENAPI))
    assert sorted(document["paths"]) == sorted([*WORKSPACE_PATHS, OPENAPI])
    for path in WORKSPACE_PATHS:
        operation = document["paths"][path]["get"]
        assert {"200", "400", "401", "403", "404", "405"} <= set(operation["responses"]), path
        names = {parameter["$ref"].rsplit("/", 1)[-1] if "$ref" in parameter else parameter["name"]
                 for parameter in operation["parameters"]}  # fmt: skip
        expected = {"WorkspaceId"} | ({"MemberId"} if "member_id" in path else set())
        if not path.endswith("/members"):
            expected |= {"start_date", "end_date", "tz", "format"}
        assert names == expected, path


def test_every_schema_in_the_document_is_valid_json_schema(api: ApiClient) -> None:
    document = body(api.get(OPENAPI))
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_schemathesis_finds_no_server_error_and_no_response_outside_the_document(
    app: Flask, keys: dict[str, Key]
) -> None:
    """Three bounded runs over every operation: valid data on the fixture's
    workspace, valid data on any workspace (mostly 403), and invalid data
    (which must be refused with a documented 4xx). Each call runs every
    default check (no 5xx, documented status, content type, headers and body
    schema, auth not ignored, unsupported methods answered 405) except
    ``positive_data_acceptance``: ``start_date <= end_date`` spans two
    parameters, which OpenAPI cannot express, so a schema-valid pair may be
    refused, and ``tz`` is any string to the document (listing every IANA
    zone there would tie it to one server's time-zone database). In its place
    a positive case may only be refused for those two rules."""
    schema = schemathesis.openapi.from_wsgi(OPENAPI, app)
    headers = {"Authorization": f"Bearer {keys['admin'].token}"}
    seen: Counter[tuple[str, int]] = Counter()
    runs: list[tuple[GenerationMode, dict[str, Any] | None]] = [
        (GenerationMode.POSITIVE, {"workspace_id": data.W1}),
        (GenerationMode.POSITIVE, None),
        (GenerationMode.NEGATIVE, None),
    ]
    for mode, path_parameters in runs:
        _fuzz(schema.as_strategy(mode, path_parameters=path_parameters, headers=headers), mode, seen)
    # the runs reached past authentication and validation
    assert seen[("positive", 200)] > 0
    assert seen[("negative", 400)] > 0


def _fuzz(strategy: Any, mode: GenerationMode, seen: Counter[tuple[str, int]]) -> None:
    @given(case=strategy)
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        assert response.status_code < 500
        if mode is GenerationMode.POSITIVE and response.status_code == 400:
            assert response.json()["error"]["message"].startswith(POSITIVE_REFUSALS)
        seen[(mode.value, response.status_code)] += 1

    run()


def test_every_object_in_the_document_names_all_its_fields_and_no_others() -> None:
    """Real responses are checked against the document, but a schema loosened by mistake
    (a field no longer required, extra fields allowed) would still pass them: every object
    lists each of its properties as required and allows no other, except a report's ``tz``,
    which a body has only when its zone is not UTC."""
    loose: list[tuple[str, list[str], object]] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                optional = sorted(set(node["properties"]) - set(node.get("required", [])))
                if node.get("additionalProperties") is not False or optional not in ([], ["tz"]):
                    loose.append((path, optional, node.get("additionalProperties")))
                if optional == ["tz"] and not path.endswith("UsageReport"):
                    loose.append((path, optional, "tz outside a report body"))
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    document = openapi_document()
    walk(document, "")
    assert loose == []
    reports = [name for name in document["components"]["schemas"] if name.endswith("UsageReport")]
    assert len(reports) == 5


def test_the_document_states_what_a_client_may_rely_on() -> None:
    """What a generated client or a retrying script reads from the document: every 503 names a
    Retry-After (an integer of seconds) it can count on, every count in a report is a whole
    number that is never negative, and every other number is a decimal."""
    document = openapi_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            unavailable = operation["responses"].get("503")
            if unavailable is None:
                continue
            while "$ref" in unavailable:
                unavailable = document["components"]["responses"][unavailable["$ref"].rsplit("/", 1)[1]]
            retry_after = unavailable["headers"]["Retry-After"]
            assert retry_after["required"] is True, (method, path)
            assert retry_after["schema"] == {"type": "integer"}, (method, path)
    counts: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer" and not where.endswith("/status"):
                counts.append(where)
                assert node.get("minimum") == 0, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    schemas = document["components"]["schemas"]
    for name in schemas:
        walk(schemas[name], name)  # a report's, its lists' items (an error's status aside)
    assert (
        "AiUsageReport/properties/total_tokens" in counts
        and "SmsUsageReport/properties/totalSegments" in counts
        and "SmsRow/properties/segments" in counts
    )
    # every other number (credits, seconds) is an exact decimal, as generated clients type it
    decimals: list[str] = []

    def numbers(node: object, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "number":
                decimals.append(where)
                assert node.get("format") == "decimal", where
            for key, value in node.items():
                numbers(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                numbers(value, f"{where}[{index}]")

    numbers(schemas, "")
    assert "/AiUsageReport/properties/total_credits" in decimals
    assert "/SttRow/properties/durationSeconds" in decimals


RANGE_NAMES = (("start_date", "startDate"), ("end_date", "endDate"))
# Each report's schema, its path's last part and its CSV columns.
REPORT_SCHEMAS = {
    "AiUsageReport": ("ai-usage", csvexport.AI_COLUMNS),
    "SmsUsageReport": ("sms-usage", csvexport.SMS_COLUMNS),
    "PhoneUsageReport": ("phone-usage", csvexport.PHONE_COLUMNS),
    "VoiceUsageReport": ("voice-usage", csvexport.VOICE_COLUMNS),
    "MemberUsageReport": ("member-usage", csvexport.MEMBER_COLUMNS),
}


def _by(items: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(item[key] for key in keys): item for item in items}


def _sums(rows: list[dict[str, Any]], keys: tuple[str, ...], measures: tuple[str, ...]) -> dict[Any, Any]:
    sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(measures, 0))
    for row in rows:
        for measure in measures:
            sums[tuple(row[key] for key in keys)][measure] += row[measure]
    return dict(sums)


def _assert_lists_add_up(schema: str, example: dict[str, Any], lines: list[dict[str, str]]) -> None:
    """What the CSV lines cannot show: the AI report's top models (and every total's parts),
    the voice report's per-model lists, and the documented order of every list."""
    if schema == "AiUsageReport":
        assert example["total_tokens"] == example["total_prompt_tokens"] + example["total_completion_tokens"]
        models = _sums(
            [
                {**line, "tokens": int(line["total_tokens"]), "credits": Decimal(line["credits"])}
                for line in lines
            ],
            ("model", "provider", "type"),
            ("tokens", "credits"),
        )
        ranked = sorted(models.items(), key=lambda item: (-item[1]["credits"], item[0][0], item[0][1]))[:10]
        assert [(*key, sums["tokens"], sums["credits"]) for key, sums in ranked] == [
            (top["model"], top["provider"], top["type"], top["total_tokens"], top["total_credits"])
            for top in example["top_models"]
        ]
        for name, key in (("by_provider", "provider"), ("by_type", "type")):
            listed = example[name]
            assert listed == sorted(listed, key=lambda item: (-item["total_credits"], item[key])), name
    elif schema == "VoiceUsageReport":
        for kind, measure in (("stt", "durationSeconds"), ("tts", "characters")):
            rows, models = example[f"{kind}Rows"], example[f"{kind}ByProvider"]
            sums = _sums(rows, ("provider", "model"), (measure, "messages"))
            assert {key: {measure: item[measure], "messages": item["messages"]}
                    for key, item in _by(models, "provider", "model").items()} == sums  # fmt: skip
            assert models == sorted(models, key=lambda item: (item["provider"], item["model"]))
            assert rows == sorted(rows, key=lambda row: (row["date"], row["provider"], row["model"]))
    elif schema in ("SmsUsageReport", "PhoneUsageReport"):
        rows = example["rows"]
        assert rows == sorted(rows, key=lambda row: (row["date"], row["phoneNumber"]))
        if schema == "SmsUsageReport":
            assert all(row["segments"] == row["inboundSegments"] + row["outboundSegments"] for row in rows)


@pytest.mark.parametrize("schema", sorted(EXAMPLES))
def test_the_documented_examples_are_answers_the_api_could_give(schema: str) -> None:
    """Each operation shows an example body (and CSV) a client can check its parser against:
    valid under its schema, the CSV the same request gets, every total and list the sum of
    the rows, every list in its documented order, every date in the range."""
    document = openapi_document()
    operations = [
        operation["get"]["responses"]["200"]["content"]
        for operation in document["paths"].values()
        if operation["get"]["responses"]["200"]["content"].get("application/json", {}).get("schema")
        == {"$ref": f"#/components/schemas/{schema}"}
    ]
    assert len(operations) == 1
    content = operations[0]
    example, csv_example = EXAMPLES[schema]
    assert content["application/json"]["example"] == example
    exact = json.loads(json.dumps(example), parse_float=Decimal)
    OpenApiChecker(document).validate_body(f"#/components/schemas/{schema}", exact)
    if schema == "MemberList":
        assert csv_example is None and "text/csv" not in content
        assert exact == sorted(exact, key=lambda member: (member["displayName"], member["memberId"]))
        return
    path, columns = REPORT_SCHEMAS[schema]
    assert csv_example is not None and content["text/csv"]["example"] == csv_example
    header, _, text = csv_example.partition("\r\n")
    assert header == ",".join(columns)
    lines = csv_lines(csv_example)
    assert lines
    assert_adds_up(path, lines, exact)
    if path in ("sms-usage", "phone-usage", "voice-usage"):
        assert text == python_csv(exact, path)
    _assert_lists_add_up(schema, exact, lines)
    start, end = (exact[name] if name in exact else exact[camel] for name, camel in RANGE_NAMES)
    assert all(start <= line["date"] <= end for line in lines)
    assert [line["date"] for line in lines] == sorted(line["date"] for line in lines)
