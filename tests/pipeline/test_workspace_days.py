"""An incremental build rebuilds a changed (workspace, UTC day), not the day for every
workspace: late rows of one workspace leave every other workspace's mart rows as they were
(same row versions), and a copy re-delivered to another workspace (or to none) still leaves
the day of the workspace it left (macros/incremental_replace_days.sql).

Tests in this module run in file order; each ends with the marts equal to a full refresh."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.pipeline.landings import LANDINGS, land_row
from tests.pipeline.test_marts import MART_TABLES, assert_a_full_refresh_agrees
from tests.warehouse import connect, dbt, fresh_warehouse

DATABASE = "usage_reports_test_workspace_days"
W1 = "f0000000-0000-4000-8000-000000000001"
W2 = "f0000000-0000-4000-8000-000000000002"
C1 = "c0000000-0000-4000-8000-000000000001"  # W1's chat, owned by M1
M1 = "a0000000-0000-4000-8000-000000000001"
DAY = "2026-05-01"  # both workspaces have chats, messages, AI and SMS on it (raw_base.sql)


def on_day(table: str, key: str, workspace: str, at: str, **values: object) -> dict[str, object]:
    """The landing row of `table` (tests/pipeline/landings.py) with id `key`, in `workspace`
    at `at` (its time columns moved there), and `values` changed."""
    row = dict(LANDINGS[table])
    id_column = next(iter(row))
    row[id_column] = key
    row["workspace_id"] = workspace
    for column in ("recorded_at", "created_at", "sent_at", "started_at", "updated_at"):
        if column in row:
            row[column] = at
    if "ended_at" in row:
        row["ended_at"] = at.replace(":00+00", ":40+00")
    return {**row, **values}


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    fresh_warehouse(DATABASE, "raw_base.sql")
    # W2 also calls and talks on 1 May, so every mart has W2 rows on it
    with connect(DATABASE) as conn:
        at = f"{DAY} 09:30:00+00"
        land_row(conn, "call_events", on_day("call_events", "CA-W2", W2, at, workspace_number="+15550009999"))
        land_row(conn, "stt_events", on_day("stt_events", "b0000000-0000-4000-8000-0000000000f2", W2, at))
        land_row(conn, "tts_events", on_day("tts_events", "b1000000-0000-4000-8000-0000000000f2", W2, at))
    dbt(DATABASE, "build")
    yield DATABASE


def stored_rows(database: str, workspace: str) -> dict[str, list[tuple]]:
    """Every mart row of `workspace` with its row version (xmin), which a rewrite changes."""
    with connect(database) as conn:
        return {
            table: sorted(
                conn.execute(
                    f"select xmin::text, t::text from marts.{table} as t where workspace_id = %s",
                    (workspace,),
                ).fetchall()
            )
            for table in MART_TABLES
        }


def ai_day(database: str, workspace: str) -> tuple:
    with connect(database) as conn:
        row = conn.execute(
            "select coalesce(sum(total_tokens), 0), coalesce(sum(credits), 0) from marts.ai_usage_daily"
            " where workspace_id = %s and usage_date = %s",
            (workspace, DAY),
        ).fetchone()
    assert row is not None
    return row


def number_day(database: str, mart: str, measure: str) -> dict[str, int]:
    """Per workspace, `measure` of `mart` (a daily mart by workspace number) on +15550001111 on DAY."""
    with connect(database) as conn:
        return dict(
            conn.execute(
                f"select workspace_id::text, sum({measure})::int from marts.{mart}"
                " where usage_date = %s and phone_number = '+15550001111' group by 1",
                (DAY,),
            ).fetchall()
        )


def test_late_rows_of_one_workspace_leave_another_s_rows_untouched(warehouse: str) -> None:
    w2_before = stored_rows(warehouse, W2)
    w1_before = stored_rows(warehouse, W1)
    w1_tokens, w1_credits = ai_day(warehouse, W1)
    assert all(w2_before.values()), "every mart has W2 rows to keep"
    late = f"{DAY} 10:20:00+00"
    with connect(warehouse) as conn:
        # a row of every event table in W1, on the day W2 has activity too
        land_row(
            conn,
            "ai_usage_events",
            on_day("ai_usage_events", "e0000000-0000-4000-8000-0000000000a1", W1, late, chat_id=C1),
        )
        land_row(
            conn,
            "messages",
            on_day("messages", "d0000000-0000-4000-8000-0000000000a1", W1, late, sender_member_id=M1),
        )
        land_row(
            conn,
            "chats",
            on_day("chats", "c0000000-0000-4000-8000-0000000000a1", W1, late, owner_member_id=M1),
        )
        land_row(conn, "sms_messages", on_day("sms_messages", "SM-LATE-W1", W1, late))
        land_row(conn, "call_events", on_day("call_events", "CA-LATE-W1", W1, late))
        land_row(conn, "stt_events", on_day("stt_events", "b0000000-0000-4000-8000-0000000000a1", W1, late))
        land_row(conn, "tts_events", on_day("tts_events", "b1000000-0000-4000-8000-0000000000a1", W1, late))
    dbt(warehouse, "build")

    assert stored_rows(warehouse, W2) == w2_before
    w1_after = stored_rows(warehouse, W1)
    rewritten = [table for table in MART_TABLES if not set(w1_after[table]) >= set(w1_before[table])]
    assert sorted(rewritten) == sorted(MART_TABLES), "every mart rebuilt W1's day"
    assert ai_day(warehouse, W1) == (w1_tokens + 2, w1_credits + Decimal("0.000001"))  # the late event
    assert_a_full_refresh_agrees(warehouse)


def test_a_copy_moved_to_another_workspace_leaves_the_day_it_left(warehouse: str) -> None:
    w1_tokens, w1_credits = ai_day(warehouse, W1)
    w2_tokens, w2_credits = ai_day(warehouse, W2)
    sms_before = number_day(warehouse, "sms_usage_daily", "outbound_messages")
    calls_before = number_day(warehouse, "phone_usage_daily", "call_count")
    with connect(warehouse) as conn:
        # e2 (210 tokens, 0.333333 credits on 1 May in W1) re-delivered in W2; e3 (1,500
        # tokens, 2.000001 credits) re-delivered with no workspace (quarantined)
        conn.execute(
            """insert into raw.ai_usage_events
               select event_id, case event_id when 'e0000000-0000-4000-8000-000000000002'
                                  then %s::uuid end, chat_id, source, provider, model, model_type,
                      prompt_tokens, completion_tokens, cached_tokens, audio_input_tokens,
                      audio_output_tokens, credits, recorded_at, now()
               from raw.ai_usage_events
               where event_id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003')""",
            (W2,),
        )
        # SM01 and the state of call CA02, both W1's on 1 May, re-delivered in W2
        conn.execute(
            """insert into raw.sms_messages
               select sms_id, %s, direction, workspace_number, remote_number, body, carrier_segments, sent_at, now()
               from raw.sms_messages where sms_id = 'SM01'""",
            (W2,),
        )
        conn.execute(
            """insert into raw.call_events
               select call_id, %s, direction, workspace_number, remote_number, status, started_at, ended_at,
                      answered_by, updated_at + interval '1 second', now()
               from raw.call_events where call_id = 'CA02'""",
            (W2,),
        )
    dbt(warehouse, "build")

    assert ai_day(warehouse, W1) == (w1_tokens - 210 - 1500, w1_credits - Decimal("2.333334"))
    assert ai_day(warehouse, W2) == (w2_tokens + 210, w2_credits + Decimal("0.333333"))
    # SM01 was one of W1's outbound texts from +15550001111 that day, CA02 one of its finished calls
    assert number_day(warehouse, "sms_usage_daily", "outbound_messages") == {
        W1: sms_before[W1] - 1,
        W2: sms_before.get(W2, 0) + 1,
    }
    assert number_day(warehouse, "phone_usage_daily", "call_count") == {
        W1: calls_before[W1] - 1,
        W2: calls_before.get(W2, 0) + 1,
    }
    assert_a_full_refresh_agrees(warehouse)
