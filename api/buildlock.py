"""Whether `make build` is running now: the advisory lock scripts/build.py holds for a
whole dbt build, read from ``pg_locks`` (never taken here); and whether the marts are
unsettled, a build running or the last one stopped part-way. While they are, reports read
only the marts others are made from (``api.reports.common.statement_reading``)."""

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


_NOTED = "_usage_reports_marts_unsettled"


def note_running(running: bool) -> None:
    """Keep what the request's first statement (the key check, ``keystore.KEY_LOOKUP_SQL``)
    read of the lock, so the request asks no more: ``reads_unsettled``."""
    setattr(g, _NOTED, running)


def note_unsettled() -> None:
    """A statement of this request found the marts unsettled (its ``MARTS_UNSETTLED``
    column): the rest of the request reads them as while a build runs."""
    setattr(g, _NOTED, True)


def reads_unsettled(database: Any) -> bool:
    """Whether this request reads the marts as while a build runs: a build held the lock
    as the request began (as its key check read it, or asked now, once, when nothing was
    noted), or one of its statements has since found the marts unsettled
    (``note_unsettled``). A report statement reads ``MARTS_UNSETTLED`` only as it ends (an
    uncorrelated sub-select runs when its first row is made), so only the check before it
    sees a build that finishes during a long statement."""
    noted = g.get(_NOTED)
    if noted is None:
        noted = build_running(database)
        note_running(noted)
    return bool(noted)
