"""``GET /api/v2/workspace-group-members``: the sub-workspaces of an admin workspace (§12).

The order and the cursor are the emulator's choice (the document says only that
``next_starting_after`` feeds ``starting_after``): members by ``id`` ascending, the cursor the last
member's ``id``, a default page of 10, as for custom tags (§6.1).
"""

from __future__ import annotations

from typing import Any

from .context import Call
from .isotime import iso
from .responses import Response, json_response
from .validate import Param, validate_query
from .workspace import GroupMember, Workspace

__all__ = ["list_group_members", "member_view"]

DEFAULT_LIMIT = 10
MEMBER_PARAMS = (
    Param("limit", "integer", minimum=1, maximum=100),
    Param("starting_after", "string"),
)


def member_view(member: GroupMember, admin: Workspace) -> dict[str, Any]:
    """One ``WorkspaceGroupMember``, keys in the schema's order."""
    return {
        "id": member.id,
        "admin_workspace_id": admin.id,
        "sub_workspace_id": member.sub_workspace_id,
        "status": member.status,
        "timestamp_created": iso(member.created_ms),
        "timestamp_updated": iso(member.updated_ms),
        "sub_workspace_name": member.sub_workspace_name,
        "admin_workspace_name": admin.name,
    }


def list_group_members(call: Call) -> Response:
    q = validate_query(MEMBER_PARAMS, call.query)
    ws = call.ws
    members = sorted(ws.group_members, key=lambda m: m.id)
    if q.get("starting_after"):
        members = [m for m in members if m.id > q["starting_after"]]
    page = members[: q.get("limit", DEFAULT_LIMIT)]
    body: dict[str, Any] = {"items": [member_view(m, ws) for m in page]}
    if page:
        body["next_starting_after"] = page[-1].id
    return json_response(200, body)
