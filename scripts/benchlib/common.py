"""What every part of the benchmark shares: where things are, the run's constants and
targets, small helpers (timing, percentiles, /proc memory fields) and the machine."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import psycopg

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
