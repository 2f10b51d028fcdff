#!/usr/bin/env python3
"""`make bench`: the usage marts and the report API on ~10 million raw rows (issue 7).

    python scripts/pgenv.py -- python scripts/bench.py --scale 5     # ~10M rows, < 30 min on 2 cores
    python scripts/pgenv.py -- python scripts/bench.py --scale 0.2   # ~0.4M rows, a few minutes

Everything happens in the dedicated database ``usage_reports_bench`` (dropped and recreated;
``usage_reports`` is never touched), and dbt writes to ``bench/data/target`` so it never races
another build's ``target/``. One run:

1. generates the raw rows (``generate_demo_data.generate``: 10 workspaces, 365 UTC days ending
   yesterday, seed 42), then ``vacuum analyze`` (what autovacuum would do after a bulk load);
2. the floor: one ``group by workspace, UTC day`` pass (count + one sum) over each raw table,
   median of 3 runs per table; the floor is the sum of the medians;
3. the full build: wall time of ``dbt run --full-refresh`` (median of ``--full-runs``), with the
   per-model times of ``run_results.json`` and the peak memory of dbt and its PostgreSQL backends;
4. the incremental build: lands one more day (today: yesterday's rows copied with new ids,
   shifted +1 day) and 1% late rows over the past week (copies with new ids), both with
   ``_loaded_at = now()``, times ``dbt run``, then (when a full build takes < 5 minutes, or with
   ``--verify always``) runs ``--full-refresh`` and compares every mart row; then times
   ``dbt parse`` (dbt's start-up, no SQL);
5. the five reports over HTTP (gunicorn on 127.0.0.1, as many workers as ``make serve``
   starts: one per core on the private server): p50/p99 at 1 and 8 concurrent clients, against the same report computed by SQL
   straight from raw (median of 5), whose totals are checked against the API's; the same
   reports with ``tz`` (``ZONES``, the same local dates; issue 8's target: zoned p50 <= 2x UTC
   p50), the AI report as CSV for information, and two requests that run no report (401
   without a key, 400 after the key check) as the least a request costs;
6. the analyst's alternative: raw.ai_usage_events exported to Parquet, the 90-day AI report in
   DuckDB (median of 5);
7. writes ``bench/results.json`` and ``BENCHMARKS.md`` and prints a summary.

``--skip-generate`` reuses the bench database (the rows a previous run landed are removed first).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import duckdb
import psycopg
from fresh_database import recreate_database
from generate_demo_data import TABLES, generate
from psycopg.rows import dict_row

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = PROJECT_ROOT / ".venv" / "bin"
BENCH_DIR = PROJECT_ROOT / "bench"
DATA_DIR = BENCH_DIR / "data"
RESULTS_PATH = BENCH_DIR / "results.json"
MARKDOWN_PATH = PROJECT_ROOT / "BENCHMARKS.md"

DATABASE = "usage_reports_bench"
API_ROLE = "usage_reports_api"  # `make serve`'s API_PGUSER on the private server (api.dbrole.DEFAULT_ROLE)
SEED = 42
WORKSPACES = 10
DAYS = 365
REPORT_DAYS = 90
DEFAULT_SCALE = 5.0  # ~10M raw rows
NAMED_SCALES = {"small": 0.2, "default": DEFAULT_SCALE}  # small: ~0.4M rows, a few minutes
FLOOR_RUNS = 3
STARTUP_RUNS = 3
RAW_RUNS = 5
DUCKDB_RUNS = 5
CLIENT_COUNTS = (1, 8)
VERIFY_BUDGET_S = 300.0
FULL_BUILD_TARGET = 3.0  # x the floor
INCREMENTAL_TARGET = 0.05  # x the full build
REPORT_TARGET = 100.0  # raw p50 / API p50
UTC_NAME = "UTC"
ZONES = ("America/New_York", "Asia/Kolkata")  # the same local dates as the UTC reports (issue 8)
TZ_TARGET = 2.0  # zoned p50 / UTC p50, 1 client
CSV_REPORT = "ai-usage"  # its format=csv variant is timed for information

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the 198th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def fetch_all(conn: psycopg.Connection[Any], sql: str, params: Json | None = None) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def rounded(value: float, places: int = 3) -> float:
    return round(value, places)


def on_private_server() -> bool:
    """Whether `make bench` runs on the project's private server (scripts/pgenv.py says so;
    PGHOST is set either way): `make serve` would then grant and use the API's role, and start
    one worker per core."""
    return os.environ.get("USAGE_REPORTS_PRIVATE_SERVER") == "1"


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PGDATABASE"] = DATABASE
    env["DBT_PROFILES_DIR"] = str(PROJECT_ROOT / ".dbt")
    return env


def connect() -> psycopg.Connection[Any]:
    return psycopg.connect(dbname=DATABASE, autocommit=True)


def kb_field(path: str, name: str) -> int | None:
    """A `Name:   123 kB` field of a /proc file, or None when unreadable."""
    try:
        with open(path, encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def proc_status_kb(pid: int, name: str) -> int | None:
    """A field of /proc/<pid>/status (VmHWM, VmRSS, RssAnon) in kB."""
    return kb_field(f"/proc/{pid}/status", name)


def mb(kb: float | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


# --------------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gb() -> float | None:
    kb = kb_field("/proc/meminfo", "MemTotal")
    return None if kb is None else round(kb / 1024 / 1024, 1)


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def git_commit() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def machine_info(conn: psycopg.Connection[Any]) -> Json:
    settings = {}
    for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "max_parallel_workers_per_gather"):
        settings[name] = conn.execute(f"show {name}").fetchone()[0]  # type: ignore[index]
    return {
        "cpu_model": cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "ram_gb": ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgres": conn.execute("select version()").fetchone()[0],  # type: ignore[index]
        "postgres_settings": settings,
        "pghost": os.environ.get("PGHOST"),
        "dbt_core": package_version("dbt-core"),
        "dbt_postgres": package_version("dbt-postgres"),
        "duckdb": duckdb.__version__,
        "gunicorn": package_version("gunicorn"),
        "git_commit": git_commit(),
    }


# --------------------------------------------------------------------------------------------
# 1. Data
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# 2. Floor
# --------------------------------------------------------------------------------------------


def floor_sql() -> dict[str, str]:
    queries = {}
    for table in EVENT_TABLES:
        queries[table.name] = (
            f"select workspace_id, ({table.time_column} at time zone 'UTC')::date as day, "
            f"count(*) as row_count, {table.floor_measure} as measure "
            f"from raw.{table.name} group by 1, 2"
        )
    return {**queries, **DIMENSION_FLOOR_SQL}


def measure_floor() -> tuple[Json, dict[str, int]]:
    """Median of FLOOR_RUNS per table; also the rows per workspace (from the event passes)."""
    per_table: Json = {}
    rows_by_workspace: dict[str, int] = {}
    with connect() as conn:
        for table, sql in floor_sql().items():
            runs = []
            result: list[tuple[Any, ...]] = []
            for _ in range(FLOOR_RUNS):
                elapsed, result = timed(partial(fetch_all, conn, sql))
                runs.append(elapsed)
            per_table[table] = {"median_s": rounded(median(runs)), "runs_s": [rounded(r) for r in runs]}
            if table in {t.name for t in EVENT_TABLES}:
                for workspace_id, _day, count, _measure in result:
                    key = str(workspace_id)
                    rows_by_workspace[key] = rows_by_workspace.get(key, 0) + count
    total = sum(entry["median_s"] for entry in per_table.values())
    log(f"floor: {total:.2f} s (sum of per-table medians of {FLOOR_RUNS})")
    return {
        "runs_per_table": FLOOR_RUNS,
        "per_table": per_table,
        "total_s": rounded(total),
    }, rows_by_workspace


# --------------------------------------------------------------------------------------------
# 3. Builds
# --------------------------------------------------------------------------------------------


def model_times() -> dict[str, float]:
    """Execution seconds per model of the last dbt run, slowest first."""
    results = json.loads((DATA_DIR / "target" / "run_results.json").read_text())
    times = {
        entry["unique_id"].split(".")[-1]: round(entry["execution_time"], 2)
        for entry in results["results"]
        if entry["unique_id"].startswith("model.")
    }
    return dict(sorted(times.items(), key=lambda item: -item[1]))


def run_elapsed_s() -> float:
    """The execution phase of the last dbt run (wall time less start-up and parsing)."""
    return float(json.loads((DATA_DIR / "target" / "run_results.json").read_text())["elapsed_time"])


def build_summary(run: DbtRun) -> Json:
    return {
        "wall_s": rounded(run.wall_s, 2),
        "dbt_execution_s": rounded(run_elapsed_s(), 2),
        "models_s": model_times(),
        "peak_memory_mb": {
            "dbt_process_maxrss": mb(run.dbt_maxrss_kb),
            "postgres_backend_vmhwm": mb(run.backend_hwm_kb),
            "postgres_backends_rssanon_sum": mb(run.backends_anon_kb),
        },
    }


def full_builds(runs: int, env: dict[str, str], floor_s: float) -> Json:
    builds = []
    for index in range(runs):
        log(f"full build {index + 1}/{runs}: dbt run --full-refresh")
        builds.append(build_summary(run_dbt(["run", "--full-refresh"], env, f"dbt_full_{index + 1}")))
        log(f"  {builds[-1]['wall_s']:.1f} s")
    walls = [build["wall_s"] for build in builds]
    wall = median(walls)
    chosen = min(builds, key=lambda build: abs(build["wall_s"] - wall))
    return {
        "command": "dbt run --full-refresh",
        "runs": runs,
        "runs_s": walls,
        "median_s": rounded(wall, 2),
        "ratio_to_floor": rounded(wall / floor_s, 2),
        "target": f"<= {FULL_BUILD_TARGET:g}x the floor",
        "met": wall / floor_s <= FULL_BUILD_TARGET,
        "dbt_execution_s": chosen["dbt_execution_s"],
        "models_s": chosen["models_s"],
        "models_total_s": rounded(sum(chosen["models_s"].values()), 2),
        "peak_memory_mb": chosen["peak_memory_mb"],
    }


def dbt_startup(env: dict[str, str]) -> Json:
    """What every ``dbt run`` costs before its first statement: ``dbt parse`` (Python start-up,
    the project's partial parse, no SQL), median of ``STARTUP_RUNS``. It bounds how small an
    incremental build can be, whatever its SQL does."""
    walls = [run_dbt(["parse"], env, "dbt_parse").wall_s for _ in range(STARTUP_RUNS)]
    log(f"dbt start-up (dbt parse, no SQL): {median(walls):.1f} s")
    return {
        "command": "dbt parse",
        "runs_s": [rounded(wall, 2) for wall in walls],
        "median_s": rounded(median(walls), 2),
    }


# --------------------------------------------------------------------------------------------
# 4. Incremental
# --------------------------------------------------------------------------------------------


def new_id(column: str, kind: str, suffix: str) -> str:
    if kind == "uuid":
        return f"md5({column}::text || '{suffix}')::uuid"
    return f"{column} || '{suffix}'"


def copy_statement(table: EventTable, where: str, suffix: str, new_day: bool) -> str:
    """insert ... select: copies of the rows `where` selects, with new ids and _loaded_at = now()."""
    columns = TABLES[table.name]
    expressions = []
    for column in columns:
        if column == table.id_column:
            expressions.append(new_id(column, table.id_kind, suffix))
        elif new_day and column in table.shifted:
            expressions.append(f"{column} + interval '1 day'")
        elif new_day and column in dict(table.refs):
            parents = dict(table.refs)[column]
            replaced = new_id(column, "uuid" if column == "chat_id" else "text", suffix)
            expressions.append(
                f"case when {column} in (select id from {parents}) then {replaced} else {column} end"
            )
        else:
            expressions.append(column)
    return (
        f"insert into raw.{table.name} ({', '.join(columns)}, _loaded_at) "
        f"select {', '.join(expressions)}, now() from raw.{table.name} where {where}"
    )


def new_day_where(table: EventTable) -> str:
    if table.name == "call_events":
        return "call_id in (select id from bench_new_calls)"
    return f"{table.time_column} >= %(day)s and {table.time_column} < %(next_day)s"


def late_where(table: EventTable) -> str:
    sample = "abs(hashtext({id}::text)) %% 100 = 0"
    if table.name == "call_events":
        chosen = sample.format(id="call_id")
        return (
            "call_id in (select call_id from raw.call_events "
            f"where started_at >= %(week)s and started_at < %(next_day)s and {chosen})"
        )
    chosen = sample.format(id=table.id_column)
    return f"{table.time_column} >= %(week)s and {table.time_column} < %(next_day)s and {chosen}"


def land_rows(end_date: date) -> Json:
    """One more day (copies of the end date's rows, +1 day) and 1% late rows over the past week."""
    day = datetime.combine(end_date, datetime.min.time(), tzinfo=UTC)
    params = {"day": day, "next_day": day + timedelta(days=1), "week": day - timedelta(days=6)}
    new_day: dict[str, int] = {}
    late: dict[str, int] = {}
    with psycopg.connect(dbname=DATABASE) as conn, conn.transaction():
        conn.execute(
            "create temp table bench_new_chats on commit drop as select distinct chat_id as id "
            "from raw.chats where created_at >= %(day)s and created_at < %(next_day)s",
            params,
        )
        conn.execute(
            "create temp table bench_new_calls on commit drop as select distinct call_id as id "
            "from raw.call_events where started_at >= %(day)s and started_at < %(next_day)s",
            params,
        )
        elapsed, _ = timed(lambda: land_tables(conn, params, new_day, late))
    total = sum(new_day.values()) + sum(late.values())
    log(f"landed {sum(new_day.values()):,} new-day rows and {sum(late.values()):,} late rows")
    return {
        "new_day": (end_date + timedelta(days=1)).isoformat(),
        "new_day_rows": new_day,
        "late_rows": late,
        "late_window": f"{(end_date - timedelta(days=6)).isoformat()}..{end_date.isoformat()}",
        "total_rows": total,
        "load_s": rounded(elapsed, 2),
    }


def land_tables(
    conn: psycopg.Connection[Any], params: Json, new_day: dict[str, int], late: dict[str, int]
) -> None:
    for table in EVENT_TABLES:
        late_sql = copy_statement(table, late_where(table), ":bench-late", new_day=False)
        late[table.name] = conn.execute(late_sql, params).rowcount
        new_sql = copy_statement(table, new_day_where(table), ":bench-new-day", new_day=True)
        new_day[table.name] = conn.execute(new_sql, params).rowcount


def check_landed_ids(data: Json) -> Json:
    """The landed rows use the base run's workspace and member ids, and no new id was there before."""
    with connect() as conn:
        cutoff = data["cutoff"]
        unknown_workspaces = conn.execute(
            "select count(*) from raw.ai_usage_events where _loaded_at >= %s "
            "and workspace_id not in (select workspace_id from raw.workspaces)",
            (cutoff,),
        ).fetchone()[0]  # type: ignore[index]
        unknown_members = conn.execute(
            "select count(*) from raw.messages where _loaded_at >= %s and sender_member_id is not null "
            "and sender_member_id not in (select member_id from raw.members)",
            (cutoff,),
        ).fetchone()[0]  # type: ignore[index]
        collisions = sum(id_collisions(conn, table, cutoff) for table in EVENT_TABLES)
    return {
        "rows_with_unknown_workspace": unknown_workspaces,
        "rows_with_unknown_member": unknown_members,
        "new_ids_colliding_with_base_ids": collisions,
        "ok": unknown_workspaces == 0 and unknown_members == 0 and collisions == 0,
    }


def id_collisions(conn: psycopg.Connection[Any], table: EventTable, cutoff: str) -> int:
    column, name = table.id_column, table.name
    return conn.execute(
        f"select count(*) from (select distinct {column} as id from raw.{name} where _loaded_at >= %(cutoff)s) as n "
        f"where exists (select 1 from raw.{name} as b where b.{column} = n.id and b._loaded_at < %(cutoff)s)",
        {"cutoff": cutoff},
    ).fetchone()[0]  # type: ignore[index]


def incremental_build(env: dict[str, str], full_s: float) -> Json:
    log("incremental build: dbt run")
    run = run_dbt(["run"], env, "dbt_incremental")
    summary = build_summary(run)
    share = run.wall_s / full_s
    log(f"  {run.wall_s:.1f} s ({share:.1%} of the full build)")
    log("the next scheduled refresh, nothing new landed (one pass over raw, nothing to write): dbt run")
    repeat = build_summary(run_dbt(["run"], env, "dbt_incremental_repeat"))
    log(f"  {repeat['wall_s']:.1f} s")
    return {
        "command": "dbt run",
        "wall_s": summary["wall_s"],
        "share_of_full_build": rounded(share, 4),
        "target": f"<= {INCREMENTAL_TARGET:.0%} of the full build",
        "met": share <= INCREMENTAL_TARGET,
        "dbt_execution_s": summary["dbt_execution_s"],
        "models_s": summary["models_s"],
        "models_total_s": rounded(sum(summary["models_s"].values()), 2),
        "peak_memory_mb": summary["peak_memory_mb"],
        "repeat_nothing_new": {
            "wall_s": repeat["wall_s"],
            "dbt_execution_s": repeat["dbt_execution_s"],
            "models_s": repeat["models_s"],
        },
    }


def mart_columns(conn: psycopg.Connection[Any], mart: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = %s order by ordinal_position",
        (mart,),
    ).fetchall()
    return [row[0] for row in rows]


def schema_tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "and table_type = 'BASE TABLE' order by table_name",
        (schema,),
    ).fetchall()
    return [row[0] for row in rows]


def report_marts(conn: psycopg.Connection[Any]) -> list[str]:
    """Every mart table but data_freshness (whose built_at differs by design)."""
    return [table for table in schema_tables(conn, "marts") if table != "data_freshness"]


def settle_statistics() -> float:
    """vacuum analyze of what dbt built: where autovacuum has got to within minutes of a full build,
    so the incremental build is timed on tables with statistics, as a cron refresh would be."""
    with connect() as conn:
        tables = [
            f"{schema}.{table}" for schema in ("staging", "marts") for table in schema_tables(conn, schema)
        ]
        elapsed, _ = timed(lambda: [conn.execute(f"vacuum analyze {table}") for table in tables])
    return round(elapsed, 1)


def snapshot_marts() -> None:
    with connect() as conn:
        conn.execute("drop schema if exists bench_snapshot cascade")
        conn.execute("create schema bench_snapshot")
        for mart in (*report_marts(conn), "data_freshness"):
            conn.execute(f"create table bench_snapshot.{mart} as select * from marts.{mart}")


def symmetric_difference(conn: psycopg.Connection[Any], mart: str, columns: Sequence[str]) -> int:
    listed = ", ".join(columns)
    sql = (
        f"select (select count(*) from (select {listed} from bench_snapshot.{mart} "
        f"except all select {listed} from marts.{mart}) as a) + "
        f"(select count(*) from (select {listed} from marts.{mart} "
        f"except all select {listed} from bench_snapshot.{mart}) as b)"
    )
    return conn.execute(sql).fetchone()[0]  # type: ignore[index]


def compare_marts() -> Json:
    marts: Json = {}
    with connect() as conn:
        for mart in report_marts(conn):
            columns = mart_columns(conn, mart)
            report_columns = [column for column in columns if not column.endswith("last_loaded_at")]
            marts[mart] = {
                "rows_incremental": conn.execute(f"select count(*) from bench_snapshot.{mart}").fetchone()[0],  # type: ignore[index]
                "rows_full_refresh": conn.execute(f"select count(*) from marts.{mart}").fetchone()[0],  # type: ignore[index]
                "differing_rows": symmetric_difference(conn, mart, columns),
                "differing_rows_ignoring_last_loaded_at": symmetric_difference(conn, mart, report_columns),
            }
        as_of = conn.execute(
            "select (select data_as_of from bench_snapshot.data_freshness) = "
            "(select data_as_of from marts.data_freshness)"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute("drop schema bench_snapshot cascade")
    equal = all(entry["differing_rows"] == 0 for entry in marts.values()) and bool(as_of)
    return {"marts": marts, "data_as_of_equal": bool(as_of), "equal": equal}


def verify_exactness(env: dict[str, str], full_s: float, mode: str) -> Json:
    if mode == "never" or (mode == "auto" and full_s >= VERIFY_BUDGET_S):
        reason = "--verify never" if mode == "never" else f"a full build takes >= {VERIFY_BUDGET_S:.0f} s"
        log(f"exactness check skipped ({reason})")
        return {"checked": False, "reason": reason}
    log("exactness: dbt run --full-refresh after the incremental build, then every mart row compared")
    snapshot_marts()
    run = run_dbt(["run", "--full-refresh"], env, "dbt_verify_full")
    comparison = compare_marts()
    log(f"  incremental == full refresh: {comparison['equal']}")
    # the full refresh replaced every table: the reports that follow meet them with statistics,
    # as after the first full build
    settled_s = settle_statistics()
    return {
        "checked": True,
        "full_refresh_after_increment_s": rounded(run.wall_s, 2),
        "settle_statistics_s": settled_s,
        **comparison,
    }


# --------------------------------------------------------------------------------------------
# 5. Reports over HTTP and straight from raw
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTarget:
    workspace_id: str
    member_id: str  # the busiest member: member-usage is asked about them
    admin_id: str  # the key's owner
    start: date
    end: date

    def params(self, zone: str = UTC_NAME) -> Json:
        """The raw SQL's parameters: the range's local days in ``zone`` as UTC instants
        (computed here with zoneinfo, independently of the API; neither zone of ZONES
        skips or repeats midnight)."""
        info = UTC if zone == UTC_NAME else ZoneInfo(zone)
        start = datetime.combine(self.start, datetime.min.time(), tzinfo=info).astimezone(UTC)
        stop = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=info).astimezone(
            UTC
        )
        return {"ws": self.workspace_id, "member": self.member_id, "start": start, "stop": stop}

    def path(self, report: str, zone: str = UTC_NAME, as_csv: bool = False) -> str:
        """The report's URL: no ``tz`` for UTC (exactly the request of the UTC runs)."""
        name = f"member-usage/{self.member_id}" if report == "member-usage" else report
        query = {"start_date": self.start.isoformat(), "end_date": self.end.isoformat()}
        if zone != UTC_NAME:
            query["tz"] = zone
        if as_csv:
            query["format"] = "csv"
        return f"/api/v2/w/{self.workspace_id}/reports/{name}?{urlencode(query, safe='/')}"


REPORTS = ("ai-usage", "sms-usage", "phone-usage", "voice-usage", "member-usage")


def pick_target(rows_by_workspace: dict[str, int], end_date: date) -> ReportTarget:
    workspace_id = max(rows_by_workspace, key=lambda key: rows_by_workspace[key])
    start = end_date - timedelta(days=REPORT_DAYS - 1)
    with connect() as conn:
        admin = conn.execute(
            "select member_id from staging.stg_product__members where workspace_id = %s "
            "and role_id = 'admin' and not is_deleted order by created_at, member_id limit 1",
            (workspace_id,),
        ).fetchone()
        busiest = conn.execute(
            "select member_id from marts.member_usage_daily where workspace_id = %s "
            "and usage_date between %s and %s group by member_id "
            "order by sum(messages_sent) desc, member_id limit 1",
            (workspace_id, start, end_date),
        ).fetchone()
    if admin is None or busiest is None:
        raise RuntimeError("no active admin or no active member in the biggest workspace")
    return ReportTarget(workspace_id, str(busiest[0]), str(admin[0]), start, end_date)


def create_key(target: ReportTarget, env: dict[str, str]) -> str:
    command = [str(BIN / "flask"), "--app", "api", "keys", "create", "--workspace", target.workspace_id]
    command += ["--member", target.admin_id, "--name", "make bench", "--scope", "analytics:read"]
    command += ["--scope", "members:read", "--expires-in-days", "30"]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"flask keys create failed: {result.stderr.strip()}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """gunicorn as `make serve` runs it (on the private server: as the API's read-only role,
    granted first), on a free loopback port, logs to bench/data; always stopped on exit."""
    port = free_port()
    env = dict(env)
    if on_private_server():
        subprocess.run([str(BIN / "flask"), "--app", "api", "db", "grant-api-role"], cwd=PROJECT_ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        env["API_PGUSER"] = API_ROLE
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--access-logfile", str(DATA_DIR / "gunicorn-access.log"), "--no-control-socket"]
    command += ["--error-logfile", str(DATA_DIR / "gunicorn-error.log"), "api:create_app()"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)
    try:
        wait_until_serving(port, process)
        yield port, process
    finally:
        stop_process(process)


def wait_until_serving(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}; see bench/data/gunicorn-error.log"
            )
        try:
            if request(port, "/api/v2/openapi.json", None)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_pids(master_pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    return sorted(int(pid) for pid in children)


def request(port: int, path: str, token: str | None) -> tuple[int, bytes, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        connection.close()


@dataclass
class Load:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0


def run_load(port: int, path: str, token: str, total: int, clients: int) -> Load:
    """`total` requests split over `clients` threads, each one request at a time."""
    load = Load()
    lock = threading.Lock()

    def client(count: int) -> None:
        for _ in range(count):
            status, _body, elapsed = request(port, path, token)
            with lock:
                load.latencies_s.append(elapsed)
                load.errors += status != 200

    shares = [total // clients + (index < total % clients) for index in range(clients)]
    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.wall_s = time.perf_counter() - started
    return load


def run_interleaved(port: int, paths: Sequence[str], token: str, per_path: int) -> dict[str, Load]:
    """One client, `per_path` rounds of one request to each path, the order rotated every
    round: the paths meet the same contention from whatever else runs on the machine."""
    loads = {path: Load() for path in paths}
    started = time.perf_counter()
    for round_index in range(per_path):
        shift = round_index % len(paths)
        for path in [*paths[shift:], *paths[:shift]]:
            status, _body, elapsed = request(port, path, token)
            loads[path].latencies_s.append(elapsed)
            loads[path].errors += status != 200
    wall = time.perf_counter() - started
    for load in loads.values():
        load.wall_s = wall
    return loads


def load_summary(load: Load, clients: int, interleaved: bool = False) -> Json:
    latencies_ms = [value * 1000 for value in load.latencies_s]
    summary = {
        "clients": clients,
        "requests": len(latencies_ms),
        "errors": load.errors,
        "p50_ms": rounded(median(latencies_ms), 3),  # to the microsecond: ratios and flags use it
        "p99_ms": rounded(percentile(latencies_ms, 0.99), 2),
        "mean_ms": rounded(statistics.fmean(latencies_ms), 2),
        "max_ms": rounded(max(latencies_ms), 2),
        # interleaved with other paths: requests / the time spent on this path's requests
        "throughput_rps": rounded(
            len(latencies_ms) / (sum(load.latencies_s) if interleaved else load.wall_s), 1
        ),
    }
    if interleaved:
        summary["interleaved"] = True
    return summary


def first_response(port: int, path: str, token: str, report: str, zone: str) -> bytes:
    """The response to `path`, checked: 200, and the zone named in the body unless UTC."""
    status, body, _ = request(port, path, token)
    if status != 200:
        raise RuntimeError(f"{report} ({zone}): HTTP {status}: {body[:300]!r}")
    named = json.loads(body).get("tz")
    if named != (None if zone == UTC_NAME else zone):
        raise RuntimeError(f"{report} ({zone}): the body names the zone {named!r}")
    return body


def measure_request_floor(port: int, target: ReportTarget, token: str, requests: int) -> Json:
    """The p50 of requests that run no report, 1 client, interleaved: HTTP and Flask alone (no
    key: a 401 before any query), and with the key check too (a valid key and a malformed
    date: the key's statement, then a 400). A report's p50 less the second is its own
    statement and body."""
    base = f"/api/v2/w/{target.workspace_id}/reports/ai-usage"
    cases: dict[str, tuple[str, str | None, int]] = {
        "no_key_401": (f"{base}?start_date=2026-01-01", None, 401)
    }
    cases["key_check_400"] = (f"{base}?start_date=not-a-date", token, 400)
    latencies: dict[str, list[float]] = {name: [] for name in cases}
    for round_index in range(requests + 20):
        for name, (path, key, expected) in cases.items():
            status, body, elapsed = request(port, path, key)
            if status != expected:
                raise RuntimeError(f"{path}: HTTP {status}, expected {expected}: {body[:200]!r}")
            if round_index >= 20:  # the first rounds warm every worker up
                latencies[name].append(elapsed * 1000)
    return {
        name: {"requests": len(values), "p50_ms": rounded(median(values), 2)}
        for name, values in latencies.items()
    }


def measure_api(port: int, target: ReportTarget, token: str, requests: int, workers: int) -> Json:
    """Per report: UTC and each of ZONES, the same local dates. At 1 client the three are
    interleaved request by request (the tz target compares their p50s); at 8 clients each
    runs on its own, one after the other."""
    results: Json = {}
    for report in REPORTS:
        zones = (UTC_NAME, *ZONES)
        paths = {zone: target.path(report, zone) for zone in zones}
        entries: Json = {}
        for zone, path in paths.items():
            body = first_response(port, path, token, report, zone)
            # warm-up: every worker's pool, and its statements prepared with their generic plans
            # (psycopg prepares on the 6th run, PostgreSQL keeps a generic plan after 5 more)
            run_load(port, path, token, WARMUP_PER_WORKER * workers, workers)
            entries[zone] = {
                "path": path,
                "response_bytes": len(body),
                "body": json.loads(body, parse_float=Decimal),
            }
        one = run_interleaved(port, list(paths.values()), token, requests)
        for zone, path in paths.items():
            entries[zone]["clients_1"] = load_summary(one[path], 1, interleaved=True)
        # the raw SQL target's 1 client: the UTC report on its own (interleaved, each UTC request
        # follows a zoned one, up to 5x heavier, and pays for it: voice 1.6 ms alone, 2.3 ms so)
        utc_entry = entries[UTC_NAME]
        utc_entry["clients_1_with_zones"] = utc_entry["clients_1"]
        utc_entry["clients_1"] = load_summary(run_load(port, paths[UTC_NAME], token, requests, 1), 1)
        for zone, path in paths.items():
            for n in CLIENT_COUNTS:
                if n != 1:
                    entries[zone][f"clients_{n}"] = load_summary(run_load(port, path, token, requests, n), n)
        results[report] = {**entries[UTC_NAME], "zones": {zone: entries[zone] for zone in ZONES}}
        for zone in zones:
            p50s = " / ".join(f"{entries[zone][f'clients_{n}']['p50_ms']:.1f}" for n in CLIENT_COUNTS)
            log(f"  {report:<13} {zone:<17} p50 {p50s} ms (1 / 8 clients)")
    return results


def measure_csv(port: int, target: ReportTarget, token: str, requests: int, workers: int) -> Json:
    """For information: CSV_REPORT with format=csv (UTC), 1 client, interleaved with its JSON;
    the CSV's credits column is checked against the JSON total."""
    csv_path, json_path = target.path(CSV_REPORT, as_csv=True), target.path(CSV_REPORT)
    status, body, _ = request(port, csv_path, token)
    if status != 200:
        raise RuntimeError(f"{CSV_REPORT} (csv): HTTP {status}: {body[:300]!r}")
    json_body = json.loads(first_response(port, json_path, token, CSV_REPORT, UTC_NAME), parse_float=Decimal)
    run_load(port, csv_path, token, WARMUP_PER_WORKER * workers, workers)
    loads = run_interleaved(port, [csv_path, json_path], token, requests)
    lines = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    credits = sum((Decimal(line["credits"]) for line in lines), Decimal(0))
    summary = load_summary(loads[csv_path], 1, interleaved=True)
    json_summary = load_summary(loads[json_path], 1, interleaved=True)
    log(f"  {CSV_REPORT} format=csv p50 {summary['p50_ms']:.1f} ms (JSON {json_summary['p50_ms']:.1f} ms)")
    return {
        "report": CSV_REPORT,
        "tz": UTC_NAME,
        "path": csv_path,
        "response_bytes": len(body),
        "lines": len(lines),
        "clients_1": summary,
        "json_clients_1": json_summary,
        "ratio_to_json_p50": rounded(summary["p50_ms"] / json_summary["p50_ms"], 2),
        "credits_sum": str(credits),
        "json_total_credits": str(json_body.get("total_credits")),
        "credits_add_up": same_number(credits, json_body.get("total_credits")),
    }


API_SQL_NAMES = {
    "ai-usage": "AI_USAGE_SQL",
    "sms-usage": "SMS_USAGE_SQL",
    "phone-usage": "PHONE_USAGE_SQL",
    "voice-usage": "VOICE_USAGE_SQL",
    "member-usage": "MEMBER_USAGE_SQL",
}
MART_SQL_RUNS = 20
WARMUP_PER_WORKER = 15  # untimed requests per gunicorn worker before each timed run
# Untimed runs first, as a long-lived API connection has had them: psycopg prepares a statement
# on its 6th execution and PostgreSQL plans it afresh for 5 more before keeping a generic plan,
# so timing from the first run would mix the planner's ~0.5-1 ms into the median.
MART_SQL_WARMUP = 12


# The API's statement builders for a zone, and whether the statement lists days (it then reads
# with a plan, ``api.zones.rows_by_day``) or only totals the range (``range_rows``).
API_ZONED_SQL = {
    "ai-usage": ("ai_usage_sql", False),
    "sms-usage": ("sms_usage_sql", True),
    "phone-usage": ("phone_usage_sql", True),
    "voice-usage": ("voice_usage_sql", True),
    "member-usage": ("member_usage_sql", False),
}


def zoned_statements(target: ReportTarget, report: str) -> dict[str, tuple[str, Json]]:
    """The API's statement and parameters for `report` in UTC and each of ZONES, built as the
    API builds them (no build running); empty when the API module does not expose them."""
    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        from api import reports, zones
        from api.params import DateRange
    except ImportError:
        return {}
    base = {"workspace_id": target.workspace_id, "member_id": target.member_id}
    statements: dict[str, tuple[str, Json]] = {}
    sql = getattr(reports, API_SQL_NAMES[report], None)
    if isinstance(sql, str):
        statements[UTC_NAME] = (sql, {**base, "start_date": target.start, "end_date": target.end})
    builder_name, by_day = API_ZONED_SQL[report]
    builder = getattr(reports, builder_name, None)
    if builder is None:
        return statements
    for name in ZONES:
        zone = zones.Zone(name)
        read = zones.reading(DateRange(target.start, target.end), zone, by_day=by_day)
        statements[name] = (builder(zone, planned=read.planned), {**base, **read.params})
    return statements


def measure_mart_sql(target: ReportTarget) -> Json:
    """The API's own report statement run directly (median of 20 after 12 untimed runs), per report and zone:
    how much of the HTTP latency is the mart query."""
    results: Json = {}
    with connect() as conn:
        for report in REPORTS:
            for zone, (sql, params) in zoned_statements(target, report).items():
                for _ in range(MART_SQL_WARMUP):
                    fetch_all(conn, sql, params)
                runs = [timed(partial(fetch_all, conn, sql, params))[0] * 1000 for _ in range(MART_SQL_RUNS)]
                results.setdefault(report, {})[zone] = rounded(median(runs), 2)
    return results


def worker_memory(process: subprocess.Popen[bytes]) -> Json:
    workers = worker_pids(process.pid)
    return {
        "master_vmhwm_mb": mb(proc_status_kb(process.pid, "VmHWM")),
        "workers_vmhwm_mb": [mb(proc_status_kb(pid, "VmHWM")) for pid in workers],
        "workers_vmrss_mb": [mb(proc_status_kb(pid, "VmRSS")) for pid in workers],
    }


# The same reports straight from raw: the copies inside the range are de-duplicated by id (the
# one that landed last wins), the contract's validity rules applied, then aggregated. A copy
# that moved out of the range is not looked at (cheaper than exact; the generator never moves
# one), which can only make this baseline faster.

# The AI report over `latest` (one row per event id), the same in PostgreSQL and DuckDB.
AI_FROM_LATEST_SQL = """
select
    grouping(provider, model, model_type) as grouping_level,
    provider, model, model_type,
    count(*) as events,
    sum(prompt_tokens) as prompt_tokens,
    sum(completion_tokens) as completion_tokens,
    sum(prompt_tokens + completion_tokens) as total_tokens,
    sum(cached_tokens) as cached_tokens,
    sum(audio_input_tokens) as audio_input_tokens,
    sum(audio_output_tokens) as audio_output_tokens,
    sum(credits) as credits
from latest
where provider is not null and model is not null and model_type is not null and credits is not null
    and prompt_tokens >= 0 and completion_tokens >= 0 and cached_tokens >= 0
    and audio_input_tokens >= 0 and audio_output_tokens >= 0
group by grouping sets ((), (provider), (model_type), (provider, model, model_type))
"""

RAW_AI_SQL = (
    """
with latest as (
    select distinct on (event_id)
        provider, model, model_type, prompt_tokens, completion_tokens, cached_tokens,
        audio_input_tokens, audio_output_tokens, credits
    from raw.ai_usage_events
    where workspace_id = %(ws)s and recorded_at >= %(start)s and recorded_at < %(stop)s
        and event_id is not null
    order by event_id, _loaded_at desc, recorded_at desc
)
"""
    + AI_FROM_LATEST_SQL
)

RAW_MESSAGES_SQL = """
select count(distinct message_id) as total_messages
from raw.messages
where workspace_id = %(ws)s and created_at >= %(start)s and created_at < %(stop)s
"""

# Segments are simplified: the carrier's count when positive, else printable ASCII is taken as
# GSM-7 (extension characters counted once) and anything else as UCS-2 by code points.
RAW_SMS_SQL = r"""
with latest as (
    select distinct on (sms_id) direction, workspace_number, body, carrier_segments, sent_at
    from raw.sms_messages
    where workspace_id = %(ws)s and sent_at >= %(start)s and sent_at < %(stop)s and sms_id is not null
    order by sms_id, _loaded_at desc, sent_at desc
),
valid as (
    select
        (sent_at at time zone 'UTC')::date as usage_date,
        workspace_number,
        direction,
        char_length(body) as characters,
        case
            when carrier_segments > 0 then carrier_segments
            when body = '' then 1
            when body ~ '^[ -~\n\r]*$' then
                case when char_length(body) <= 160 then 1 else ceil(char_length(body) / 153.0)::int end
            else case when char_length(body) <= 70 then 1 else ceil(char_length(body) / 67.0)::int end
        end as segments
    from latest
    where direction in ('inbound', 'outbound') and body is not null and workspace_number is not null
)
select
    usage_date, workspace_number,
    count(*) as messages,
    count(*) filter (where direction = 'inbound') as inbound,
    count(*) filter (where direction = 'outbound') as outbound,
    sum(characters) as characters,
    sum(segments) as segments
from valid
group by usage_date, workspace_number
order by usage_date, workspace_number
"""

RAW_PHONE_SQL = """
with states as (
    select * from raw.call_events
    where workspace_id = %(ws)s and call_id in (
        select call_id from raw.call_events
        where workspace_id = %(ws)s and started_at >= %(start)s and started_at < %(stop)s
    )
),
latest as (
    select distinct on (call_id) *
    from states
    order by call_id, updated_at desc nulls last, _loaded_at desc,
        case when status in ('completed', 'busy', 'failed', 'no-answer', 'canceled') then 0 else 1 end
)
select
    (started_at at time zone 'UTC')::date as usage_date, workspace_number,
    count(*) as calls,
    count(*) filter (where direction = 'inbound') as inbound,
    count(*) filter (where direction = 'outbound') as outbound,
    sum(floor(extract(epoch from ended_at - started_at) + 0.5))::bigint as duration_seconds
from latest
where status = 'completed' and started_at >= %(start)s and started_at < %(stop)s
    and ended_at >= started_at and direction in ('inbound', 'outbound') and workspace_number is not null
group by 1, 2
order by 1, 2
"""

RAW_VOICE_SQL = """
with stt as (
    select distinct on (event_id) provider, model, duration_seconds, recorded_at
    from raw.stt_events
    where workspace_id = %(ws)s and recorded_at >= %(start)s and recorded_at < %(stop)s
        and event_id is not null
    order by event_id, _loaded_at desc, recorded_at desc
),
tts as (
    select distinct on (event_id) provider, model, characters, recorded_at
    from raw.tts_events
    where workspace_id = %(ws)s and recorded_at >= %(start)s and recorded_at < %(stop)s
        and event_id is not null
    order by event_id, _loaded_at desc, recorded_at desc
)
select 'stt' as kind, (recorded_at at time zone 'UTC')::date as usage_date, provider, model,
    count(*) as messages, sum(duration_seconds) as amount
from stt
where provider is not null and model is not null and duration_seconds >= 0
group by 2, 3, 4
union all
select 'tts', (recorded_at at time zone 'UTC')::date, provider, model, count(*), sum(characters)
from tts
where provider is not null and model is not null and characters >= 0
group by 2, 3, 4
order by 1, 2, 3, 4
"""

RAW_MEMBER_SQL = """
with member_chats as (
    select chat_id, created_at from (
        select distinct on (chat_id) chat_id, owner_member_id, created_at
        from raw.chats
        where workspace_id = %(ws)s and chat_id is not null
        order by chat_id, _loaded_at desc, created_at desc
    ) as chats
    where owner_member_id = %(member)s
),
ai as (
    select distinct on (event_id) *
    from raw.ai_usage_events
    where workspace_id = %(ws)s and recorded_at >= %(start)s and recorded_at < %(stop)s
        and chat_id is not null and event_id is not null
    order by event_id, _loaded_at desc, recorded_at desc
),
member_ai as (
    select ai.credits, ai.prompt_tokens + ai.completion_tokens as tokens
    from ai
    inner join member_chats on ai.chat_id = member_chats.chat_id
    where ai.provider is not null and ai.model is not null and ai.model_type is not null
        and ai.credits is not null and ai.prompt_tokens >= 0 and ai.completion_tokens >= 0
        and ai.cached_tokens >= 0 and ai.audio_input_tokens >= 0 and ai.audio_output_tokens >= 0
)
select
    (select count(*) from member_chats where created_at >= %(start)s and created_at < %(stop)s) as total_chats,
    (select count(distinct message_id) from raw.messages
     where workspace_id = %(ws)s and sender_member_id = %(member)s
        and created_at >= %(start)s and created_at < %(stop)s) as total_messages,
    (select coalesce(sum(credits), 0) from member_ai) as total_credits,
    (select coalesce(sum(tokens), 0) from member_ai) as total_tokens
"""


def ai_totals(rows: list[Json], total_messages: int) -> Json:
    total = next(row for row in rows if row["grouping_level"] == 7) if rows else {}
    return {
        "total_messages": total_messages,
        "total_tokens": int(total.get("total_tokens") or 0),
        "total_prompt_tokens": int(total.get("prompt_tokens") or 0),
        "total_completion_tokens": int(total.get("completion_tokens") or 0),
        "total_cached_tokens": int(total.get("cached_tokens") or 0),
        "total_audio_input_tokens": int(total.get("audio_input_tokens") or 0),
        "total_audio_output_tokens": int(total.get("audio_output_tokens") or 0),
        "total_credits": Decimal(total.get("credits") or 0),
    }


def raw_ai(conn: psycopg.Connection[Json], params: Json) -> Json:
    rows = conn.execute(RAW_AI_SQL, params).fetchall()
    messages = conn.execute(RAW_MESSAGES_SQL, params).fetchone()
    return ai_totals(rows, int(messages["total_messages"]) if messages else 0)


def raw_sms(conn: psycopg.Connection[Json], params: Json) -> Json:
    rows = conn.execute(RAW_SMS_SQL, params).fetchall()
    return {
        "totalMessages": sum(row["messages"] for row in rows),
        "totalInbound": sum(row["inbound"] for row in rows),
        "totalOutbound": sum(row["outbound"] for row in rows),
        "totalCharacters": sum(row["characters"] for row in rows),
        "totalSegments": sum(row["segments"] for row in rows),
    }


def raw_phone(conn: psycopg.Connection[Json], params: Json) -> Json:
    rows = conn.execute(RAW_PHONE_SQL, params).fetchall()
    return {
        "totalCalls": sum(row["calls"] for row in rows),
        "totalInbound": sum(row["inbound"] for row in rows),
        "totalOutbound": sum(row["outbound"] for row in rows),
        "totalDurationSeconds": sum(row["duration_seconds"] for row in rows),
    }


def raw_voice(conn: psycopg.Connection[Json], params: Json) -> Json:
    rows = conn.execute(RAW_VOICE_SQL, params).fetchall()
    stt = [row for row in rows if row["kind"] == "stt"]
    tts = [row for row in rows if row["kind"] == "tts"]
    return {
        "totalSttDurationSeconds": sum((Decimal(row["amount"]) for row in stt), Decimal(0)),
        "totalSttMessages": sum(row["messages"] for row in stt),
        "totalTtsCharacters": sum(int(row["amount"]) for row in tts),
        "totalTtsMessages": sum(row["messages"] for row in tts),
    }


def raw_member(conn: psycopg.Connection[Json], params: Json) -> Json:
    row = conn.execute(RAW_MEMBER_SQL, params).fetchone() or {}
    return {
        "totalChats": int(row.get("total_chats") or 0),
        "totalMessages": int(row.get("total_messages") or 0),
        "totalCredits": Decimal(row.get("total_credits") or 0),
        "totalTokens": int(row.get("total_tokens") or 0),
    }


RAW_REPORTS: dict[str, Callable[[psycopg.Connection[Json], Json], Json]] = {
    "ai-usage": raw_ai,
    "sms-usage": raw_sms,
    "phone-usage": raw_phone,
    "voice-usage": raw_voice,
    "member-usage": raw_member,
}
APPROXIMATE_KEYS = {"sms-usage": {"totalSegments"}}


def measure_raw(target: ReportTarget) -> Json:
    """UTC: median of RAW_RUNS. Each of ZONES: one run over the local days' UTC instants,
    for its totals (the sums over a range do not depend on the day rows' zone)."""
    results: Json = {}
    with psycopg.connect(dbname=DATABASE, autocommit=True, row_factory=dict_row) as conn:
        for report, compute in RAW_REPORTS.items():
            runs: list[float] = []
            totals: Json = {}
            for _ in range(RAW_RUNS):
                elapsed, totals = timed(partial(compute, conn, target.params()))
                runs.append(elapsed * 1000)
            results[report] = {
                "median_ms": rounded(median(runs), 1),
                "runs_ms": [rounded(r, 1) for r in runs],
                "totals": totals,
                "zones": {},
            }
            for zone in ZONES:
                params = target.params(zone)
                elapsed, zone_totals = timed(partial(compute, conn, params))
                results[report]["zones"][zone] = {
                    "start": params["start"].isoformat(),
                    "stop": params["stop"].isoformat(),
                    "ms": rounded(elapsed * 1000, 1),
                    "totals": zone_totals,
                }
            log(f"  {report:<13} raw SQL median {median(runs):.0f} ms")
    return results


def same_number(left: Any, right: Any) -> bool:
    return left is not None and right is not None and Decimal(str(left)) == Decimal(str(right))


def compare_totals(api_body: Json, raw_totals: Json, approximate: set[str]) -> Json:
    mismatches = {
        key: {"api": str(api_body.get(key)), "raw": str(value)}
        for key, value in raw_totals.items()
        if not same_number(api_body.get(key), value)
    }
    exact_mismatches = [key for key in mismatches if key not in approximate]
    return {"agrees": not exact_mismatches, "mismatches": mismatches, "approximated": sorted(approximate)}


def zone_results(report: str, api: Json, raw: Json, mart_sql: Json) -> Json:
    """Each zone's latencies against UTC's (1 client interleaved, 8 clients one after the
    other) and its totals against raw SQL over the same local days."""
    utc = api[report]
    zones: Json = {}
    exact: list[float] = []  # the flag compares unrounded ratios
    for zone in ZONES:
        entry = dict(api[report]["zones"][zone])
        body = entry.pop("body")
        if zone in mart_sql.get(report, {}):
            entry["mart_sql_median_ms"] = mart_sql[report][zone]
        for n in CLIENT_COUNTS:
            entry[f"ratio_to_utc_p50_{n}_clients"] = rounded(
                entry[f"clients_{n}"]["p50_ms"] / utc_p50(utc, n), 2
            )
        exact.append(entry["clients_1"]["p50_ms"] / utc_p50(utc, 1))
        raw_zone = raw[report]["zones"][zone]
        entry["raw_sql"] = {key: value for key, value in raw_zone.items() if key != "totals"}
        entry["raw_vs_api_totals"] = compare_totals(
            body, raw_zone["totals"], APPROXIMATE_KEYS.get(report, set())
        )
        zones[zone] = entry
    worst = max(exact)
    return {
        "zones": zones,
        "tz_worst_ratio_to_utc_p50": rounded(worst, 2),
        "tz_target": f"tz p50 / UTC p50 <= {TZ_TARGET:g}x",
        "tz_met": worst <= TZ_TARGET,
    }


def utc_p50(utc: Json, clients: int) -> float:
    """The UTC p50 a zoned one is compared with: at 1 client, from the run interleaved with
    the zones (the same contention)."""
    name = "clients_1_with_zones" if clients == 1 and "clients_1_with_zones" in utc else f"clients_{clients}"
    return float(utc[name]["p50_ms"])


def report_results(api: Json, raw: Json, mart_sql: Json) -> Json:
    reports: Json = {}
    for report in REPORTS:
        api_entry = dict(api[report])
        body = api_entry.pop("body")
        api_entry.pop("zones")
        p50 = api_entry["clients_1"]["p50_ms"]
        if UTC_NAME in mart_sql.get(report, {}):
            api_entry["mart_sql_median_ms"] = mart_sql[report][UTC_NAME]
        ratio = raw[report]["median_ms"] / p50
        reports[report] = {
            "api": api_entry,
            "raw_sql": {key: value for key, value in raw[report].items() if key not in ("totals", "zones")},
            "ratio_raw_to_api_p50": rounded(ratio, 1),
            "ratio_raw_to_api_p50_8_clients": rounded(
                raw[report]["median_ms"] / api_entry["clients_8"]["p50_ms"], 1
            ),
            "target": f">= {REPORT_TARGET:g}x",
            "met": ratio >= REPORT_TARGET,
            "raw_vs_api_totals": compare_totals(
                body, raw[report]["totals"], APPROXIMATE_KEYS.get(report, set())
            ),
            **zone_results(report, api, raw, mart_sql),
        }
    return reports


# --------------------------------------------------------------------------------------------
# 6. DuckDB over Parquet
# --------------------------------------------------------------------------------------------

AI_CSV_COLUMNS = {
    "event_id": "UUID",
    "workspace_id": "UUID",
    "chat_id": "UUID",
    "source": "VARCHAR",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "model_type": "VARCHAR",
    "prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "cached_tokens": "BIGINT",
    "audio_input_tokens": "BIGINT",
    "audio_output_tokens": "BIGINT",
    "credits": "DECIMAL(20,6)",
    "recorded_at": "TIMESTAMP",
    "_loaded_at": "TIMESTAMP",
}

DUCKDB_AI_SQL = (
    """
with latest as (
    select * from read_parquet('{path}')
    where workspace_id = $ws and recorded_at >= $start and recorded_at < $stop and event_id is not null
    qualify row_number() over (partition by event_id order by _loaded_at desc, recorded_at desc) = 1
)
"""
    + AI_FROM_LATEST_SQL
)


def export_csv(path: Path) -> int:
    """raw.ai_usage_events as CSV (timestamps as UTC wall time), via COPY ... TO STDOUT."""
    timestamps = {"recorded_at", "_loaded_at"}
    select = ", ".join(
        f"{column} at time zone 'UTC' as {column}" if column in timestamps else column
        for column in AI_CSV_COLUMNS
    )
    statement = f"copy (select {select} from raw.ai_usage_events) to stdout (format csv, header)"
    written = 0
    with connect() as conn, conn.cursor() as cur, open(path, "wb") as output, cur.copy(statement) as copy:
        for chunk in copy:
            output.write(chunk)
            written += len(chunk)
    return written


def convert_to_parquet(csv_path: Path, parquet_path: Path) -> None:
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in AI_CSV_COLUMNS.items())
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from read_csv('{csv_path}', header = true, columns = {{{columns}}})) "
            f"to '{parquet_path}' (format parquet)"
        )


