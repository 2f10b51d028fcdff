"""Empty the raw tables and load SQL fixture files into them.

    python scripts/load_fixture.py tests/fixtures/raw_base.sql [more.sql ...]
    python scripts/load_fixture.py --append tests/fixtures/raw_late.sql

Used by `make test` and tests/pipeline; connects with the libpq variables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

RAW_TABLES = (
    "workspaces", "roles", "role_scopes", "members", "chats", "messages",
    "ai_usage_events", "sms_messages", "call_events", "stt_events", "tts_events",
)  # fmt: skip


def load(conn: psycopg.Connection, files: list[Path], *, append: bool = False) -> None:
    with conn.transaction():
        if not append:
            conn.execute("truncate " + ", ".join(f"raw.{table}" for table in RAW_TABLES))
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    append = "--append" in argv
    files = [Path(arg) for arg in argv if arg != "--append"]
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    with psycopg.connect() as conn:
        load(conn, files, append=append)
    print(f"loaded {', '.join(str(path) for path in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
