"""Reports in any time zone (CONTRACT §6): the ``tz`` parameter and where a report reads.

With ``tz=UTC`` (or no ``tz``) a report reads its daily mart by ``usage_date``,
exactly as before. With any other IANA zone, ``start_date``/``end_date`` are
calendar days in that zone: the range becomes the UTC instants
``[start of start_date, start of end_date + 1 day)``, computed here with
``zoneinfo`` (a day of 23 or 25 hours at a daylight-saving change, offsets of
+5:30, +5:45, +8:45 ...), and the report reads the mart's quarter-hourly twin.
Every real UTC offset is a multiple of 15 minutes, so a local day is exactly a
set of the twin's 15-minute buckets; each bucket is put on its local day in SQL
with ``(usage_quarter_hour at time zone %(tz)s)::date``. The statement also
bounds ``usage_date`` by the UTC dates of the two ends so the primary key's
prefix ``(workspace_id, usage_date, ...)`` narrows the scan.

The start of a local day is its first instant: local midnight, or, where a
zone skips midnight (a change at 00:00, as in Chile or Cuba), the instant the
clocks jump; a day a zone skipped entirely (Samoa's 2011-12-30) is empty.

Table names come only from the whitelist ``MARTS``, never from a request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from api.errors import bad_request
from api.params import DateRange

UTC_NAME = "UTC"

# Names zoneinfo lists that are not zones a client may mean: the server's own
# zone under a file name, and a rules file.
_NOT_ZONES = frozenset({"localtime", "posixrules"})

# The marts a report may read; each has a daily table and a quarter-hourly twin.
MARTS = frozenset({"ai_usage", "message_counts", "sms_usage", "phone_usage", "voice_usage", "member_usage"})

_QUARTER_HOUR = timedelta(minutes=15)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA names this server's time-zone database holds (read once per process)."""
    return frozenset(available_timezones() - _NOT_ZONES) | {UTC_NAME}


@dataclass(frozen=True)
class Zone:
    """A validated IANA zone."""

    name: str

    @property
    def is_utc(self) -> bool:
        return self.name == UTC_NAME

    @property
    def info(self) -> tzinfo:
        return UTC if self.is_utc else ZoneInfo(self.name)

    def today(self) -> date:
        """The current calendar date in this zone."""
        return datetime.now(self.info).date()

    def day_start(self, day: date) -> datetime:
        """The first UTC instant whose local date is ``day`` or later (see the module notes)."""
        try:
            naive = datetime.combine(day, time())
            if self.is_utc:
                return naive.replace(tzinfo=UTC)
            # Both readings of local midnight: equal unless midnight is repeated
            # (the earlier one counts) or skipped (the day starts at the jump,
            # which lies between them).
            earlier, later = sorted(
                naive.replace(tzinfo=self.info, fold=fold).astimezone(UTC) for fold in (0, 1)
            )
        except OverflowError:
            return _EARLIEST if day.year == date.min.year else _LATEST
        if self._local_date(earlier) >= day:
            return earlier
        instant = earlier
        while instant < later and self._local_date(instant) < day:
            instant += _QUARTER_HOUR  # every real change falls on a quarter hour
        while instant > earlier and self._local_date(instant - timedelta(minutes=1)) >= day:
            instant -= timedelta(minutes=1)  # (and if one did not, the minute it did)
        return instant

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.info).date()

    def window(self, dates: DateRange) -> UtcWindow:
        """The UTC instants of the local days ``dates.start`` .. ``dates.end``."""
        low = self.day_start(dates.start)
        high = _LATEST if dates.end == date.max else self.day_start(dates.end + timedelta(days=1))
        high = max(high, low)
        last = high - timedelta(microseconds=1) if high > low else low
        return UtcWindow(low=low, high=high, low_date=low.date(), high_date=max(last.date(), low.date()))


UTC_ZONE = Zone(UTC_NAME)


@dataclass(frozen=True)
class UtcWindow:
    """``[low, high)`` in UTC, and the UTC dates of its first and last instants."""

    low: datetime
    high: datetime
    low_date: date
    high_date: date


def parse_zone(value: str | None, name: str = "tz") -> Zone:
    """``value`` as a zone; absent means UTC; anything not an IANA name is a 400 naming ``name``."""
    if value is None:
        return UTC_ZONE
    if value not in known_zones():
        raise bad_request(
            "invalid_parameter",
            f"{name} must be an IANA time-zone name such as UTC, Europe/Berlin or America/Los_Angeles.",
        )
    return Zone(value)


@dataclass(frozen=True)
class MartSource:
    """Where and how a report statement reads one mart for one zone.

    ``table`` is the daily mart or its quarter-hourly twin; ``day`` the SQL
    expression of the (local) day a row belongs to; ``in_range`` the condition
    selecting the range (workspace not included). All take bound parameters
    only (see ``range_params``)."""

    table: str
    day: str
    in_range: str


def mart_source(mart: str, zone: Zone, alias: str | None = None) -> MartSource:
    if mart not in MARTS:
        raise ValueError(f"unknown mart {mart!r}")
    column = f"{alias}." if alias else ""
    if zone.is_utc:
        return MartSource(
            table=f"marts.{mart}_daily",
            day=f"{column}usage_date",
            in_range=f"{column}usage_date between %(start_date)s and %(end_date)s",
        )
    return MartSource(
        table=f"marts.{mart}_quarter_hourly",
        day=f"({column}usage_quarter_hour at time zone %(tz)s)::date",
        in_range=(
            f"{column}usage_date between %(low_date)s and %(high_date)s"
            f" and {column}usage_quarter_hour >= %(low)s and {column}usage_quarter_hour < %(high)s"
        ),
    )


def range_params(dates: DateRange, zone: Zone) -> dict[str, Any]:
    """The bound parameters ``mart_source``'s expressions use."""
    params: dict[str, Any] = {"start_date": dates.start, "end_date": dates.end}
    if not zone.is_utc:
        window = zone.window(dates)
        params.update(
            tz=zone.name,
            low=window.low,
            high=window.high,
            low_date=window.low_date,
            high_date=window.high_date,
        )
    return params


def with_zone(body: dict[str, Any], zone: Zone) -> dict[str, Any]:
    """``body`` with ``"tz"`` after its end date when the zone is not UTC (UTC bodies are unchanged)."""
    if zone.is_utc:
        return body
    zoned: dict[str, Any] = {}
    for key, value in body.items():
        zoned[key] = value
        if key in ("end_date", "endDate"):
            zoned["tz"] = zone.name
    return zoned
