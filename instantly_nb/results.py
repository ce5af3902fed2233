"""The results frame: one verified row per targeted email, and what each outcome means.

Outcomes (``OUTCOMES``):

- ``changed``: the account is now in the goal state, read back after its job ended;
- ``unchanged``: its job succeeded but the account still reads as before;
- ``skipped``: already in the goal state when planned, so nothing was sent for it;
- ``excluded``: left alone because the plan's ``exclude`` named it;
- ``not_found``: not in this workspace;
- ``failed``: its job failed, it ended in another state, or it could not be verified; ``error``
  says why (``uncertain: ...`` when its request was sent but no answer or job was ever seen,
  ``still running: ...`` when its job outlived the wait, ``not verified: ...``);
- ``not_submitted``: its request was never sent (the run was stopped or ended early); resume
  the run to send it;
- ``unplanned``: not in the preview at all (or excluded from it, or shown as already in the goal
  state and moved away by another job before the run's job ran), yet a server-side job of the
  run changed it. Undo restores these too.

How the run ended is in ``frame.attrs["instantly_nb"]``: ``end`` (``events.RunEnd``:
``finished``, ``stopped``, ``ended_early``, ``stale``), ``ended`` (why, in words; empty when
finished) and ``journal`` (its path, for ``resume``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._warmup import goal_of
from .events import RunEnd
from .models import Job, warmup_word
from .records import PlanRecord, plain_rows

__all__ = [
    "OUTCOMES", "RESULT_COLUMNS", "RESUMABLE_ERRORS", "RunState", "results_frame", "results_rows",
]  # fmt: skip

RESULT_COLUMNS: dict[str, str] = {
    "email": "string",
    "job_id": "string",
    "before": "Int64",  # warmup_status when planned
    "after": "Int64",  # warmup_status re-read after the run (verified)
    "outcome": "string",  # one of OUTCOMES
    "error": "string",  # what went wrong, for failed (and unchanged) rows
    "detail": "string",  # why, in words, for every row
}
OUTCOMES = (
    "changed", "unchanged", "skipped", "excluded", "not_found", "failed", "not_submitted",
    "unplanned",
)  # fmt: skip
# Failed rows a resume can still settle: it reconciles, waits again or re-reads them.
RESUMABLE_ERRORS = ("uncertain: ", "still running: ", "not verified: ")


@dataclass
class RunState:
    """What a run knows when it ends, besides the plan."""

    jobs: dict[int, Job] = field(default_factory=dict)  # request index -> job as it ended
    after: dict[str, int | None] = field(default_factory=dict)  # lower email -> re-read status
    ended: str = ""  # why the run ended early, if it did
    uncertain: dict[int, str] = field(default_factory=dict)  # sent, no answer, no job seen
    unplanned: dict[str, str] = field(default_factory=dict)  # email -> id of the job behind it
    before_jobs: dict[str, int | None] = field(default_factory=dict)  # states before server jobs
    meanwhile: dict[str, str] = field(default_factory=dict)  # email -> other job that moved it
    unverified: str = ""  # why some accounts could not be re-read
    stopped: bool = False  # ended by the caller's stop, with requests not submitted
    stale: bool = False  # ended because a selection changed since the preview

    @property
    def end(self) -> RunEnd:
        if not self.ended:
            return "finished"
        if self.stale:
            return "stale"
        return "stopped" if self.stopped else "ended_early"


def results_rows(plan: PlanRecord, state: RunState) -> list[dict[str, Any]]:
    """One row per planned email (then one per unplanned change), from the run's state."""
    goal = goal_of(plan.action)
    after = state.after
    per_email: dict[str, dict[str, Any]] = {}
    by_job: dict[str, Job] = {}  # lower email -> the job that processed it
    for finished in state.jobs.values():
        for entry in finished.processed_emails:
            per_email[str(entry.get("email", "")).lower()] = entry
            by_job[str(entry.get("email", "")).lower()] = finished
    unplanned = {e.lower(): job_id for e, job_id in state.unplanned.items()}  # by lower email
    rows = []
    for row in plain_rows(plan.frame):
        key = str(row["email"]).lower()
        now = after.get(key)
        out: dict[str, Any] = {"email": row["email"], "job_id": None, "before": row["before"],
                               "after": now, "error": None, "detail": row["reason"]}  # fmt: skip
        if row["action"] == "not_found":
            rows.append({**out, "after": None, "outcome": "not_found"})
        elif key in unplanned or (
            row["action"] == "skip"
            and _moved(state.before_jobs.get(key, row["before"]), now, goal)
            and key in by_job
        ):
            # Left alone by the plan (excluded), yet one of its jobs processed it and it moved.
            job_id = unplanned.get(key) or by_job[key].id
            detail = f"changed by job {job_id} although the plan left it alone ({row['reason']})"
            if key in state.meanwhile:
                detail = (f"changed by job {job_id}: the preview said {row['reason']}, but job "
                          f"{state.meanwhile[key]} had changed it since")  # fmt: skip
            rows.append({**out, "job_id": job_id, "outcome": "unplanned", "detail": detail})
        elif row["action"] == "skip":
            # The planner's reason for a row the caller excluded (planner._row).
            excluded = row["reason"] == "excluded"
            rows.append({**out, "outcome": "excluded" if excluded else "skipped"})
        else:
            other = by_job.get(key)
            rows.append(_change_row(out, key, row, state, per_email.get(key) or {}, goal, other))
    listed = {str(e).lower() for e in plan.frame["email"]}
    for email, job_id in state.unplanned.items():
        if email.lower() not in listed:
            rows.append({"email": email, "job_id": job_id,
                         "before": state.before_jobs.get(email.lower()),
                         "after": after.get(email.lower()), "error": None, "outcome": "unplanned",
                         "detail": f"changed by job {job_id}; not in the preview"
                         + (f" (job {state.meanwhile[email.lower()]} had just changed it)"
                            if email.lower() in state.meanwhile else "")})  # fmt: skip
    return rows


