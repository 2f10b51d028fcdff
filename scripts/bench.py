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

Each step lives in ``scripts/benchlib/`` (``data``, ``builds``, ``reports``, ``parquet``,
``output``, and ``common`` for what they share); this script reads the arguments and runs them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import psycopg
from benchlib.builds import (
    check_landed_ids,
    dbt_startup,
    full_builds,
    incremental_build,
    land_rows,
    measure_floor,
    settle_statistics,
    verify_exactness,
)
from benchlib.common import (
    DATABASE,
    DAYS,
    DEFAULT_SCALE,
    NAMED_SCALES,
    RAW_RUNS,
    SEED,
    WORKSPACES,
    Json,
    bench_env,
    connect,
    log,
    machine_info,
    on_private_server,
)
from benchlib.data import generate_data, reuse_data, table_sizes, vacuum_analyze
from benchlib.output import print_summary, targets_table, write_outputs
from benchlib.parquet import duckdb_report
from benchlib.reports import (
    ReportTarget,
    create_key,
    gunicorn,
    measure_api,
    measure_csv,
    measure_mart_sql,
    measure_raw,
    measure_request_floor,
    pick_target,
    report_results,
    worker_memory,
)
from generate_demo_data import TABLES


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