def duckdb_report(target: ReportTarget, api_p50_ms: float, api_body: Json) -> Json:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = DATA_DIR / "ai_usage_events.csv", DATA_DIR / "ai_usage_events.parquet"
    export_s, csv_bytes = timed(lambda: export_csv(csv_path))
    convert_s, _ = timed(lambda: convert_to_parquet(csv_path, parquet_path))
    params = target.params()
    sql = DUCKDB_AI_SQL.replace("{path}", str(parquet_path))
    query = {
        "ws": target.workspace_id,
        "start": params["start"].replace(tzinfo=None),
        "stop": params["stop"].replace(tzinfo=None),
    }
    runs: list[float] = []
    rows: list[Any] = []
    with duckdb.connect() as con:
        for _ in range(DUCKDB_RUNS):
            elapsed, rows = timed(lambda: con.execute(sql, query).fetchall())
            runs.append(elapsed * 1000)
        names = [column[0] for column in con.description or []]
    totals = ai_totals([dict(zip(names, row, strict=True)) for row in rows], int(api_body["total_messages"]))
    csv_path.unlink()
    duck = median(runs)
    log(f"  duckdb AI report median {duck:.0f} ms (API p50 {api_p50_ms:.1f} ms)")
    return {
        "export_csv_s": rounded(export_s, 1),
        "csv_mb": round(csv_bytes / 2**20, 1),
        "csv_to_parquet_s": rounded(convert_s, 1),
        "parquet_mb": round(parquet_path.stat().st_size / 2**20, 1),
        "query_runs_ms": [rounded(r, 1) for r in runs],
        "query_median_ms": rounded(duck, 1),
        "api_p50_ms": api_p50_ms,
        "ratio_duckdb_to_api_p50": rounded(duck / api_p50_ms, 1),
        "target": "API p50 < DuckDB median",
        "met": api_p50_ms < duck,
        "duckdb_vs_api_totals": compare_totals(api_body, totals, {"total_messages"}),
        "note": "AI events only: total_messages (raw.messages) is taken from the API, not computed by DuckDB",
    }


