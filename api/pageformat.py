"""How the Detailed Reports page writes numbers, dates and ranges for people (the template
helpers ``api.page`` registers); the machine-readable values beside them (``<data value>``)
are the API's own JSON text (``literal``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from api.jsonenc import decimal_literal, encode, rounded
from api.reports import CREDIT_PLACES, SECONDS_PLACES
from api.zones import UTC_ZONE, Zone

DASH = " \u2013 "  # an en dash between the ends of a range


def fmt_count(value: int | Decimal | None) -> str:
    return f"{int(value or 0):,}"


def fmt_decimal(value: Decimal | int | None, min_places: int, max_places: int) -> str:
    """Thousands separators, the value's own decimals (up to ``max_places``), at least ``min_places``."""
    text = f"{Decimal(value or 0):,.{max_places}f}"
    if max_places > min_places:
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(min_places, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return text


def fmt_credits(value: Decimal | int | None) -> str:
    """Credits in tables: all six decimals the API gives, so a column lines up."""
    return fmt_decimal(value, CREDIT_PLACES, CREDIT_PLACES)


def fmt_credits_short(value: Decimal | int | None) -> str:
    """Credits in a headline: two decimals (the exact value is shown beside it when they differ)."""
    return f"{rounded(value, 2):,.2f}"


def is_exact_short(value: Decimal | int | None) -> bool:
    return rounded(value, 2) == Decimal(value or 0)


def fmt_seconds(value: Decimal | int | None) -> str:
    """Voice seconds: all three decimals the API gives, so a column lines up (as credits)."""
    return fmt_decimal(value, SECONDS_PLACES, SECONDS_PLACES)


def fmt_duration(seconds: int | Decimal | None) -> str:
    """132 -> "2 min 12 s"; 7384 -> "2 h 3 min"; from an hour on, to the nearest minute
    (118796, 32:59:56 -> "33 h 0 min"), half a minute up."""
    total = round(Decimal(seconds or 0))
    if total >= 3600:
        hours, minutes = divmod((total + 30) // 60, 60)
        return f"{hours:,} h {minutes} min"
    minutes, secs = divmod(total, 60)
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def fmt_day(day: date | str) -> str:
    """``1 Nov 2026``; a body's ``YYYY-MM-DD`` text is read as that date."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.day} {day:%b %Y}"


def fmt_range(start: date, end: date) -> str:
    if start == end:
        return fmt_day(start)
    if start.year == end.year and start.month == end.month:
        return f"{start.day}{DASH}{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b}{DASH}{end.day} {end:%b %Y}"
    return f"{fmt_day(start)}{DASH}{fmt_day(end)}"


def fmt_timestamp(value: datetime | None, zone: Zone = UTC_ZONE) -> str:
    """An instant to the minute, as a clock in ``zone`` shows it: "26 Nov 2026, 01:59 UTC", or
    "25 Nov 2026, 17:59 (America/Los_Angeles)" beside reports of Los Angeles days."""
    if value is None:
        return "no data yet"
    if zone.is_utc:
        return f"{value.astimezone(UTC):%-d %b %Y, %H:%M} UTC"
    return f"{value.astimezone(zone.info):%-d %b %Y, %H:%M} ({zone.name})"


def literal(value: Any) -> str:
    """The value exactly as the API's JSON writes it (for ``<data value>``)."""
    if type(value) is int:  # the common cases first: a page can hold thousands
        return str(value)
    if type(value) is Decimal:
        return decimal_literal(value)
    return encode(value).strip('"')


def num(value: Any, metric: str | None = None, kind: str = "count", field: str | None = None) -> Markup:
    """A number as the page shows it, ``<data value="(literal)">(formatted)</data>``, with
    ``data-metric`` (a figure of its own) or ``data-field`` (a cell of a keyed row); ``kind``
    is ``count``, ``credits`` or ``seconds``. A function rather than a template macro: a
    year's tables hold tens of thousands, and a macro call costs several times this."""
    names = f' data-metric="{escape(metric)}"' if metric else ""
    if field:
        names += f' data-field="{escape(field)}"'
    if kind == "credits":
        text = fmt_credits(value)
    elif kind == "seconds":
        text = fmt_seconds(value)
    else:
        text = fmt_count(value)
    return Markup(f'<data value="{escape(literal(value))}"{names}>{escape(text)}</data>')


def share(part: Decimal | int, whole: Decimal | int) -> str:
    if not whole:
        return "\u2013"
    return f"{Decimal(part) / Decimal(whole) * 100:.1f}%"
