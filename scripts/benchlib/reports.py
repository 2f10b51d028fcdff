"""5. The five reports over HTTP (gunicorn, 1 and 8 clients, UTC and zoned), the API's own
statements run directly, and the same reports computed by SQL straight from raw."""

from __future__ import annotations

import csv
import http.client
import io
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from benchlib.common import (
    API_ROLE,
    BIN,
    CLIENT_COUNTS,
    CSV_REPORT,
    DATA_DIR,
    DATABASE,
    PROJECT_ROOT,
    RAW_RUNS,
    REPORT_DAYS,
    REPORT_TARGET,
    TZ_TARGET,
    UTC_NAME,
    ZONES,
    Json,
    connect,
    fetch_all,
    log,
    mb,
    median,
    on_private_server,
    percentile,
    proc_status_kb,
    rounded,
    timed,
)


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
