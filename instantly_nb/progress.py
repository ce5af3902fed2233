"""Progress, the one model: the state of a run (or of jobs being watched) in plain Python.

It is fed the runner's ``RunEvent``s (``apply``) or polled ``Job``s (``apply_job``) and knows
nothing of ipywidgets. ``TextProgress`` (progress_text.py) draws it as a line for scripts and
``execute()``; ``instantly_nb.widgets.JobProgress`` draws it as bars. Job statuses are an open
set (docs/instantly-api.md §4.2): an unknown one keeps its raw name and is never an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ._clock import epoch
from .events import RunEnd, RunEvent
from .models import Job, JobStatus

__all__ = ["JobState", "RunProgress", "Tone", "clock_text"]

# What a colour means: running is blue, success green, failure red (and it stays red), anything
# that needs a look (paused, draining, an unknown status, a partial success) orange.
Tone = Literal["idle", "running", "success", "partial", "failed", "attention"]

FAILED = frozenset({"failed", "cancelled", "error"})
SUCCEEDED = frozenset({"success", "completed"})
RUNNING = frozenset({"pending", "in-progress"})
# Our own states for a job the runner has not created yet.
BEFORE_JOB = {"queued": "Queued", "submitting": "Submitting", "waiting_lock": "Waiting"}


@dataclass
class JobState:
    """One job as last seen: status, progress 0-100, counts and timing."""

    key: str
    title: str
    job_id: str | None = None
    status: str = "queued"  # the raw status value (any string), or a BEFORE_JOB state
    label: str = "Queued"
    progress: float = 0.0
    total: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    started: float | None = None
    ended: float | None = None
    note: str = ""

    @property
    def terminal(self) -> bool:
        return self.status in FAILED or self.status in SUCCEEDED

    @property
    def tone(self) -> Tone:
        if self.status in FAILED:
            return "failed"
        if self.status in SUCCEEDED:
            return "partial" if (self.failed or 0) > 0 else "success"
        if self.status in RUNNING or self.status in BEFORE_JOB:
            return "running"
        return "attention"  # paused, draining, or a status Instantly added after us

    @property
    def percent(self) -> float:
        """The bar's value: what the job reports, 100 once it succeeded."""
        if self.status in SUCCEEDED:
            return 100.0
        return min(100.0, max(0.0, self.progress))

    @property
    def processed(self) -> int | None:
        if self.succeeded is None and self.failed is None:
            return None
        return (self.succeeded or 0) + (self.failed or 0)

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return max(0.0, (self.ended if self.ended is not None else now) - self.started)

    def eta(self, now: float) -> float | None:
        """Seconds left, from the progress rate so far; None when there is no rate yet."""
        elapsed = self.elapsed(now)
        if self.terminal or elapsed is None or not 0 < self.progress < 100:
            return None
        return elapsed * (100 - self.progress) / self.progress


