"""The warehouse handle: one small ``psycopg_pool.ConnectionPool`` per process.

The pool is opened lazily, on the first query, so ``create_app()`` never
touches the network (the CLI, gunicorn's ``--preload`` and tests that only
read the OpenAPI document stay cheap, and a forked worker never inherits a
parent's sockets). Connections are in autocommit mode: every report is one
statement, so each sees one consistent snapshot of the marts even while a
``dbt build`` replaces days, and no transaction is left open between requests.

A connection taken from the pool is checked without a round trip (``check_idle``):
a server that ends a session (a restart, ``pg_terminate_backend``, an idle timeout)
tells the client before it closes the socket, so an idle connection with something
to read is tested for real and replaced when dead. A request pays no ``SELECT 1``.

When the pool has no connection ready (the server is down, or the pool is still
reconnecting after it came back), a request opens one of its own instead of waiting
(``Database._checkout``): an outage is a 503 at once, and the first request after it
is served.
"""

from __future__ import annotations

import logging
import math
import select
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from flask import Flask, current_app, g, has_app_context
from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from api import keystore

EXTENSION_NAME = "usage_reports_db"
_REQUEST_CONNECTION = "_usage_reports_connection"
_REQUEST_UNPOOLED = "_usage_reports_unpooled"

logger = logging.getLogger(__name__)

# How long a request waits for the pool to hand over a connection before it opens its own.
READY_SECONDS = 0.05

Params = Mapping[str, Any] | Sequence[Any] | None

# The date and interval formats psycopg reads. A warehouse may default to others (a server,
# database or role setting, or PGDATESTYLE in the environment, which libpq sends after and so
# over any ``options``), and psycopg cannot read a timestamp written as 'SQL, DMY': every
# report would fail. So each connection sets them once, as it opens.
SESSION_FORMATS_SQL = (
    "select set_config('datestyle', 'ISO', false), set_config('intervalstyle', 'postgres', false)"
)


def set_session_formats(conn: Connection[Any]) -> None:
    """Give ``conn`` (in autocommit mode) the formats psycopg reads, for its whole session."""
    conn.execute(SESSION_FORMATS_SQL)


