{#-
    make raw: creates schema raw and the landing tables of CONTRACT §3.

    The pipeline delivers at least once, so ids carry no unique constraint, and
    every column but _loaded_at is nullable: rows the contract calls invalid
    (null workspace, negative tokens, unknown direction) must land so the build
    can count and quarantine them instead of losing them at the door.
    Indexes: the ids (a build ranks every copy of an id it reads through them)
    and a few for queries straight over raw (event times, AI events by chat:
    the benchmark's raw baselines, analysts' ad-hoc questions). None on
    _loaded_at: builds find new rows by transaction id, not by landing time
    (macros/incremental_staging.sql).
    Idempotent: safe to run on every deploy.
-#}
{% macro create_raw_tables() %}
    {% set tables = {
        "workspaces": {
            "columns": "workspace_id uuid, name text, created_at timestamptz",
            "indexes": [["workspace_id"]],
        },
        "roles": {
            "columns": "role_id text, workspace_id uuid, name text",
            "indexes": [["role_id"]],
        },
        "role_scopes": {
            "columns": "role_id text, scope text",
            "indexes": [["role_id"]],
        },
        "members": {
            "columns": "member_id uuid, workspace_id uuid, role_id text, display_name text, created_at timestamptz, deleted_at timestamptz",
            "indexes": [["member_id"], ["workspace_id"]],
        },
        "chats": {
            "columns": "chat_id uuid, workspace_id uuid, owner_member_id uuid, created_at timestamptz",
            "indexes": [["chat_id"], ["created_at"]],
        },
        "messages": {
            "columns": "message_id uuid, workspace_id uuid, chat_id uuid, sender_member_id uuid, role text, channel text, created_at timestamptz",
            "indexes": [["message_id"], ["created_at"]],
        },
        "ai_usage_events": {
            "columns": "event_id uuid, workspace_id uuid, chat_id uuid, source text, provider text, model text, model_type text, prompt_tokens bigint, completion_tokens bigint, cached_tokens bigint, audio_input_tokens bigint, audio_output_tokens bigint, credits numeric(20, 6), recorded_at timestamptz",
            "indexes": [["event_id"], ["recorded_at"], ["chat_id"]],
        },
        "sms_messages": {
            "columns": "sms_id text, workspace_id uuid, direction text, workspace_number text, remote_number text, body text, carrier_segments int, sent_at timestamptz",
            "indexes": [["sms_id"], ["sent_at"]],
        },
        "call_events": {
            "columns": "call_id text, workspace_id uuid, direction text, workspace_number text, remote_number text, status text, started_at timestamptz, ended_at timestamptz, answered_by text, updated_at timestamptz",
            "indexes": [["call_id"], ["started_at"]],
        },
        "stt_events": {
            "columns": "event_id uuid, workspace_id uuid, call_id text, provider text, model text, duration_seconds numeric(12, 3), recorded_at timestamptz",
            "indexes": [["event_id"], ["recorded_at"]],
        },
        "tts_events": {
            "columns": "event_id uuid, workspace_id uuid, call_id text, provider text, model text, characters int, recorded_at timestamptz",
            "indexes": [["event_id"], ["recorded_at"]],
        },
    } %}
    {% set statements = ["create schema if not exists raw"] %}
    {% for name, spec in tables.items() %}
        {% do statements.append(
            "create table if not exists raw." ~ name ~ " (" ~ spec.columns
            ~ ", _loaded_at timestamptz not null default now())"
        ) %}
        {% for columns in spec.indexes %}
            {% do statements.append(
                "create index if not exists " ~ name ~ "__" ~ columns | join("_") ~ "_idx on raw."
                ~ name ~ " (" ~ columns | join(", ") ~ ")"
            ) %}
        {% endfor %}
    {% endfor %}
    {% for statement in statements %}
        {% do run_query(statement) %}
    {% endfor %}
    {{ log("raw schema ready: " ~ tables | length ~ " tables", info=true) }}
{% endmacro %}
