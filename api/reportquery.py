"""What every report's query string resolves to (CONTRACT §5 and §6).

``start_date``, ``end_date``, ``tz`` and ``format``, each at most once; any
other name is a 400 (see ``api.params``). ``tz`` is read first because the
default range is taken from today in that zone.

The output format is ``format`` when given (``json`` or ``csv``, anything
else a 400); otherwise CSV when the ``Accept`` header prefers ``text/csv``
to ``application/json`` (a strictly higher quality, or a more specific
pattern at the same quality: ``text/csv``, ``text/*``, ``text/csv, */*``),
and JSON in every other case (no header, ``*/*``, a tie, or types the API
does not make: the API never answers 406). Media-type parameters in the
header (``text/csv; charset=utf-8``, ``text/csv; header=present``) do not
change the type asked for; only ``q`` weighs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from werkzeug.datastructures import MIMEAccept, MultiDict

from api.errors import bad_request
from api.params import REPORT_PARAMETERS, DateRange, range_from, single_values
from api.zones import Zone, parse_zone

JSON = "json"
CSV = "csv"
FORMATS = (JSON, CSV)
MEDIA_TYPES = {JSON: "application/json", CSV: "text/csv"}


@dataclass(frozen=True)
class ReportQuery:
    dates: DateRange
    zone: Zone
    format: str


def negotiated_format(given: str | None, accept: MIMEAccept) -> str:
    if given is not None:
        if given not in FORMATS:
            raise bad_request("invalid_parameter", "format must be json or csv.")
        return given
    best = _types_only(accept).best_match([MEDIA_TYPES[JSON], MEDIA_TYPES[CSV]])
    return CSV if best == MEDIA_TYPES[CSV] else JSON


def _types_only(accept: MIMEAccept) -> MIMEAccept:
    """``accept`` without media-type parameters: Werkzeug matches ``text/csv; charset=utf-8``
    only to an offer with the same parameters, and the API offers bare types."""
    return MIMEAccept([(value.partition(";")[0].strip(), quality) for value, quality in accept])


def report_query(
    args: MultiDict[str, str], default: Callable[[date], DateRange], accept: MIMEAccept
) -> ReportQuery:
    values = single_values(args, REPORT_PARAMETERS)
    zone = parse_zone(values.get("tz"), "tz")
    dates = range_from(values, default, zone.today())
    return ReportQuery(dates=dates, zone=zone, format=negotiated_format(values.get("format"), accept))
