"""The marts against hand-worked numbers from tests/fixtures/raw_base.sql and
raw_late.sql (CONTRACT §4), then incremental == full refresh after late rows.

Tests in this module run in file order: the last one lands late rows."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from uuid import UUID

import psycopg
import pytest

from tests.warehouse import connect, dbt, fresh_warehouse, load_fixture

DATABASE = "usage_reports_test_pipeline"
W1 = "f0000000-0000-4000-8000-000000000001"
W2 = "f0000000-0000-4000-8000-000000000002"
M1 = "a0000000-0000-4000-8000-000000000001"
M2 = "a0000000-0000-4000-8000-000000000002"
# Every column of an AI event, as the tests below land them one statement at a time.
AI_INSERT = """insert into raw.ai_usage_events (event_id, workspace_id, chat_id, source, provider, model,
                    model_type, prompt_tokens, completion_tokens, cached_tokens, audio_input_tokens,
                    audio_output_tokens, credits, recorded_at, _loaded_at)"""
MART_TABLES = (
    *(
        f"{mart}_{grain}"
        for mart in ("ai_usage", "message_counts", "sms_usage", "phone_usage", "voice_usage", "member_usage")
        for grain in ("daily", "quarter_hourly")
    ),
    "voice_usage_daily_lists",
    "ai_usage_running_totals",
    "phone_usage_daily_lists",
    "sms_usage_daily_lists",
)


@pytest.fixture(scope="module")
def warehouse() -> str:
    fresh_warehouse(DATABASE, "raw_base.sql")
    return DATABASE


def one(database: str, sql: str, *params: object) -> tuple:
    with connect(database) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row


def rows(database: str, sql: str, *params: object) -> list[tuple]:
    with connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def test_ai_totals_count_each_event_once(warehouse: str) -> None:
    # e1 (delivered twice) 100+50, e2 200+10, e3 1000+500, e4 10+20, e5 7+3, e8 40+2
    # prompt 1357, completion 585, total 1942; credits
    # 1.25 + 0.333333 + 2.000001 + 5.5 + 0.000001 + 0.02 = 9.103335
    assert one(
        warehouse,
        """select sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cached_tokens),
                  sum(audio_input_tokens), sum(audio_output_tokens), sum(credits), sum(event_count)
           from marts.ai_usage_daily where workspace_id = %s and usage_date between '2026-05-01' and '2026-05-03'""",
        W1,
    ) == (1357, 585, 1942, 20, 300, 400, Decimal("9.103335"), 6)


def test_ai_by_provider_model_and_day(warehouse: str) -> None:
    assert rows(
        warehouse,
        """select usage_date::text, provider, model, model_type, total_tokens, credits
           from marts.ai_usage_daily where workspace_id = %s order by usage_date, provider, model""",
        W1,
    ) == [
        ("2026-05-01", "anthropic", "claude-sonnet-4", "chat", 210, Decimal("0.333333")),
        # e1 + e3: 150 + 1500 tokens, 1.25 + 2.000001 credits
        ("2026-05-01", "openai", "gpt-4o", "chat", 1650, Decimal("3.250001")),
        ("2026-05-02", "openai", "gpt-4o-mini", "chat", 42, Decimal("0.020000")),
        ("2026-05-02", "openai", "gpt-4o-realtime", "realtime", 30, Decimal("5.500000")),
        ("2026-05-03", "google", "gemini-2.5-flash", "chat", 10, Decimal("0.000001")),
    ]


def test_messages_every_role_once(warehouse: str) -> None:
    # d1 (twice), d2, d3 on 1 May; d4 at 06:31 UTC on 3 May
    assert rows(
        warehouse,
        "select usage_date::text, message_count from marts.message_counts_daily where workspace_id = %s "
        "order by usage_date",
        W1,
    ) == [("2026-05-01", 3), ("2026-05-03", 1)]


def test_sms_rows_by_day_and_number(warehouse: str) -> None:
    # 1 May +1111: SM01 out 'Hello' (5 chars, 1 seg), SM02 in 161 a's (2 segs, once),
    #   SM03 out 'Price: 5€' (9 chars, 10 septets, 1 seg)
    # 1 May +2222: SM04 out 'hi 😀' (4 code points, UCS-2, 1 seg)
    # 2 May +2222: SM05 out '' (1 seg), SM06 in 'x' with carrier_segments 4; SM07/SM08 invalid
    assert rows(
        warehouse,
        """select usage_date::text, phone_number, inbound_messages, outbound_messages, characters,
                  segments, inbound_segments, outbound_segments
           from marts.sms_usage_daily where workspace_id = %s order by usage_date, phone_number""",
        W1,
    ) == [
        ("2026-05-01", "+15550001111", 1, 2, 175, 4, 2, 2),
        ("2026-05-01", "+15550002222", 0, 1, 4, 1, 0, 1),
        ("2026-05-02", "+15550002222", 1, 1, 1, 5, 4, 1),
    ]


def test_phone_only_finished_calls_rounded_per_call(warehouse: str) -> None:
    # CA01 150.5 s -> 151, CA02 10.4 s -> 10 on +1111; CA05 (22:00 in LA = 05:00 UTC 1 May) 60 s on +2222.
    # CA03 busy, CA04 in progress and CA06 (ends before it starts) are left out.
    assert rows(
        warehouse,
        """select usage_date::text, phone_number, inbound_calls, outbound_calls, duration_seconds
           from marts.phone_usage_daily where workspace_id = %s order by usage_date, phone_number""",
        W1,
    ) == [
        ("2026-05-01", "+15550001111", 1, 1, 161),
        ("2026-05-01", "+15550002222", 1, 0, 60),
    ]


def test_quarter_hours_cut_local_days(warehouse: str) -> None:
    # CA05 started 05:00 UTC on 1 May = 22:00 on 30 April in Los Angeles (PDT, UTC-7);
    # CA01 (10:00 UTC = 03:00 PDT) and CA02 (12:00 UTC = 05:00 PDT) stay on 1 May.
    assert rows(
        warehouse,
        """select (usage_quarter_hour at time zone 'America/Los_Angeles')::date::text, sum(call_count),
                  sum(duration_seconds)
           from marts.phone_usage_quarter_hourly where workspace_id = %s group by 1 order by 1""",
        W1,
    ) == [("2026-04-30", 1, 60), ("2026-05-01", 2, 161)]
    # SM04 at 23:59:59 UTC sits in the 23:45 bucket; in Kolkata (UTC+5:30) that is 05:15 on 2 May.
    assert rows(
        warehouse,
        """select usage_quarter_hour::text, (usage_quarter_hour at time zone 'Asia/Kolkata')::text
           from marts.sms_usage_quarter_hourly where workspace_id = %s and phone_number = '+15550002222'
           order by 1""",
        W1,
    )[0] == ("2026-05-01 23:45:00+00", "2026-05-02 05:15:00")


def test_voice_by_kind_provider_model(warehouse: str) -> None:
    assert rows(
        warehouse,
        """select usage_date::text, kind, provider, model, event_count, duration_seconds, characters
           from marts.voice_usage_daily where workspace_id = %s order by usage_date, kind, provider""",
        W1,
    ) == [
        ("2026-05-01", "stt", "deepgram", "nova-2", 2, Decimal("13.000"), 0),
        ("2026-05-01", "tts", "elevenlabs", "eleven_turbo_v2", 1, Decimal("0.000"), 120),
        ("2026-05-02", "stt", "openai", "whisper-1", 1, Decimal("3.000"), 0),
        ("2026-05-02", "tts", "elevenlabs", "eleven_turbo_v2", 1, Decimal("0.000"), 30),
    ]


def test_member_usage_follows_chat_ownership(warehouse: str) -> None:
    # M1 owns C1: chat on 1 May, message d1, AI e1 + e2 (150 + 210 tokens, 1.583333 credits).
    # M2 owns C3 (created 06:30 UTC 3 May): message d4, e5 (10 tokens, 0.000001).
    # e3 (agent-only chat C2), e4 (no chat) and e8 (chat not landed yet) belong to nobody.
    assert rows(
        warehouse,
        """select member_id::text, sum(chats_created), sum(messages_sent), sum(credits), sum(total_tokens)
           from marts.member_usage_daily where workspace_id = %s group by member_id order by member_id""",
        W1,
    ) == [
        (M1, 1, 1, Decimal("1.583333"), 360),
        (M2, 1, 1, Decimal("0.000001"), 10),
    ]


def test_data_as_of_is_newest_landing(warehouse: str) -> None:
    (data_as_of,) = one(warehouse, "select data_as_of::text from marts.data_freshness")
    assert data_as_of == "2026-05-04 00:00:03+00"


def test_invalid_rows_are_quarantined(warehouse: str) -> None:
    assert rows(
        warehouse, "select source_table, row_id, reason from marts.quarantined_rows order by row_id"
    ) == [
        ("call_events", "CA06", "ended_at before started_at"),
        ("sms_messages", "SM07", "unknown direction"),
        ("sms_messages", "SM08", "null body"),
    ]


def test_the_sms_reconciliation_fails_on_a_mart_row_missing_or_wrong(warehouse: str) -> None:
    # The reconciliation tests are what stands between a wrong mart and a user: each must fail
    # when the mart lacks a row staging has, and when a measure differs. The 2 May +2222 row is
    # taken out, then its segments changed, then it is put back as it was.
    test = ("test", "--select", "assert_sms_usage_reconciles")
    key = "workspace_id = %s and usage_date = '2026-05-02' and phone_number = '+15550002222'"
    with connect(warehouse) as conn:
        cursor = conn.execute(f"select * from marts.sms_usage_daily where {key}", (W1,))
        columns = [column.name for column in cursor.description or ()]
        saved = cursor.fetchall()
        assert len(saved) == 1
        conn.execute(f"delete from marts.sms_usage_daily where {key}", (W1,))
    missing = dbt(warehouse, *test, check=False)
    with connect(warehouse) as conn:
        marks = ", ".join(["%s"] * len(columns))
        conn.execute(f"insert into marts.sms_usage_daily ({', '.join(columns)}) values ({marks})", saved[0])
        conn.execute(f"update marts.sms_usage_daily set segments = segments + 1 where {key}", (W1,))
    wrong = dbt(warehouse, *test, check=False)
    with connect(warehouse) as conn:
        conn.execute(f"update marts.sms_usage_daily set segments = segments - 1 where {key}", (W1,))
    assert missing.returncode != 0 and "FAIL 1 assert_sms_usage_reconciles" in missing.stdout
    assert wrong.returncode != 0 and "FAIL 1 assert_sms_usage_reconciles" in wrong.stdout
    dbt(warehouse, *test)


def snapshot(database: str) -> dict[str, list[tuple]]:
    with connect(database) as conn:
        return {
            table: sorted(conn.execute(f"select * from marts.{table}").fetchall(), key=repr)
            for table in MART_TABLES
        }


def assert_a_full_refresh_agrees(database: str) -> None:
    """Every mart row the incremental builds left is what ``--full-refresh`` writes."""
    incremental = snapshot(database)
    dbt(database, "build", "--full-refresh")
    assert snapshot(database) == incremental


def primary_key_names(database: str) -> dict[str, str]:
    sql = "select conrelid::regclass::text, conname from pg_constraint where contype = 'p'"
    return dict(rows(database, sql + " and connamespace = 'marts'::regnamespace"))


def test_mart_keys_take_their_tables_names_and_a_busy_mart_waits_for_a_later_build(warehouse: str) -> None:
    dbt(warehouse, "build", "--full-refresh", "--select", "sms_usage_quarter_hourly+")
    tables = (*MART_TABLES, "data_freshness")
    assert primary_key_names(warehouse) == {f"marts.{table}": f"{table}_pkey" for table in tables}
    # as a full build left every key before the post-hook, while an analyst's transaction reads the mart
    with connect(warehouse) as conn:
        conn.execute("alter table marts.sms_usage_daily rename constraint sms_usage_daily_pkey to tmp_pkey")
    with connect(warehouse) as reader:
        reader.execute("begin")
        reader.execute("select count(*) from marts.sms_usage_daily")
        result = dbt(
            warehouse, "build", "--select", "sms_usage_daily", "assert_primary_keys_have_their_tables_names"
        )
        assert "WARN 1 assert_primary_keys_have_their_tables_names" in result.stdout
        assert primary_key_names(warehouse)["marts.sms_usage_daily"] == "tmp_pkey"
        reader.execute("commit")
    dbt(warehouse, "run", "--select", "sms_usage_daily")
    assert primary_key_names(warehouse)["marts.sms_usage_daily"] == "sms_usage_daily_pkey"


def test_late_rows_incremental_equals_full_refresh(warehouse: str) -> None:
    load_fixture(warehouse, "raw_late.sql", append=True)
    dbt(warehouse, "build")
    assert_a_full_refresh_agrees(warehouse)

    # e7 back-dated to 1 May adds 2 tokens and 0.00001 credits; e1's third copy adds nothing;
    # e10 (negative tokens) and e11 (no workspace) are quarantined.
    assert one(
        warehouse,
        "select sum(total_tokens), sum(credits) from marts.ai_usage_daily where workspace_id = %s",
        W1,
    ) == (1944, Decimal("9.103345"))
    # SM03 is now inbound; SM04 moved to 2 May, so 1 May on +2222 has no row at all.
    assert rows(
        warehouse,
        """select usage_date::text, phone_number, inbound_messages, outbound_messages, characters,
                  segments, inbound_segments, outbound_segments
           from marts.sms_usage_daily where workspace_id = %s order by usage_date, phone_number""",
        W1,
    ) == [
        ("2026-05-01", "+15550001111", 2, 1, 175, 4, 3, 1),
        ("2026-05-02", "+15550002222", 1, 2, 5, 6, 4, 2),
    ]
    # CA04 finished four days later: 30 s on its start day, 2 May.
    # CA07 has an unknown direction, CA08 an unknown status: both quarantined.
    assert rows(
        warehouse,
        """select usage_date::text, phone_number, call_count, duration_seconds
           from marts.phone_usage_daily where workspace_id = %s order by usage_date, phone_number""",
        W1,
    ) == [
        ("2026-05-01", "+15550001111", 2, 161),
        ("2026-05-01", "+15550002222", 1, 60),
        ("2026-05-02", "+15550002222", 1, 30),
    ]
    # Chat C4 landed after e8: M2 now owns it (created 2 May), and e8's 42 tokens, 0.02 credits.
    assert one(
        warehouse,
        """select sum(chats_created), sum(credits), sum(total_tokens)
           from marts.member_usage_daily where member_id = %s""",
        M2,
    ) == (2, Decimal("0.020001"), 52)
    assert rows(warehouse, "select row_id, reason from marts.quarantined_rows order by row_id") == [
        ("CA06", "ended_at before started_at"),
        ("CA07", "unknown direction"),
        ("CA08", "unknown status"),
        ("SM07", "unknown direction"),
        ("SM08", "null body"),
        ("e0000000-0000-4000-8000-000000000010", "negative or missing token count"),
        ("e0000000-0000-4000-8000-000000000011", "missing workspace_id"),
        ("e0000000-0000-4000-8000-000000000012", "token count above max_event_tokens"),
    ]


def test_a_quiet_table_s_late_row_reaches_every_mart_that_reads_it(warehouse: str) -> None:
    # Member usage reads chats, messages and AI events; voice reads STT and TTS. An AI event and
    # an STT event land (10 minutes ago) and are built. Then a message and a TTS event land stamped
    # hours earlier (a loader that lagged). Staging takes both, whatever their stamps, and so must
    # the marts that read them, although the newest landing those marts built from (the AI and
    # STT events) is later than the late rows' stamps.
    chat = "c0000000-0000-4000-8000-000000000001"  # W1's, owned by M1
    with connect(warehouse) as conn:
        conn.execute(
            f"""{AI_INSERT}
               values ('e2100000-0000-4000-8000-000000000001', %s, %s, 'chat_message', 'openai', 'gpt-4o',
                    'chat', 10, 5, 0, 0, 0, 1.000000, '2026-05-20 10:00:00+00', now() - interval '10 minutes')""",
            (W1, chat),
        )
        conn.execute(
            """insert into raw.stt_events (event_id, workspace_id, call_id, provider, model, duration_seconds,
                    recorded_at, _loaded_at)
               values ('e2100000-0000-4000-8000-000000000002', %s, null, 'deepgram', 'nova-2', 1.5,
                    '2026-05-20 10:00:00+00', now() - interval '10 minutes')""",
            (W1,),
        )
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(
            """insert into raw.messages (message_id, workspace_id, chat_id, sender_member_id, role, channel,
                    created_at, _loaded_at)
               values ('e2100000-0000-4000-8000-000000000003', %s, %s, %s, 'user', 'web',
                    '2026-05-21 10:00:00+00', now() - interval '3 hours')""",
            (W1, chat, M1),
        )
        conn.execute(
            """insert into raw.tts_events (event_id, workspace_id, call_id, provider, model, characters,
                    recorded_at, _loaded_at)
               values ('e2100000-0000-4000-8000-000000000004', %s, null, 'elevenlabs', 'eleven_turbo_v2', 42,
                    '2026-05-21 10:00:00+00', now() - interval '2 hours')""",
            (W1,),
        )
    dbt(warehouse, "build")  # the reconciliation tests pass: marts agree with staging
    assert one(
        warehouse,
        "select messages_sent from marts.member_usage_daily where member_id = %s and usage_date = '2026-05-21'",
        M1,
    ) == (1,)
    assert one(
        warehouse,
        """select kind, provider, characters, event_count from marts.voice_usage_daily
           where workspace_id = %s and usage_date = '2026-05-21'""",
        W1,
    ) == ("tts", "elevenlabs", 42, 1)
    assert_a_full_refresh_agrees(warehouse)


def test_each_mart_records_how_far_it_read_each_staging_table(warehouse: str) -> None:
    # An AI event without a chat reaches no member mart, yet the member marts have read it:
    # their record for the AI staging table moves to it, so the next build does not read it
    # again (nor anything before it). Every incremental mart records every staging table it
    # is built from, at the newest build that wrote rows there (staged_batch).
    with connect(warehouse) as conn:
        conn.execute(
            f"""{AI_INSERT}
               values ('e2100000-0000-4000-8000-000000000005', %s, null, 'realtime', 'openai', 'gpt-4o',
                    'realtime', 1, 1, 0, 0, 0, 0.100000, '2026-05-22 10:00:00+00', now() - interval '5 minutes')""",
            (W1,),
        )
    dbt(warehouse, "build")
    recorded = rows(
        warehouse, "select mart, staging_model from build_state.incremental_watermarks order by 1, 2"
    )
    sources = {
        "ai_usage": ["stg_product__ai_usage_events"],
        "member_usage": ["stg_product__ai_usage_events", "stg_product__chats", "stg_product__messages"],
        "message_counts": ["stg_product__messages"],
        "phone_usage": ["stg_product__call_events"],
        "sms_usage": ["stg_product__sms_messages"],
        "voice_usage": ["stg_product__stt_events", "stg_product__tts_events"],
    }
    assert recorded == sorted(
        [
            (f"{mart}_{grain}", staging)
            for mart, staged in sources.items()
            for grain in ("daily", "quarter_hourly")
            for staging in staged
        ]
        + [("voice_usage_daily_lists", staging) for staging in sources["voice_usage"]]
        + [("ai_usage_running_totals", staging) for staging in sources["ai_usage"]]
        + [("phone_usage_daily_lists", staging) for staging in sources["phone_usage"]]
        + [("sms_usage_daily_lists", staging) for staging in sources["sms_usage"]]
    )
    with connect(warehouse) as conn:
        for mart, staging in recorded:
            newest = conn.execute(f"select max(staged_batch) from staging.{staging}").fetchone()
            assert (
                conn.execute(
                    "select staged_through from build_state.incremental_watermarks"
                    " where mart = %s and staging_model = %s",
                    (mart, staging),
                ).fetchone()
                == newest
            ), (mart, staging)


def test_a_late_copy_that_takes_activity_away_moves_data_as_of(warehouse: str) -> None:
    # An SMS of W7 lands and is built; a second copy with an unknown direction lands later and
    # removes it from the marts. No mart row is left to carry that landing, yet the reports
    # changed: data_as_of (and so every ETag) must move to it.
    w7 = "f0000000-0000-4000-8000-000000000007"
    insert = """insert into raw.sms_messages (sms_id, workspace_id, direction, workspace_number, remote_number,
                    body, carrier_segments, sent_at, _loaded_at)
                values ('SM-GONE', %s, %s, '+15550007777', '+15557770007', 'hello', null,
                        '2026-05-03 10:00:00+00', now() - %s::interval)
                returning _loaded_at"""
    with connect(warehouse) as conn:
        conn.execute(insert, (w7, "outbound", "2 minutes"))
    dbt(warehouse, "build")
    sms_rows = "select count(*) from marts.sms_usage_daily where workspace_id = %s"
    assert one(warehouse, sms_rows, w7) == (1,)
    with connect(warehouse) as conn:
        (landed,) = conn.execute(insert, (w7, "sideways", "1 minute")).fetchone()  # type: ignore[misc]
    dbt(warehouse, "build")
    assert one(warehouse, sms_rows, w7) == (0,)
    assert one(warehouse, "select data_as_of from marts.data_freshness") == (landed,)


def test_a_late_commit_moves_the_version_though_not_data_as_of(warehouse: str) -> None:
    # A loader commits a W7 AI event stamped 30 s before the newest landing, after a build saw
    # that landing: data_as_of stays, the marts change, and so must version_at (the ETags).
    freshness = "select data_as_of, version_at, built_at from marts.data_freshness"
    dbt(warehouse, "build")
    data_as_of, version_at, _ = one(warehouse, freshness)
    with connect(warehouse) as conn:
        conn.execute(
            f"""{AI_INSERT}
               values ('e0000000-0000-4000-8000-0000000000b7', 'f0000000-0000-4000-8000-000000000007', null,
                    'chat_message', 'openai', 'gpt-4o', 'chat', 3, 0, 0, 0, 0, 0.500000,
                    '2026-05-03 10:00:00+00', %s - interval '30 seconds')""",
            (data_as_of,),
        )
    dbt(warehouse, "build")
    after = one(warehouse, freshness)
    assert after[0] == data_as_of
    assert version_at < after[1] <= after[2]  # moved by this build's AI marts
    assert one(
        warehouse,
        "select sum(event_count) from marts.ai_usage_daily where workspace_id = 'f0000000-0000-4000-8000-000000000007'",
    ) == (1,)


AI_EVENT = f"""{AI_INSERT}
               values (%s, %s, null, 'chat_message', 'openai', 'gpt-4o', 'chat', %s, 0, 0, 0, 0, 1.000000,
                    '2026-05-04 10:00:00+00', now() - %s::interval)"""


def test_a_loader_transaction_that_commits_hours_late_is_counted(warehouse: str) -> None:
    # A loader's transaction stamps an AI event, and inside a savepoint an SMS, three hours back,
    # then stays open while a build runs, which cannot see them. Once it commits, the next build
    # takes both, however far behind the newest landing their stamps are.
    w14 = "f0000000-0000-4000-8000-000000000014"
    with psycopg.connect(dbname=warehouse, options="-c TimeZone=UTC") as loader:
        loader.execute(AI_EVENT, ("e2200000-0000-4000-8000-000000000001", w14, 4, "3 hours"))
        with loader.transaction():  # a savepoint: its rows carry a subtransaction's id
            loader.execute(
                """insert into raw.sms_messages (sms_id, workspace_id, direction, workspace_number,
                        remote_number, body, carrier_segments, sent_at, _loaded_at)
                   values ('SM-LATE-1', %s, 'outbound', '+15550001414', '+15550009999', 'hi', null,
                        '2026-05-04 10:00:00+00', now() - interval '3 hours')""",
                (w14,),
            )
        dbt(warehouse, "build")  # cannot see them: the loader has not committed
    dbt(warehouse, "build")
    assert one(
        warehouse,
        "select sum(event_count), sum(total_tokens) from marts.ai_usage_daily where workspace_id = %s",
        w14,
    ) == (1, 4)
    assert one(
        warehouse,
        "select sum(message_count), sum(segments) from marts.sms_usage_daily where workspace_id = %s",
        w14,
    ) == (1, 1)
    assert_a_full_refresh_agrees(warehouse)


def test_an_older_copy_committed_after_the_newer_one_was_built_loses(warehouse: str) -> None:
    # Copy 1 of an event lands (9 tokens) and is built; copy 2, stamped two hours before it (a
    # re-delivery from a lagging loader, 1 token), commits afterwards. The copy that landed last
    # is still copy 1, so nothing changes: the build ranks every copy of the id, not only the
    # one committed since.
    w15 = "f0000000-0000-4000-8000-000000000015"
    event_id = "e2200000-0000-4000-8000-000000000002"
    with connect(warehouse) as conn:
        conn.execute(AI_EVENT, (event_id, w15, 9, "0 seconds"))
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(AI_EVENT, (event_id, w15, 1, "2 hours"))
    dbt(warehouse, "build")
    assert one(
        warehouse,
        "select sum(event_count), sum(total_tokens) from marts.ai_usage_daily where workspace_id = %s",
        w15,
    ) == (1, 9)


STAGED = "select max(staged_batch) from staging.stg_product__sms_messages"
FRESHNESS = "select data_as_of, version_at from marts.data_freshness"


def test_a_build_that_reads_every_row_again_changes_nothing(warehouse: str) -> None:
    # Rows committed while the previous build ran are read again by the next one. With every
    # staging table's horizon set back to the start, a build reads every raw row again, every
    # copy and every call state, through the incremental path: not one mart row may change, no
    # staging row is written again, and the reports' version stays.
    dbt(warehouse, "build")
    before = snapshot(warehouse), one(warehouse, STAGED), one(warehouse, FRESHNESS)
    with connect(warehouse) as conn:
        conn.execute("update build_state.staging_horizons set horizon_xid = 3")
    dbt(warehouse, "build")
    assert (snapshot(warehouse), one(warehouse, STAGED), one(warehouse, FRESHNESS)) == before


@pytest.mark.parametrize(
    ("event", "horizons"),
    [
        (
            "e2200000-0000-4000-8000-000000000003",
            (
                "update build_state.staging_horizons"
                " set cluster_id = 1, horizon_xid = pg_current_xact_id()::text::bigint"
            ),
        ),
        (
            "e2200000-0000-4000-8000-000000000004",
            "update build_state.staging_horizons set horizon_xid = horizon_xid + 1000000000",
        ),
        ("e2200000-0000-4000-8000-000000000005", "delete from build_state.staging_horizons"),
    ],
    ids=["another server", "ahead of this server", "none"],
)
def test_without_a_usable_horizon_a_build_reads_all_of_raw(warehouse: str, event: str, horizons: str) -> None:
    # A horizon recorded on another server (raw restored or moved: its transaction ids mean
    # something else here; this one is past the new AI event of W16), one ahead of this server's
    # ids, or none at all: the build reads every raw row and writes only what changed.
    w16 = "f0000000-0000-4000-8000-000000000016"
    dbt(warehouse, "build")
    staged = one(warehouse, STAGED)
    events_sql = "select coalesce(sum(event_count), 0) from marts.ai_usage_daily where workspace_id = %s"
    (events,) = one(warehouse, events_sql, w16)
    with connect(warehouse) as conn:
        conn.execute(AI_EVENT, (event, w16, 2, "1 minute"))
        conn.execute(horizons)
    dbt(warehouse, "build")
    assert one(warehouse, events_sql, w16) == (events + 1,)
    assert one(warehouse, STAGED) == staged
    # and the horizons are this server's again
    assert one(
        warehouse,
        """select count(*) from build_state.staging_horizons
           where cluster_id = (select system_identifier from pg_control_system())
             and horizon_xid <= pg_current_xact_id()::text::bigint""",
    ) == (7,)


def test_empty_runs_leave_the_next_build_to_read_what_they_did_not(warehouse: str) -> None:
    # `dbt run --empty` reads no rows. Run on the SMS staging table while an SMS of W18 is new,
    # it must not record a horizon past it; run with --full-refresh it leaves staging empty, and
    # on the AI marts it leaves them empty: each time the next build reads all it needs again.
    w18 = "f0000000-0000-4000-8000-000000000018"
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(
            """insert into raw.sms_messages (sms_id, workspace_id, direction, workspace_number,
                    remote_number, body, carrier_segments, sent_at, _loaded_at)
               values ('SM-EMPTY-1', %s, 'inbound', '+15550001818', '+15550009999', 'hello', null,
                    '2026-05-05 10:00:00+00', now())""",
            (w18,),
        )
    dbt(warehouse, "run", "--empty", "--select", "stg_product__sms_messages")
    dbt(warehouse, "build")
    sms = "select sum(message_count) from marts.sms_usage_daily where workspace_id = %s"
    assert one(warehouse, sms, w18) == (1,)
    before = snapshot(warehouse)
    dbt(warehouse, "run", "--empty", "--full-refresh", "--select", "stg_product__sms_messages")
    assert one(warehouse, "select count(*) from staging.stg_product__sms_messages") == (0,)
    dbt(
        warehouse, "run", "--empty", "--full-refresh", "--select", "ai_usage_quarter_hourly", "ai_usage_daily"
    )
    assert one(warehouse, "select count(*) from marts.ai_usage_daily") == (0,)
    dbt(warehouse, "build")
    assert snapshot(warehouse) == before


def test_a_build_after_build_state_is_lost_numbers_staging_rows_past_what_marts_read(
    warehouse: str,
) -> None:
    # build_state dropped (or restored from before the staging tables): the batch sequence
    # starts again, but the staging rows keep their batches (here one past 1000) and the marts,
    # reading everything once, record the highest. New rows must still be numbered above it,
    # or no mart reads them.
    w19 = "f0000000-0000-4000-8000-000000000019"
    with connect(warehouse) as conn:
        conn.execute("select setval('build_state.staging_batches', 1000)")
        conn.execute(AI_EVENT, ("e2200000-0000-4000-8000-000000000007", w19, 5, "0 seconds"))
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute("drop schema build_state cascade")
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(AI_EVENT, ("e2200000-0000-4000-8000-000000000008", w19, 5, "0 seconds"))
    dbt(warehouse, "build")
    assert one(
        warehouse, "select sum(event_count) from marts.ai_usage_daily where workspace_id = %s", w19
    ) == (2,)
    assert_a_full_refresh_agrees(warehouse)


def test_a_build_that_skipped_a_mart_moves_the_version_when_it_catches_up(warehouse: str) -> None:
    # A build that excludes the AI marts still rebuilds data_freshness; the build after it
    # changes those marts, so the version must move then, though nothing new landed.
    w17 = "f0000000-0000-4000-8000-000000000017"
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(AI_EVENT, ("e2200000-0000-4000-8000-000000000006", w17, 3, "1 hour"))
    dbt(warehouse, "build", "--exclude", "ai_usage_daily", "ai_usage_quarter_hourly")
    skipped = one(warehouse, FRESHNESS)
    dbt(warehouse, "build")
    assert one(
        warehouse, "select sum(event_count) from marts.ai_usage_daily where workspace_id = %s", w17
    ) == (1,)
    caught_up = one(warehouse, FRESHNESS)
    assert caught_up[0] == skipped[0]
    assert caught_up[1] > skipped[1]


def test_a_build_that_takes_nothing_keeps_the_version(warehouse: str) -> None:
    # With nothing committed to raw since, a build stores no staging row and changes no mart:
    # version_at (so every ETag) stays, while built_at moves; no mart row is even rewritten
    # (each keeps the transaction that wrote it), so a quiet refresh costs no mart writes.
    dbt(warehouse, "build")
    freshness = "select data_as_of, version_at, built_at from marts.data_freshness"
    writers = " union all ".join(
        f"select '{table}' as mart, xmin::text as writer, count(*) from marts.{table} group by xmin"
        for table in MART_TABLES
    )
    before, written_before = one(warehouse, freshness), rows(warehouse, writers + " order by 1, 2")
    dbt(warehouse, "build")
    after, written_after = one(warehouse, freshness), rows(warehouse, writers + " order by 1, 2")
    assert after[:2] == before[:2]
    assert after[2] > before[2]
    assert written_after == written_before


def test_a_row_stamped_in_the_future_does_not_hide_later_rows(warehouse: str) -> None:
    # A loader whose clock runs a day ahead lands e20; e21 lands normally afterwards, stamped
    # before e20: the second build still takes it (W2 had 1 event, 2 tokens, 0.1 credits).
    insert = f"""{AI_INSERT}
                values (%s, %s, null, 'chat_message', 'aws', 'amazon.nova-pro', 'chat', 10, 0, 0, 0, 0, 1.000000,
                        '2026-05-01 12:00:00+00', now() + %s::interval)"""
    with connect(warehouse) as conn:
        conn.execute(insert, ("e0000000-0000-4000-8000-000000000020", W2, "1 day"))
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(insert, ("e0000000-0000-4000-8000-000000000021", W2, "0 seconds"))
    dbt(warehouse, "build")
    assert one(
        warehouse,
        "select sum(event_count), sum(total_tokens), sum(credits) from marts.ai_usage_daily where workspace_id = %s",
        W2,
    ) == (3, 22, Decimal("2.100000"))
    # staging keeps the stamp as it is, so a full refresh gives the same rows; data_as_of, what
    # the reports say, is never later than the build
    assert one(
        warehouse,
        "select last_loaded_at > now(), (select data_as_of <= built_at from marts.data_freshness)"
        " from staging.stg_product__ai_usage_events where event_id = %s",
        "e0000000-0000-4000-8000-000000000020",
    ) == (True, True)
    assert_a_full_refresh_agrees(warehouse)


@pytest.mark.parametrize(
    ("workspace", "stored_order"),
    [
        ("f0000000-0000-4000-8000-000000000008", "winner first"),
        ("f0000000-0000-4000-8000-000000000009", "winner last"),
    ],
)
def test_copies_tied_on_every_stamp_resolve_the_same_way_in_every_build(
    warehouse: str, workspace: str, stored_order: str
) -> None:
    # Two copies of one AI event and two final states of one call land at the same instant with
    # the same event time: the copy whose text sorts last wins (prompt tokens 7, the call that
    # ended at 10:01:30) in every build, whatever order they are stored in.
    tokens, ended = [7, 5], ["2026-05-03 10:01:30+00", "2026-05-03 10:01:00+00"]
    if stored_order == "winner last":
        tokens.reverse()
        ended.reverse()
    event_id, call_id = f"e0000000-0000-4000-8000-0000000000{workspace[-2:]}", f"CA-TIE-{workspace[-2:]}"
    with connect(warehouse) as conn:
        (stamp,) = conn.execute("select now() - interval '1 minute'").fetchone()  # type: ignore[misc]
        conn.execute(
            f"""{AI_INSERT}
               select %(id)s, %(w)s, null, 'chat_message', 'openai', 'gpt-4o', 'chat', copies.tokens,
                    0, 0, 0, 0, 1.000000, '2026-05-03 10:00:00+00', %(stamp)s
               from unnest(%(tokens)s::int[]) with ordinality as copies (tokens, n) order by copies.n""",
            {"id": event_id, "w": workspace, "stamp": stamp, "tokens": tokens},
        )
        conn.execute(
            """insert into raw.call_events (call_id, workspace_id, direction, workspace_number, remote_number,
                    status, started_at, ended_at, answered_by, updated_at, _loaded_at)
               select %(id)s, %(w)s, 'inbound', '+15550009999', '+15557770009', 'completed',
                    '2026-05-03 10:00:00+00', states.ended_at, 'human', '2026-05-03 10:02:00+00', %(stamp)s
               from unnest(%(ended)s::timestamptz[]) with ordinality as states (ended_at, n) order by states.n""",
            {"id": call_id, "w": workspace, "stamp": stamp, "ended": ended},
        )
    totals = """select (select sum(prompt_tokens) from marts.ai_usage_daily where workspace_id = %(w)s),
                       (select sum(duration_seconds) from marts.phone_usage_daily where workspace_id = %(w)s)"""
    for build in (("build",), ("build", "--full-refresh")):
        dbt(warehouse, *build)
        with connect(warehouse) as conn:
            assert conn.execute(totals, {"w": workspace}).fetchone() == (7, 90), build


@pytest.mark.parametrize("stored_order", ["winner first", "winner last"])
def test_member_copies_tied_on_every_stamp_resolve_the_same_way(warehouse: str, stored_order: str) -> None:
    # Two copies of one member land in one transaction with the same created_at: the
    # authorization view keeps the copy whose text sorts last (id, workspace, then role:
    # "member" after "admin"), whatever order they are stored in, so a key's scopes never
    # flip between reads.
    member = "a0000000-0000-4000-8000-0000000000f" + ("1" if stored_order == "winner first" else "2")
    copies = [("Zed Tie", "admin"), ("Amy Tie", "member")]
    if stored_order == "winner last":
        copies.reverse()
    with connect(warehouse) as conn:
        conn.execute(
            """insert into raw.members (member_id, workspace_id, role_id, display_name, created_at, deleted_at,
                    _loaded_at)
               select %(id)s, 'f0000000-0000-4000-8000-000000000008', copies.role_id, copies.display_name,
                    '2026-05-01 00:00:00+00', null, '2026-05-02 00:00:00+00'
               from unnest(%(names)s::text[], %(roles)s::text[]) with ordinality as copies (display_name, role_id, n)
               order by copies.n""",
            {"id": member, "names": [name for name, _ in copies], "roles": [role for _, role in copies]},
        )
    for _ in range(3):
        assert one(
            warehouse,
            "select display_name, role_id from staging.stg_product__members where member_id = %s",
            member,
        ) == ("Amy Tie", "member")


def test_rows_without_an_id_are_quarantined_not_lost(warehouse: str) -> None:
    # One row without its id in each event table, for a workspace with no other rows: none can be
    # merged by id, so none reaches a mart, and each is listed once in quarantined_rows.
    w10 = "f0000000-0000-4000-8000-000000000010"
    day = "2026-05-03 10:00:00+00"
    inserts = [
        ("chats", "chat_id, workspace_id, owner_member_id, created_at", (None, w10, M1, day)),
        (
            "messages",
            "message_id, workspace_id, chat_id, sender_member_id, role, channel, created_at",
            (None, w10, None, M1, "user", "web", day),
        ),
        (
            "ai_usage_events",
            "event_id, workspace_id, chat_id, source, provider, model, model_type, prompt_tokens,"
            " completion_tokens, cached_tokens, audio_input_tokens, audio_output_tokens, credits, recorded_at",
            (None, w10, None, "chat_message", "openai", "gpt-4o", "chat", 1, 1, 0, 0, 0, Decimal("42"), day),
        ),
        (
            "sms_messages",
            "sms_id, workspace_id, direction, workspace_number, remote_number, body, carrier_segments, sent_at",
            (None, w10, "outbound", "+15550001010", "+15557771010", "hi", None, day),
        ),
        (
            "call_events",
            "call_id, workspace_id, direction, workspace_number, remote_number, status, started_at, ended_at,"
            " answered_by, updated_at",
            (None, w10, "inbound", "+15550001010", "+15557771010", "completed", day, day, "human", day),
        ),
        (
            "stt_events",
            "event_id, workspace_id, call_id, provider, model, duration_seconds, recorded_at",
            (None, w10, None, "deepgram", "nova-2", Decimal("3.5"), day),
        ),
        (
            "tts_events",
            "event_id, workspace_id, call_id, provider, model, characters, recorded_at",
            (None, w10, None, "elevenlabs", "turbo", 12, day),
        ),
    ]
    with connect(warehouse) as conn:
        for table, columns, values in inserts:
            marks = ", ".join(["%s"] * len(values))
            conn.execute(f"insert into raw.{table} ({columns}, _loaded_at) values ({marks}, now())", values)
    dbt(warehouse, "build")
    assert rows(
        warehouse,
        """select source_table, row_id, event_date::text, reason from marts.quarantined_rows
           where workspace_id = %s order by source_table""",
        w10,
    ) == [
        ("ai_usage_events", None, "2026-05-03", "missing event_id"),
        ("call_events", None, "2026-05-03", "missing call_id"),
        ("chats", None, "2026-05-03", "missing chat_id"),
        ("messages", None, "2026-05-03", "missing message_id"),
        ("sms_messages", None, "2026-05-03", "missing sms_id"),
        ("stt_events", None, "2026-05-03", "missing event_id"),
        ("tts_events", None, "2026-05-03", "missing event_id"),
    ]
    with connect(warehouse) as conn:
        for table in MART_TABLES:
            assert conn.execute(
                f"select count(*) from marts.{table} where workspace_id = %s", (w10,)
            ).fetchone() == (0,), table


def test_rows_of_no_direction_and_negative_voice_are_quarantined_with_their_reason(warehouse: str) -> None:
    # W35: an SMS and a call without a direction, an STT event of negative seconds, a TTS event
    # without a character count, and a call state row without its call_id, started on 3 May but
    # updated on 4 May (a call's day is its started_at). None reaches a mart; each is listed with
    # the rule it breaks.
    w35 = "f0000000-0000-4000-8000-000000000035"
    started = "2026-05-03 10:00:00+00"
    with connect(warehouse) as conn:
        conn.execute(
            """insert into raw.sms_messages (sms_id, workspace_id, direction, workspace_number, remote_number, body,
                   carrier_segments, sent_at, _loaded_at)
               values ('SM-W35', %s, null, '+15550003535', '+15557773535', 'hi', null, %s, now())""",
            (w35, started),
        )
        call = """insert into raw.call_events (call_id, workspace_id, direction, workspace_number, remote_number,
                      status, started_at, ended_at, answered_by, updated_at, _loaded_at)
                  values (%s, %s, %s, '+15550003535', '+15557773535', 'completed', %s, %s, 'human', %s, now())"""
        conn.execute(call, ("CA-W35", w35, None, started, "2026-05-03 10:01:00+00", "2026-05-03 10:01:01+00"))
        conn.execute(
            call, (None, w35, "inbound", started, "2026-05-04 09:00:00+00", "2026-05-04 09:00:01+00")
        )
        conn.execute(
            """insert into raw.stt_events (event_id, workspace_id, call_id, provider, model, duration_seconds,
                   recorded_at, _loaded_at)
               values ('e3500000-0000-4000-8000-000000000001', %s, null, 'deepgram', 'nova-2', -1.5, %s, now())""",
            (w35, started),
        )
        conn.execute(
            """insert into raw.tts_events (event_id, workspace_id, call_id, provider, model, characters,
                   recorded_at, _loaded_at)
               values ('e3500000-0000-4000-8000-000000000002', %s, null, 'elevenlabs', 'turbo', null, %s, now())""",
            (w35, started),
        )
    dbt(warehouse, "build")
    assert rows(
        warehouse,
        """select source_table, row_id, event_date::text, reason from marts.quarantined_rows
           where workspace_id = %s order by source_table, row_id""",
        w35,
    ) == [
        ("call_events", "CA-W35", "2026-05-03", "unknown direction"),
        ("call_events", None, "2026-05-03", "missing call_id"),
        ("sms_messages", "SM-W35", "2026-05-03", "unknown direction"),
        ("stt_events", "e3500000-0000-4000-8000-000000000001", "2026-05-03", "negative or missing duration"),
        (
            "tts_events",
            "e3500000-0000-4000-8000-000000000002",
            "2026-05-03",
            "negative or missing characters",
        ),
    ]
    with connect(warehouse) as conn:
        for table in MART_TABLES:
            assert conn.execute(
                f"select count(*) from marts.{table} where workspace_id = %s", (w35,)
            ).fetchone() == (0,), table


def test_impossible_values_are_quarantined_and_builds_go_on(warehouse: str) -> None:
    # W11 has one valid AI event and one valid call, counted by an incremental build. Then a
    # loader lands nonsense: the AI event again at 'infinity' (its day must be cleared, and
    # the span of days to rebuild must stay finite), times before 1970 or beyond 2099 (a
    # message among them), NaN credits and durations, 2^62 tokens, a missing token count, a
    # completed call ending at 'infinity', labels longer than max_label_characters (3,200
    # characters that do not compress would not fit a mart's key index). The next incremental build must finish, count none of it, list
    # each row with its reason, and equal a full refresh. A label of exactly 200 characters
    # and an AI event at 1970's first instant (both in W13) are counted.
    w11 = "f0000000-0000-4000-8000-000000000011"
    w13 = "f0000000-0000-4000-8000-000000000013"
    huge = "".join(hashlib.md5(str(i).encode()).hexdigest() for i in range(100))
    ai = f"""{AI_INSERT}
            values (%s, %s, null, 'chat_message', 'openai', 'gpt-4o', 'chat', %s, 1, 0, 0, 0, %s, %s, now())"""
    call = """insert into raw.call_events (call_id, workspace_id, direction, workspace_number, remote_number, status,
                  started_at, ended_at, answered_by, updated_at, _loaded_at)
              values (%s, %s, 'inbound', '+15550001111', '+15557771111', 'completed', '2026-05-03 10:00:00+00',
                      %s, 'human', %s, now())"""
    with connect(warehouse) as conn:
        conn.execute(ai, ("e1100000-0000-4000-8000-000000000001", w11, 5, "1.5", "2026-05-03 10:00:00+00"))
        conn.execute(call, ("CA-W11", w11, "2026-05-03 10:01:00+00", "2026-05-03 10:01:00+00"))
    dbt(warehouse, "build")
    assert one(
        warehouse, "select sum(event_count) from marts.ai_usage_daily where workspace_id = %s", w11
    ) == (1,)
    assert one(
        warehouse, "select sum(call_count) from marts.phone_usage_daily where workspace_id = %s", w11
    ) == (1,)

    with connect(warehouse) as conn:
        for event, tokens, credits, at in [
            ("e1100000-0000-4000-8000-000000000001", 5, "1.5", "infinity"),
            ("e1100000-0000-4000-8000-000000000002", 5, "1.5", "-infinity"),
            ("e1100000-0000-4000-8000-000000000003", 5, "1.5", "1969-12-31 23:59:59+00"),
            ("e1100000-0000-4000-8000-000000000004", 5, "NaN", "2026-05-03 10:00:00+00"),
            ("e1100000-0000-4000-8000-000000000005", 2**62, "1.5", "2026-05-03 10:00:00+00"),
        ]:
            conn.execute(ai, (event, w11, tokens, credits, at))
        conn.execute(
            ai.replace("'gpt-4o'", "%s"),
            ("e1100000-0000-4000-8000-000000000008", w11, huge, 5, "1.5", "2026-05-03 10:00:00+00"),
        )
        conn.execute(call, ("CA-W11", w11, "infinity", "2026-05-03 10:02:00+00"))
        conn.execute(
            call.replace("'+15550001111'", "%s"),
            ("CA-W11-LONG", w11, "+1" + huge, "2026-05-03 10:01:00+00", "2026-05-03 10:01:00+00"),
        )
        conn.execute(
            """insert into raw.sms_messages (sms_id, workspace_id, direction, workspace_number, remote_number, body,
                   carrier_segments, sent_at, _loaded_at)
               values ('SM-W11-LONG', %s, 'outbound', %s, '+15557771111', 'hi', null, '2026-05-03 10:00:00+00',
                       now())""",
            (w11, "+1" + huge),
        )
        tts = """insert into raw.tts_events (event_id, workspace_id, call_id, provider, model, characters,
                     recorded_at, _loaded_at)
                 values (%s, %s, null, %s, 'aura', 12, '2026-05-03 10:00:00+00', now())"""
        conn.execute(tts, ("e1100000-0000-4000-8000-000000000009", w11, "p" * 201))
        conn.execute(tts, ("e1300000-0000-4000-8000-000000000001", w13, "p" * 200))
        conn.execute(
            """insert into raw.sms_messages (sms_id, workspace_id, direction, workspace_number, remote_number, body,
                   carrier_segments, sent_at, _loaded_at)
               values ('SM-W11', %s, 'outbound', '+15550001111', '+15557771111', 'hi', null, '2100-01-01 00:00:00+00',
                       now())""",
            (w11,),
        )
        conn.execute(
            """insert into raw.stt_events (event_id, workspace_id, call_id, provider, model, duration_seconds,
                   recorded_at, _loaded_at)
               values ('e1100000-0000-4000-8000-000000000006', %s, null, 'deepgram', 'nova-2', 'NaN',
                       '2026-05-03 10:00:00+00', now())""",
            (w11,),
        )
        conn.execute(
            """insert into raw.chats (chat_id, workspace_id, owner_member_id, created_at, _loaded_at)
               values ('e1100000-0000-4000-8000-000000000007', %s, %s, 'infinity', now())""",
            (w11, M1),
        )
        conn.execute(
            """insert into raw.messages (message_id, workspace_id, chat_id, sender_member_id, role, channel,
                   created_at, _loaded_at)
               values ('e1100000-0000-4000-8000-000000000011', %s, null, %s, 'user', 'web',
                       '1969-12-31 23:59:59+00', now())""",
            (w11, M1),
        )
        # a token count the loader left out is no zero
        conn.execute(
            ai.replace("0, 0, 0, %s", "null, 0, 0, %s"),
            ("e1100000-0000-4000-8000-000000000010", w11, 5, "1.5", "2026-05-03 10:00:00+00"),
        )
        # the first instant of 1970 is a time the reports take
        conn.execute(ai, ("e1300000-0000-4000-8000-000000000002", w13, 5, "1.5", "1970-01-01 00:00:00+00"))
    quarantined = """select source_table, row_id, event_date, reason from marts.quarantined_rows
                     where workspace_id = %s order by source_table, row_id"""
    expected = [
        ("ai_usage_events", "e1100000-0000-4000-8000-000000000001", None, "recorded_at outside 1970-2099"),
        ("ai_usage_events", "e1100000-0000-4000-8000-000000000002", None, "recorded_at outside 1970-2099"),
        ("ai_usage_events", "e1100000-0000-4000-8000-000000000003", None, "recorded_at outside 1970-2099"),
        ("ai_usage_events", "e1100000-0000-4000-8000-000000000004", date(2026, 5, 3), "credits not a number"),
        (
            "ai_usage_events",
            "e1100000-0000-4000-8000-000000000005",
            date(2026, 5, 3),
            "token count above max_event_tokens",
        ),
        (
            "ai_usage_events",
            "e1100000-0000-4000-8000-000000000008",
            date(2026, 5, 3),
            "provider, model or model_type longer than max_label_characters",
        ),
        (
            "ai_usage_events",
            "e1100000-0000-4000-8000-000000000010",
            date(2026, 5, 3),
            "negative or missing token count",
        ),
        ("call_events", "CA-W11", date(2026, 5, 3), "started_at or ended_at outside 1970-2099"),
        ("call_events", "CA-W11-LONG", date(2026, 5, 3), "workspace_number longer than max_label_characters"),
        ("chats", "e1100000-0000-4000-8000-000000000007", None, "created_at outside 1970-2099"),
        ("messages", "e1100000-0000-4000-8000-000000000011", None, "created_at outside 1970-2099"),
        ("sms_messages", "SM-W11", None, "sent_at outside 1970-2099"),
        (
            "sms_messages",
            "SM-W11-LONG",
            date(2026, 5, 3),
            "workspace_number longer than max_label_characters",
        ),
        ("stt_events", "e1100000-0000-4000-8000-000000000006", date(2026, 5, 3), "duration not a number"),
        (
            "tts_events",
            "e1100000-0000-4000-8000-000000000009",
            date(2026, 5, 3),
            "provider or model longer than max_label_characters",
        ),
    ]
    for build in (("build",), ("build", "--full-refresh")):
        dbt(warehouse, *build)
        assert rows(warehouse, quarantined, w11) == expected, build
        with connect(warehouse) as conn:
            for table in MART_TABLES:
                assert conn.execute(
                    f"select count(*) from marts.{table} where workspace_id = %s", (w11,)
                ).fetchone() == (0,), (build, table)
        assert rows(
            warehouse,
            "select provider, characters, event_count from marts.voice_usage_daily where workspace_id = %s",
            w13,
        ) == [("p" * 200, 12, 1)], build
        assert rows(
            warehouse,
            "select usage_date, event_count from marts.ai_usage_daily where workspace_id = %s",
            w13,
        ) == [(date(1970, 1, 1), 1)], build
        assert one(warehouse, "select count(*) from marts.quarantined_rows where workspace_id = %s", w13) == (
            0,
        ), build


def test_a_chat_quarantined_for_its_time_still_gives_its_ai_usage_to_its_owner(warehouse: str) -> None:
    # W20: chat C20 owned by M1 has no created_at (quarantined: no day to count it on), chat C21
    # has no workspace (quarantined: it belongs to none). One valid AI event in each, on 8 Oct.
    # C20's event counts for M1 (owner and workspace known, the event has its own day), C21's
    # for nobody; both count in the workspace's AI usage; neither chat counts as a chat.
    w20 = "f0000000-0000-4000-8000-000000000020"
    c20, c21 = "c2000000-0000-4000-8000-000000000020", "c2000000-0000-4000-8000-000000000021"
    with connect(warehouse) as conn:
        conn.execute(
            """insert into raw.chats (chat_id, workspace_id, owner_member_id, created_at, _loaded_at)
               values (%s, %s, %s, null, now()), (%s, null, %s, '2026-10-08 09:00:00+00', now())""",
            (c20, w20, M1, c21, M1),
        )
        conn.execute(
            f"""{AI_INSERT}
               values (%s, %s, %s, 'chat_message', 'openai', 'gpt-4o', 'chat', 100, 50, 0, 0, 0, 1.25,
                       '2026-10-08 12:00:00+00', now()),
                      (%s, %s, %s, 'chat_message', 'openai', 'gpt-4o', 'chat', 7, 3, 0, 0, 0, 0.5,
                       '2026-10-08 12:05:00+00', now())""",
            (
                "e2000000-0000-4000-8000-000000000020",
                w20,
                c20,
                "e2000000-0000-4000-8000-000000000021",
                w20,
                c21,
            ),
        )
    member = """select member_id::text, usage_date, chats_created, ai_event_count, credits, total_tokens
                from marts.member_usage_daily where workspace_id = %s"""
    for build in (("build",), ("build", "--full-refresh")):
        dbt(warehouse, *build)
        assert rows(warehouse, member, w20) == [(M1, date(2026, 10, 8), 0, 1, Decimal("1.250000"), 150)], (
            build
        )
        assert one(
            warehouse,
            "select sum(event_count), sum(credits) from marts.ai_usage_daily where workspace_id = %s",
            w20,
        ) == (2, Decimal("1.750000")), build
        assert rows(
            warehouse,
            "select row_id, reason from marts.quarantined_rows where source_table = 'chats' and row_id in (%s, %s)"
            " order by row_id",
            c20,
            c21,
        ) == [(c20, "missing created_at"), (c21, "missing workspace_id")], build


def test_ties_rank_the_same_under_any_session_time_zone(
    warehouse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two final states of one call tie on updated_at, landing and status; they differ only in
    # ended_at, 05:30Z and 06:10Z on 2026-11-01. In UTC the second's text sorts last; in
    # America/New_York, where 06:00Z is the fall-back, 01:30-04 sorts after 01:10-05. Every
    # build must keep the same state (06:10Z: 70 minutes) whatever zone its session starts in.
    w12 = "f0000000-0000-4000-8000-000000000012"
    with connect(warehouse) as conn:
        (stamp,) = conn.execute("select now() - interval '1 minute'").fetchone()  # type: ignore[misc]
        for ended in ("2026-11-01 05:30:00+00", "2026-11-01 06:10:00+00"):
            conn.execute(
                """insert into raw.call_events (call_id, workspace_id, direction, workspace_number, remote_number,
                       status, started_at, ended_at, answered_by, updated_at, _loaded_at)
                   values ('CA-TZ-TIE', %s, 'inbound', '+15550001212', '+15557771212', 'completed',
                       '2026-11-01 05:00:00+00', %s, 'human', '2026-11-01 07:00:00+00', %s)""",
                (w12, ended, stamp),
            )
    seconds = "select sum(duration_seconds) from marts.phone_usage_daily where workspace_id = %s"
    dbt(warehouse, "build")
    assert one(warehouse, seconds, w12) == (4200,)
    monkeypatch.setenv("PGTZ", "America/New_York")
    for build in (("build", "--full-refresh"), ("build",)):
        dbt(warehouse, *build)
        assert one(warehouse, seconds, w12) == (4200,), build


def test_a_mart_with_columns_of_another_version_says_to_rebuild_it(warehouse: str) -> None:
    # an upgrade that drops a mart column (or adds one): the build names the columns and the
    # command, and changes nothing, rather than failing on a bare SQL error
    with connect(warehouse) as conn:
        conn.execute("alter table marts.sms_usage_daily add column chats_last_loaded_at timestamptz")
    try:
        before = rows(warehouse, "select * from marts.sms_usage_daily order by 1, 2, 3")
        refused = dbt(warehouse, "run", "--select", "sms_usage_daily", check=False)
        assert refused.returncode == 1
        assert (
            "was built by another version of this project (columns it has and this version does not: "
            "chats_last_loaded_at; columns this version adds: none). Rebuild everything once: "
            'make build DBT_ARGS=--full-refresh (README, "Upgrading").'
        ) in " ".join(refused.stdout.split())
        assert rows(warehouse, "select * from marts.sms_usage_daily order by 1, 2, 3") == before
    finally:
        with connect(warehouse) as conn:
            conn.execute("alter table marts.sms_usage_daily drop column chats_last_loaded_at")
    dbt(warehouse, "run", "--select", "sms_usage_daily")


def test_voice_lists_carry_late_rows_forward(warehouse: str) -> None:
    # voice_usage_daily_lists keeps each model's running totals since the workspace's first
    # day, so a late row changes every later day. Late STT seconds on W1's first voice day, a
    # TTS model first seen there, a re-delivered STT event that moved two days on and one on a
    # day of its own: the incremental build (its reconciliation test passes) equals a full one.
    stt = """insert into raw.stt_events (event_id, workspace_id, call_id, provider, model, duration_seconds,
                    recorded_at, _loaded_at)
               values (%s, %s, null, %s, %s, %s, %s, now() - interval '1 minute')"""
    with connect(warehouse) as conn:
        conn.execute(
            stt,
            (
                "e2200000-0000-4000-8000-000000000001",
                W1,
                "deepgram",
                "nova-2",
                1.25,
                "2026-05-01 08:00:00+00",
            ),
        )
        conn.execute(
            stt,
            (
                "b0000000-0000-4000-8000-000000000003",
                W1,
                "openai",
                "whisper-1",
                3.5,
                "2026-05-04 09:00:00+00",
            ),
        )
        conn.execute(
            stt,
            ("e2200000-0000-4000-8000-000000000002", W1, "aws", "transcribe", 2.0, "2026-05-30 09:00:00+00"),
        )
        conn.execute(
            """insert into raw.tts_events (event_id, workspace_id, call_id, provider, model, characters,
                    recorded_at, _loaded_at)
               values ('e2200000-0000-4000-8000-000000000003', %s, null, 'azure', 'neural', 11,
                    '2026-05-01 07:00:00+00', now() - interval '1 minute')""",
            (W1,),
        )
    dbt(warehouse, "build")
    incremental = rows(
        warehouse, "select * from marts.voice_usage_daily_lists order by workspace_id, usage_date"
    )
    by_day = {(row[0], row[1].isoformat()): row for row in incremental}
    # W1's last day: every model it has used, with its totals since its first day
    last = [row for row in incremental if row[0] == UUID(W1)][-1]
    totals = dict(
        zip(
            zip(last[4], last[5], last[6], strict=True),
            zip(last[7], last[8], last[9], strict=True),
            strict=True,
        )
    )
    staged = rows(
        warehouse,
        """select kind, provider, model, count(*), sum(seconds), sum(characters)
           from (
               select 'stt' as kind, provider, model, duration_seconds as seconds, 0 as characters
               from staging.stg_product__stt_events where is_valid and workspace_id = %s
               union all
               select 'tts', provider, model, 0, characters
               from staging.stg_product__tts_events where is_valid and workspace_id = %s
           ) as events
           group by 1, 2, 3""",
        W1,
        W1,
    )
    assert totals == {
        (kind, provider, model): (count, seconds, chars)
        for kind, provider, model, count, seconds, chars in staged
    }
    assert totals[("stt", "openai", "whisper-1")] == (1, Decimal("3.500"), 0)  # moved, counted once
    assert totals[("tts", "azure", "neural")] == (1, Decimal("0.000"), 11)
    assert '"model":"whisper-1","durationSeconds":3.5,' in by_day[(UUID(W1), "2026-05-04")][2]
    dbt(warehouse, "build", "--full-refresh")
    assert (
        rows(warehouse, "select * from marts.voice_usage_daily_lists order by workspace_id, usage_date")
        == incremental
    )


def test_copies_landed_together_keep_the_later_event_time_in_every_build(warehouse: str) -> None:
    # Two copies of one AI event land in one statement (the same instant) with different event
    # times: 7 prompt tokens at 3 May 10:00, 5 at 4 May 10:00. The later event time wins (CONTRACT
    # §4), before the text (which would keep the 7), in the incremental build as in a full one:
    # 5 tokens on 4 May and nothing on 3 May.
    w31 = "f0000000-0000-4000-8000-000000000031"
    with connect(warehouse) as conn:
        conn.execute(
            f"""{AI_INSERT}
               select 'e2300000-0000-4000-8000-000000000001', %s, null, 'chat_message', 'openai', 'gpt-4o',
                    'chat', copies.tokens, 0, 0, 0, 0, 1.000000, copies.recorded_at, now() - interval '1 minute'
               from (values (7, timestamptz '2026-05-03 10:00:00+00'), (5, timestamptz '2026-05-04 10:00:00+00'))
                   as copies (tokens, recorded_at)""",
            (w31,),
        )
    for build in (("build",), ("build", "--full-refresh")):
        dbt(warehouse, *build)
        assert rows(
            warehouse,
            """select usage_date::text, event_count, prompt_tokens from marts.ai_usage_daily
               where workspace_id = %s order by usage_date""",
            w31,
        ) == [("2026-05-04", 1, 5)], build


def test_a_late_row_on_a_later_day_keeps_every_model_used_before(warehouse: str) -> None:
    # W33 uses gpt-4o on 1 May (3 tokens, 1 s of STT on nova-2) and nova-pro on 2 May (4 tokens),
    # and is built. A late event lands on 3 May with a model of its own (claude, 5 tokens; STT
    # whisper-1, 2 s): the 3 May rows start from the 2 May totals and must still list every
    # model used before, unchanged, beside the new one (a range 1-3 May subtracts nothing).
    w33 = "f0000000-0000-4000-8000-000000000033"
    ai = f"""{AI_INSERT}
                values (%s, %s, null, 'chat_message', %s, %s, 'chat', %s, 0, 0, 0, 0, 1.000000, %s,
                        now() - interval '1 minute')"""
    stt = """insert into raw.stt_events (event_id, workspace_id, call_id, provider, model, duration_seconds,
                    recorded_at, _loaded_at)
               values (%s, %s, null, %s, %s, %s, %s, now() - interval '1 minute')"""
    with connect(warehouse) as conn:
        conn.execute(
            ai, ("e2300000-0000-4000-8000-000000000031", w33, "openai", "gpt-4o", 3, "2026-05-01 10:00:00+00")
        )
        conn.execute(
            ai,
            (
                "e2300000-0000-4000-8000-000000000032",
                w33,
                "aws",
                "amazon.nova-pro",
                4,
                "2026-05-02 10:00:00+00",
            ),
        )
        conn.execute(
            stt,
            ("e2300000-0000-4000-8000-000000000033", w33, "deepgram", "nova-2", 1, "2026-05-01 10:00:00+00"),
        )
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(
            ai,
            ("e2300000-0000-4000-8000-000000000034", w33, "anthropic", "claude", 5, "2026-05-03 10:00:00+00"),
        )
        conn.execute(
            stt,
            ("e2300000-0000-4000-8000-000000000035", w33, "openai", "whisper-1", 2, "2026-05-03 10:00:00+00"),
        )
    dbt(warehouse, "build")  # the running-totals tests pass
    expected_ai = [("amazon.nova-pro", 1, 4), ("claude", 1, 5), ("gpt-4o", 1, 3)]
    assert (
        rows(
            warehouse,
            """select model, running_event_count, running_prompt_tokens from marts.ai_usage_running_totals
           where workspace_id = %s and usage_date = '2026-05-03' order by model""",
            w33,
        )
        == expected_ai
    )
    voice = """select model_names, running_event_counts, running_duration_seconds from marts.voice_usage_daily_lists
               where workspace_id = %s and usage_date = '2026-05-03'"""
    assert one(warehouse, voice, w33) == (
        ["nova-2", "whisper-1"],
        [1, 1],
        [Decimal("1.000"), Decimal("2.000")],
    )
    assert_a_full_refresh_agrees(warehouse)


def test_a_state_that_landed_after_the_chosen_one_wins_though_an_older_state_landed_later(
    warehouse: str,
) -> None:
    # Call CA-LAG of W34: state A (in progress, updated 10:05) lands three hours ago and is built;
    # state B (ringing, updated 10:00: older) lands an hour ago and loses to A; then a lagging
    # loader commits state C (completed at 10:05, updated 10:05: tied with A), stamped two hours
    # ago. On the updated_at tie the state that landed last wins, C (after A), not A because some
    # other state of the call landed later: one finished call of 300 s, as a full build says.
    w34 = "f0000000-0000-4000-8000-000000000034"
    state = """insert into raw.call_events (call_id, workspace_id, direction, workspace_number, remote_number,
                    status, started_at, ended_at, answered_by, updated_at, _loaded_at)
               values ('CA-LAG', %s, 'inbound', '+15550003434', '+15557773434', %s,
                    '2026-05-05 10:00:00+00', %s, 'human', %s, now() - %s::interval)"""
    calls = """select call_count, duration_seconds from marts.phone_usage_daily
               where workspace_id = %s and usage_date = '2026-05-05'"""
    with connect(warehouse) as conn:
        conn.execute(state, (w34, "in-progress", None, "2026-05-05 10:05:00+00", "3 hours"))
    dbt(warehouse, "build")
    with connect(warehouse) as conn:
        conn.execute(state, (w34, "ringing", None, "2026-05-05 10:00:00+00", "1 hour"))
    dbt(warehouse, "build")
    assert rows(warehouse, calls, w34) == []
    with connect(warehouse) as conn:
        conn.execute(state, (w34, "completed", "2026-05-05 10:05:00+00", "2026-05-05 10:05:00+00", "2 hours"))
    dbt(warehouse, "build")
    assert rows(warehouse, calls, w34) == [(1, 300)]
    assert one(
        warehouse, "select call_status from staging.stg_product__call_events where call_id = 'CA-LAG'"
    ) == ("completed",)
    assert_a_full_refresh_agrees(warehouse)


def test_a_daily_mart_built_after_its_twin_lost_its_record_reads_again_what_the_twin_takes(
    warehouse: str,
) -> None:
    # An `--empty` run of the quarter-hourly AI mart removes its records, so its next build reads
    # every staging row. The daily mart, built alone before that, must then record nothing past
    # its twin (0, not the newest staging row), or it never rebuilds the day of an event only
    # the twin takes: W32's event of 26 May must reach ai_usage_daily.
    w32 = "f0000000-0000-4000-8000-000000000032"
    with connect(warehouse) as conn:
        conn.execute(
            f"""{AI_INSERT}
               values ('e2300000-0000-4000-8000-000000000021', %s, null, 'chat_message', 'openai', 'gpt-4o',
                    'chat', 6, 0, 0, 0, 0, 1.000000, '2026-05-26 10:00:00+00', now() - interval '1 minute')""",
            (w32,),
        )
    dbt(warehouse, "run", "--empty", "--select", "ai_usage_quarter_hourly")
    dbt(warehouse, "run", "--select", "stg_product__ai_usage_events", "ai_usage_daily")
    dbt(warehouse, "build")  # the reconciliation tests pass: daily = its quarter hours
    assert rows(
        warehouse,
        """select usage_date::text, event_count, total_tokens from marts.ai_usage_daily
           where workspace_id = %s order by usage_date""",
        w32,
    ) == [("2026-05-26", 1, 6)]
    assert_a_full_refresh_agrees(warehouse)


def test_a_daily_mart_built_without_its_quarter_hours_reads_no_further_than_they_did(
    warehouse: str,
) -> None:
    # A daily mart sums its quarter-hourly twin. Built alone (a --select), it must not record
    # that it read staging rows its twin has not taken yet, or it would never rebuild their days
    # once the twin does. (Last in the module: its landings are the newest.)
    insert = f"""{AI_INSERT}
                values (%s, %s, null, 'realtime', 'openai', 'gpt-4o', 'realtime', 1, 1, 0, 0, 0, 5.000000,
                    %s, now() - %s::interval)"""
    with connect(warehouse) as conn:
        conn.execute(
            insert, ("e2100000-0000-4000-8000-000000000006", W1, "2026-05-24 10:00:00+00", "0 seconds")
        )
        conn.execute(
            insert, ("e2100000-0000-4000-8000-000000000007", W1, "2026-05-25 10:00:00+00", "-1 seconds")
        )
    dbt(warehouse, "run", "--select", "stg_product__ai_usage_events", "ai_usage_daily")
    dbt(warehouse, "build")  # the reconciliation tests pass: daily = its quarter hours
    dbt(warehouse, "build")
    assert rows(
        warehouse,
        """select usage_date::text, credits from marts.ai_usage_daily
           where workspace_id = %s and usage_date in ('2026-05-24', '2026-05-25') order by 1""",
        W1,
    ) == [("2026-05-24", Decimal("5.000000")), ("2026-05-25", Decimal("5.000000"))]
