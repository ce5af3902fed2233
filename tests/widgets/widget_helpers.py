"""Helpers for the headless widget tests: jobs and events without a server, widget walking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ipywidgets as w
from helpers import model_refs
from ipywidgets.widgets.widget import _instances

from instantly_nb.events import RunEvent
from instantly_nb.models import Job


def job(
    status: str = "in-progress",
    progress: float = 0,
    *,
    id: str = "job-1",
    total: int = 100,
    ok: int = 0,
    failed: int = 0,
    created: str = "2026-06-01T00:00:00.000Z",
    updated: str = "2026-06-01T00:00:10.000Z",
) -> Job:
    return Job.from_api(
        {"id": id, "status": status, "progress": progress, "type": "update-warmup-accounts",
         "created_at": created, "updated_at": updated,
         "data": {"total_to_process": total, "success_count": ok, "failed_count": failed}}
    )  # fmt: skip


def one_job_run(requests: int, i: int, final: Job, steps: int = 4) -> Iterator[RunEvent]:
    """The events the runner sends for request ``i`` of ``requests``."""
    yield RunEvent("submitting", requests, i)
    yield RunEvent("submitted", requests, i, message=final.id)
    for step in range(1, steps + 1):
        p = 100 * step / (steps + 1)
        yield RunEvent("progress", requests, i, job(progress=p, id=final.id), done=i)
    yield RunEvent("progress", requests, i, final, done=i)
    yield RunEvent("job_done", requests, i, final, done=i + 1)


def tree(root: Any) -> Iterator[Any]:
    """Every widget reachable from ``root`` through its synced state (children, layout...)."""
    seen: set[str] = set()
    stack = [root]
    while stack:
        widget = stack.pop()
        if widget.model_id in seen:
            continue
        seen.add(widget.model_id)
        yield widget
        for model_id in model_refs(widget.get_state()):
            stack.append(_instances[model_id])


def saved_state() -> str:
    """What a notebook would save: the state of every live widget, as JSON."""
    return json.dumps(w.Widget.get_manager_state(drop_defaults=False), default=str)