def _moved(before: int | None, now: int | None, goal: int) -> bool:
    """An account now in the goal state it was not in before the job."""
    return now == goal and before != goal


def _change_row(
    out: dict[str, Any],
    key: str,
    row: Mapping[str, Any],
    state: RunState,
    entry: Mapping[str, Any],
    goal: int,
    other: Job | None = None,
) -> dict[str, Any]:
    """The row of a planned change. ``other`` is a job of this run that processed the account
    although it was planned for another request: a server-side selection read wider than
    previewed. Its request may never have been sent, yet the account changed: say so, with the
    job that did it, so undo knows to put it back."""
    now = state.after.get(key)
    request = row["request"]
    job = state.jobs.get(request) if request is not None else None
    via = ""
    if job is None and other is not None:
        via = (
            f" by job {other.id}, planned for request {request + 1}" if request is not None else ""
        )
        job = other
    if job is None and request in state.uncertain:
        if now == goal:
            return {**out, "outcome": "changed", "detail": "changed by a job whose answer was lost"}
        return {**out, "outcome": "failed", "error": f"uncertain: {state.uncertain[request]}"}
    if job is None:
        why = "the run was stopped before its job" if state.stopped else state.ended
        why = why.removeprefix("not submitted: ") or "its request was never sent"
        return {**out, "outcome": "not_submitted", "detail": f"not submitted: {why}"}
    out["job_id"] = job.id
    if key not in state.after and state.unverified:
        return {**out, "outcome": "failed", "error": f"not verified: {state.unverified}"}
    if key not in state.after or now is None:
        return {**out, "outcome": "failed", "error": "account no longer in the workspace"}
    if now == goal:
        return {**out, "outcome": "changed", "detail": f"warmup {warmup_word(now)}{via}"}
    if entry.get("status") == "failed":
        return {**out, "outcome": "failed", "error": str(entry.get("error") or "failed")}
    if not job.is_terminal:
        why = f" ({state.ended})" if state.ended else ""
        return {**out, "outcome": "failed", "error": f"still running: job {job.status.value}{why}"}
    if job.status.value != "success":
        return {**out, "outcome": "failed", "error": f"job {job.status.value}"}
    if now == row["before"]:
        still = f"job succeeded but warmup is still {warmup_word(now)}"
        return {**out, "outcome": "unchanged", "error": still}
    return {**out, "outcome": "failed", "error": f"warmup is {warmup_word(now)} after the job"}


def results_frame(
    rows: list[dict[str, Any]],
    plan: PlanRecord,
    state: RunState | None = None,
    journal: str | None = None,
) -> pd.DataFrame:
    """The rows as the typed ``RESULT_COLUMNS`` frame, tagged with the plan and how it ended.

    No ``state`` means a finished run (its results read back from its journal).
    """
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(RESULT_COLUMNS)
    state = state or RunState()
    frame.attrs["instantly_nb"] = {
        "plan_id": plan.id, "action": plan.action, "end": state.end, "ended": state.ended,
        "journal": journal,
    }  # fmt: skip
    return frame
