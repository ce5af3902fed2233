"""Background jobs as a pure function of time (docs/instantly-api.md §4.2-§4.3, §5.1).

A warmup job is created ``pending``; ``queue_delay`` seconds later it is ``in-progress`` and
handles one target every ``per_account`` seconds, then ends ``success`` with progress 100. Nothing
runs in the background: ``done_by(now)`` says how many targets are handled at any instant, and the
workspace applies their effects lazily (``Workspace.advance``).

(guessed) A job made by the API resolves its targets when it *starts* (after the queue delay), not
when it is created: the ``include_all_emails`` selection is evaluated then, and explicit
``emails`` are looked up then, as the real server is believed to do. Accounts that join, leave or
change in between are seen by the job. ``WarmupJob(resolve=...)`` defers the targets so;
``WarmupJob(targets=...)`` fixes them at creation. Until it has started, a job needs no targets:
it is ``pending`` and its view has no counters. A :class:`JobScript` (from
:class:`~instantly_nb.emulator.faults.Faults`) bends the timeline: ``failed`` or ``cancelled``
midway, ``paused`` for a while, or an unknown status shown before success.

Step names are a (guessed) (§4.3 only ever saw ``"DONE"``): ``"UPDATE_STATUS"`` while accounts are
being changed (also while paused and at a failure or cancel), ``"VERIFICATION"`` while an unknown
status is shown, ``"DONE"`` at success. The ``*_offset`` counters stay 0 and the MX lists stay
empty, as in every recorded job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .isotime import iso, to_ms

__all__ = [
    "DEFAULT_TIMING",
    "Job",
    "JobScript",
    "JobTiming",
    "StaticJob",
    "Target",
    "WarmupJob",
]

WARMUP_JOB_TYPE = "update-warmup-accounts"
STEP_RUNNING = "UPDATE_STATUS"
STEP_VERIFYING = "VERIFICATION"
STEP_DONE = "DONE"

Outcome = Literal["failed", "cancelled", "paused", "status"]


@dataclass(frozen=True)
class JobTiming:
    """How long warmup jobs take, in seconds.

    Parameters
    ----------
    queue_delay
        Time a job stays ``pending`` before processing starts.
    per_account
        Time to handle one target account.
    """

    queue_delay: float = 0.5
    per_account: float = 0.01

    def __post_init__(self) -> None:
        if not (self.queue_delay >= 0 and self.per_account >= 0):
            raise ValueError("JobTiming values must be non-negative numbers of seconds")


DEFAULT_TIMING = JobTiming()


@dataclass(frozen=True)
class JobScript:
    """How one job's timeline deviates from a plain run (built by ``Faults``).

    ``outcome``: ``"failed"`` / ``"cancelled"`` stop the job when the fraction ``at`` of its
    targets is done (the rest stay untouched); ``"paused"`` shows ``paused`` for ``seconds`` at
    ``at`` and then resumes; ``"status"`` shows the string ``status`` for ``seconds`` after the last
    target, before ``success``.
    """

    outcome: Outcome | None = None
    at: float = 0.5
    seconds: float = 0.0
    status: str = "verifying"


@dataclass(frozen=True, slots=True)
class Target:
    """One email of a job: as sent, the account it resolved to at the job's start, an injected
    error."""

    sent: str
    account: str | None
    error: str | None = None


class Job(Protocol):
    id: str
    seq: int
    workspace_id: str
    type: str
    created: float
    entity_type: str
    entity_id: str | None

    def status(self, now: float) -> str: ...

    def updated(self, now: float) -> float: ...

    def view(
        self, now: float, *, with_user_id: bool = False, data_fields: Sequence[str] | None = None
    ) -> dict[str, Any]: ...


def _project(data: dict[str, Any], data_fields: Sequence[str] | None) -> dict[str, Any]:
    # (guessed) (§4.3): with data_fields, data holds only the named keys that exist.
    if data_fields is None:
        return data
    return {key: data[key] for key in data_fields if key in data}


class WarmupJob:
    """An ``update-warmup-accounts`` job whose state at any time follows from its creation."""

    type = WARMUP_JOB_TYPE
    entity_type = "workspace"

    def __init__(
        self,
        *,
        id: str,
        seq: int,
        workspace_id: str,
        created: float,
        warmup_status: int,
        filters: dict[str, Any],
        targets: Sequence[Target] | None = None,
        timing: JobTiming,
        script: JobScript | None = None,
        resolve: Callable[[], Sequence[Target]] | None = None,
    ) -> None:
        """Give ``targets`` (fixed now) or ``resolve`` (called once, when the job starts)."""
        if (targets is None) == (resolve is None):
            raise ValueError("a WarmupJob takes either targets or resolve")
        self.id = id
        self.seq = seq
        self.workspace_id = workspace_id
        self.entity_id: str | None = workspace_id  # §4.1: warmup jobs name the workspace
        self.created = created
        self.warmup_status = warmup_status
        self.filters = filters
        self.script = script or JobScript()
        self.start = created + timing.queue_delay
        self.per = timing.per_account
        self._resolve = resolve
        self.targets: tuple[Target, ...] = ()
        self.total = 0
        self.at_index = -1
        self.stop = 0
        self.pause = 0.0
        self.resolved = False
        self.applied = 0
        self.entries: list[dict[str, Any]] = []
        self.success_count = 0
        self.failed_count = 0
        if targets is not None:
            self._settle(targets)

    def resolve(self) -> None:
        """Fix the targets now (the workspace calls this at ``start``); once only."""
        if not self.resolved:
            assert self._resolve is not None
            self._settle(self._resolve())
            self._resolve = None

    def _settle(self, targets: Sequence[Target]) -> None:
        self.targets = tuple(targets)
        self.total = len(self.targets)
        outcome = self.script.outcome
        strikes = outcome in ("failed", "cancelled", "paused")
        self.at_index = min(self.total, math.floor(self.script.at * self.total)) if strikes else -1
        self.stop = self.at_index if outcome in ("failed", "cancelled") else self.total
        self.pause = self.script.seconds if outcome == "paused" else 0.0
        self.resolved = True

    # --- the timeline ----------------------------------------------------------------------

    def _count(self, elapsed: float) -> int:
        if elapsed < 0:
            return 0
        if self.per <= 0:
            return self.total
        return math.floor(elapsed / self.per + 1e-9)

    def done_by(self, now: float) -> int:
        """How many targets are handled at ``now``: those whose ``item_time`` has come."""
        if not self.resolved:
            return 0
        done = min(self._count(now - self.start), self.stop)
        if self.pause and done >= self.at_index:
            done = max(self.at_index, min(self._count(now - self.start - self.pause), self.stop))
        # At epoch-sized times the division above can land one target off the instant
        # item_time() gives, from which the status is decided: a job would say "failed" or
        # "success" with a target still to apply. Settle on item_time().
        while done < self.stop and self.item_time(done) <= now:
            done += 1
        while done > 0 and self.item_time(done - 1) > now:
            done -= 1
        return done

    def item_time(self, index: int) -> float:
        """When target ``index`` is handled."""
        shift = self.pause if self.pause and index >= self.at_index else 0.0
        return self.start + (index + 1) * self.per + shift

    def _end(self) -> float:
        if self.stop == 0:
            return self.start + (self.pause if self.pause else 0.0)
        return self.item_time(self.stop - 1)

    def _phase(self, now: float) -> tuple[str, str | None, float]:
        """(status, step, updated_at) at ``now``."""
        if now < self.start:
            return "pending", None, self.created
        assert self.resolved, "the workspace resolves a job's targets when it starts (advance)"
        outcome = self.script.outcome
        strike = self.start + self.at_index * self.per
        if outcome in ("failed", "cancelled") and now >= strike:
            assert outcome is not None
            return outcome, STEP_RUNNING, strike
        if self.pause and strike <= now < strike + self.pause:
            return "paused", STEP_RUNNING, strike
        end = self._end()
        if now >= end:
            if outcome == "status":
                if now < end + self.script.seconds:
                    return self.script.status, STEP_VERIFYING, end
                return "success", STEP_DONE, end + self.script.seconds
            return "success", STEP_DONE, end
        done = self.done_by(now)
        updated = self.item_time(done - 1) if done else self.start
        if self.pause and now >= strike + self.pause:
            updated = max(updated, strike + self.pause)
        return "in-progress", STEP_RUNNING, updated

    def status(self, now: float) -> str:
        return self._phase(now)[0]

    def updated(self, now: float) -> float:
        return self._phase(now)[2]

    # --- effects, recorded by the workspace -----------------------------------------------

    def record(self, index: int, entry: dict[str, Any]) -> None:
        assert index == self.applied, "job steps are applied in order"
        self.entries.append(entry)
        self.applied += 1
        if entry.get("status") == "success":
            self.success_count += 1
        else:
            self.failed_count += 1

    # --- the API view ----------------------------------------------------------------------

    def initial_view(self) -> dict[str, Any]:
        """The job as the POST returns it: pending, ``user_id: null`` (§4.1)."""
        return self._shape("pending", 0, self.created, {}, with_user_id=True, data_fields=None)

    def view(
        self, now: float, *, with_user_id: bool = False, data_fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The job at ``now``; the workspace must have been advanced to ``now`` first."""
        status, step, updated = self._phase(now)
        done = min(self.done_by(now), self.applied)
        extra: dict[str, Any] = {}
        if status != "pending":
            extra = {
                "step": step,
                "pending_emails": [t.sent for t in self.targets[done:]],
                "processed_emails": self.entries[:done],
                "transition_emails": [],
                "domains_to_check": [],
                "valid_mx_domains": [],
                "mx_check_offset": 0,
                "update_status_offset": 0,
                "total_to_process": self.total,
                "success_count": self.success_count,
                "failed_count": self.failed_count,
                "verification_offset": 0,
            }
        if status == "success":
            progress = 100
        else:
            progress = math.floor(100 * done / self.total) if self.total else 0
        return self._shape(
            status, progress, updated, extra, with_user_id=with_user_id, data_fields=data_fields
        )

    def _shape(
        self,
        status: str,
        progress: int,
        updated: float,
        extra: dict[str, Any],
        *,
        with_user_id: bool,
        data_fields: Sequence[str] | None,
    ) -> dict[str, Any]:
        data = {"filters": self.filters, "warmup_status": self.warmup_status, **extra}
        return _job_dict(self, status, progress, updated, data, with_user_id, data_fields)