# --------------------------------------------------------------------------------------------
# 7. Output
# --------------------------------------------------------------------------------------------


def targets_table(results: Json) -> list[tuple[str, str, str, str]]:
    full, incremental = results["full_build"], results["incremental_build"]
    rows = [
        (
            "full build / floor",
            f"{full['ratio_to_floor']:.2f}x ({full['median_s']:.1f} s / {results['floor']['total_s']:.2f} s)",
            full["target"],
            "met" if full["met"] else "MISSED",
        ),
        (
            "incremental / full build",
            f"{incremental['share_of_full_build']:.1%} ({incremental['wall_s']:.1f} s)",
            incremental["target"],
            "met" if incremental["met"] else "MISSED",
        ),
    ]
    for report, entry in results.get("reports", {}).items():
        rows.append(
            (
                f"{report}: raw SQL / API p50",
                f"{entry['ratio_raw_to_api_p50']:.0f}x ({entry['raw_sql']['median_ms']:.0f} ms / "
                f"{entry['api']['clients_1']['p50_ms']:.1f} ms)",
                entry["target"],
                "met" if entry["met"] else "MISSED",
            )
        )
    for report, entry in results.get("reports", {}).items():
        zones = ", ".join(
            f"{zone} {zoned['clients_1']['p50_ms']:.1f} ms" for zone, zoned in entry["zones"].items()
        )
        rows.append(
            (
                f"{report}: tz p50 / UTC p50",
                f"{entry['tz_worst_ratio_to_utc_p50']:.2f}x ({zones} / UTC {utc_p50(entry['api'], 1):.1f} ms)",
                entry["tz_target"],
                "met" if entry["tz_met"] else "MISSED",
            )
        )
    if "duckdb" in results:
        duck = results["duckdb"]
        rows.append(
            (
                "ai-usage: DuckDB / API p50",
                f"{duck['ratio_duckdb_to_api_p50']:.1f}x ({duck['query_median_ms']:.0f} ms / {duck['api_p50_ms']:.1f} ms)",
                duck["target"],
                "met" if duck["met"] else "MISSED",
            )
        )
    return rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


