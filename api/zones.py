"""Reports in any time zone (CONTRACT §6): the ``tz`` parameter and where a report reads.

With ``tz=UTC`` (or no ``tz``) a report reads its daily mart by ``usage_date``,
exactly as before. With any other IANA zone, ``start_date``/``end_date`` are
calendar days in that zone: the range becomes the UTC instants
``[start of start_date, start of end_date + 1 day)``, computed here with
``zoneinfo`` (a day of 23 or 25 hours at a daylight-saving change, offsets of
+5:30, +5:45, +8:45 ...), and the report reads the mart's quarter-hourly twin.
Every real UTC offset is a multiple of 15 minutes, so a local day is exactly a
set of the twin's 15-minute buckets; a bucket is put on its local day in SQL
with ``(usage_quarter_hour at time zone %(tz)s)::date``. Statements also bound
``usage_date`` by the UTC dates of the two ends so the primary key's prefix
``(workspace_id, usage_date, ...)`` narrows the scan.

The start of a local day is its first instant: local midnight, or, where a
zone skips midnight (a change at 00:00, as in Chile or Cuba), the instant the
clocks jump; a day a zone skipped entirely (Samoa's 2011-12-30) is empty.

Reading every quarter hour of a long window is 96 times the rows of the UTC
report, so a statement reads the quarter hours only where the daily sums do
not tell: one that only totals the range (the AI body, member usage) takes
the window's whole UTC dates from the daily mart and only its first and last
UTC dates from the quarter hours (``range_rows``); one that lists days (SMS,
phone and voice rows, the CSV lines) splits each daily row at its date's
local midnight with the running totals the quarter-hourly marts keep, one
quarter hour per daily row (``rows_by_day``). Either way the sums are
exactly those of the quarter hours. While a build runs (it commits a
quarter-hourly mart before its daily sums) zoned statements read the quarter
hours alone, and so after a build that stopped part-way
(``api.buildlock.reads_unsettled``).

Table names come only from the whitelist ``MARTS``, never from a request.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, available_timezones, reset_tzpath

import psycopg

from api.errors import ApiError, bad_request
from api.params import DateRange

UTC_NAME = "UTC"

# The time-zone rules come from the pinned ``tzdata`` package (requirements.txt), not from
# whatever the host's /usr/share/zoneinfo holds: every machine computes the same local
# days, with the release the embedded PostgreSQL carries (reports read while a build
# runs let the warehouse place quarter hours on local days, with its own copy).
reset_tzpath(to=[])

# Names zoneinfo lists that are not zones a client may mean: the server's own
# zone under a file name, and a rules file.
_NOT_ZONES = frozenset({"localtime", "posixrules"})

# The marts a report may read, each with its row key besides ``workspace_id`` and
# ``usage_date``; each has a daily table and a quarter-hourly twin keyed the same way plus
# ``usage_quarter_hour``. The running totals run per key, so a probe matches all of it.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "ai_usage": ("provider", "model", "model_type"),
    "message_counts": (),
    "sms_usage": ("phone_number",),
    "phone_usage": ("phone_number",),
    "voice_usage": ("kind", "provider", "model"),
    "member_usage": ("member_id",),
}
MARTS = frozenset(MART_KEYS)

_QUARTER_HOUR = timedelta(minutes=15)
_QUARTERS_PER_DAY = 96
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA names this server's time-zone database holds (read once per process)."""
    return frozenset(available_timezones() - _NOT_ZONES) | {UTC_NAME}


# Zone names PostgreSQL also knows as time-zone abbreviations (its default set), each with
# the zone the tz database links it to (its ``backward`` file, 2024b on). PostgreSQL reads
# such a name in ``AT TIME ZONE`` as the abbreviation first, a fixed offset: ``CET`` is +1
# all year to it, while the tz database's ``CET`` is ``Europe/Brussels``, +2 in summer
# (likewise ``EET``, ``MET``, ``WET``; ``EST``, ``HST`` and ``MST`` differ before 1968).
# Every other name means the same to both.
ABBREVIATION_ZONES = {
    "CET": "Europe/Brussels",
    "EET": "Europe/Athens",
    "EST": "America/Panama",
    "GMT": "Etc/GMT",
    "HST": "Pacific/Honolulu",
    "MET": "Europe/Brussels",
    "MST": "America/Phoenix",
    "UCT": "Etc/UTC",
    "WET": "Europe/Lisbon",
    "Zulu": "Etc/UTC",
}


