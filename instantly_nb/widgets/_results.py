"""The results step: how the run ended, every email's outcome in a table, and what comes next.

Resume, Retry failed and Undo stand with the results they act on; each is enabled only when it
has something to do (``RunOutcome``), and its errors are said in the note beside them. The results
of a run over several workspaces have a ``workspace`` column, and each workspace's outcomes are
counted under the heading.
"""

from __future__ import annotations

import os
from pathlib import Path

import ipywidgets as w
import pandas as pd

from ..fleet_frames import WORKSPACE_COLUMN
from ._fleet_views import workspace_outcomes_html
from ._note import Note
from ._outcome import RunOutcome
from ._tables import Rows
from ._views import csv_link, journal_html, result_rows, results_html

__all__ = ["ResultsBox"]


def _auto() -> w.Layout:
    return w.Layout(width="auto")  # sized to its label: a label is never cut


class ResultsBox(w.VBox):  # type: ignore[misc]
    """Outcome counts and status (``summary``, ``status``), the rows (``rows``), the CSV link,
    the journal's path, and the Resume, Retry failed and Undo buttons with their ``note``."""

    def __init__(self) -> None:
        self.summary = w.HTML()
        self.status = Note()
        self.rows = Rows("result-rows", selecting=True)
        self.download = w.HTML()
        self.journal = w.HTML()
        self.resume_button = w.Button(
            description="Resume", icon="forward", layout=_auto(),
            tooltip="Send what the run did not send (from its journal); nothing is sent twice",
        )  # fmt: skip
        self.retry_button = w.Button(
            description="Retry failed", icon="redo", layout=_auto(),
            tooltip="Plan and run again the failed rows selected in the table (all if none is)",
        )  # fmt: skip
        self.undo_button = w.Button(
            description="Undo", icon="undo", layout=_auto(),
            tooltip="Prepare the plan that puts back every changed account; then Submit it",
        )  # fmt: skip
        self.note = Note()
        self.outcome: RunOutcome | None = None
        super().__init__(
            [
                self.summary,
                self.status,
                self.rows,
                w.HBox([self.download, self.journal], layout=w.Layout(grid_gap="16px")),
                w.HBox([self.resume_button, self.retry_button, self.undo_button, self.note]),
            ]
        )
        self.layout.display = "none"

    def show(
        self, title: str, results: pd.DataFrame, journal: str | None, filename: str, workspace: str
    ) -> None:
        outcome = self.outcome = RunOutcome.of(results, journal)
        several = WORKSPACE_COLUMN in results.columns
        heading = results_html(title, outcome, workspace, several)
        self.summary.value = heading + _per_workspace(results)
        self.status.say(*outcome.words())
        how = (
            "failures first · select failed rows, then Retry failed (none selected: all of them)"
            if outcome.retryable else "sort, search, select, copy or save them as CSV"
        )  # fmt: skip
        self.rows.show(
            result_rows(results), f"<b>Accounts ({len(results)})</b> <small>· {how}</small>"
        )
        self.download.value = csv_link(results, filename)
        self.journal.value = journal_html(_shown_path(outcome.journal)) if outcome.journal else ""
        self.note.clear()
        self.layout.display = ""

    def clear(self) -> None:
        """Nothing of a previous run stays: no table, no link, no button, no message."""
        self.outcome = None
        for part in (self.summary, self.download, self.journal):
            part.value = ""
        self.status.clear()
        self.note.clear()
        self.rows.clear()
        self.layout.display = "none"

    def selected_rows(self) -> pd.DataFrame | None:
        """The rows selected in the table (email, and workspace over several); None if none."""
        chosen = self.rows.selected()
        return chosen if len(chosen) else None


def _per_workspace(results: pd.DataFrame) -> str:
    if WORKSPACE_COLUMN not in results.columns:
        return ""
    counts: dict[str, dict[str, int]] = {}
    where = results[WORKSPACE_COLUMN].fillna("(in no workspace)").astype(str)
    sizes = results.groupby([where, "outcome"], sort=False).size()
    for (name, outcome), n in zip(sizes.index.tolist(), sizes.tolist(), strict=True):
        counts.setdefault(str(name), {})[str(outcome)] = int(n)
    return workspace_outcomes_html(counts)


def _shown_path(path: str) -> str:
    """The journal's path, relative to the working directory when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(path)