METHOD = """\
Generated by `make bench` (`scripts/bench.py`); the machine-readable results are in
`bench/results.json`. Regenerated wholesale on every run: do not edit by hand.

How it is measured (one run, one machine: PostgreSQL, dbt, gunicorn and the HTTP client share
the cores, so every number includes that contention):

* **Data.** A dedicated database, `usage_reports_bench`, gets the demo generator's rows at
  `--scale` (10 workspaces, 365 UTC days ending yesterday, seed 42; the biggest workspace has
  ~40%), then `vacuum analyze`.
* **Floor.** One `group by workspace, UTC day` pass (a count and one sum) over each raw event
  table and a count over each of the four small dimension tables, median of 3 per table; the
  floor is the sum of the medians.
* **Full build.** Wall time of `dbt run --full-refresh` (models only, no tests; dbt start-up and
  parsing included), median of 3 runs up to scale 1 and of 1 run above (a run costs minutes).
  Then `vacuum analyze` of staging and marts, where autovacuum gets within minutes: a scheduled
  refresh never meets tables without statistics.
* **Incremental build.** `dbt run` after landing one more day (today: yesterday's rows copied
  with new ids and moved +1 day, a whole day even if today is not over; the generator cannot
  append a day with the same workspace and member ids) and ~1% late rows spread over the past
  week (copies with new ids of the rows whose hashed id is 0 mod 100), all with
  `_loaded_at = now()`. Then the next scheduled refresh with nothing new (one pass over each
  raw table, nothing to write). When a full build takes under 5 minutes, a `--full-refresh` follows and
  every mart row is compared with what the incremental builds left (then `vacuum analyze`
  again: the reports meet tables with statistics). Then `dbt parse` (dbt's
  start-up without SQL, median of 3): what any `dbt run` costs before its first statement.
* **Reports.** Over HTTP from gunicorn on 127.0.0.1 (sync workers as `make serve` starts
  them: one per core on the private server, `2 x cores + 1` with `PGHOST`; connected as the
  API's read-only role; logs to `bench/data/`), a 90-day range ending yesterday on the
  biggest workspace (member usage: its busiest member), after a warm-up of 15 requests per
  worker (every worker's statements prepared, with their generic plans); Python client
  threads, one new connection per request; at 1 client each report on its own, as at 8
  (the time-zone target below interleaves it with its zoned twins as well).
  *Mart SQL* is the API's own statement run directly (median of 20, after 12 untimed runs: prepared, with its generic plan, as on the API's pooled connections). The *raw SQL* baseline
  computes the same report straight from `raw` (copies in the range de-duplicated by id, the
  latest `_loaded_at` wins; a call's latest state; the contract's validity rules), median of 5,
  and its totals are checked against the API's. Its SMS segments are simplified (the carrier's
  count when positive, else printable ASCII as GSM-7 and anything else as UCS-2, by code
  points), so `totalSegments` may differ. For scale, two requests that run no report are timed
  the same way: without a key (a 401) and with the key check (a 400 after it).
* **Time zones (issue 8).** The same five reports, the same calendar dates, with
  `tz=America/New_York` and `tz=Asia/Kolkata` (quarter-hourly marts where local days cut UTC
  dates, daily marts for the rest). At 1 client each UTC request and its two zoned twins are
  interleaved (order rotated every round) so they share the same contention; the target
  compares the worse zone's p50 with UTC's. 8 clients run each variant on its own. Their totals
  are checked against the raw SQL baseline over the local days' UTC instants (one run).
  For information, the AI report's `format=csv` variant (UTC) is timed against its JSON.
* **DuckDB.** `raw.ai_usage_events` exported to CSV (`COPY ... TO STDOUT`) and then Parquet;
  the AI report's de-duplication and grouping over the Parquet file, median of 5 (warm). Only
  the AI events: `total_messages` (from `raw.messages`) is taken from the API's body, so DuckDB
  does less than the API does.
* **Memory.** dbt's peak RSS; the largest VmHWM of one PostgreSQL backend (it includes the
  shared buffers it touched) and the largest sum of the backends' RssAnon (private memory),
  sampled every 0.25 s during the build; each gunicorn worker's VmHWM after the HTTP runs.
"""


