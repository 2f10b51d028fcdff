"""The OpenAPI 3.1 description of the API, served without a key at ``GET /api/v2/openapi.json``.

Kept as a Python dict next to the code it describes; the tests validate real
responses against it and run schemathesis over it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, jsonify

from api import csvexport, openapi_examples
from api.errors import OPENAPI_PATH
from api.keystore import KNOWN_SCOPES

bp = Blueprint("openapi", __name__)

_JSON = "application/json"
_CSV = "text/csv"
_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _count(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "description": description}


def _object(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


_DATE = {
    "type": "string",
    "format": "date",
    "description": "A calendar day, YYYY-MM-DD: a UTC day, or a day in the zone tz names.",
}
_TZ_FIELD = {
    "type": "string",
    "description": "The IANA time zone the days are in, as the request named it; absent when the request "
    "named none or named UTC itself (a UTC body is exactly as without tz). Other names of UTC, such as "
    "Etc/UTC, are echoed.",
    "examples": ["America/Los_Angeles"],
}
_DATA_AS_OF = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "Time of the newest raw row the marts were built from (UTC, ISO 8601 with Z); "
    "null before the first data.",
}
# Exact decimals written in plain notation: summed as binary floats, rows miss their totals.
_AS_DECIMAL = (
    " Written in plain decimal notation; parse it as a decimal, not a binary float, to add it up exactly."
)
# ``format: decimal`` (the OpenAPI format registry's fixed-point decimal): generated clients
# (datamodel-code-generator, for one) then type it as a decimal rather than a binary float.
_CREDITS = {
    "type": "number",
    "format": "decimal",
    "description": "Credits as recorded, summed, rounded to 6 decimals." + _AS_DECIMAL,
}
_SECONDS = {
    "type": "number",
    "format": "decimal",
    "minimum": 0,
    "description": "Seconds of audio, up to 3 decimals." + _AS_DECIMAL,
}
_TEXT = {"type": "string"}
_PHONE_NUMBER = {"type": "string", "description": "The workspace's number (E.164)."}

_AI_AMOUNTS = {
    "total_tokens": _count("Prompt plus completion tokens."),
    "total_cached_tokens": _count("Cached prompt tokens."),
    "total_audio_input_tokens": _count("Audio input tokens (reported apart from total_tokens)."),
    "total_audio_output_tokens": _count("Audio output tokens (reported apart from total_tokens)."),
    "total_credits": _CREDITS,
}

_SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": _ref("schemas", "ErrorDetail")}, "Every error, for every status."),
    "ErrorDetail": _object(
        {
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
            "code": {"type": "string", "pattern": "^[a-z0-9_]+$", "description": "A stable word."},
            "message": {"type": "string", "description": "A sentence for people."},
        },
        "What went wrong.",
    ),
    "AiUsageReport": _object(
        {
            "workspace_id": {"type": "string", "format": "uuid"},
            "start_date": _DATE,
            "end_date": _DATE,
            "data_as_of": _DATA_AS_OF,
            "total_messages": _count("Messages of the workspace in the range (every role, every channel)."),
            "total_tokens": _count("Prompt plus completion tokens."),
            "total_prompt_tokens": _count("Prompt tokens."),
            "total_completion_tokens": _count("Completion tokens."),
            "total_cached_tokens": _count("Cached prompt tokens."),
            "total_audio_input_tokens": _count("Audio input tokens."),
            "total_audio_output_tokens": _count("Audio output tokens."),
            "total_credits": _CREDITS,
            "by_provider": {
                "type": "array",
                "description": "Sorted by total_credits, highest first, then provider.",
                "items": _ref("schemas", "AiProviderUsage"),
            },
            "by_type": {
                "type": "array",
                "description": "By model type (chat, realtime); sorted by total_credits, highest first, then type.",
                "items": _ref("schemas", "AiTypeUsage"),
            },
            "top_models": {
                "type": "array",
                "maxItems": 10,
                "description": "At most 10 (model, provider, type) groups: total_credits highest first, "
                "then model, then provider.",
                "items": _ref("schemas", "AiModelUsage"),
            },
        },
        "AI usage (snake_case).",
    ),
    "SmsUsageReport": _object(
        {
            "workspaceId": {"type": "string", "format": "uuid"},
            "startDate": _DATE,
            "endDate": _DATE,
            "dataAsOf": _DATA_AS_OF,
            "totalMessages": _count("SMS sent and received."),
            "totalInbound": _count("Inbound SMS."),
            "totalOutbound": _count("Outbound SMS."),
            "totalCharacters": _count("Unicode code points of the bodies."),
            "totalSegments": _count("Billed segments."),
            "totalInboundSegments": _count("Segments of inbound SMS."),
            "totalOutboundSegments": _count("Segments of outbound SMS."),
            "rows": {
                "type": "array",
                "description": "Days and workspace numbers with activity, by date then phoneNumber.",
                "items": _ref("schemas", "SmsRow"),
            },
        },
        "SMS usage (camelCase).",
    ),
    "PhoneUsageReport": _object(
        {
            "workspaceId": {"type": "string", "format": "uuid"},
            "startDate": _DATE,
            "endDate": _DATE,
            "dataAsOf": _DATA_AS_OF,
            "totalCalls": _count("Completed calls, each on the day it started (UTC, or in tz)."),
            "totalInbound": _count("Completed inbound calls."),
            "totalOutbound": _count("Completed outbound calls."),
            "totalDurationSeconds": _count("Each call's length rounded to the second (halves up), summed."),
            "rows": {
                "type": "array",
                "description": "Days and workspace numbers with calls, by date then phoneNumber.",
                "items": _ref("schemas", "PhoneRow"),
            },
        },
        "Phone usage (camelCase).",
    ),
    "VoiceUsageReport": _object(
        {
            "workspaceId": {"type": "string", "format": "uuid"},
            "startDate": _DATE,
            "endDate": _DATE,
            "dataAsOf": _DATA_AS_OF,
            "totalSttDurationSeconds": _SECONDS,
            "totalSttMessages": _count("Speech-to-text events."),
            "totalTtsCharacters": _count("Characters synthesised."),
            "totalTtsMessages": _count("Text-to-speech events."),
            "sttByProvider": {
                "type": "array",
                "description": "By provider and model, sorted by provider then model.",
                "items": _ref("schemas", "SttModelUsage"),
            },
            "ttsByProvider": {
                "type": "array",
                "description": "By provider and model, sorted by provider then model.",
                "items": _ref("schemas", "TtsModelUsage"),
            },
            "sttRows": {
                "type": "array",
                "description": "Days with activity, by date, provider, model.",
                "items": _ref("schemas", "SttRow"),
            },
            "ttsRows": {
                "type": "array",
                "description": "Days with activity, by date, provider, model.",
                "items": _ref("schemas", "TtsRow"),
            },
        },
        "Voice usage (camelCase).",
    ),
    "MemberUsageReport": _object(
        {
            "workspaceId": {"type": "string", "format": "uuid"},
            "memberId": {"type": "string", "format": "uuid"},
            "startDate": _DATE,
            "endDate": _DATE,
            "dataAsOf": _DATA_AS_OF,
            "totalChats": _count("Chats the member owns, created in the range."),
            "totalMessages": _count("Messages the member sent (any role, any channel)."),
            "totalCredits": _CREDITS,
            "totalTokens": _count("Prompt plus completion tokens of AI events in chats the member owns."),
        },
        "One member's usage (camelCase).",
    ),
    "Member": _object(
        {
            "memberId": {"type": "string", "format": "uuid"},
            "displayName": {"type": ["string", "null"]},
            "role": {"type": ["string", "null"], "description": "The name of the member's current role."},
        }
    ),
    "MemberList": {
        "type": "array",
        "description": "Active members, sorted by displayName then memberId.",
        "items": _ref("schemas", "Member"),
    },
}

# The items of the reports' lists, named so that generated clients name their types alike.
_SCHEMAS["AiProviderUsage"] = _object(
    {"provider": _TEXT, **_AI_AMOUNTS}, "One provider's AI usage in the range."
)
_SCHEMAS["AiTypeUsage"] = _object({"type": _TEXT, **_AI_AMOUNTS}, "One model type's AI usage in the range.")
_SCHEMAS["AiModelUsage"] = _object(
    {
        "model": _TEXT,
        "provider": _TEXT,
        "type": _TEXT,
        "total_tokens": _count("Prompt plus completion tokens."),
        "total_credits": _CREDITS,
    },
    "One (model, provider, type) group's AI usage in the range.",
)
_SCHEMAS["SmsRow"] = _object(
    {
        "date": _DATE,
        "phoneNumber": _PHONE_NUMBER,
        "inbound": _count("Inbound SMS."),
        "outbound": _count("Outbound SMS."),
        "characters": _count("Unicode code points."),
        "segments": _count("Billed segments."),
        "inboundSegments": _count("Segments of inbound SMS."),
        "outboundSegments": _count("Segments of outbound SMS."),
    },
    "One day's SMS of one workspace number.",
)
_SCHEMAS["PhoneRow"] = _object(
    {
        "date": _DATE,
        "phoneNumber": _PHONE_NUMBER,
        "inbound": _count("Completed inbound calls."),
        "outbound": _count("Completed outbound calls."),
        "totalDurationSeconds": _count("Rounded seconds, summed."),
    },
    "One day's calls of one workspace number.",
)
_SCHEMAS["SttModelUsage"] = _object(
    {
        "provider": _TEXT,
        "model": _TEXT,
        "durationSeconds": _SECONDS,
        "messages": _count("Events."),
    },
    "One STT provider and model in the range.",
)
_SCHEMAS["TtsModelUsage"] = _object(
    {
        "provider": _TEXT,
        "model": _TEXT,
        "characters": _count("Characters."),
        "messages": _count("Events."),
    },
    "One TTS provider and model in the range.",
)
_SCHEMAS["SttRow"] = _object(
    {
        "date": _DATE,
        "provider": _TEXT,
        "model": _TEXT,
        "durationSeconds": _SECONDS,
        "messages": _count("Events."),
    },
    "One day's STT of one provider and model.",
)
_SCHEMAS["TtsRow"] = _object(
    {
        "date": _DATE,
        "provider": _TEXT,
        "model": _TEXT,
        "characters": _count("Characters."),
        "messages": _count("Events."),
    },
    "One day's TTS of one provider and model.",
)


# Every report body may name its zone (CONTRACT §6); ``tz`` is the one optional field.
for _report_schema in (
    "AiUsageReport",
    "SmsUsageReport",
    "PhoneUsageReport",
    "VoiceUsageReport",
    "MemberUsageReport",
):
    _SCHEMAS[_report_schema]["properties"]["tz"] = _TZ_FIELD


def _error_response(
    description: str,
    codes: tuple[str, ...],
    *,
    www_authenticate: bool = False,
    scope_challenge: bool = False,
    allow: bool = False,
    retry_after: bool = False,
) -> dict[str, Any]:
    """An error response; ``codes``: the values its body's ``error.code`` takes."""
    listed = ", ".join(f"`{code}`" for code in codes)
    response: dict[str, Any] = {
        "description": f"{description} error.code: {listed}.",
        "content": {_JSON: {"schema": _ref("schemas", "Error")}},
    }
    headers: dict[str, Any] = {
        "Cache-Control": {
            "description": "no-store on the app's errors: an error is never cached.",
            "schema": {"type": "string"},
        }
    }
    if www_authenticate:
        headers["WWW-Authenticate"] = {
            "description": 'Bearer challenge (with error="invalid_token" when a key was sent).',
            "schema": {"type": "string"},
            "required": True,
        }
    if scope_challenge:
        headers["WWW-Authenticate"] = {
            "description": 'insufficient_scope only: Bearer realm="usage-reports", error="insufficient_scope", '
            'scope="<the scope needed>".',
            "schema": {"type": "string"},
        }
    if allow:
        headers["Allow"] = {"description": "GET, HEAD.", "schema": {"type": "string"}, "required": True}
    if retry_after:
        headers["Retry-After"] = {
            "description": "Seconds to wait before trying again: 5 for an unreachable database, 60 otherwise.",
            "schema": {"type": "integer"},
            "required": True,
        }
    response["headers"] = headers
    return response


