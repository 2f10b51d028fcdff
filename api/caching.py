"""Conditional requests for the reports (CONTRACT §6): ``ETag``, ``If-None-Match``, 304.

A report's answer depends only on what it was asked (report, workspace, member,
range, zone, format) and on the marts, and the marts change only in a build.
Most changes move ``data_as_of``, but not all: a row whose loader committed
late (stamped before ``data_as_of``) changes reports without moving it. So the
``ETag`` is a hash of those parameters, ``data_as_of``, ``version_at``
(``marts.data_freshness``: when a mart last read staging rows a build wrote,
which every change of a mart needs) and the OIDs of the mart tables
(``MART_TABLE_IDS``, read live: a full refresh of some marts only, with
``--select``, or one killed before ``data_freshness``, never moves
``version_at`` but replaces mart tables, and so moves them at once),
plus ``REPRESENTATION``, bumped whenever a body's shape changes. It is strong: the
bytes are the same for the same inputs (JSON and CSV are different
representations, hence the format in it).

Order of checks: the caller is authenticated and authorized first (401, 400,
403 and, for member usage, 404 always win), then, only when the request sends
``If-None-Match``, the version is read with one tiny query (the one-row
``marts.data_freshness``) and a match (weak comparison, lists and ``*``
understood) is answered 304 without running the report. A 200's ``ETag`` is
computed from the version its own statement read (``note_version``), so it
always names exactly the body it comes with, even when a build finishes in
between. While a build holds its lock (read by the key check as the request
begins, and by the report's statement as it ends) a body may already count rows
its version does not name, since each mart commits before ``data_freshness``:
then the tag is a hash of the body itself (``body_etag``), and only a tag of the
same bytes is answered 304. So it is after a build that wrote some marts and
stopped before ``data_freshness`` (a model failed, a kill), until a build
finishes: ``data_freshness.build_unfinished`` (``buildlock.MARTS_UNSETTLED``).

Every answer carries ``Cache-Control: private`` (a per-key answer: shared
caches must not keep it; browsers and clients may, and revalidate with the
``ETag``) and ``Vary: Authorization, Accept``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, g, request

from api.buildlock import MARTS_UNSETTLED
from api.db import get_db
from api.jsonenc import timestamp_text
from api.zones import MARTS

REPRESENTATION = "reports/1"
CACHE_CONTROL = "private"
VARY = "Authorization, Accept"

# The OIDs of the report marts' tables, as one text ('-' for a missing one): a scalar
# sub-select, so it runs once per statement (not once per row), and on every execution
# (``to_regclass``), so a prepared statement sees a table replaced since it was planned.
MART_TABLES = (
    *(f"marts.{mart}_{grain}" for mart in sorted(MARTS) for grain in ("daily", "quarter_hourly")),
    "marts.voice_usage_daily_lists",
    "marts.ai_usage_running_totals",
    "marts.phone_usage_daily_lists",
    "marts.sms_usage_daily_lists",
)
MART_TABLE_IDS = (
    "(select concat_ws(',', "
    + ", ".join(f"coalesce(to_regclass('{table}')::oid::text, '-')" for table in MART_TABLES)
    + "))"
)

DATA_VERSION_SQL = (
    f"select data_as_of, version_at, {MART_TABLE_IDS} as mart_tables, {MARTS_UNSETTLED} as building"
    " from marts.data_freshness where freshness_id = 1"
)
_NOTED_VERSION = "_usage_reports_data_version"


@dataclass(frozen=True)
class Version:
    """What of the marts a report's answer depends on: ``data_freshness``'s two times and
    which tables the marts are."""

    data_as_of: datetime | None
    version_at: datetime | None
    tables: str | None = None
    building: bool = False  # the marts were unsettled (``MARTS_UNSETTLED``) as it was read


def read_version() -> Version:
    row = get_db().fetch_one(DATA_VERSION_SQL)
    if row is None:
        return Version(None, None)
    return Version(row["data_as_of"], row["version_at"], row["mart_tables"], bool(row["building"]))


def note_version(rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep the version a report's statement read (its ``data_as_of``, ``data_version`` and
    ``mart_tables`` columns, equal on every row) for this request's ``ETag``."""
    row = rows[0] if rows else {}
    version = Version(
        row.get("data_as_of"), row.get("data_version"), row.get("mart_tables"), bool(row.get("building"))
    )
    setattr(g, _NOTED_VERSION, version)


def noted_version() -> Version:
    return g.get(_NOTED_VERSION, Version(None, None))


def etag(report: str, parameters: Mapping[str, Any], version: Version) -> str:
    """A strong, quoted entity tag for this report, these parameters and this version.
    The parameters are the parsed ones (ids as UUIDs), so spellings of one request
    (an upper-case id in the path) share a tag."""
    return _tag(
        report,
        parameters,
        data_as_of=None if version.data_as_of is None else timestamp_text(version.data_as_of),
        version_at=None if version.version_at is None else timestamp_text(version.version_at),
        tables=version.tables,
    )


def body_etag(report: str, parameters: Mapping[str, Any], body: bytes) -> str:
    """The tag of an answer made while a build runs: the build commits each mart before
    ``data_freshness``, so for a moment a body may already count rows its version does not
    name, and a version's tag would name two bodies. A hash of the bytes names only these
    (and differs from every version's tag: another input)."""
    return _tag(report, parameters, body=hashlib.sha256(body).hexdigest())


def _tag(report: str, parameters: Mapping[str, Any], **inputs: str | None) -> str:
    """A strong, quoted tag: a hash of the representation, the report, its parameters and ``inputs``."""
    described = {
        "representation": REPRESENTATION,
        "report": report,
        "parameters": {name: None if value is None else str(value) for name, value in parameters.items()},
        **inputs,
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
