"""``GET /accounts``, ``GET /accounts/{email}`` and ``POST /accounts/warmup-analytics`` (§3, §7)."""

from __future__ import annotations

from typing import Any

from .context import Call
from .isotime import iso, parse_iso
from .responses import Response, api_error, json_response
from .selection import account_matcher, split_list
from .validate import (
    ACCOUNT_FILTERS,
    Param,
    parse_json_body,
    validate_analytics_body,
    validate_query,
)
from .warmup_history import aggregate_view, daily_history
from .workspace import AccountRecord, Workspace

__all__ = ["account_view", "get_account", "list_accounts", "warmup_analytics"]

DEFAULT_LIMIT = 10  # §2.3 [3P]: "Instantly's default page (10 items)"

LIST_PARAMS = (
    Param("limit", "integer", minimum=1, maximum=100),
    Param("starting_after", "string"),
    Param("search", "string"),
    Param("status", "number", enum=(1, 2, 3, -1, -2, -3)),
    Param("provider_code", "number", enum=(1, 2, 3, 4, 8, 11)),
    Param("tag_ids", "string"),
    Param("tag_ids_all", "string"),
    Param("include_tags", "boolean"),
    Param("filter", "string", enum=ACCOUNT_FILTERS),
    Param("sort_by", "string", enum=("timestamp_created", "email", "stat_warmup_score", "status")),
    Param("sort_order", "string", enum=("asc", "desc")),
    Param("skip", "integer", minimum=0),
)


def account_view(
    record: AccountRecord, ws: Workspace, *, abbreviated: bool = False, with_tags: bool = False
) -> dict[str, Any]:
    """The account as the API shows it; a fresh top-level dict every time."""
    view = dict(record.data)
    if abbreviated and isinstance(view.get("warmup"), dict):
        view["warmup"] = {"limit": view["warmup"].get("limit")}
    if with_tags:
        tags = []
        for tag_id in sorted(record.tags):
            tag = ws.tags.get(tag_id)
            if tag is not None:
                item: dict[str, Any] = {"id": tag.id, "label": tag.label}
                if tag.description is not None:
                    item["description"] = tag.description
                tags.append(item)
        view["tags"] = tags
    return view


def cursor_of(record: AccountRecord) -> str:
    """§2.3: ``<timestamp_created>&<email>``."""
    return f"{iso(record.created_ms)}&{record.email}"


def _parse_cursor(text: str, descending: bool) -> tuple[int, str] | None:
    stamp, amp, email = text.partition("&")
    ms = parse_iso(stamp)
    if ms is None:
        return None
    if amp:
        return (ms, email)
    # A legacy cursor is a bare timestamp (§2.3): continue strictly past that instant.
    return (ms, "") if descending else (ms, "\U0010ffff")


_SORT_KEYS = {
    "email": lambda r: (r.email, r.email),
    "stat_warmup_score": lambda r: (r.data.get("stat_warmup_score") or 0, r.email),
    "status": lambda r: (r.data.get("status") or 0, r.email),
}


def list_accounts(call: Call) -> Response:
    q = validate_query(LIST_PARAMS, call.query)
    ws = call.ws
    limit = q.get("limit", DEFAULT_LIMIT)
    skip = q.get("skip", 0)
    predicate = account_matcher(
        search=q.get("search"),
        status=q.get("status"),
        provider_code=q.get("provider_code"),
        tag_ids_any=split_list(q.get("tag_ids")),
        tag_ids_all=split_list(q.get("tag_ids_all")),
        filter=q.get("filter"),
    )
    sort_by = q.get("sort_by", "timestamp_created")
    descending = q.get("sort_order", "desc") == "desc"
    body: dict[str, Any]
    if sort_by == "timestamp_created":
        after = None
        if "starting_after" in q and q["starting_after"] != "":
            after = _parse_cursor(q["starting_after"], descending)
            if after is None:
                return api_error(400, "Invalid starting_after cursor")
        found = ws.page(descending=descending, after=after, predicate=predicate, limit=limit + skip)
        records = found[skip:]
        body = {"items": [_item(r, call, q) for r in records]}
        # §2.3: every non-empty page carries a cursor, even the short last one.
        if records:
            body["next_starting_after"] = cursor_of(records[-1])
        return json_response(200, body)
    # (guessed) Other sort columns are offset-paginated with `skip` (the spec: "used with sort_by
    # when cursor pagination is not available"), so they carry no cursor.
    matching = [
        r for r in ws.scan(descending=False, after=None) if predicate is None or predicate(r)
    ]
    matching.sort(key=_SORT_KEYS[sort_by], reverse=descending)
    return json_response(200, {"items": [_item(r, call, q) for r in matching[skip : skip + limit]]})


def _item(record: AccountRecord, call: Call, q: dict[str, Any]) -> dict[str, Any]:
    return account_view(
        record,
        call.ws,
        abbreviated=call.settings.list_warmup == "abbreviated",
        with_tags=bool(q.get("include_tags")),
    )


def get_account(call: Call) -> Response:
    record = call.ws.find(call.params["email"])
    if record is None:
        return api_error(404, "Account not found")  # §3.2; the exact text is a (guessed)
    return json_response(200, account_view(record, call.ws))


def warmup_analytics(call: Call) -> Response:
    """§7: each known email's days and totals (warmup_history.py); unknown ones are left out."""
    emails = validate_analytics_body(parse_json_body(call.headers.get("content-type"), call.body))
    by_date: dict[str, Any] = {}
    aggregate: dict[str, Any] = {}
    for email in emails:
        record = call.ws.find(email)
        if record is None or email in aggregate:
            continue  # §7: unknown emails are absent from both maps
        days = daily_history(record, call.ws.id, call.now)
        by_date[email] = {date: day.view() for date, day in days.items()}
        aggregate[email] = aggregate_view(record, days)
    return json_response(200, {"email_date_data": by_date, "aggregate_data": aggregate})