def check_idle(conn: Connection[Any]) -> None:
    """The pool's check on check-out: raise if ``conn`` is dead (the pool then replaces it).

    An idle connection has nothing to read unless the server has spoken since:
    in practice a ``FATAL`` termination notice, or the end of the stream. Only
    then is it tested with an empty statement (which also reads what arrived);
    a healthy idle connection costs one non-blocking ``poll``, not a round trip.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable = select.poll()
    readable.register(conn.fileno(), select.POLLIN)
    if readable.poll(0):
        ConnectionPool.check_connection(conn)


SUPERUSER_SQL = (
    "select rolsuper as superuser, current_user as role from pg_roles where rolname = current_user"
)


def warn_if_superuser(conn: Connection[Any]) -> None:
    """Say so, once per process, when the app reaches the warehouse as a superuser (e.g. PGHOST
    set and neither API_PGUSER nor PGUSER: ``postgres``): it serves, but with every privilege
    the read-only API role (``make api-role``) is there to withhold."""
    row = conn.execute(SUPERUSER_SQL).fetchone()
    if row and row["superuser"]:
        logger.warning(
            "the API connects to the warehouse as %s, a superuser: set API_PGUSER to its read-only "
            "role (make api-role; README, The API's database role)",
            row["role"],
        )


class Database:
    """Lazily opened connection pool plus the per-process one-time setup."""

    def __init__(
        self, conninfo: str, *, min_size: int, max_size: int, statement_timeout_ms: int, timeout: float
    ) -> None:
        self._conninfo = conninfo
        self._timeout = timeout
        self._min_size = min_size
        self._max_size = max_size
        self._kwargs: dict[str, Any] = {
            "autocommit": True,
            "row_factory": dict_row,
            # a statement held up by a lock (a loader's TRUNCATE of raw.members) gives up at half
            # its time, so its 503 says "busy, try again shortly" (api.errors), while one that
            # computes for the whole time says the range asked too much
            "options": f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={statement_timeout_ms // 2}",
        }
        # a connection of the request's own waits no longer than the pool would
        self._connect_timeout = max(1, math.ceil(timeout))
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        # connections (pooled or their own) this process's requests hold now (``_checkout``)
        self._count_lock = threading.Lock()
        self._held = 0
        self._key_table_ready = False
        self._api_tables_ready = False

    def pool(self) -> ConnectionPool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    pool = ConnectionPool(
                        self._conninfo,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        kwargs=self._kwargs,
                        check=check_idle,
                        configure=set_session_formats,
                        timeout=self._timeout,
                        name="usage-reports-api",
                        open=False,
                    )
                    pool.open(wait=False)
                    self._pool = pool
        return self._pool

    @contextmanager
    def connection(self) -> Iterator[Connection[Any]]:
        """A pooled connection; within a request always the same one, taken on first use
        and given back when the request ends (``release``), so a request's key check and
        report cost one pool check-out, not one each."""
        if not has_app_context():
            with self.pool().connection() as conn:
                yield conn
            return
        conn = g.get(_REQUEST_CONNECTION)
        if conn is None:
            conn, pooled = self._checkout()
            setattr(g, _REQUEST_CONNECTION, conn)
            setattr(g, _REQUEST_UNPOOLED, not pooled)
        yield conn

    def _checkout(self) -> tuple[Connection[Any], bool]:
        """A pooled connection, or, when none is ready within ``READY_SECONDS``, one of the
        request's own (and whether it is pooled).

        The pool has nothing ready only while it opens or while it reconnects after the
        server went away, with a back-off of seconds between attempts. Waiting for it would
        hold every request of an outage for the pool's whole timeout and keep answering 503
        for a while after the server is back; a connection of the request's own fails at
        once while the server is down (503) and works as soon as it is up, while the pool
        recovers behind it. A gunicorn sync worker serves one request at a time, so a
        healthy pool always has a connection ready.

        Every connection a request holds, the pool's or its own, takes one of ``POOL_MAX_SIZE``
        places, reserved before it is asked for: when all are taken (a threaded server's
        burst) a request waits its turn for a pooled one, for the pool's whole timeout, so a
        process's requests never use more than ``POOL_MAX_SIZE`` connections at once."""
        pool = self.pool()
        with self._count_lock:
            busy = self._held >= self._max_size
            self._held += 1
        try:
            try:
                return pool.getconn(
                    timeout=self._timeout if busy else min(READY_SECONDS, self._timeout)
                ), True
            except PoolTimeout:
                if busy:
                    raise
                own = psycopg.connect(self._conninfo, connect_timeout=self._connect_timeout, **self._kwargs)
                try:
                    set_session_formats(own)
                except BaseException:
                    own.close()
                    raise
                return own, False
        except BaseException:
            with self._count_lock:
                self._held -= 1
            raise

    def release(self) -> None:
        """Give the request's connection (if it took one) back to the pool, or close it."""
        conn = g.pop(_REQUEST_CONNECTION, None)
        unpooled = g.pop(_REQUEST_UNPOOLED, False)
        if conn is None:
            return
        with self._count_lock:
            self._held -= 1
        if unpooled:
            conn.close()
        elif self._pool is not None:
            self._pool.putconn(conn)

    def ensure_key_table(self, conn: Connection[Any]) -> None:
        """Make sure ``api.api_keys`` exists, the first time this process needs it (when it is
        missing, ``keystore.ensure_key_table`` creates every table of schema ``api``)."""
        if not self._key_table_ready:
            warn_if_superuser(conn)
            keystore.ensure_key_table(conn, (keystore.KEY_TABLE,))
            self._key_table_ready = True

    def ensure_api_tables(self, conn: Connection[Any]) -> None:
        """Create every table of schema ``api`` (the page's too) the first time this process needs them."""
        if not self._api_tables_ready:
            if not self._key_table_ready:
                warn_if_superuser(conn)
            keystore.ensure_key_table(conn)
            self._api_tables_ready = self._key_table_ready = True

    def fetch_all(self, query: str, params: Params = None) -> list[dict[str, Any]]:
        with self.connection() as conn:
            return conn.execute(query, params).fetchall()

    def fetch_one(self, query: str, params: Params = None) -> dict[str, Any] | None:
        with self.connection() as conn:
            return conn.execute(query, params).fetchone()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def init_app(app: Flask) -> Database:
    database = Database(
        app.config["DATABASE_CONNINFO"],
        min_size=app.config["POOL_MIN_SIZE"],
        max_size=app.config["POOL_MAX_SIZE"],
        statement_timeout_ms=app.config["STATEMENT_TIMEOUT_MS"],
        timeout=app.config["POOL_TIMEOUT_SECONDS"],
    )
    app.extensions[EXTENSION_NAME] = database

    @app.teardown_appcontext
    def _release_connection(_error: BaseException | None) -> None:
        database.release()

    return database


def get_db() -> Database:
    return current_app.extensions[EXTENSION_NAME]
