"""Checks a real response against the served OpenAPI document: documented
status, JSON body matching the response schema (JSON Schema 2020-12, formats
checked), a CSV body only where CSV is documented, no body on a 304,
required headers present. Every request the suite's ``api`` client
makes goes through it."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_BASE = "urn:usage-reports-openapi"


class OpenApiChecker:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry = Registry().with_resource(
            _BASE, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.routes = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in document["paths"]
        ]

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def template_for(self, path: str) -> str | None:
        for pattern, template in self.routes:
            if pattern.match(path):
                return template
        return None

    def validate_body(self, schema_pointer: str, body: Any) -> None:
        validator = Draft202012Validator(
            {"$ref": f"{_BASE}{schema_pointer}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
        assert not errors, "response does not match the OpenAPI schema:\n" + "\n".join(
            f"  at {list(error.absolute_path)}: {error.message}" for error in errors[:10]
        )

    def check(self, method: str, path: str, status: int, headers: Any, raw_body: bytes) -> None:
        method = method.lower()
        if method == "head":
            method = "get"
        assert status < 500, f"server error {status} for {method.upper()} {path}: {raw_body[:300]!r}"
        template = self.template_for(path.partition("?")[0])
        if template is None:
            assert status == 404, f"{path} is not documented but answered {status}"
            spec = self._resolve(self.document["components"]["responses"]["NotFound"])
        else:
            operation = self.document["paths"][template].get(method)
            if operation is None:
                assert status == 405, f"{method.upper()} {template} is not documented but answered {status}"
                spec = self._resolve(self.document["components"]["responses"]["MethodNotAllowed"])
            else:
                responses = operation["responses"]
                assert str(status) in responses, f"{status} is not documented for {method.upper()} {template}"
                spec = self._resolve(responses[str(status)])
        for name, header in spec.get("headers", {}).items():
            if header.get("required"):
                assert name in headers, f"{status} must carry the {name} header"
        if status == 304:
            assert raw_body == b"", "a 304 has no body"
        content = spec.get("content", {})
        if not content or not raw_body:  # no body documented, or a HEAD request
            return
        if headers.get("Content-Type", "").startswith("text/csv"):
            assert "text/csv" in content, f"{status} for {method.upper()} {template} is not documented as CSV"
            assert headers["Content-Type"] == "text/csv; charset=utf-8", headers["Content-Type"]
            raw_body.decode("utf-8")  # strictly UTF-8
            return
        assert headers.get("Content-Type", "").startswith("application/json"), headers.get("Content-Type")
        schema = content["application/json"]["schema"]
        pointer = schema.get("$ref")
        body = json.loads(raw_body)
        if pointer is not None:
            self.validate_body(pointer, body)
        else:
            Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
