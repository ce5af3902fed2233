"""Warmup enable/disable and the background-jobs endpoints (docs/instantly-api.md §4, §5).

Decisions where the sources are silent, each a (guessed):

* ``emails`` given together with ``include_all_emails: true`` is ignored (§5.4), and so are
  ``excluded_emails``, ``filter`` and ``search`` without ``include_all_emails``.
* ``emails: []`` (or no target at all) without ``include_all_emails`` is not an error: it makes a
  job with ``total_to_process: 0`` that ends ``success``, like the observed empty-workspace case.
* ``emails`` match accounts case-insensitively (like ``GET /accounts/{email}``); results and
  ``pending_emails`` name each email as it was sent. Duplicates (ignoring case) count once.
* An account whose warmup is banned or suspended (``warmup_status < 0``) fails with an error and
  is left unchanged (§5.6; ``Emulator(negative_warmup="change")`` changes it instead).
* The 404 messages for unknown jobs read ``Background job not found``.
* A job resolves its targets when it starts, after the queue delay (jobs.py): the
  ``include_all_emails`` selection and the lookup of explicit ``emails`` see the workspace as it
  is then. ``excluded_emails``, ``filter`` and ``search`` are read per ``Settings.warmup_reading``
  (selection.py), taken when the job is created; ``excluded_emails`` always exclude.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Call
from .faults import LOCK_MESSAGE, EmailFailures
from .jobs import WARMUP_JOB_TYPE, Job, Target, WarmupJob
from .responses import Response, api_error, json_response
from .selection import WarmupReading, split_list, warmup_matcher
from .validate import Param, WarmupBody, parse_json_body, validate_query, validate_warmup_body
from .workspace import Workspace

__all__ = ["get_job", "list_jobs", "warmup"]

JOB_TYPES = (
    "move-leads",
    "import-leads",
    "export-leads",
    WARMUP_JOB_TYPE,
    "rename-variable",
    "broadcast-ai-generate",
    "broadcast-website-scrape",
    "import-subscribers-from-crm",
    "resync-subscriber-crm-tags",
)
ENTITY_TYPES = (
    "list",
    "campaign",
    "workspace",
    "broadcast",
    "subscriber-group-sync",
    "subscriber-group",
)
LIST_PARAMS = (
    Param("limit", "integer", minimum=1, maximum=100),
    Param("starting_after", "string"),
    Param("ids", "string"),
    Param("included_ids", "string"),
    Param("excluded_ids", "string"),
    Param("type", "string", enum=JOB_TYPES),
    Param("entity_type", "string", enum=ENTITY_TYPES),
    Param("entity_id", "string"),
    Param("status", "string"),
    Param("sort_column", "string", enum=("created_at", "updated_at")),
    Param("sort_order", "string", enum=("asc", "desc")),
)
GET_PARAMS = (Param("data_fields", "string"),)
DEFAULT_LIMIT = 10


def warmup(call: Call, warmup_status: int) -> Response:
    """``POST /accounts/warmup/{disable,enable}``: validate, check the lock, create the job."""
    body = validate_warmup_body(parse_json_body(call.headers.get("content-type"), call.body))
    if call.settings.warmup_lock and call.ws.warmup_locked(call.now):
        return api_error(409, LOCK_MESSAGE)  # §5.5
    job_id = call.ids.make(call.now)
    script, failures = call.faults.next_job()
    job = WarmupJob(
        id=job_id,
        seq=call.next_seq(),
        workspace_id=call.ws.id,
        created=call.now,
        warmup_status=warmup_status,
        filters=_echo(body),
        timing=call.settings.timing,
        script=script,
        resolve=_resolver(call.ws, body, call.settings.warmup_reading, failures, job_id),
    )
    call.ws.jobs[job.id] = job
    call.faults.job_created(job.id)
    return json_response(200, job.initial_view())


def _echo(body: WarmupBody) -> dict[str, Any]:
    # §4.1: the request echoed in camelCase, null for what was not sent.
    return {
        "emails": body.emails,
        "includeAllEmails": body.include_all_emails,
        "excludedEmails": body.excluded_emails,
        "filter": body.filter,
        "search": body.search,
    }


def _resolver(
    ws: Workspace,
    body: WarmupBody,
    reading: WarmupReading,
    failures: EmailFailures | None,
    job_id: str,
) -> Callable[[], list[Target]]:
    """The job's targets, computed when it starts (jobs.py), with injected email failures."""

    def resolve() -> list[Target]:
        targets = _targets(ws, body, reading)
        if failures is None:
            return targets
        return [
            Target(t.sent, t.account, failures.error) if failures.fails(t.sent, job_id) else t
            for t in targets
        ]

    return resolve


