"""Custom tags, their mappings (§6) and ``GET /workspaces/current``."""

from __future__ import annotations

import bisect
from typing import Any

from .context import Call
from .isotime import iso, parse_iso
from .responses import Response, api_error, json_response
from .selection import split_list
from .validate import Param, validate_query
from .workspace import Tag, TagMapping

__all__ = ["get_tag", "list_mappings", "list_tags", "mapping_view", "tag_view", "workspace"]

DEFAULT_LIMIT = 10
TAG_PARAMS = (
    Param("limit", "integer", minimum=1, maximum=100),
    Param("starting_after", "string"),
    Param("search", "string"),
    Param("resource_ids", "string"),
    Param("tag_ids", "string"),
)
MAPPING_PARAMS = (
    Param("limit", "integer", minimum=1, maximum=100),
    Param("starting_after", "string"),
    Param("resource_ids", "string"),
)


def tag_view(tag: Tag, organization: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": tag.id,
        "timestamp_created": iso(tag.created_ms),
        "timestamp_updated": iso(tag.updated_ms),
        "organization_id": organization,
        "label": tag.label,
    }
    if tag.description is not None:  # §6.1: omitted when null
        view["description"] = tag.description
    return view


def mapping_view(mapping: TagMapping, organization: str) -> dict[str, Any]:
    return {
        "id": mapping.id,
        "tag_id": mapping.tag_id,
        "resource_id": mapping.resource_id,
        "resource_type": mapping.resource_type,
        "timestamp_created": iso(mapping.created_ms),
        "organization_id": organization,
    }


def list_tags(call: Call) -> Response:
    q = validate_query(TAG_PARAMS, call.query)
    ws = call.ws
    tags = sorted(ws.tags.values(), key=lambda t: t.id)  # §6.1: by id ascending
    if q.get("starting_after"):
        tags = [t for t in tags if t.id > q["starting_after"]]
    if q.get("search"):
        needle = q["search"].lower()
        tags = [t for t in tags if needle in t.label.lower()]
    wanted = set(split_list(q.get("tag_ids")))
    if wanted:
        tags = [t for t in tags if t.id in wanted]
    resources = split_list(q.get("resource_ids"))
    if resources:
        used: set[str] = set()
        for resource in resources:
            record = ws.find(resource)
            if record is not None:
                used |= record.tags
        tags = [t for t in tags if t.id in used]
    page = tags[: q.get("limit", DEFAULT_LIMIT)]
    body: dict[str, Any] = {"items": [tag_view(t, ws.id) for t in page]}
    if page:
        body["next_starting_after"] = page[-1].id
    return json_response(200, body)


def get_tag(call: Call) -> Response:
    tag = call.ws.tags.get(call.params["id"])
    if tag is None:
        return api_error(404, "Custom tag not found")
    return json_response(200, tag_view(tag, call.ws.id))


def list_mappings(call: Call) -> Response:
    """§6.2: ascending by ``timestamp_created``, the cursor. ``resource_ids`` is honoured here
    even though the live filter was reported broken [3P]; account resources are emails."""
    q = validate_query(MAPPING_PARAMS, call.query)
    ws = call.ws
    mappings = ws.mappings
    start = 0
    if q.get("starting_after"):
        after = parse_iso(q["starting_after"])
        if after is None:
            return api_error(400, "Invalid starting_after cursor")
        start = bisect.bisect_right(mappings, after, key=lambda m: m.created_ms)
    resources = {r.lower() for r in split_list(q.get("resource_ids"))}
    limit = q.get("limit", DEFAULT_LIMIT)
    page: list[TagMapping] = []
    for index in range(start, len(mappings)):
        mapping = mappings[index]
        if resources and mapping.resource_id.lower() not in resources:
            continue
        page.append(mapping)
        if len(page) >= limit:
            break
    body: dict[str, Any] = {"items": [mapping_view(m, ws.id) for m in page]}
    if page:
        body["next_starting_after"] = iso(page[-1].created_ms)
    return json_response(200, body)


def workspace(call: Call) -> Response:
    ws = call.ws
    body: dict[str, Any] = {
        "id": ws.id,
        "timestamp_created": iso(ws.created_ms),
        "timestamp_updated": iso(ws.created_ms),
        "owner": ws.owner,
        "name": ws.name,
        "plan_id": "pid_hg_v1",
        "add_unsub_to_block": False,
        "default_opportunity_value": 500,
    }
    return json_response(200, body)
