"""Item 5, widgets: the comm messages ``JobProgress`` sends while 100 jobs report progress.

A run feeds ``on_update`` one event per poll of a job; a notebook needs a few frames per second,
not one message per event. Here every millisecond one of ``jobs`` jobs reports new progress, for
``seconds``; the widgets' own ``MessageCounter`` counts what a kernel would put on the wire.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from instantly_nb import RunEvent
from instantly_nb.models import Job

from .profiles import Profile


@dataclass(frozen=True)
class WidgetRun:
    available: bool
    reason: str = ""  # why not, when the widgets could not be imported
    jobs: int = 0
    seconds: float = 0.0
    events: int = 0
    redraws: int = 0
    updates: int = 0  # state messages while the jobs were updating
    opens: int = 0  # widgets created (each a comm_open with its state)
    busiest_second: int = 0  # most messages in any one second

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


def run_widgets(profile: Profile) -> WidgetRun:
    try:
        from instantly_nb.widgets import JobProgress
        from instantly_nb.widgets._metrics import MessageCounter
    except ImportError as exc:
        return WidgetRun(False, f"{type(exc).__name__}: {exc}")
    progress = JobProgress("benchmark")
    jobs = profile.widget_jobs
    with MessageCounter() as sent:
        events, seconds = asyncio.run(_feed(progress, jobs, profile.widget_seconds))
    return WidgetRun(
        True, "", jobs, seconds, events, progress.redraws, sent.count("update"),
        sent.count("open"), sent.max_per_second(),
    )  # fmt: skip


async def _feed(progress: object, jobs: int, seconds: float) -> tuple[int, float]:
    """Events fed, and for how long (the throttle's trailing redraw is waited for, not counted)."""
    on_update = progress.on_update  # type: ignore[attr-defined]
    start = time.monotonic()
    on_update(RunEvent("started", jobs))
    for i in range(jobs):
        on_update(RunEvent("submitted", jobs, i, message=f"{i:024x}"))
    events = 0
    while (elapsed := time.monotonic() - start) < seconds:
        on_update(RunEvent("progress", jobs, events % jobs, _job(events % jobs, elapsed / seconds)))
        events += 1
        await asyncio.sleep(0.001)
    fed = time.monotonic() - start
    await asyncio.sleep(0.5)
    return events, fed


def _job(i: int, share: float) -> Job:
    progress = min(99.0, 100 * share)
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Job.from_api(
        {"id": f"{i:024x}", "type": "update-warmup-accounts", "status": "in-progress",
         "progress": progress, "created_at": now, "updated_at": now,
         "data": {"total_to_process": 100, "success_count": int(progress), "failed_count": 0}}
    )  # fmt: skip
