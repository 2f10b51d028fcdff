"""Whether `make build` is running now: the advisory lock scripts/build.py holds for a
whole dbt build, read from ``pg_locks`` (never taken here). Zoned reports read the
quarter-hourly marts alone while it is held (``api.zones``)."""

from __future__ import annotations

from typing import Any

from flask import g

# The advisory lock `make build` (scripts/build.py) holds for a whole dbt build (its own copy
# of the number: a test checks that the two agree).
BUILD_LOCK_KEY = 7_305_118_042

# Whether the lock is held, as an SQL expression (the key's two halves are constants, never
# input), for a statement of its own or a column of a report's statement.
BUILD_RUNNING = f"""exists (
    select 1
    from pg_locks
    where
        locktype = 'advisory'
        and database = (select oid from pg_database where datname = current_database())
        and classid = {BUILD_LOCK_KEY >> 32}::oid
        and objid = {BUILD_LOCK_KEY & 0xFFFFFFFF}::oid
        and objsubid = 1
        and granted
)"""

BUILD_RUNNING_SQL = f"select {BUILD_RUNNING} as running"

# Whether the marts may not agree with ``data_freshness``'s version: a build holds the lock,
# or the last one that wrote marts stopped before its ``data_freshness`` (a model failed, a
# kill: ``build_unfinished``, macros/mark_build_unfinished.sql). For a statement that reads
# ``marts.data_freshness`` anyway (a report's, the version's), as one column.
MARTS_UNSETTLED = f"""({BUILD_RUNNING}
    or (select build_unfinished from marts.data_freshness where freshness_id = 1))"""


def build_running(database: Any) -> bool:
    """Whether a build holds the build lock now (read from ``pg_locks``, never taken).

    A build commits each mart on its own, a quarter-hourly mart before its daily
    sums, so between the two a statement reading both could count a late row in
    one and not the other. While a build runs, zoned reports read the quarter
    hours alone: slower, and whole. (Checked before the statement: a build that
    starts after the check needs far longer than the statement to commit a mart.)"""
    row = database.fetch_one(BUILD_RUNNING_SQL)
    return bool(row and row["running"])


_NOTED = "_usage_reports_build_running"


def note_running(running: bool) -> None:
    """Keep what the request's first statement (the key check, ``keystore.KEY_LOOKUP_SQL``)
    read of the lock, so the request asks no more: ``running_at_start``."""
    setattr(g, _NOTED, running)


def running_at_start(database: Any) -> bool:
    """Whether a build held the lock when the request began: as its key check read it, or
    asked now when nothing was noted. A report statement also reads the lock, but only as
    it ends (an uncorrelated sub-select runs when its first row is made), so a build that
    finishes during a long statement is seen by this check only."""
    noted = g.get(_NOTED)
    return build_running(database) if noted is None else bool(noted)