class RunProgress:
    """Per-job and overall state of one run of a plan, or of a set of watched jobs.

    Parameters
    ----------
    now : callable, optional
        Seconds since the epoch; the client's clock (``client.clock.now``) keeps elapsed times
        right in virtual time too. ``time.time`` by default.
    """

    def __init__(self, now: Callable[[], float] | None = None) -> None:
        self.now = now or time.time
        self.reset()

    def reset(self, title: str = "") -> None:
        self.title = title
        self.requests = 0  # jobs the plan will submit (0 when watching)
        self.jobs: dict[str, JobState] = {}
        # idle, running, watching, verifying, then a final one: finished, stopped, ended_early
        # (events.RunEnd), stale, or failed (the run raised)
        self.phase = "idle"
        self.message = ""
        self.started: float | None = None
        self.ended: float | None = None
        self.stop_requested = False
        self.not_submitted = 0
        self.version = 0  # bumped by every change: the view redraws only when it moved

    # --- feeding ---------------------------------------------------------------------------

    def apply(self, event: RunEvent) -> None:
        """Take one event of ``plan.execute(on_update=...)``; unknown kinds become a message."""
        self.version += 1
        kind = event.kind
        if kind == "started":
            self.requests, self.phase, self.started = event.requests, "running", self.now()
            self.message = event.message
        elif kind in ("submitting", "waiting_lock") and event.request is not None:
            row = self._row_for_request(event.request, event.requests)
            if row.job_id is None:
                row.status, row.label = kind, BEFORE_JOB[kind]
                row.note = event.message
        elif kind == "submitted" and event.request is not None:
            row = self._row_for_request(event.request, event.requests)
            row.job_id, row.note = event.message or None, ""
            if row.status in BEFORE_JOB:
                row.status, row.label = "pending", JobStatus.PENDING.label
                row.started = row.started if row.started is not None else self.now()
        elif kind in ("progress", "job_done") and event.job is not None:
            key = self._row_for_request(event.request or 0, event.requests).key
            self.apply_job(event.job, key=key)
        elif kind == "verifying":
            self.phase, self.message = "verifying", event.message
        elif kind == "stopped":
            self.not_submitted = max(0, event.requests - (event.request or 0))
            self.message = f"stopped: {self.not_submitted} job(s) not submitted"
        elif kind == "stale":
            self.phase, self.message = "stale", event.message
        elif kind == "finished":
            self.finish(event.message if event.message != "done" else "", end=event.end)
        else:
            self.message = f"{kind}: {event.message}" if event.message else kind

    def apply_job(self, job: Job, key: str | None = None, title: str | None = None) -> None:
        """Take a polled job (``wait_job(on_update=...)``); its row is made on first sight."""
        self.version += 1
        key = key or job.id
        row = self.jobs.get(key)
        if row is None:
            row = self.jobs[key] = JobState(key, title or f"Job {job.id[:8]}")
        row.job_id, row.status, row.label = job.id, job.status.value, job.status.label
        row.progress = job.progress
        row.total, row.succeeded, row.failed = (
            job.total_to_process, job.success_count, job.failed_count
        )  # fmt: skip
        if row.started is None:
            created = epoch(job.created_at)
            row.started = created if created is not None and created <= self.now() else self.now()
        if row.terminal and row.ended is None:
            updated = epoch(job.updated_at)
            row.ended = updated if updated is not None and updated >= row.started else self.now()

    def start_watch(self, job_ids: Iterable[str]) -> None:
        self.version += 1
        self.phase, self.started = "watching", self.now()
        for job_id in job_ids:
            self.jobs.setdefault(job_id, JobState(job_id, f"Job {job_id[:8]}", job_id=job_id))

    def mark_error(self, key: str, message: str) -> None:
        """A job that cannot be read (unknown id, no permission): its row turns red."""
        self.version += 1
        row = self.jobs.setdefault(key, JobState(key, f"Job {key[:8]}", job_id=key))
        row.status, row.label, row.note = "error", "Error", message

    def request_stop(self) -> None:
        self.version += 1
        self.stop_requested = True

    def fail(self, message: str) -> None:
        """The run itself broke (an exception): the overall state turns red."""
        self.version += 1
        self.phase, self.message = "failed", message
        self.ended = self.now()

    def finish(
        self, message: str = "", *, stopped: bool = False, end: RunEnd | None = None
    ) -> None:
        """The run (or the watch) is over; ``end`` is the runner's word for how it ended.

        A stop asked for after the last job was submitted stopped nothing: with no job left
        unsent, the run is ``finished``.
        """
        self.version += 1
        if self.phase not in ("failed", "stale"):
            if end is None:
                end = "stopped" if stopped or self.not_submitted > 0 else "finished"
            self.phase = end
            if end == "stopped" and self.not_submitted:
                message = f"stopped: {self.not_submitted} job(s) not submitted"
            self.message = message
        self.ended = self.now()

    def _row_for_request(self, index: int, requests: int) -> JobState:
        key = f"request-{index}"
        row = self.jobs.get(key)
        if row is None:
            row = self.jobs[key] = JobState(key, f"Job {index + 1}/{max(requests, index + 1)}")
        return row

    # --- reading ---------------------------------------------------------------------------

    @property
    def final(self) -> bool:
        return self.phase in ("finished", "stopped", "ended_early", "failed", "stale")

    @property
    def percent(self) -> float:
        """How much of the work is over, 0-100: a finished job counts whole, failed or not."""
        rows = list(self.jobs.values())
        slots = max(self.requests, len(rows))
        if slots == 0:
            return 100.0 if self.phase == "finished" else 0.0
        done = sum(100.0 if r.terminal else r.percent for r in rows)
        return min(100.0, done / slots)

    @property
    def tone(self) -> Tone:
        tones = {r.tone for r in self.jobs.values()}
        if self.phase in ("failed", "stale") or "failed" in tones:
            return "failed"
        if self.phase == "idle":
            return "idle"
        if "partial" in tones or "attention" in tones or self.phase in ("stopped", "ended_early"):
            return "partial" if self.final else "attention"
        if self.phase == "finished":
            return "success"
        return "running"

    def counts(self) -> dict[str, int]:
        rows = self.jobs.values()
        return {
            "jobs": max(self.requests, len(self.jobs)),
            "jobs_done": sum(r.terminal for r in rows),
            "total": sum(r.total or 0 for r in rows),
            "processed": sum(r.processed or 0 for r in rows),
            "succeeded": sum(r.succeeded or 0 for r in rows),
            "failed": sum(r.failed or 0 for r in rows),
            "failed_jobs": sum(r.tone == "failed" for r in rows),
        }

    def elapsed(self) -> float | None:
        if self.started is None:
            return None
        return max(0.0, (self.ended if self.ended is not None else self.now()) - self.started)

    def eta(self) -> float | None:
        elapsed, percent = self.elapsed(), self.percent
        if self.final or elapsed is None or not 0 < percent < 100:
            return None
        return elapsed * (100 - percent) / percent

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c['jobs_done']}/{c['jobs']} job(s)"]
        if c["total"]:
            parts.append(f"{c['processed']}/{c['total']} accounts processed")
        parts.append(f"{c['succeeded']} succeeded, {c['failed']} failed")
        parts.append(f"elapsed {clock_text(self.elapsed())}")
        eta = self.eta()
        if eta is not None:
            parts.append(f"ETA {clock_text(eta)}")
        return " · ".join(parts)

    def text(self) -> str:
        """The whole state as text: the repr for front ends without widgets."""
        head = f"{self.title or 'Warmup jobs'}: {self.phase}, {self.percent:.0f}%"
        lines = [head + (f" ({self.message})" if self.message else ""), "  " + self.summary()]
        now = self.now()
        for row in self.jobs.values():
            counts = "" if row.processed is None else (
                f", {row.processed}/{row.total if row.total is not None else '?'} processed, "
                f"{row.succeeded or 0} ok, {row.failed or 0} failed"
            )  # fmt: skip
            lines.append(
                f"  {row.title}: {row.label} {row.percent:.0f}%{counts}, "
                f"elapsed {clock_text(row.elapsed(now))}" + (f" - {row.note}" if row.note else "")
            )
        return "\n".join(lines)


def clock_text(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour); ``-`` when unknown."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
