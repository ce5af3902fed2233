"""Helpers for the headless widget tests: jobs and events without a server, widget walking,
and a panel driven inside a running loop as in a kernel."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as w
from helpers import model_refs
from ipywidgets.widgets.widget import _instances

from instantly_nb.events import RunEvent
from instantly_nb.models import Job
from instantly_nb.widgets import WarmupPanel


def drive(
    client: Any, steps: Callable[[WarmupPanel], Coroutine[Any, Any, None]], **options: Any
) -> WarmupPanel:
    """Build the panel inside a running loop (as in a kernel), run ``steps``, wait for it."""

    async def main() -> WarmupPanel:
        panel = WarmupPanel(client, **options)
        await panel.idle()
        await steps(panel)
        await panel.idle()
        return panel

    return asyncio.run(main())


async def click(panel: WarmupPanel, button: Any) -> None:
    button.click()
    await panel.idle()


def stop_once_submitted(panel: WarmupPanel, request: int) -> asyncio.Task[None]:
    """Click Stop as a person would once job ``request`` (0-based) shows its job id."""

    async def watch() -> None:
        while True:
            row = panel.progress.model.jobs.get(f"request-{request}")
            if row is not None and row.job_id is not None:
                panel.progress.stop_button.click()
                return
            await asyncio.sleep(0)  # the run yields between its steps (virtual time too)

    return asyncio.ensure_future(watch())


def select(table: Any, where: Callable[[Any], bool]) -> list[str]:
    """Select the rows of a panel table (``Rows``) whose row satisfies ``where``, as clicks do.

    Returns the emails of the rows selected.
    """
    frame = table.frame
    positions = [i for i, (_, row) in enumerate(frame.iterrows()) if where(row)]
    table.table.selected_rows = positions
    return [str(frame["email"].iloc[i]) for i in positions]


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


@dataclass
class _Call:
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class VirtualTimer:
    """A ``Timer`` whose time moves only on ``advance()``, running due callbacks at their time.

    A throttle on it draws exactly when its interval says, with no loop and no wall time, so a
    test states which draw happens when.
    """

    t: float = 100.0
    _due: list[tuple[float, int, _Call]] = field(default_factory=list)
    _order: Iterator[int] = field(default_factory=itertools.count)

    def now(self) -> float:
        return self.t

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Call:
        call = _Call(callback)
        heapq.heappush(self._due, (self.t + max(0.0, delay), next(self._order), call))
        return call

    @property
    def pending(self) -> int:
        """Callbacks scheduled and neither run nor cancelled."""
        return sum(not call.cancelled for _, _, call in self._due)

    def advance(self, seconds: float) -> None:
        end = self.t + seconds
        while self._due and self._due[0][0] <= end:
            when, _, call = heapq.heappop(self._due)
            self.t = max(self.t, when)
            if not call.cancelled:
                call.callback()
        self.t = end