_RESPONSES: dict[str, Any] = {
    "BadRequest": _error_response(
        "A malformed or impossible date, start_date after end_date, a malformed UUID, an unknown time "
        "zone (tz), a format other than json or csv, an unknown or repeated query parameter: the message "
        "names the parameter. Or a request that is not valid HTTP (refused before the app sees it).",
        ("invalid_parameter", "unknown_parameter", "bad_request"),
    ),
    "Unauthorized": _error_response(
        "No key, or a malformed, unknown, expired or revoked key, or a key whose member is no longer "
        "active in its workspace.",
        ("missing_api_key", "invalid_api_key", "expired_api_key", "revoked_api_key", "inactive_member"),
        www_authenticate=True,
    ),
    "Forbidden": _error_response(
        "The key belongs to another workspace, or lacks the scope (or the member's role no longer grants it).",
        ("wrong_workspace", "insufficient_scope"),
        scope_challenge=True,
    ),
    "NotFound": _error_response(
        "No such path, or (member usage) no such member in this workspace.", ("not_found", "member_not_found")
    ),
    "MethodNotAllowed": _error_response(
        "Only GET (and HEAD) are accepted; OPTIONS too is a 405.", ("method_not_allowed",), allow=True
    ),
    "UriTooLong": _error_response(
        "The request line is longer than 4 KB (refused before the app sees it).", ("uri_too_long",)
    ),
    "HeaderFieldsTooLarge": _error_response(
        "A header field is larger than 8 KB, or there are more than 100 (refused before the app sees it).",
        ("request_header_fields_too_large",),
    ),
    "ExpectationFailed": _error_response(
        "An Expect header other than 100-continue (refused before the app sees it).", ("expectation_failed",)
    ),
    "ServerError": _error_response(
        "A fault of the server; the body never carries details.", ("internal_error",)
    ),
    "NotImplemented": _error_response(
        "A Transfer-Encoding the server does not implement (refused before the app sees it).",
        ("not_implemented",),
    ),
    "Unavailable": _error_response(
        "The report cannot be answered right now: the database is unreachable (Retry-After: 5); the "
        "warehouse is not ready for this API: the marts are not built yet or are older than the API, or "
        "the API's role lacks a privilege (Retry-After: 60; the operator runs make build or make api-role); "
        "or the report took more than the server allows to compute (its statement timeout, or "
        "PostgreSQL's limits of memory or of one value's size; Retry-After: 60): a shorter range answers.",
        ("service_unavailable",),
        retry_after=True,
    ),
}

