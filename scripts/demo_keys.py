"""`make demo-key`: create two API keys on the demo dataset through the
project's own CLI (`flask --app api keys create`) and print them with
ready-to-paste curl lines: an admin key (analytics:read, members:read) and a
plain member's key (members:read only)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(PROJECT_ROOT / ".venv" / "bin" / "flask")

# The busiest workspace (AI events) that has an active admin and an active member.
BIGGEST_WORKSPACE = """
    select workspaces.workspace_id, workspaces.workspace_name
    from staging.stg_product__workspaces as workspaces
    left join marts.ai_usage_daily as usage on usage.workspace_id = workspaces.workspace_id
    where (
        select count(distinct members.role_id)
        from staging.stg_product__members as members
        where
            members.workspace_id = workspaces.workspace_id
            and members.role_id in ('admin', 'member')
            and not members.is_deleted
    ) = 2
    group by workspaces.workspace_id, workspaces.workspace_name
    order by coalesce(sum(usage.event_count), 0) desc, workspaces.workspace_id
    limit 1
"""
# The busiest active member with the role this month (UTC), so the member-usage lines
# print numbers, not zeros (member usage defaults to the month to date).
ACTIVE_MEMBER_WITH_ROLE = """
    select members.member_id, members.display_name
    from staging.stg_product__members as members
    left join marts.member_usage_daily as usage
        on usage.member_id = members.member_id
        and usage.usage_date >= date_trunc('month', now() at time zone 'UTC')::date
    where members.workspace_id = %s and members.role_id = %s and not members.is_deleted
    group by members.member_id, members.display_name
    order by coalesce(sum(usage.messages_sent), 0) desc, members.display_name, members.member_id
    limit 1
"""


def create_key(workspace_id: str, member_id: str, name: str, scopes: list[str]) -> str:
    scope_args = [arg for scope in scopes for arg in ("--scope", scope)]
    result = subprocess.run(
        [FLASK, "--app", "api", "keys", "create", "--workspace", workspace_id, "--member", member_id,
         "--name", name, *scope_args, "--expires-in-days", "90"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"could not create the {name!r}: {result.stderr.strip()}")
    return result.stdout.strip()


def main() -> int:
    with psycopg.connect() as conn:
        workspace = conn.execute(BIGGEST_WORKSPACE).fetchone()
        if workspace is None:
            sys.exit(
                "no workspace with an active admin and an active member: run `make demo-data` and `make build` first"
            )
        workspace_id, workspace_name = str(workspace[0]), workspace[1]
        admin = conn.execute(ACTIVE_MEMBER_WITH_ROLE, (workspace_id, "admin")).fetchone()
        member = conn.execute(ACTIVE_MEMBER_WITH_ROLE, (workspace_id, "member")).fetchone()
    if admin is None or member is None:
        sys.exit("the demo workspace needs an active admin and an active member")
    admin_key = create_key(workspace_id, str(admin[0]), "Demo admin key", ["analytics:read", "members:read"])
    member_key = create_key(workspace_id, str(member[0]), "Demo member key", ["members:read"])

    base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
    api = f"{base}/api/v2/w/{workspace_id}"
    print(f"\nDemo workspace: {workspace_name} ({workspace_id})")
    print(f"Admin key ({admin[1]}; analytics:read, members:read), valid 90 days:\n  {admin_key}")
    print(f"Member key ({member[1]}; members:read only), valid 90 days:\n  {member_key}\n")
    print(f"export WS={workspace_id}")
    print(f"export KEY={admin_key}")
    for path in (
        "reports/ai-usage",
        "reports/sms-usage",
        "reports/phone-usage",
        "reports/voice-usage",
        "members",
    ):
        print(f'curl -s -H "Authorization: Bearer $KEY" "{api}/{path}"')
    print(f'curl -s -H "Authorization: Bearer $KEY" "{api}/reports/member-usage/{admin[0]}"')
    year = datetime.now(UTC).year
    print(
        f'curl -s -H "Authorization: Bearer $KEY" "{api}/reports/ai-usage?start_date={year}-01-01&end_date={year}-12-31"'
    )
    print("\n# the member key: its own usage and the member list (members:read), no workspace reports")
    print(f"export MEMBER_KEY={member_key}")
    print(f'curl -s -H "Authorization: Bearer $MEMBER_KEY" "{api}/reports/member-usage/{member[0]}"')
    print(f'curl -s -H "Authorization: Bearer $MEMBER_KEY" "{api}/members"')
    print(f"\nDetailed Reports page: {base}/w/{workspace_id}/settings/billing\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