@dataclass(frozen=True)
class Zone:
    """A validated IANA zone."""

    name: str

    @property
    def is_utc(self) -> bool:
        return self.name == UTC_NAME

    @property
    def warehouse_name(self) -> str:
        """The name statements give the warehouse as ``%(tz)s`` (``AT TIME ZONE``): the zone a
        name PostgreSQL would read as an abbreviation links to (``ABBREVIATION_ZONES``), else
        the name itself."""
        return ABBREVIATION_ZONES.get(self.name, self.name)

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
        if self.local_date(earlier) >= day:
            return earlier
        instant = earlier
        while instant < later and self.local_date(instant) < day:
            instant += _QUARTER_HOUR  # every real change falls on a quarter hour
        while instant > earlier and self.local_date(instant - timedelta(minutes=1)) >= day:
            instant -= timedelta(minutes=1)  # (and if one did not, the minute it did)
        return instant

    def local_date(self, instant: datetime) -> date:
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


class ZoneUnknownToWarehouse(ApiError):
    """The 400 of ``known_to_the_warehouse``."""

    def __init__(self) -> None:
        super().__init__(400, "invalid_parameter", "tz names a time zone the warehouse does not know.")


@contextmanager
def known_to_the_warehouse(zone: Zone) -> Iterator[None]:
    """Around the statements of a zoned report: a zone this server's zoneinfo knows but the
    warehouse's time-zone database does not (an older PostgreSQL, another tzdata release) is
    a 400 naming ``tz``, as an unknown name is, not a 500."""
    try:
        yield
    except psycopg.errors.InvalidParameterValue:
        if zone.is_utc:
            raise
        raise ZoneUnknownToWarehouse() from None


def _spelling(value: str) -> str:
    """How ``meant_zone`` compares names: case, surrounding spaces and space for underscore aside."""
    return value.strip().replace(" ", "_").casefold()


@functools.cache
def _zones_by_spelling() -> dict[str, str]:
    return {_spelling(zone): zone for zone in sorted(known_zones())}


def meant_zone(value: str) -> str | None:
    """The known zone ``value`` differs from only in case, spaces or underscores (``america/new
    york``: ``America/New_York``), for the 400's hint; else None."""
    return _zones_by_spelling().get(_spelling(value))


def parse_zone(value: str | None, name: str = "tz") -> Zone:
    """``value`` as a zone; absent means UTC; anything not an IANA name is a 400 naming ``name``
    (and the zone it was probably meant to be, when it differs from one only in spelling)."""
    if value is None:
        return UTC_ZONE
    if value not in known_zones():
        message = f"{name} must be an IANA time-zone name such as UTC, Europe/Berlin or America/Los_Angeles."
        meant = meant_zone(value)
        if meant is not None:
            message += f" Names are exact, case included: did you mean {meant}?"
        raise bad_request("invalid_parameter", message)
    return Zone(value)


@dataclass(frozen=True)
class Reading:
    """How a statement reads the marts for one range in one zone: its bound parameters,
    and whether it may take the window's whole UTC dates from the daily marts
    (``planned``: see ``range_rows`` and ``rows_by_day``) or reads quarter hours only."""

    params: dict[str, Any]
    planned: bool


# The longest range ``clocks_change`` checks day by day (about three years).
CLOCK_CHECK_DAYS = 1100

# The UTC dates a mart row can have: staging keeps events from 1970-01-01 up to 2100
# (the ``event_time_ok`` macro), so a plan covers no date outside them, whatever the window.
FIRST_EVENT_DATE = date(1970, 1, 1)
LAST_EVENT_DATE = date(2099, 12, 31)

# A plan is a list of runs of consecutive UTC dates cut alike (see ``_plan``).
PLAN_COLUMNS = ("plan_first", "plan_last", "plan_cut", "plan_before", "plan_after")