def markdown(results: Json) -> str:
    machine, data, run = results["machine"], results["data"], results["run"]
    lines = ["# Benchmarks", "", METHOD]
    lines += [
        f"Run {run['started_at']} (`--scale {run['scale']:g}`, {run['duration_s'] / 60:.1f} min total).",
        "",
    ]
    lines += contention_markdown(results)
    lines += ["## Targets", ""]
    lines += markdown_table(("measurement", "value", "target", ""), targets_table(results))
    lines += ["## Machine", ""]
    lines += markdown_table(
        ("cpu", "cores", "RAM", "python", "postgres", "dbt", "duckdb"),
        [
            (
                machine["cpu_model"],
                machine["cores"],
                f"{machine['ram_gb']} GB",
                machine["python"],
                machine["postgres"].split(" on ")[0],
                machine["dbt_core"],
                machine["duckdb"],
            )
        ],
    )
    lines += ["## Data", ""]
    rows = [(table, f"{count:,}") for table, count in data["rows"].items()]
    rows.append(("**total**", f"**{data['total_rows']:,}**"))
    lines += markdown_table(("raw table", "rows"), rows)
    lines += [
        f"Generated in {data['generate_s']:.0f} s; raw tables {data['sizes']['raw_table_mb']} MB plus "
        f"{data['sizes']['raw_index_mb']} MB of indexes. Biggest workspace: "
        f"{data['biggest_workspace_share']:.0%} of the event rows.",
        "",
    ]
    lines += build_markdown(results)
    lines += reports_markdown(results)
    lines += memory_markdown(results)
    return "\n".join(lines).rstrip() + "\n"


