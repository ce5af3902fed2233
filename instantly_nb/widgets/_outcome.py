"""What a run's results allow next, and how its end reads: Resume, Retry failed, Undo, the status.

Read off the results frame alone (``results.py``): its outcomes and ``attrs["instantly_nb"]``
(how the run ended, why, and its journal). The words never call a run done while a request of it
was not sent, and never offer an action that would do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..fleet_frames import WORKSPACE_COLUMN
from ..results import RESUMABLE_ERRORS
from ..undo import can_resume, can_undo
from ._fleet import plain_reason
from ._note import Tone

__all__ = ["RETRY_OUTCOMES", "RunOutcome", "retry_rows"]

# Rows whose job ran and did not change them: sending them again may.
RETRY_OUTCOMES = ("failed", "unchanged")


def _retryable(results: pd.DataFrame) -> pd.Series:
    # A failure a resume can still settle (a lost answer, a job still running) is Resume's:
    # sending it again could change the account twice.
    error = results["error"].fillna("")
    resumable = error.str.startswith(RESUMABLE_ERRORS)
    return results["outcome"].isin(RETRY_OUTCOMES) & ~resumable


def retry_rows(results: pd.DataFrame, chosen: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows Retry failed sends again: the retryable ones among the ``chosen`` rows (all if
    None), matched by email, and by workspace too when the results name one."""
    rows = results[_retryable(results)]
    if chosen is not None:
        keys = [c for c in (WORKSPACE_COLUMN, "email") if c in rows.columns and c in chosen]
        wanted = set(_lowered(chosen, keys))
        rows = rows[[key in wanted for key in _lowered(rows, keys)]]
    return rows.reset_index(drop=True)


def _lowered(frame: pd.DataFrame, keys: list[str]) -> list[tuple[str, ...]]:
    columns = [frame[k].astype(str).str.lower() for k in keys]
    return list(zip(*columns, strict=True))


@dataclass(frozen=True)
class RunOutcome:
    """A run's counts and end, in words for the status line, and which actions it allows."""

    counts: dict[str, int]
    total: int
    end: str  # events.RunEnd: finished, stopped, ended_early, stale
    ended: str  # why it ended early, in words
    journal: str | None
    retryable: int  # rows Retry failed sends again
    restorable: int  # rows Undo puts back (undo.can_undo)
    unsettled: int  # rows Resume sends or settles (undo.can_resume)

    @classmethod
    def of(cls, results: pd.DataFrame, journal: str | None = None) -> RunOutcome:
        about: dict[str, Any] = results.attrs.get("instantly_nb", {})
        counts = {str(k): int(v) for k, v in results["outcome"].value_counts().items()}
        end, ended = str(about.get("end") or "finished"), str(about.get("ended") or "")
        return cls(
            counts, len(results), end, plain_reason(ended), about.get("journal") or journal,
            int(_retryable(results).sum()), can_undo(results), can_resume(results),
        )  # fmt: skip

    def n(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def resumable(self) -> bool:
        """Whether Resume has something to send or settle, and the journal to do it from."""
        return self.unsettled > 0 and self.journal is not None

    def words(self) -> tuple[str, Tone]:
        """The status line: how the run ended, its counts, and what to do next."""
        counts = self._counts()
        unsent = self.n("not_submitted")
        if self.end == "stopped":
            return (
                f"Stopped: {counts}. Resume sends the {unsent} account(s) not submitted.",
                "warn",
            )
        if self.end == "stale":
            return (
                f"Stopped because the workspace changed since the preview ({self.ended}): "
                f"{counts}. Preview again to plan the rest.",
                "error",
            )
        if self.end == "ended_early":
            rest = " Resume finishes what is left." if self.unsettled else ""
            return f"Ended early ({self.ended}): {counts}.{rest}", "warn"
        failed = self.n("failed") + self.n("unchanged")
        if failed:
            retry = " Retry failed sends them again." if self.retryable else ""
            return f"Finished with failures: {counts}.{retry}", "error"
        return f"Done: {counts}.", "ok"

    def _counts(self) -> str:
        shown = [f"{self.n('changed')} changed"]
        for outcome, word in (("not_submitted", "not submitted"), ("failed", "failed"),
                              ("unchanged", "unchanged"), ("unplanned", "changed outside the plan"),
                              ("skipped", "skipped"), ("excluded", "excluded"),
                              ("not_found", "not found")):  # fmt: skip
            if self.n(outcome):
                shown.append(f"{self.n(outcome)} {word}")
        return ", ".join(shown) + f" of {self.total}"
