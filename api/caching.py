"""Conditional requests for the reports (CONTRACT §6): ``ETag``, ``If-None-Match``, 304.

A report's answer depends only on what it was asked (path, workspace, member,
range, zone, format) and on the marts, and the marts change only when a build
lands newer rows, which moves ``data_as_of``. So the ``ETag`` is a hash of
those parameters and ``data_as_of`` (plus ``REPRESENTATION``, bumped whenever
a body's shape changes). It is strong: the bytes are the same for the same
inputs (JSON and CSV are different representations, hence the format in it).

Order of checks: the caller is authenticated and authorized first (401, 400,
403 and, for member usage, 404 always win), then, only when the request sends
``If-None-Match``, ``data_as_of`` is read with one tiny query (the one-row
``marts.data_freshness``) and a match (weak comparison, lists and ``*``
understood) is answered 304 without running the report. A 200's ``ETag`` is
computed from the ``data_as_of`` its own statement read, so it always names
exactly the body it comes with, even when a build finishes in between.

Every answer carries ``Cache-Control: private`` (a per-key answer: shared
caches must not keep it; browsers and clients may, and revalidate with the
``ETag``) and ``Vary: Authorization, Accept``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response, request

from api.db import get_db
from api.jsonenc import timestamp_text

REPRESENTATION = "reports/1"
CACHE_CONTROL = "private"
VARY = "Authorization, Accept"

DATA_AS_OF_SQL = "select data_as_of from marts.data_freshness where freshness_id = 1"


def read_data_as_of() -> datetime | None:
    row = get_db().fetch_one(DATA_AS_OF_SQL)
    return None if row is None else row["data_as_of"]


def etag(path: str, parameters: Mapping[str, Any], data_as_of: datetime | None) -> str:
    """A strong, quoted entity tag for this report, these parameters and this ``data_as_of``."""
    described = {
        "representation": REPRESENTATION,
        "path": path,
        "parameters": {name: None if value is None else str(value) for name, value in parameters.items()},
        "data_as_of": None if data_as_of is None else timestamp_text(data_as_of),
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
    return f'"{digest[:32]}"'


def is_conditional() -> bool:
    return bool(request.headers.get("If-None-Match", "").strip())


def matches(tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 asks for it) or is ``*``."""
    return request.if_none_match.contains_weak(tag.strip('"'))


def cacheable(response: Response, tag: str) -> Response:
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = VARY
    return response


def not_modified(tag: str) -> Response:
    """304: no body, the same validators and caching headers a 200 would carry."""
    response = Response(status=304)
    response.headers.pop("Content-Type", None)
    return cacheable(response, tag)
