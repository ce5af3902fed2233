"""After a server-side job: did it change anything the preview did not show?

How the warmup endpoint reads ``search``, ``filter.tag_id`` and ``filter.filter`` is not
documented (docs/instantly-api.md §5.4), and the server resolves a selection when the job starts,
after the runner's last re-check. So every ``include_all_emails`` job is audited once it ends:
the accounts it reports as processed are compared with the preview, and its counters with the
preview's count. What it changed outside the preview becomes ``unplanned`` rows in the results
(and undo restores them); the runner then sends nothing further.

Another notebook's job may also run between the runner's last look at the workspace and the
start of this one (its request held in transit, say): an account the preview showed as already in
the goal state may have been moved away from it meanwhile, and this job moved it back. What
other jobs left each account in (``left_by``) is the state the audit compares with then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .models import Job
from .records import PlannedRequest

__all__ = ["Audit", "audit_job", "left_by"]


@dataclass(frozen=True)
class Audit:
    """What one server-side job did beyond its preview."""

    job_id: str
    unplanned: tuple[str, ...]  # emails it processed that the preview did not list
    unexplained: int  # accounts its counters report beyond the preview and the names above
    # previewed as already in the goal state, moved away by another job meanwhile, moved back
    reverted: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.unplanned and not self.reverted and self.unexplained <= 0

    def describe(self) -> str:
        parts = []
        if self.unplanned:
            parts.append(f"{len(self.unplanned)} account(s) outside the preview")
        if self.reverted:
            parts.append(f"{len(self.reverted)} account(s) another job changed after the preview")
        if self.unexplained > 0:
            parts.append(f"{self.unexplained} more account(s) it did not name")
        return f"job {self.job_id} processed " + " and ".join(parts)


def audit_job(
    planned: PlannedRequest,
    job: Job,
    previewed: set[str],
    before: Mapping[str, int | None],
    goal: int,
    meanwhile: Mapping[str, int | None] | None = None,
) -> Audit:
    """Compare a finished server-side job with what its request was planned to process.

    ``previewed`` holds every email of the plan (lower case): changes and skips alike.
    ``before`` is the workspace's warmup states read just before the job was sent: an account
    outside the preview that was already in the ``goal`` state was processed but not changed.
    ``meanwhile`` holds the states other jobs left accounts in after that read (``left_by``).
    """
    meanwhile = meanwhile or {}
    entries = [str(e.get("email", "")) for e in job.processed_emails]
    done = job.moved_emails
    outside = {
        e.lower(): e
        for e in done
        if e.lower() not in previewed and meanwhile.get(e.lower(), before.get(e.lower())) != goal
    }
    # In the goal state when read (a skip: a change would not be), out of it when the job ran.
    reverted = {
        e.lower(): e
        for e in done
        if e.lower() in previewed
        and before.get(e.lower()) == goal
        and meanwhile.get(e.lower(), goal) != goal
    }
    expected = len(planned.accounts)
    # Counters past the processed list (a job may report counts without names): the part no
    # name explains is still reported, so a wider reading of the selection is never silent.
    reported = max(
        job.total_to_process or 0,
        (job.success_count or 0) + (job.failed_count or 0),
        len(entries),
    )
    named = {e.lower() for e in entries if e}
    inside = len(named & previewed)
    # Accounts the counters report but no name shows; the preview's own unnamed ones aside.
    unexplained = max(0, (reported - len(named)) - max(0, expected - inside))
    return Audit(
        job.id, tuple(sorted(outside.values())), unexplained, tuple(sorted(reverted.values()))
    )


def left_by(others: Sequence[Job]) -> dict[str, tuple[int | None, str]]:
    """The warmup state other jobs (newest first) left each account in, and which job it was.

    Only accounts a job reports as processed without failure moved; the newest job wins.
    """
    left: dict[str, tuple[int | None, str]] = {}
    for other in others:
        for email in other.moved_emails:
            left.setdefault(email.lower(), (other.target_warmup_status, other.id))
    return left
