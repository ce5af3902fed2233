"""The results frame: one verified row per targeted email, and what each outcome means.

Outcomes (``OUTCOMES``):

- ``changed``: the account is now in the goal state, read back after its job ended;
- ``unchanged``: its job succeeded but the account still reads as before;
- ``skipped``: already in the goal state (or excluded), so nothing was sent for it;
- ``not_found``: not in this workspace;
- ``failed``: its job failed, or it ended in another state; ``error`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ._warmup import goal_of
from .models import Job, warmup_word
from .records import PlanRecord

__all__ = ["OUTCOMES", "RESULT_COLUMNS", "results_frame", "results_rows"]

RESULT_COLUMNS: dict[str, str] = {
    "email": "string",
    "job_id": "string",
    "before": "Int64",  # warmup_status when planned
    "after": "Int64",  # warmup_status re-read after the run (verified)
    "outcome": "string",  # one of OUTCOMES
    "error": "string",  # what went wrong, for failed (and unchanged) rows
    "detail": "string",  # why, in words, for every row
}
OUTCOMES = ("changed", "unchanged", "skipped", "not_found", "failed")


def results_rows(
    plan: PlanRecord, jobs: Mapping[int, Job], after: Mapping[str, int | None], ended: str
) -> list[dict[str, Any]]:
    """One row per planned email from the jobs as they ended and the accounts as re-read."""
    goal = goal_of(plan.action)
    per_email: dict[str, dict[str, Any]] = {}
    for finished in jobs.values():
        for entry in finished.processed_emails:
            per_email[str(entry["email"]).lower()] = entry
    rows = []
    for row in plan.frame.astype(object).where(plan.frame.notna(), None).to_dict("records"):
        key = str(row["email"]).lower()
        now = after.get(key)
        out: dict[str, Any] = {"email": row["email"], "job_id": None, "before": row["before"],
                               "after": now, "error": None, "detail": row["reason"]}  # fmt: skip
        if row["action"] == "not_found":
            rows.append({**out, "after": None, "outcome": "not_found"})
            continue
        if row["action"] == "skip":
            rows.append({**out, "outcome": "skipped"})
            continue
        job = jobs.get(row["request"]) if row["request"] is not None else None
        if job is None:
            rows.append({**out, "outcome": "skipped", "detail": ended or "not submitted"})
            continue
        out["job_id"] = job.id
        entry = per_email.get(key) or {}
        if key not in after or now is None:
            rows.append({**out, "outcome": "failed", "error": "account no longer in the workspace"})
        elif now == goal:
            rows.append({**out, "outcome": "changed", "detail": f"warmup {warmup_word(now)}"})
        elif entry.get("status") == "failed":
            rows.append({**out, "outcome": "failed", "error": str(entry.get("error") or "failed")})
        elif not job.is_terminal or job.status.value != "success":
            why = f"job {job.status.value}" + (
                f" ({ended})" if ended and not job.is_terminal else ""
            )
            rows.append({**out, "outcome": "failed", "error": why})
        elif now == row["before"]:
            still = f"job succeeded but warmup is still {warmup_word(now)}"
            rows.append({**out, "outcome": "unchanged", "error": still})
        else:
            rows.append(
                {**out, "outcome": "failed", "error": f"warmup is {warmup_word(now)} after the job"}
            )
    return rows


def results_frame(rows: list[dict[str, Any]], plan: PlanRecord) -> pd.DataFrame:
    """The rows as the typed ``RESULT_COLUMNS`` frame, tagged with the plan it came from."""
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(RESULT_COLUMNS)
    frame.attrs["instantly_nb"] = {"plan_id": plan.id, "action": plan.action}
    return frame