_CACHE_HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "A strong entity tag derived from the report, the resolved parameters (workspace, member, "
        "range, tz, format), data_as_of and the marts' version (it changes with every build that can have "
        "changed the answer); send it back in If-None-Match to revalidate.",
        "schema": {"type": "string", "pattern": '^"[0-9a-f]{32}"$'},
        "required": True,
    },
    "Cache-Control": {
        "description": "private: the answer is for this key only; shared caches must not store it.",
        "schema": {"type": "string", "const": "private"},
        "required": True,
    },
    "Vary": {
        "description": "Authorization, Accept.",
        "schema": {"type": "string"},
        "required": True,
    },
}

_RESPONSES["NotModified"] = {
    "description": "The request's If-None-Match header names the current ETag (a list of tags, weak or strong, "
    "or *): the answer the client holds is still the answer. No body. Sent only once the caller may have "
    "the answer (401, 400, 403 and 404 come first).",
    "headers": _CACHE_HEADERS,
}

_PARAMETERS: dict[str, Any] = {
    "WorkspaceId": {
        "name": "workspace_id",
        "in": "path",
        "required": True,
        "description": "The workspace, a UUID.",
        "schema": {"type": "string", "format": "uuid", "examples": [openapi_examples.WORKSPACE_ID]},
    },
    "MemberId": {
        "name": "member_id",
        "in": "path",
        "required": True,
        "description": "The member, a UUID.",
        "schema": {"type": "string", "format": "uuid", "examples": [openapi_examples.MEMBER_ID]},
    },
}