def _job_dict(
    job: Job,
    status: str,
    progress: int,
    updated: float,
    data: dict[str, Any],
    with_user_id: bool,
    data_fields: Sequence[str] | None,
) -> dict[str, Any]:
    # §4.2: the key order of real answers; user_id only in the POST answer.
    body: dict[str, Any] = {
        "id": job.id,
        "workspace_id": job.workspace_id,
        "type": job.type,
        "progress": progress,
        "status": status,
        "created_at": iso(to_ms(job.created)),
        "updated_at": iso(to_ms(updated)),
    }
    if with_user_id:
        body["user_id"] = None
    body["entity_id"] = job.entity_id
    body["entity_type"] = job.entity_type
    body["data"] = _project(data, data_fields)
    return body


class StaticJob:
    """A finished job of another type, so listings mix types as they do live (§4.5)."""

    def __init__(
        self,
        *,
        id: str,
        seq: int,
        workspace_id: str,
        type: str,
        entity_type: str,
        entity_id: str | None,
        created: float,
        finished: float,
        data: dict[str, Any],
    ) -> None:
        self.id = id
        self.seq = seq
        self.workspace_id = workspace_id
        self.type = type
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.created = created
        self.finished = finished
        self.data = data

    def status(self, now: float) -> str:
        return "success"

    def updated(self, now: float) -> float:
        return self.finished

    def view(
        self, now: float, *, with_user_id: bool = False, data_fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        data = dict(self.data)
        return _job_dict(self, "success", 100, self.finished, data, with_user_id, data_fields)
