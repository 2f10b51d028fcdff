"""2-4. The floor (one pass over each raw table), the full build, and the incremental build
after landing one more day and late rows, with its exactness check against a full refresh."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
from generate_demo_data import TABLES

from benchlib.common import (
    DATA_DIR,
    DATABASE,
    FLOOR_RUNS,
    FULL_BUILD_TARGET,
    INCREMENTAL_TARGET,
    STARTUP_RUNS,
    VERIFY_BUDGET_S,
    Json,
    connect,
    fetch_all,
    log,
    mb,
    median,
    rounded,
    timed,
)
from benchlib.data import DIMENSION_FLOOR_SQL, EVENT_TABLES, DbtRun, EventTable, run_dbt


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
