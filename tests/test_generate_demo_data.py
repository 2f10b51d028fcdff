"""scripts/generate_demo_data.py: what `make demo-data` loads into raw. Every event lies in the
days asked for and before the cutoff, lands after it happens, and the rows the contract calls
invalid are there only with --invalid-rows (then exactly the handful it promises)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.warehouse import connect, dbt, recreate_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from generate_demo_data import generate

DATABASE = "usage_reports_test_demo_data"
END = date(2024, 3, 1)  # the last of three UTC days, after a leap day
CUTOFF = datetime(2024, 3, 2, tzinfo=UTC)
EVENT_TIMES = {
    "chats": "created_at",
    "messages": "created_at",
    "ai_usage_events": "recorded_at",
    "sms_messages": "sent_at",
    "call_events": "updated_at",
    "stt_events": "recorded_at",
    "tts_events": "recorded_at",
}
# One count per kind of invalid row the contract names (section 4, "Invalid rows").
INVALID = {
    "ai_usage_events: negative tokens": """select count(*) from raw.ai_usage_events
        where least(prompt_tokens, completion_tokens, cached_tokens, audio_input_tokens,
                    audio_output_tokens) < 0""",
    "ai_usage_events: no workspace": "select count(*) from raw.ai_usage_events where workspace_id is null",
    "sms_messages: direction": "select count(*) from raw.sms_messages where direction not in ('inbound', 'outbound')",
    "sms_messages: null body": "select count(*) from raw.sms_messages where body is null",
    "sms_messages: no workspace": "select count(*) from raw.sms_messages where workspace_id is null",
    "call_events: direction": "select count(*) from raw.call_events where direction not in ('inbound', 'outbound')",
    "call_events: status": """select count(*) from raw.call_events where status not in
        ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled')""",
    "call_events: ends before it starts": "select count(*) from raw.call_events where ended_at < started_at",
    "stt_events: negative duration": "select count(*) from raw.stt_events where duration_seconds < 0",
    "tts_events: negative characters": "select count(*) from raw.tts_events where characters < 0",
}


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    recreate_database(DATABASE)
    dbt(DATABASE, "run-operation", "create_raw_tables")
    yield DATABASE


def load(database: str, *, invalid_rows: bool) -> dict[str, int]:
    """The demo data of three days for two workspaces, as `make demo-data` loads it (smaller)."""
    with connect(database) as conn:
        result = generate(
            conn,
            seed=7,
            scale=0.3,
            days=3,
            end_date=END,
            workspaces=2,
            replace=True,
            invalid_rows=invalid_rows,
        )
    assert result["start"].startswith("2024-02-28 00:00:00") and result["cutoff"].startswith(
        "2024-03-02 00:00:00"
    )
    counts: dict[str, int] = result["rows"]
    return counts


def invalid_counts(database: str) -> dict[str, int]:
    with connect(database) as conn:
        return {kind: conn.execute(query).fetchone()[0] for kind, query in INVALID.items()}


def test_without_invalid_rows_every_row_is_valid_and_in_its_days(database: str) -> None:
    counts = load(database, invalid_rows=False)
    assert all(counts[table] > 0 for table in EVENT_TIMES), counts
    assert invalid_counts(database) == dict.fromkeys(INVALID, 0)
    with connect(database) as conn:
        for table, column in EVENT_TIMES.items():
            first, last, days, early, late = conn.execute(
                f"""select min({column}), max({column}), count(distinct ({column} at time zone 'UTC')::date),
                           count(*) filter (where _loaded_at < {column}),
                           count(*) filter (where _loaded_at >= %s)
                    from raw.{table}""",
                (CUTOFF,),
            ).fetchone()
            # every event in the three days (each of them has some), none at or after the cutoff
            assert first >= datetime(2024, 2, 28, tzinfo=UTC) and last < CUTOFF, (table, first, last)
            assert days == 3, table
            # a row lands after its event, and before the cutoff the run stands for
            assert (early, late) == (0, 0), table
        (calls_outside,) = conn.execute(
            "select count(*) from raw.call_events where started_at < %s or ended_at >= %s",
            (datetime(2024, 2, 28, tzinfo=UTC), CUTOFF),
        ).fetchone()
        assert calls_outside == 0


def test_invalid_rows_are_exactly_the_promised_handful(database: str) -> None:
    valid = load(database, invalid_rows=False)
    counts = load(database, invalid_rows=True)
    assert invalid_counts(database) == {
        "ai_usage_events: negative tokens": 1,
        "ai_usage_events: no workspace": 1,
        "sms_messages: direction": 1,
        "sms_messages: null body": 1,
        "sms_messages: no workspace": 1,
        "call_events: direction": 1,
        "call_events: status": 1,
        "call_events: ends before it starts": 1,
        "stt_events: negative duration": 1,
        "tts_events: negative characters": 0,
    }
    # the valid rows are the same as without them: the invalid ones come on top
    added = {table: counts[table] - valid[table] for table in counts if counts[table] != valid[table]}
    assert added == {"ai_usage_events": 2, "sms_messages": 3, "call_events": 3, "stt_events": 1}
