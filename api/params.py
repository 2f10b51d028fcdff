"""Parsing and validating what a client sends: path ids and query parameters.

Every failure is a 400 whose message names the parameter. The rules:

* ids are UUIDs in the canonical 8-4-4-4-12 hexadecimal form (either case);
* dates are exactly ``YYYY-MM-DD`` with ASCII digits and must exist
  (``2026-02-30`` and year ``0000`` are refused); ``start_date`` may not be
  after ``end_date``; a missing one takes the report's default, from today in
  UTC or, for a report given ``tz``, today in that zone;
* a parameter may be given once; an empty value is malformed;
* **unknown parameter names are refused** (400, code ``unknown_parameter``): a
  misspelt ``start_date`` would otherwise silently answer for the default range,
  which for a billing export is worse than an error.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from werkzeug.datastructures import MultiDict

from api.errors import bad_request

_UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SHOWABLE_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")

RANGE_PARAMETERS = ("start_date", "end_date")
# Every report also takes a time zone and an output format (CONTRACT §6; see
# ``api.zones`` and ``api.reportquery``).
REPORT_PARAMETERS = (*RANGE_PARAMETERS, "tz", "format")


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date


def parse_uuid(value: str, name: str) -> uuid.UUID:
    if not _UUID_PATTERN.fullmatch(value):
        raise bad_request(
            "invalid_parameter",
            f"{name} must be a UUID such as 3f2c6a0e-8b1d-4c5e-9a7f-0d1e2f3a4b5c.",
        )
    return uuid.UUID(value)


def parse_date(value: str, name: str) -> date:
    match = _DATE_PATTERN.fullmatch(value)
    if match is None:
        raise bad_request("invalid_parameter", f"{name} must be a date written YYYY-MM-DD.")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise bad_request("invalid_parameter", f"{name} is not a real calendar date.") from None


def single_values(
    args: MultiDict[str, str], accepted: Collection[str], ignore_unknown: bool = False
) -> dict[str, str]:
    """The query parameters as a plain dict, refusing repeated ones, and unknown ones unless
    ``ignore_unknown`` (then left out)."""
    values: dict[str, str] = {}
    for name, given in args.lists():
        if name not in accepted:
            if ignore_unknown:
                continue
            shown = f" '{name}'" if _SHOWABLE_NAME.fullmatch(name) else ""
            expected = ", ".join(accepted) if accepted else "none"
            raise bad_request(
                "unknown_parameter",
                f"Unknown query parameter{shown}; this endpoint accepts: {expected}.",
            )
        if len(given) != 1:
            raise bad_request("invalid_parameter", f"{name} must be given at most once.")
        values[name] = given[0]
    return values


def range_from(values: Mapping[str, str], default: Callable[[date], DateRange], today: date) -> DateRange:
    """``start_date``/``end_date`` from already single ``values``, each defaulting to ``default(today)``."""
    fallback = default(today)
    start = parse_date(values["start_date"], "start_date") if "start_date" in values else fallback.start
    end = parse_date(values["end_date"], "end_date") if "end_date" in values else fallback.end
    if start > end:
        if "start_date" not in values:
            raise bad_request(
                "invalid_parameter",
                f"end_date is before this report's default start_date ({start.isoformat()}); give start_date too.",
            )
        if "end_date" not in values:
            raise bad_request(
                "invalid_parameter",
                f"start_date is after this report's default end_date ({end.isoformat()}); give end_date too.",
            )
        raise bad_request("invalid_parameter", "start_date must not be after end_date.")
    return DateRange(start, end)


def last_30_days(today: date) -> DateRange:
    """AI report default: today - 30 days through today."""
    return DateRange(today - timedelta(days=30), today)


def current_month(today: date) -> DateRange:
    """SMS, phone and voice default: the first through the last day of this month."""
    last_day = calendar.monthrange(today.year, today.month)[1]
    return DateRange(today.replace(day=1), today.replace(day=last_day))


def month_to_date(today: date) -> DateRange:
    """Member usage default: the first of this month through today."""
    return DateRange(today.replace(day=1), today)
