"""The workspace's members: ``GET /api/v2/w/<workspace_id>/members`` (scope ``members:read``).

``[{"memberId", "displayName", "role"}]``: the members not deleted, read live
from the staging views (like authorization, so the list never disagrees with
who may call), sorted by display name then id (Unicode code point order).
``role`` is the role's name, or null when the member's role is unknown or
belongs to another workspace. The endpoint takes no query parameters.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import auth
from api.db import get_db
from api.keystore import MEMBER_ROLE_NAME
from api.params import parse_uuid, single_values

bp = Blueprint("members", __name__, url_prefix="/api/v2/w/<workspace_id>")

ACTIVE_MEMBERS_SQL = f"""
select
    members.member_id,
    members.display_name,
    {MEMBER_ROLE_NAME} as role_name
from staging.stg_product__members as members
where
    members.workspace_id = %(workspace_id)s
    and not members.is_deleted
"""


def shape_members(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(
        rows,
        key=lambda row: (row["display_name"] is None, row["display_name"] or "", str(row["member_id"])),
    )
    return [
        {"memberId": str(row["member_id"]), "displayName": row["display_name"], "role": row["role_name"]}
        for row in ordered
    ]


@bp.get("/members")
def list_members(workspace_id: str) -> Response:
    caller = auth.authenticate()
    workspace = parse_uuid(workspace_id, "workspace_id")
    single_values(request.args, ())
    auth.authorize(caller, workspace, auth.MEMBERS_READ)
    rows = get_db().fetch_all(ACTIVE_MEMBERS_SQL, {"workspace_id": workspace})
    response = jsonify(shape_members(rows))
    response.headers["Cache-Control"] = "private"
    response.headers["Vary"] = "Authorization"
    return response