def _date_parameter(name: str, default: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"Inclusive, YYYY-MM-DD (a calendar day in tz; UTC by default). Default: {default}, "
        "today being the current date in tz.",
        "schema": {"type": "string", "format": "date", "pattern": _DATE_PATTERN},
    }


_TZ_PARAMETER: dict[str, Any] = {
    "name": "tz",
    "in": "query",
    "required": False,
    "description": "An IANA time-zone name (UTC, Europe/Berlin, Asia/Kolkata, America/Los_Angeles ...), "
    "case as in the tz database. start_date, end_date, the defaults and every daily bucket are calendar days "
    "in this zone (days of 23 or 25 hours at daylight-saving changes, offsets such as +5:30 and +5:45 "
    "included), and the body names the zone (tz). Default UTC; with UTC the body is exactly as without tz. "
    "An unknown zone is a 400.",
    "schema": {
        "type": "string",
        "default": "UTC",
        "minLength": 1,
        "examples": ["UTC", "America/Los_Angeles"],
    },
}

_FORMAT_PARAMETER: dict[str, Any] = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "json or csv. Without it the Accept header decides: CSV when it prefers text/csv to "
    "application/json, JSON otherwise. CSV: UTF-8, a header line, RFC 4180 quoting, CRLF line ends, "
    "snake_case columns, one line per row of the report's finest grouping (the lines add up to the JSON "
    "totals), Content-Disposition: attachment with a file name naming the report, workspace, range and zone.",
    "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
}