def reading(dates: DateRange, zone: Zone, by_day: bool = True, mixed: bool = True) -> Reading:
    """The parameters for ``dates`` in ``zone``; ``by_day=False`` for a statement that only
    totals the range (``range_rows``), which needs no plan; ``mixed=False`` to read the
    quarter hours alone (while a build runs)."""
    params: dict[str, Any] = {"start_date": dates.start, "end_date": dates.end}
    if zone.is_utc:
        return Reading(params, planned=False)
    window = zone.window(dates)
    params.update(
        tz=zone.warehouse_name,
        low=window.low,
        high=window.high,
        low_date=window.low_date,
        high_date=window.high_date,
    )
    if not mixed:
        return Reading(params, planned=False)
    if not by_day:
        return Reading(params, planned=True)
    plan = _plan(zone, window)
    if plan is not None:
        params.update(plan)
    return Reading(params, planned=plan is not None)


@functools.lru_cache(maxsize=1024)
def clocks_change(zone: Zone, dates: DateRange) -> bool:
    """Whether a local day of ``dates`` in ``zone`` is not 24 hours long (its clocks change
    on it: daylight saving, a new standard offset). Checked day by day for up to
    ``CLOCK_CHECK_DAYS`` days; a longer range is taken to hold a change."""
    if zone.is_utc:
        return False
    count = (dates.end - dates.start).days + 1
    if count > CLOCK_CHECK_DAYS or dates.end == date.max:
        return True
    starts = [zone.day_start(dates.start + timedelta(days=number)) for number in range(count + 1)]
    return any(later - earlier != timedelta(days=1) for earlier, later in itertools.pairwise(starts))


def _plan(zone: Zone, window: UtcWindow) -> dict[str, list[Any]] | None:
    """``_runs`` for the window's UTC dates that can hold events (``FIRST_EVENT_DATE`` ..
    ``LAST_EVENT_DATE``: a window of any length costs at most 130 years of dates there,
    ~0.1 s once, and one wholly outside them an empty plan), as lists of the caller's
    own. ``None`` for an empty window."""
    if window.high <= window.low:
        return None
    low_date, high_date = max(window.low_date, FIRST_EVENT_DATE), min(window.high_date, LAST_EVENT_DATE)
    if low_date > high_date:
        return {name: [] for name in PLAN_COLUMNS}
    plan = _runs(zone, low_date, high_date)
    return None if plan is None else {name: list(values) for name, values in plan.items()}


@functools.lru_cache(maxsize=1024)
def _runs(zone: Zone, low_date: date, high_date: date) -> dict[str, list[Any]] | None:
    """Where a local midnight cuts each UTC date ``low_date`` .. ``high_date``, as runs of
    dates cut alike (computed once per zone and dates in a process: a dashboard asks for
    the same ranges again and again).

    A run covers the UTC dates ``plan_first`` .. ``plan_last``; on each date D of it the
    cut is at D + ``plan_cut`` (``None``: all of D is one local day), the part of D
    before the cut is on local day D + ``plan_before`` days and the part from the cut
    on is on D + ``plan_after`` days. While the offset stays the same, so does all of
    that: a 90-day window is one run, or two around a daylight-saving change, plus one
    for the day of the change. ``None`` for the whole plan when a date is irregular (two
    local midnights in one UTC date, or one off the quarter hours: only in history)."""
    count = (high_date - low_date).days + 1
    day_length = timedelta(days=1)
    first = datetime.combine(low_date, time(), UTC)
    offsets = [(first + number * day_length).astimezone(zone.info).utcoffset() for number in range(count + 1)]
    plan: dict[str, list[Any]] = {name: [] for name in PLAN_COLUMNS}
    number = 0
    while number < count:
        # dates number .. end - 1 keep one offset all day, so one cut (or this date alone)
        end = number + 1
        if offsets[number] is not None and offsets[number] == offsets[end]:
            while end < count and offsets[end + 1] == offsets[number]:
                end += 1
        run = _date_run(zone, first + number * day_length, offsets[number], offsets[number + 1])
        if run is None:
            return None
        day, last = low_date + timedelta(days=number), low_date + timedelta(days=end - 1)
        if plan["plan_last"] and plan["plan_last"][-1] == day - day_length and _last_run(plan) == run:
            plan["plan_last"][-1] = last
        else:
            for name, value in zip(PLAN_COLUMNS, (day, last, *run), strict=True):
                plan[name].append(value)
        number = end
    return plan