def build_markdown(results: Json) -> list[str]:
    floor, full, incremental = results["floor"], results["full_build"], results["incremental_build"]
    repeat, landed = incremental["repeat_nothing_new"], results["landed"]
    lines = ["## Builds", ""]
    lines += markdown_table(
        ("", "wall time", "of which dbt execution", "ratio"),
        [
            ("floor (sum of per-table medians)", f"{floor['total_s']:.2f} s", "", "1x"),
            (
                f"full build (`dbt run --full-refresh`, median of {full['runs']})",
                f"{full['median_s']:.1f} s",
                f"{full['dbt_execution_s']:.1f} s",
                f"{full['ratio_to_floor']:.2f}x the floor",
            ),
            (
                f"incremental (`dbt run`, {landed['total_rows']:,} rows landed)",
                f"{incremental['wall_s']:.1f} s",
                f"{incremental['dbt_execution_s']:.1f} s",
                f"{incremental['share_of_full_build']:.1%} of the full build",
            ),
            (
                "next incremental, nothing new landed",
                f"{repeat['wall_s']:.1f} s",
                f"{repeat['dbt_execution_s']:.1f} s",
                f"{repeat['wall_s'] / full['median_s']:.1%} of the full build",
            ),
        ],
    )
    lines += startup_markdown(results)
    lines += [
        "The wall time includes dbt's start-up and parsing (the difference to the execution phase). "
        f"Landed: {sum(landed['new_day_rows'].values()):,} rows of a new day ({landed['new_day']}) and "
        f"{sum(landed['late_rows'].values()):,} late rows over {landed['late_window']}.",
        "",
    ]
    models = sorted(
        set(full["models_s"]) | set(incremental["models_s"]), key=lambda m: -full["models_s"].get(m, 0)
    )
    lines += ["Per model (execution time from `run_results.json`; dbt runs 4 models at a time):", ""]
    lines += markdown_table(
        ("model", "full build s", "incremental s", "next incremental s"),
        [
            (
                model,
                full["models_s"].get(model, ""),
                incremental["models_s"].get(model, ""),
                repeat["models_s"].get(model, ""),
            )
            for model in models
        ],
    )
    lines += exactness_markdown(results["exactness"])
    return lines