def _operation(
    *,
    operation_id: str,
    summary: str,
    description: str,
    schema: str,
    scope: str,
    default_start: str | None,
    default_end: str | None,
    csv_columns: Sequence[str] = (),
    csv_note: str = "",
    member: bool = False,
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [_ref("parameters", "WorkspaceId")]
    if member:
        parameters.append(_ref("parameters", "MemberId"))
    report = default_start is not None and default_end is not None
    if default_start is not None and default_end is not None:
        parameters.append(_date_parameter("start_date", default_start))
        parameters.append(_date_parameter("end_date", default_end))
        parameters += [_TZ_PARAMETER, _FORMAT_PARAMETER]
    example, csv_example = openapi_examples.EXAMPLES[schema]
    answer: dict[str, Any] = {
        "description": "The report." if report else "The members.",
        "content": {_JSON: {"schema": _ref("schemas", schema), "example": example}},
    }
    if report:
        answer["content"][_CSV] = {
            "example": csv_example,
            "schema": {
                "type": "string",
                "description": "The report's rows as CSV (format=csv or Accept: text/csv): UTF-8, a header "
                f"line, RFC 4180 quoting; columns {', '.join(csv_columns)}{csv_note}. The lines add up to the "
                "JSON totals.",
            },
        }
        answer["headers"] = {
            **_CACHE_HEADERS,
            "Content-Disposition": {
                "description": 'CSV only: attachment; filename="<report>_<workspace_id>[_<member_id>]_<start>_<end>'
                '[_<tz with / as ->].csv".',
                "schema": {"type": "string"},
            },
        }
    responses: dict[str, Any] = {
        "200": answer,
        **({"304": _ref("responses", "NotModified")} if report else {}),
        "400": _ref("responses", "BadRequest"),
        "401": _ref("responses", "Unauthorized"),
        "403": _ref("responses", "Forbidden"),
        "404": _ref("responses", "NotFound"),
        "405": _ref("responses", "MethodNotAllowed"),
        "414": _ref("responses", "UriTooLong"),
        "417": _ref("responses", "ExpectationFailed"),
        "431": _ref("responses", "HeaderFieldsTooLarge"),
        "500": _ref("responses", "ServerError"),
        "501": _ref("responses", "NotImplemented"),
        "503": _ref("responses", "Unavailable"),
    }
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": f"{description}\n\nScope: {scope}.",
            "tags": ["members" if schema == "MemberList" else "reports"],
            "parameters": parameters,
            "responses": responses,
        }
    }


_WORKSPACE = "/api/v2/w/{workspace_id}"