def _targets(ws: Workspace, body: WarmupBody, reading: WarmupReading) -> list[Target]:
    if body.include_all_emails:
        narrowing = body.filter or {}
        tag_id = narrowing.get("tag_id")
        predicate = warmup_matcher(
            reading,
            search=body.search or None,
            tag_id=tag_id if isinstance(tag_id, str) and tag_id else None,
            filter=narrowing.get("filter"),
        )
        excluded = {e.lower() for e in body.excluded_emails or ()}
        return [
            Target(r.email, r.email)
            for r in ws.scan(descending=True, after=None)
            if r.email.lower() not in excluded and (predicate is None or predicate(r))
        ]
    targets: list[Target] = []
    seen: set[str] = set()
    for email in body.emails or ():
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        record = ws.find(email)
        targets.append(Target(email, record.email if record is not None else None))
    return targets


def get_job(call: Call) -> Response:
    q = validate_query(GET_PARAMS, call.query)
    job = call.ws.jobs.get(call.params["id"])
    if job is None:
        return api_error(404, "Background job not found")
    if call.faults.vanishes(job.id):
        call.fault = "vanishing_job"  # not yet visible to this read (eventual consistency)
        return api_error(404, "Background job not found")
    fields = split_list(q.get("data_fields")) or None
    return json_response(200, job.view(call.now, data_fields=fields))


def list_jobs(call: Call) -> Response:
    q = validate_query(LIST_PARAMS, call.query)
    now = call.now
    jobs: list[Job] = list(call.ws.jobs.values())
    for param in ("ids", "included_ids"):
        wanted = set(split_list(q.get(param)))
        if wanted:
            jobs = [j for j in jobs if j.id in wanted]
    unwanted = set(split_list(q.get("excluded_ids")))
    statuses = set(split_list(q.get("status")))
    entity_ids = set(split_list(q.get("entity_id")))
    jobs = [
        j
        for j in jobs
        if j.id not in unwanted
        and ("type" not in q or j.type == q["type"])
        and ("entity_type" not in q or j.entity_type == q["entity_type"])
        and (not entity_ids or j.entity_id in entity_ids)
        and (not statuses or j.status(now) in statuses)
    ]
    by_updated = q.get("sort_column") == "updated_at"
    descending = q.get("sort_order", "desc") == "desc"

    def key(job: Job) -> tuple[float, int, str]:
        return (job.updated(now) if by_updated else job.created, job.seq, job.id)

    jobs.sort(key=key, reverse=descending)
    cursor = q.get("starting_after")
    if cursor:
        # §4.5: the cursor is the last id seen; continue strictly past it in this order.
        anchor = call.ws.jobs.get(cursor)
        if anchor is not None:
            mark = key(anchor)
            jobs = [j for j in jobs if (key(j) < mark if descending else key(j) > mark)]
        else:
            # An id we never issued: ObjectIds sort by creation, as a database would compare them.
            jobs = [j for j in jobs if (j.id < cursor if descending else j.id > cursor)]
    page = jobs[: q.get("limit", DEFAULT_LIMIT)]
    body: dict[str, Any] = {"items": [j.view(now) for j in page]}
    if page:
        body["next_starting_after"] = page[-1].id  # even on a short last page (§4.5)
    return json_response(200, body)