def _date_run(
    zone: Zone, start: datetime, offset: timedelta | None, next_offset: timedelta | None
) -> tuple[timedelta | None, int | None, int] | None:
    """The cut, before and after of the UTC date that begins at ``start`` (see ``_runs``),
    given the zone's offsets at its start and at the next date's; ``None`` if irregular."""
    day = start.date()
    cut: timedelta | None
    if offset is not None and offset == next_offset:
        # the same offset all day: local midnight is at -offset
        first_day = (start + offset).date()
        cut = (-offset) % timedelta(days=1) or None
    else:
        # the offset changes within the date: the local day of each quarter hour, as
        # the quarter-hourly path assigns them, must change at most once, forwards
        days = [zone.local_date(start + number * _QUARTER_HOUR) for number in range(_QUARTERS_PER_DAY)]
        first_day = days[0]
        changes = [number for number in range(1, len(days)) if days[number] != days[number - 1]]
        if not changes:
            cut = None
        elif len(changes) == 1 and days[changes[0]] == first_day + timedelta(days=1):
            cut = changes[0] * _QUARTER_HOUR
        else:
            return None
    if cut is not None and cut % _QUARTER_HOUR:
        return None
    before = None if cut is None else (first_day - day).days
    return cut, before, (first_day - day).days + (cut is not None)


def _last_run(plan: dict[str, list[Any]]) -> tuple[Any, ...]:
    return (plan["plan_cut"][-1], plan["plan_before"][-1], plan["plan_after"][-1])


# The quarter hours of the window ``[low, high)``; with its UTC dates, which narrow the
# primary key's scan.
_IN_WINDOW = "qh.usage_quarter_hour >= %(low)s and qh.usage_quarter_hour < %(high)s"
_QUARTER_HOURS_IN_WINDOW = f"qh.usage_date between %(low_date)s and %(high_date)s and {_IN_WINDOW}"


def _checked(mart: str) -> str:
    if mart not in MARTS:
        raise ValueError(f"unknown mart {mart!r}")
    return mart


def _keyed(alias: str, key: str | None) -> str:
    """The workspace (and, given ``key``, the column equal to the parameter of that name)."""
    condition = f"{alias}.workspace_id = %(workspace_id)s"
    return f"{condition} and {alias}.{key} = %({key})s" if key else condition


def range_rows(
    mart: str, zone: Zone, columns: Sequence[str], key: str | None = None, planned: bool = True
) -> str:
    """A query for ``columns`` of the mart's rows of ``%(workspace_id)s`` in the range, for a
    statement that totals the range without splitting it into days (the AI body, member usage).

    With UTC: the daily mart. With another zone the window's UTC dates strictly between
    its first and last are wholly inside it, so they are read from the daily mart (the
    sums of their quarter hours, 96 times fewer rows), and only the first and last UTC
    dates from the quarter-hourly twin, cut at the window's ends. Not ``planned``: every
    quarter hour of the window."""
    mart = _checked(mart)
    daily = ", ".join(f"daily.{column}" for column in columns)
    if zone.is_utc:
        return (
            f"select {daily} from marts.{mart}_daily as daily where {_keyed('daily', key)}"
            " and daily.usage_date between %(start_date)s and %(end_date)s"
        )
    quarter = ", ".join(f"qh.{column}" for column in columns)
    if not planned:
        return (
            f"select {quarter} from marts.{mart}_quarter_hourly as qh where {_keyed('qh', key)}"
            f" and {_QUARTER_HOURS_IN_WINDOW}"
        )
    return f"""select {daily} from marts.{mart}_daily as daily
    where {_keyed("daily", key)} and daily.usage_date > %(low_date)s and daily.usage_date < %(high_date)s
    union all
    select {quarter} from marts.{mart}_quarter_hourly as qh
    where {_keyed("qh", key)} and qh.usage_date in (%(low_date)s, %(high_date)s)
        and {_IN_WINDOW}"""