def startup_markdown(results: Json) -> list[str]:
    """What bounds the two build targets on this machine, from this run's numbers."""
    startup = results.get("dbt_startup")
    if not startup:
        return []
    full_s, floor_s = results["full_build"]["median_s"], results["floor"]["total_s"]
    startup_s = startup["median_s"]
    return [
        f"dbt's own start-up (`dbt parse`: Python, the project's partial parse, no SQL; median of "
        f"{len(startup['runs_s'])}) takes {startup_s:.1f} s, {startup_s / full_s:.1%} of this full build: "
        f"every `dbt run` pays it before its first statement, so no incremental build reaches "
        f"{INCREMENTAL_TARGET:.0%} of a full build shorter than {startup_s / INCREMENTAL_TARGET:.0f} s. "
        f"The two build targets together ask for more: a full build at {FULL_BUILD_TARGET:g}x the floor "
        f"({FULL_BUILD_TARGET * floor_s:.1f} s) would leave an incremental build "
        f"{FULL_BUILD_TARGET * floor_s * INCREMENTAL_TARGET:.2f} s, {startup_s / (FULL_BUILD_TARGET * floor_s * INCREMENTAL_TARGET):.0f}x less "
        "than dbt needs to start.",
        "",
    ]


def exactness_markdown(exactness: Json) -> list[str]:
    if not exactness["checked"]:
        return [f"Incremental = full refresh: not checked ({exactness['reason']}).", ""]
    verdict = "identical" if exactness["equal"] else "**DIFFERENT**"
    lines = [
        f"Incremental = full refresh: {verdict} (full refresh after the increment: "
        f"{exactness['full_refresh_after_increment_s']:.1f} s).",
        "",
    ]
    rows = [
        (mart, entry["rows_incremental"], entry["rows_full_refresh"], entry["differing_rows"])
        for mart, entry in exactness["marts"].items()
    ]
    return lines + markdown_table(
        ("mart", "rows (incremental)", "rows (full refresh)", "differing rows"), rows
    )


def reports_markdown(results: Json) -> list[str]:
    if "reports" not in results:
        return ["## Reports", "", f"Not measured: {results.get('reports_error', 'unknown')}", ""]
    lines = ["## Reports (90 days, biggest workspace)", ""]
    rows = []
    for report, entry in results["reports"].items():
        one, eight = entry["api"]["clients_1"], entry["api"]["clients_8"]
        totals = entry["raw_vs_api_totals"]
        agrees = "yes" if totals["agrees"] else "NO"
        if totals["agrees"] and totals["mismatches"]:
            agrees = "yes (except simplified " + ", ".join(totals["mismatches"]) + ")"
        rows.append(
            (
                report,
                f"{one['p50_ms']:.1f} / {one['p99_ms']:.1f}",
                f"{eight['p50_ms']:.1f} / {eight['p99_ms']:.1f}",
                f"{eight['throughput_rps']:.0f}",
                f"{entry['api']['response_bytes']:,}",
                entry["api"].get("mart_sql_median_ms", "n/a"),
                f"{entry['raw_sql']['median_ms']:.0f}",
                f"{entry['ratio_raw_to_api_p50']:.0f}x",
                agrees,
            )
        )
    header = (
        "report",
        "API p50 / p99 ms, 1 client",
        "8 clients",
        "req/s (8)",
        "body bytes",
        "mart SQL ms",
        "raw SQL ms",
        "ratio",
        "totals agree",
    )
    lines += markdown_table(header, rows)
    requests = next(iter(results["reports"].values()))["api"]["clients_1"]["requests"]
    errors = sum(
        entry["api"][f"clients_{n}"]["errors"] for entry in results["reports"].values() for n in CLIENT_COUNTS
    )
    lines += [
        f"{requests} requests per report and concurrency; non-200 responses: {errors}. *mart SQL* is the "
        "API's own statement run directly (median of 20, prepared): the rest of the p50 is HTTP, key check and JSON. "
        "*ratio* = raw SQL median / API p50 at 1 client.",
        "",
    ]
    lines += request_floor_markdown(results)
    lines += zones_markdown(results)
    if "duckdb" in results:
        duck = results["duckdb"]
        lines += [
            f"DuckDB over Parquet (AI report): {duck['query_median_ms']:.0f} ms median vs the API's "
            f"{duck['api_p50_ms']:.1f} ms p50 ({duck['ratio_duckdb_to_api_p50']:.1f}x); the export took "
            f"{duck['export_csv_s']:.1f} s to CSV ({duck['csv_mb']} MB) + {duck['csv_to_parquet_s']:.1f} s to Parquet "
            f"({duck['parquet_mb']} MB).",
            "",
        ]
    return lines


def request_floor_markdown(results: Json) -> list[str]:
    """How much of a report's p50 is the request itself, and the ratio a free statement would give."""
    floor = results.get("request_floor")
    if not floor:
        return []
    key_ms = floor["key_check_400"]["p50_ms"]
    ceilings = ", ".join(
        f"{report} {entry['raw_sql']['median_ms'] / key_ms:.0f}x (its own part "
        f"{entry['api']['clients_1']['p50_ms'] - key_ms:.1f} ms)"
        for report, entry in results["reports"].items()
    )
    return [
        f"A request that runs no report, 1 client, interleaved ({floor['no_key_401']['requests']} each): "
        f"HTTP and Flask alone (no key, 401) p50 {floor['no_key_401']['p50_ms']:.2f} ms; with the key "
        f"check (one statement, then a 400) {key_ms:.2f} ms. That is the least any report costs here, "
        f"so raw SQL / that is the highest ratio a report could reach if its statement and body were "
        f"free: {ceilings}.",
        "",
    ]


