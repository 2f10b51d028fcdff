"""1. The rows: generated into the bench database (or reused), sized, and their workspaces."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from fresh_database import recreate_database
from generate_demo_data import TABLES, generate

from benchlib.common import (
    BIN,
    DATA_DIR,
    DATABASE,
    DAYS,
    PROJECT_ROOT,
    SEED,
    WORKSPACES,
    Json,
    connect,
    log,
    proc_status_kb,
    timed,
)


@dataclass(frozen=True)
class EventTable:
    name: str
    id_column: str
    id_kind: str  # uuid | text
    time_column: str  # the event time whose UTC day buckets the row
    shifted: tuple[str, ...]  # time columns moved +1 day when the new day is landed
    floor_measure: str
    refs: tuple[tuple[str, str], ...] = ()  # (column, temp table of parents copied to the new day)


EVENT_TABLES = (
    EventTable("chats", "chat_id", "uuid", "created_at", ("created_at",), "count(owner_member_id)"),
    EventTable(
        "messages",
        "message_id",
        "uuid",
        "created_at",
        ("created_at",),
        "count(sender_member_id)",
        (("chat_id", "bench_new_chats"),),
    ),
    EventTable(
        "ai_usage_events",
        "event_id",
        "uuid",
        "recorded_at",
        ("recorded_at",),
        "sum(credits)",
        (("chat_id", "bench_new_chats"),),
    ),
    EventTable("sms_messages", "sms_id", "text", "sent_at", ("sent_at",), "sum(carrier_segments)"),
    EventTable(
        "call_events",
        "call_id",
        "text",
        "started_at",
        ("started_at", "ended_at", "updated_at"),
        "sum(extract(epoch from ended_at - started_at))",
    ),
    EventTable(
        "stt_events",
        "event_id",
        "uuid",
        "recorded_at",
        ("recorded_at",),
        "sum(duration_seconds)",
        (("call_id", "bench_new_calls"),),
    ),
    EventTable(
        "tts_events",
        "event_id",
        "uuid",
        "recorded_at",
        ("recorded_at",),
        "sum(characters)",
        (("call_id", "bench_new_calls"),),
    ),
)

# One group-by pass over each dimension table (tiny next to the events).
DIMENSION_FLOOR_SQL = {
    "workspaces": "select (created_at at time zone 'UTC')::date, count(*) from raw.workspaces group by 1",
    "roles": "select workspace_id, count(*) from raw.roles group by 1",
    "role_scopes": "select role_id, count(*) from raw.role_scopes group by 1",
    "members": (
        "select workspace_id, (created_at at time zone 'UTC')::date, count(*), count(deleted_at) "
        "from raw.members group by 1, 2"
    ),
}


def run_dbt(args: Sequence[str], env: dict[str, str], log_name: str) -> DbtRun:
    """Runs dbt with its own target and log paths; returns wall time and peak memory."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "dbt"), *args, "--target-path", str(DATA_DIR / "target")]
    command += ["--log-path", str(DATA_DIR / "logs")]
    log_path = DATA_DIR / f"{log_name}.log"
    with open(log_path, "w") as output, BackendWatcher() as watcher:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-40:])
        raise RuntimeError(f"dbt {' '.join(args)} failed (exit {process.returncode}):\n{tail}")
    return DbtRun(wall, usage.ru_maxrss, watcher.peak_backend_hwm_kb, watcher.peak_backend_anon_kb)


@dataclass
class DbtRun:
    wall_s: float
    dbt_maxrss_kb: int
    backend_hwm_kb: int | None
    backends_anon_kb: int | None


class BackendWatcher:
    """Polls the PostgreSQL backends serving the bench database (local server only) for memory:
    the largest VmHWM of one backend, and the largest sum of RssAnon over the backends at once
    (private memory: sorts, hashes; VmHWM also counts the shared buffers a backend touched)."""

    def __init__(self, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self.peak_backend_hwm_kb: int | None = None
        self.peak_backend_anon_kb: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> BackendWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _poll(self) -> None:
        try:
            with connect() as conn:
                while not self._stop.is_set():
                    self._sample(conn)
                    self._stop.wait(self.interval_s)
        except psycopg.Error:
            return

    def _sample(self, conn: psycopg.Connection[Any]) -> None:
        rows = conn.execute(
            "select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid()", (DATABASE,)
        ).fetchall()
        anon_total = 0
        for (pid,) in rows:
            hwm = proc_status_kb(pid, "VmHWM")
            anon = proc_status_kb(pid, "RssAnon")
            if hwm is not None:
                self.peak_backend_hwm_kb = max(self.peak_backend_hwm_kb or 0, hwm)
            anon_total += anon or 0
        if anon_total:
            self.peak_backend_anon_kb = max(self.peak_backend_anon_kb or 0, anon_total)


def generate_data(scale: float, end_date: date, env: dict[str, str]) -> Json:
    log(f"recreating database {DATABASE} and the raw tables")
    recreate_database(DATABASE)
    run_dbt(["run-operation", "create_raw_tables"], env, "create_raw_tables")
    log(f"generating raw rows: scale {scale}, {WORKSPACES} workspaces, {DAYS} days ending {end_date}")
    seconds: dict[str, float] = {}
    with psycopg.connect(dbname=DATABASE) as conn:
        elapsed, result = timed(
            lambda: generate(
                conn,
                seed=SEED,
                scale=scale,
                days=DAYS,
                end_date=end_date,
                workspaces=WORKSPACES,
                replace=True,
                progress=lambda table, _rows, took: seconds.__setitem__(table, round(took, 2)),
            )
        )
    result["generate_s"] = round(elapsed, 1)
    result["generate_s_per_table"] = seconds
    result["end_date"] = end_date.isoformat()
    result["scale"] = scale
    save_meta(result)
    log(f"generated {result['total_rows']:,} rows in {elapsed:.0f} s")
    return result


def save_meta(result: Json) -> None:
    with connect() as conn:
        conn.execute("create schema if not exists bench")
        conn.execute("create table if not exists bench.meta (key text primary key, value jsonb not null)")
        conn.execute(
            "insert into bench.meta values ('generate', %s) on conflict (key) do update set value = excluded.value",
            (json.dumps(result),),
        )


def reuse_data() -> Json:
    """--skip-generate: the previous run's generation, with the rows the bench landed removed."""
    with connect() as conn:
        try:
            row = conn.execute("select value from bench.meta where key = 'generate'").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
        if row is None:
            raise RuntimeError(f"--skip-generate: no previous generation in {DATABASE}")
        result: Json = row[0]
        for table in EVENT_TABLES:
            conn.execute(f"delete from raw.{table.name} where _loaded_at >= %s", (result["cutoff"],))
    log(f"reusing {result['total_rows']:,} generated rows (end date {result['end_date']})")
    return result


def vacuum_analyze() -> float:
    with connect() as conn:
        elapsed, _ = timed(lambda: [conn.execute(f"vacuum analyze raw.{table}") for table in TABLES])
    return round(elapsed, 1)


def table_sizes() -> Json:
    with connect() as conn:
        rows = conn.execute(
            """
            select c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid)
            from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = 'raw' and c.relkind = 'r'
            """
        ).fetchall()
    return {
        "raw_table_mb": round(sum(r[1] for r in rows) / 2**20, 1),
        "raw_index_mb": round(sum(r[2] for r in rows) / 2**20, 1),
    }
