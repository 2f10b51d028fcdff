"""The page's range control: the quick-pick links, the form's dates and zone, and each
report's range resolved exactly as its API endpoint resolves the same query."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import request

from api import reports, zones
from api.errors import ApiError
from api.params import RANGE_PARAMETERS, DateRange, current_month, parse_date, range_from, single_values
from api.zones import Zone

# The form's label for each query parameter, as the page's messages name them.
FIELD_LABELS = {"start_date": "From", "end_date": "To", "tz": "Time zone"}
_PARAMETER_NAME = re.compile(r"\b(" + "|".join(FIELD_LABELS) + r")\b")


def in_form_words(error: ApiError) -> str:
    """The API's message for a refused range or zone, naming the form's fields (``From``,
    ``To``, ``Time zone``) rather than the query's parameters."""
    return _PARAMETER_NAME.sub(lambda match: f"\u201c{FIELD_LABELS[match.group(1)]}\u201d", error.message)


@dataclass(frozen=True)
class QuickPick:
    label: str
    dates: DateRange
    active: bool


def quick_picks(today: date, given: tuple[str | None, str | None]) -> list[QuickPick]:
    """The range links above the form. "Last 30 days" is 30 days ending today, as it says; the
    AI report's API default (``last_30_days``, today - 30 days through today) is 31."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    picks = [
        ("This month", current_month(today)),
        ("Last month", DateRange(last_month_end.replace(day=1), last_month_end)),
        ("Last 30 days", DateRange(today - timedelta(days=29), today)),
    ]
    return [
        QuickPick(label, dates, given == (dates.start.isoformat(), dates.end.isoformat()))
        for label, dates in picks
    ]


def form_dates(given: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """What a refused range's form keeps: each bound that is a real date (so an inverted range
    can be corrected where it was typed); anything else is left empty."""
    return _real_date(given[0]), _real_date(given[1])


def wrong_date_field(given: tuple[str | None, str | None]) -> str:
    """Which field a refused range marks: ``start_date`` or ``end_date`` when only that bound
    is given and is no real date, else ``dates`` (both: the bounds disagree, or both are wrong)."""
    wrong = [
        name
        for name, value in zip(("start_date", "end_date"), given, strict=True)
        if value and _real_date(value) is None
    ]
    return wrong[0] if len(wrong) == 1 else "dates"


def _real_date(value: str | None) -> str | None:
    """``value`` if it is a real date written YYYY-MM-DD (what a date field can hold), else None."""
    try:
        return parse_date(value, "date").isoformat() if value else None
    except ApiError:
        return None


_SHOWN_LENGTH = 40


def not_in_the_form(args: Any) -> str:
    """A sentence quoting what the address gave that the refused form cannot show (a date
    field holds only a real date, the picker only a listed zone), so the reader sees what was
    refused; empty when there is none. Values are shortened, and characters that are not
    printable (controls, bidirectional overrides) shown as U+FFFD."""
    quoted = []
    for name in PAGE_PARAMETERS:
        given = args.getlist(name)
        if len(given) != 1 or not given[0]:
            continue
        value = given[0]
        shown = value in zone_choices() if name == "tz" else _real_date(value) is not None
        if not shown:
            text = "".join(char if char.isprintable() else "\ufffd" for char in value)
            if len(text) > _SHOWN_LENGTH:
                text = text[: _SHOWN_LENGTH - 1] + "\u2026"
            quoted.append(f"\u201c{FIELD_LABELS[name]}\u201d as \u201c{text}\u201d")
    return f"The address gave {' and '.join(quoted)}." if quoted else ""


# Each report the page shows: its name in messages, and its API default range.
REPORT_DEFAULTS: dict[str, tuple[str, Callable[[date], DateRange]]] = {
    "ai": ("AI", reports.AI_DEFAULT_RANGE),
    "sms": ("SMS", reports.SMS_DEFAULT_RANGE),
    "phone": ("phone", reports.PHONE_DEFAULT_RANGE),
    "voice": ("voice", reports.VOICE_DEFAULT_RANGE),
    "member": ("member", reports.MEMBER_DEFAULT_RANGE),
}


# What the page reads from its address: the API's range and zone (never ``format``).
PAGE_PARAMETERS = (*RANGE_PARAMETERS, "tz")


def page_values(args: Any, names: Sequence[str] = PAGE_PARAMETERS) -> dict[str, str]:
    """The address's ``names`` as single values; one given twice is a 400 naming it.

    Unlike the API, the page ignores every other parameter: a link opened from an e-mail or
    a chat often carries tracking tags (``utm_source=...``), and the form shows the range
    and zone the view used, so nothing is taken silently."""
    return single_values(args, names, ignore_unknown=True)


def page_zone(args: Any) -> Zone:
    """The zone the address asks for (``tz``, else UTC), validated as the API does (400)."""
    return zones.parse_zone(page_values(args, ("tz",)).get("tz"), "tz")


def resolve_ranges(
    args: Any, zone: Zone, shown: Sequence[str] = tuple(REPORT_DEFAULTS)
) -> dict[str, DateRange]:
    """The range of each report ``shown`` (``REPORT_DEFAULTS``' keys) exactly as its API endpoint
    resolves the same query (400 on bad input): a missing bound is the report's default from
    today in ``zone``. Only the reports shown are resolved, so an error names one of them."""
    values = page_values(args, RANGE_PARAMETERS)
    today = zone.today()
    return {report: resolved_range(values, report, today) for report in shown}


def resolved_range(values: Mapping[str, str], report: str, today: date) -> DateRange:
    """One report's range from the address's single ``values`` (see ``resolve_ranges``)."""
    name, default = REPORT_DEFAULTS[report]
    try:
        return range_from(values, default, today)
    except ApiError as error:
        raise _default_named(error, values, name, default(today)) from None


def _default_named(error: ApiError, values: Mapping[str, str], report: str, fallback: DateRange) -> ApiError:
    """``error``, unless it is a range that an empty field's default turned around (the field
    the message would name was left empty): then a message in the form's words."""
    given = [name for name in ("start_date", "end_date") if name in values]
    if len(given) != 1:
        return error
    try:
        bound = parse_date(values[given[0]], given[0])
    except ApiError:
        return error  # the given date itself is wrong: the API's message says so
    if given[0] == "end_date":
        message = (
            f"To ({bound:%-d %b %Y}) is before {fallback.start:%-d %b %Y}, where the {report} report "
            "starts when From is empty. Choose a From date too."
        )
    else:
        message = (
            f"From ({bound:%-d %b %Y}) is after {fallback.end:%-d %b %Y}, where the {report} report "
            "ends when To is empty. Choose a To date too."
        )
    return ApiError(error.status, error.code, message)


def range_args() -> dict[str, Any]:
    """The range and zone the URL asked for, to carry through sign-in and sign-out (never anything else)."""
    return {
        name: value
        for name in PAGE_PARAMETERS
        if len(values := request.args.getlist(name)) == 1 and (value := values[0])
    }


@functools.cache
def zone_choices() -> tuple[str, ...]:
    """The picker's zones: UTC first, then every other name the API accepts, sorted."""
    return (zones.UTC_NAME, *sorted(zones.known_zones() - {zones.UTC_NAME}))