def zones_markdown(results: Json) -> list[str]:
    target = results["report_target"]
    lines = [
        f"### The same reports in other time zones ({target['start']}..{target['end']} as local dates)",
        "",
    ]
    rows = []
    for report, entry in results["reports"].items():
        utc = entry["api"]
        rows.append(
            (
                report,
                f"{UTC_NAME} (interleaved with these)",
                f"{utc_p50(utc, 1):.1f} / {utc.get('clients_1_with_zones', utc['clients_1'])['p99_ms']:.1f}",
                f"{utc['clients_8']['p50_ms']:.1f} / {utc['clients_8']['p99_ms']:.1f}",
                f"{utc['clients_8']['throughput_rps']:.0f}",
                f"{utc['response_bytes']:,}",
                utc.get("mart_sql_median_ms", "n/a"),
                "1x",
                "1x",
                "",
            )
        )
        for zone, zoned in entry["zones"].items():
            one, eight = zoned["clients_1"], zoned["clients_8"]
            totals = zoned["raw_vs_api_totals"]
            agrees = "yes" if totals["agrees"] else "NO"
            if totals["agrees"] and totals["mismatches"]:
                agrees = "yes (except simplified " + ", ".join(totals["mismatches"]) + ")"
            rows.append(
                (
                    report,
                    zone,
                    f"{one['p50_ms']:.1f} / {one['p99_ms']:.1f}",
                    f"{eight['p50_ms']:.1f} / {eight['p99_ms']:.1f}",
                    f"{eight['throughput_rps']:.0f}",
                    f"{zoned['response_bytes']:,}",
                    zoned.get("mart_sql_median_ms", "n/a"),
                    f"{zoned['ratio_to_utc_p50_1_clients']:.2f}x",
                    f"{zoned['ratio_to_utc_p50_8_clients']:.2f}x",
                    agrees,
                )
            )
    header = (
        "report",
        "tz",
        "API p50 / p99 ms, 1 client",
        "8 clients",
        "req/s (8)",
        "body bytes",
        "mart SQL ms",
        "p50 / UTC p50, 1 client",
        "8 clients",
        "totals = raw SQL",
    )
    lines += markdown_table(header, rows)
    lines += [
        "At 1 client the UTC request and its two zoned twins are interleaved request by request (the "
        "order rotated each round), so the three meet the same contention; at 8 clients each runs on its "
        "own after a warm-up. *totals = raw SQL*: the body's totals against the raw SQL baseline run once "
        "over the local days' UTC instants (computed with zoneinfo, independently of the API).",
        "",
    ]
    if "csv" in results:
        csv_entry = results["csv"]
        adds_up = "add up" if csv_entry["credits_add_up"] else "do NOT add up"
        lines += [
            f"CSV (for information): `{csv_entry['report']}` with `format=csv` (UTC, one line per day, provider, "
            f"model and type: {csv_entry['lines']:,} lines, {csv_entry['response_bytes']:,} bytes) p50 "
            f"{csv_entry['clients_1']['p50_ms']:.1f} ms / p99 {csv_entry['clients_1']['p99_ms']:.1f} ms at 1 client, "
            f"interleaved with its JSON (p50 {csv_entry['json_clients_1']['p50_ms']:.1f} ms): "
            f"{csv_entry['ratio_to_json_p50']:.2f}x. Its credits {adds_up} to the JSON's `total_credits`.",
            "",
        ]
    return lines


def contention_markdown(results: Json) -> list[str]:
    phases = results.get("load_average_by_phase", [])
    if not phases:
        return []
    cores = results["machine"]["cores"]
    text = "; ".join(f"{entry['phase']} {entry['load_average'][0]:.2f}" for entry in phases)
    before, after = results["load_average_before"], results.get("load_average_after")
    after_text = "/".join(f"{value:.2f}" for value in after) if after else "n/a"
    return [
        f"Contention: load average (1/5/15 min) {'/'.join(f'{value:.2f}' for value in before)} at the start "
        f"and {after_text} at the end, on {cores} cores (the bench alone keeps about 1-2 busy, more at 8 "
        f"clients); 1-minute load as each phase started: {text}. The machine is shared with other "
        "sessions' test runs, so the absolute numbers carry that noise.",
        "",
    ]


def memory_markdown(results: Json) -> list[str]:
    full = results["full_build"]["peak_memory_mb"]
    lines = ["## Peak memory", ""]
    rows = [
        ("dbt process, full build (max RSS)", full["dbt_process_maxrss"]),
        (
            "largest PostgreSQL backend, full build (VmHWM, incl. shared buffers)",
            full["postgres_backend_vmhwm"],
        ),
        (
            "PostgreSQL backends' private memory, full build (sum of RssAnon)",
            full["postgres_backends_rssanon_sum"],
        ),
    ]
    gunicorn_memory = results.get("gunicorn_memory")
    if gunicorn_memory:
        rows.append(("gunicorn master (VmHWM)", gunicorn_memory["master_vmhwm_mb"]))
        for index, value in enumerate(gunicorn_memory["workers_vmhwm_mb"], 1):
            rows.append((f"gunicorn worker {index} (VmHWM)", value))
    return lines + markdown_table(("process", "MB"), rows)


def print_summary(results: Json) -> None:
    rows = targets_table(results)
    widths = [max(len(row[index]) for row in rows) for index in range(4)]
    print()
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"\nresults: {RESULTS_PATH.relative_to(PROJECT_ROOT)}, {MARKDOWN_PATH.name}")


def write_outputs(results: Json) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2, default=str) + "\n")
    MARKDOWN_PATH.write_text(markdown(results))


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def scale_value(text: str) -> float:
    """``--scale``: a positive number, a name of ``NAMED_SCALES``, or empty for the default."""
    name = text.strip().lower()
    if not name:
        return DEFAULT_SCALE
    if name in NAMED_SCALES:
        return NAMED_SCALES[name]
    try:
        value = float(name)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a positive number or one of {', '.join(NAMED_SCALES)}"
        )
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=scale_value,
        default=DEFAULT_SCALE,
        help=f"generator scale: a number (5: ~10M rows) or one of {', '.join(NAMED_SCALES)}; empty: default",
    )
    parser.add_argument("--skip-generate", action="store_true", help="reuse the rows in the bench database")
    parser.add_argument(
        "--full-runs", type=int, help="full builds to time (default: 3 up to scale 1, else 1)"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per report and concurrency")
    parser.add_argument(
        "--verify",
        choices=("auto", "always", "never"),
        default="auto",
        help="full refresh after the incremental build and compare (auto: when a full build < 5 min)",
    )
    args = parser.parse_args(argv)
    if args.full_runs is None:
        args.full_runs = 3 if args.scale <= 1 else 1
    return args


def prepare_data(args: argparse.Namespace, env: dict[str, str]) -> Json:
    if args.skip_generate:
        data = reuse_data()
    else:
        end_date = datetime.now(UTC).date() - timedelta(days=1)
        data = generate_data(args.scale, end_date, env)
    data["vacuum_analyze_s"] = vacuum_analyze()
    return data


def data_section(data: Json, rows_by_workspace: dict[str, int]) -> Json:
    biggest = max(rows_by_workspace.values())
    return {
        "workspaces": WORKSPACES,
        "days": DAYS,
        "end_date": data["end_date"],
        "seed": SEED,
        "scale": data["scale"],
        "rows": {table: data["rows"][table] for table in TABLES},
        "total_rows": data["total_rows"],
        "generate_s": data["generate_s"],
        "generate_s_per_table": data["generate_s_per_table"],
        "vacuum_analyze_s": data["vacuum_analyze_s"],
        "biggest_workspace_share": round(biggest / sum(rows_by_workspace.values()), 3),
        "sizes": table_sizes(),
    }


def serve_and_measure(results: Json, target: ReportTarget, env: dict[str, str], requests: int) -> None:
    cores = len(os.sched_getaffinity(0))
    workers = cores if on_private_server() else 2 * cores + 1  # as `make serve` (Makefile, WORKERS)
    token = create_key(target, env)
    log(f"reports over HTTP: gunicorn with {workers} workers, {requests} requests per report and concurrency")
    with gunicorn(env, workers) as (port, process):
        api = measure_api(port, target, token, requests, workers)
        results["csv"] = measure_csv(port, target, token, requests, workers)
        results["request_floor"] = measure_request_floor(port, target, token, requests)
        results["gunicorn_memory"] = {"workers": workers, **worker_memory(process)}
    note_load(results, "raw and mart SQL")
    log(f"raw SQL baseline: median of {RAW_RUNS}")
    raw = measure_raw(target)
    mart_sql = measure_mart_sql(target)
    results["reports"] = report_results(api, raw, mart_sql)
    note_load(results, "DuckDB")
    log("analyst alternative: DuckDB over Parquet")
    results["duckdb"] = duckdb_report(target, api["ai-usage"]["clients_1"]["p50_ms"], api["ai-usage"]["body"])


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def note_load(results: Json, phase: str) -> None:
    """The load average as `phase` starts: what else the shared machine was running."""
    results.setdefault("load_average_by_phase", []).append(
        {
            "phase": phase,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": load_average(),
        }
    )


def run(args: argparse.Namespace, results: Json) -> None:
    env = bench_env()
    note_load(results, "generate" if not args.skip_generate else "reuse data")
    data = prepare_data(args, env)
    note_load(results, "floor")
    floor, rows_by_workspace = measure_floor()
    results["data"] = data_section(data, rows_by_workspace)
    results["floor"] = floor
    note_load(results, "full build")
    results["full_build"] = full_builds(args.full_runs, env, floor["total_s"])
    results["full_build"]["settle_statistics_s"] = settle_statistics()
    results["landed"] = land_rows(date.fromisoformat(data["end_date"]))
    results["landed"]["id_checks"] = check_landed_ids(data)
    note_load(results, "incremental build")
    results["incremental_build"] = incremental_build(env, results["full_build"]["median_s"])
    note_load(results, "exactness check")
    results["exactness"] = verify_exactness(env, results["full_build"]["median_s"], args.verify)
    results["dbt_startup"] = dbt_startup(env)
    note_load(results, "reports")
    target = pick_target(rows_by_workspace, date.fromisoformat(data["end_date"]))
    results["report_target"] = {
        **asdict(target),
        "start": target.start.isoformat(),
        "end": target.end.isoformat(),
    }
    serve_and_measure(results, target, env, args.requests)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results: Json = {
        "run": {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scale": args.scale,
            "database": DATABASE,
            "skip_generate": args.skip_generate,
        },
        "load_average_before": load_average(),
    }
    with connect() if args.skip_generate else psycopg.connect(dbname="postgres", autocommit=True) as conn:
        results["machine"] = machine_info(conn)
    try:
        run(args, results)
    except RuntimeError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    results["load_average_after"] = load_average()
    note_load(results, "end")
    results["run"]["duration_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = [
        dict(zip(("measurement", "value", "target", "status"), row, strict=True))
        for row in targets_table(results)
    ]
    write_outputs(results)
    print_summary(results)
    log(f"done in {results['run']['duration_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
