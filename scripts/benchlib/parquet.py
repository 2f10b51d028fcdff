"""6. The analyst's alternative: the AI events exported to Parquet and the AI report in DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from benchlib.common import DATA_DIR, DUCKDB_RUNS, Json, connect, log, median, rounded, timed
from benchlib.reports import AI_FROM_LATEST_SQL, ReportTarget, ai_totals, compare_totals

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