def rows_by_day(
    mart: str,
    zone: Zone,
    planned: bool,
    dims: Sequence[str],
    measures: Sequence[str],
    key: str | None = None,
) -> str:
    """A query for ``usage_day``, ``dims`` and ``measures`` of the mart's rows of
    ``%(workspace_id)s`` in the range, each on its (local) day, for a statement that
    groups by day. Sums over it are exact; a (day, dims) group whose counts sum to
    zero had no activity and is to be left out (``having``).

    * UTC: the daily mart, ``usage_date`` as it is.
    * Another zone, ``planned`` (see ``_plan``): each daily row of the window's UTC dates
      split in two at its date's cut. The part before the cut is the running total
      (``running_<measure>``) of the last quarter hour before it, one row found through
      the quarter-hourly mart's primary key, matched in full (``MART_KEYS``) whichever
      of its columns ``dims`` keeps; the part from the cut on is the daily row less that. Each
      part goes to its local day, or nowhere when that day is outside the range. So a
      zoned report reads the rows of a UTC one plus one quarter hour per row.
    * Another zone, not planned (a date cut twice or off the quarter hours, a build
      running): every quarter hour of the window on its local day.
    """
    mart = _checked(mart)
    if not {*dims, *([key] if key else [])} <= set(MART_KEYS[mart]):
        raise ValueError(f"{mart} rows are keyed by {MART_KEYS[mart]}, not {dims}")
    daily, quarter = f"marts.{mart}_daily", f"marts.{mart}_quarter_hourly"

    def columns(alias: str) -> str:
        return ", ".join([*(f"{alias}.{dim}" for dim in dims), *(f"{alias}.{m}" for m in measures)])

    if zone.is_utc:
        return (
            f"select daily.usage_date as usage_day, {columns('daily')} from {daily} as daily"
            f" where {_keyed('daily', key)} and daily.usage_date between %(start_date)s and %(end_date)s"
        )
    if not planned:
        return (
            f"select (qh.usage_quarter_hour at time zone %(tz)s)::date as usage_day, {columns('qh')}"
            f" from {quarter} as qh where {_keyed('qh', key)}"
            f" and {_QUARTER_HOURS_IN_WINDOW}"
        )
    same_keys = " and ".join(f"qh.{column} = daily.{column}" for column in MART_KEYS[mart])
    running = ", ".join(f"qh.running_{m}" for m in measures)
    before = ", ".join(f"coalesce(before.running_{m}, 0)" for m in measures)
    after = ", ".join(f"daily.{m} - coalesce(before.running_{m}, 0)" for m in measures)
    dim_list = "".join(f"daily.{dim}, " for dim in dims)
    return f"""select part.usage_day, {dim_list}{", ".join(f"part.{m}" for m in measures)}
    from unnest(
        %(plan_first)s::date[], %(plan_last)s::date[], %(plan_cut)s::interval[], %(plan_before)s::int[],
        %(plan_after)s::int[]
    ) as plan (first_date, last_date, cut, before_shift, after_shift)
    inner join {daily} as daily on daily.usage_date between plan.first_date and plan.last_date
    left join lateral (
        select {running} from {quarter} as qh
        where qh.workspace_id = daily.workspace_id and qh.usage_date = daily.usage_date
            {"and " + same_keys if same_keys else ""}
            and qh.usage_quarter_hour < (daily.usage_date + plan.cut) at time zone 'UTC'
        order by qh.usage_quarter_hour desc
        limit 1
    ) as before on true
    cross join lateral (
        values (daily.usage_date + plan.before_shift, {before}), (daily.usage_date + plan.after_shift, {after})
    ) as part (usage_day, {", ".join(measures)})
    where {_keyed("daily", key)} and daily.usage_date between %(low_date)s and %(high_date)s
        and part.usage_day between %(start_date)s and %(end_date)s"""


def day_rows(mart: str, zone: Zone, planned: bool, dims: Sequence[str], measures: Sequence[str]) -> str:
    """A query for ``usage_day``, ``dims`` and ``measures``: one row per day and ``dims``
    with activity in the range (the first measure, a count, is not zero), for a statement
    that lists days (SMS, phone and voice rows).

    * UTC with ``dims`` the mart's whole key: the daily mart's rows as they are.
    * Otherwise: ``rows_by_day``'s parts of each (local) day and ``dims`` added up. A part
      may net to nothing (the empty side of a UTC date a cut splits), and so may a whole
      local day.
    """
    rows = rows_by_day(mart, zone, planned, dims, measures)
    columns = ", ".join(dims)
    count = measures[0]
    if zone.is_utc and sorted(dims) == sorted(MART_KEYS[_checked(mart)]):
        return f"select usage_day, {columns}, {', '.join(measures)} from ({rows}) as parts where {count} <> 0"
    sums = ", ".join(f"sum({measure}) as {measure}" for measure in measures)
    return (
        f"select usage_day, {columns}, {sums} from ({rows}) as parts"
        f" group by usage_day, {columns} having sum({count}) <> 0"
    )


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