_PATHS: dict[str, Any] = {
    f"{_WORKSPACE}/reports/ai-usage": _operation(
        operation_id="getAiUsage",
        summary="AI usage",
        description="Tokens and credits of the workspace's AI events, by provider, model type and model.",
        schema="AiUsageReport",
        scope="analytics:read",
        default_start="today - 30 days",
        default_end="today",
        csv_columns=csvexport.AI_COLUMNS,
        csv_note=" (one line per day, provider, model and type)",
    ),
    f"{_WORKSPACE}/reports/sms-usage": _operation(
        operation_id="getSmsUsage",
        summary="SMS usage",
        description="SMS counts, characters and segments per day and workspace number.",
        schema="SmsUsageReport",
        scope="analytics:read",
        default_start="first day of the current month",
        default_end="last day of the current month",
        csv_columns=csvexport.SMS_COLUMNS,
    ),
    f"{_WORKSPACE}/reports/phone-usage": _operation(
        operation_id="getPhoneUsage",
        summary="Phone usage",
        description="Completed calls and their durations per day and workspace number.",
        schema="PhoneUsageReport",
        scope="analytics:read",
        default_start="first day of the current month",
        default_end="last day of the current month",
        csv_columns=csvexport.PHONE_COLUMNS,
    ),
    f"{_WORKSPACE}/reports/voice-usage": _operation(
        operation_id="getVoiceUsage",
        summary="Voice usage",
        description="Speech-to-text seconds and text-to-speech characters by provider, model and day.",
        schema="VoiceUsageReport",
        scope="analytics:read",
        default_start="first day of the current month",
        default_end="last day of the current month",
        csv_columns=csvexport.VOICE_COLUMNS,
        csv_note=" (kind is stt or tts; STT lines leave characters empty, TTS lines duration_seconds)",
    ),
    f"{_WORKSPACE}/reports/member-usage/{{member_id}}": _operation(
        operation_id="getMemberUsage",
        summary="One member's usage",
        description="Chats, messages, credits and tokens of one member. 404 when the member is not in "
        "the workspace, answered only to a caller allowed to ask (a deleted member of the workspace "
        "is still reported).",
        schema="MemberUsageReport",
        scope="own usage: members:read or analytics:read; anyone else's: analytics:read",
        default_start="first day of the current month",
        default_end="today",
        csv_columns=csvexport.MEMBER_COLUMNS,
        member=True,
    ),
    f"{_WORKSPACE}/members": _operation(
        operation_id="listMembers",
        summary="Members",
        description="The workspace's active members with their role names. Takes no query parameters.",
        schema="MemberList",
        scope="members:read",
        default_start=None,
        default_end=None,
    ),
    OPENAPI_PATH: {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {_JSON: {"schema": {"type": "object"}}},
                },
                "405": _ref("responses", "MethodNotAllowed"),
                "414": _ref("responses", "UriTooLong"),
                "431": _ref("responses", "HeaderFieldsTooLarge"),
            },
        }
    },
}

OPENAPI_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Usage reports API",
        "version": "2.0.0",
        "description": (
            "Usage reports of a workspace: AI, SMS, phone, voice and per member, read from the warehouse "
            "marts (calendar days in UTC or in the zone tz names, both ends of a range inclusive), and the "
            "list of members. Every report is also available as CSV (format=csv or Accept: text/csv) and "
            "carries an ETag (If-None-Match gets a 304) and Cache-Control: private.\n\n"
            "Authenticate with `Authorization: Bearer <key>`; keys are made with "
            "`flask --app api keys create`. A key's effective scopes are the scopes it was granted that "
            "the member's current role also holds. Checks run in this order: 401 (key), 400 (path ids "
            "and query parameters; unknown query parameter names are refused), 403 (workspace, scope), "
            '404. Every error has the body `{"error": {"status", "code", "message"}}`.\n\n'
            "Known scopes: " + ", ".join(KNOWN_SCOPES) + "."
        ),
    },
    "tags": [
        {"name": "reports", "description": "Usage reports (analytics:read, or members:read for own usage)."},
        {"name": "members", "description": "The workspace's members (members:read)."},
        {"name": "meta", "description": "About the API."},
    ],
    # the server that serves this document (what OpenAPI assumes without the list, stated for
    # linters and generated clients, which otherwise ask for a base URL)
    "servers": [{"url": "/", "description": "The server that serves this document."}],
    "security": [{"bearerAuth": []}],
    "paths": _PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "urk_ followed by 43 URL-safe characters",
                "description": "An API key made by `flask --app api keys create`.",
            }
        },
        "parameters": _PARAMETERS,
        "responses": _RESPONSES,
        "schemas": _SCHEMAS,
    },
}


def openapi_document() -> dict[str, Any]:
    """A copy of the document (callers may not mutate the served one)."""
    return copy.deepcopy(OPENAPI_DOCUMENT)


@bp.get(OPENAPI_PATH)
def serve_openapi() -> Response:
    response = jsonify(OPENAPI_DOCUMENT)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
