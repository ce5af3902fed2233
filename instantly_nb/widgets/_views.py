"""What the panel shows: the plan preview and the results as HTML summaries, their rows as frames
for the interactive tables (``_tables.py``), the results' CSV as a download link, and the whole
panel as text for front ends without widgets.

The summaries are plain HTML in ``ipywidgets.HTML``: no JavaScript. The CSV travels in a
``data:`` URI, so the download needs no server route.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from typing import Protocol

import pandas as pd

from .._warmup import goal_of
from ..fleet_frames import WORKSPACE_COLUMN
from ..fleet_records import FleetRecord
from ..models import WarmupStatus, warmup_word
from ..plan_view import cannot_undo_note, cover_sentence, request_lines
from ..records import PlanRecord as Plan
from ._fleet import plain_reason
from ._outcome import RunOutcome

__all__ = [
    "OUTCOME_COLOURS", "count_cells", "csv_link", "journal_html", "nothing_to_change", "panel_text",
    "plan_preview_html", "preview_rows", "result_rows", "results_html", "submitted_html",
]  # fmt: skip

OUTCOME_COLOURS = {
    "changed": "#15803d",
    "not_submitted": "#b45309",
    "failed": "#b91c1c",
    "unchanged": "#b45309",
    "unplanned": "#b45309",
    "skipped": "#555",
    "excluded": "#555",
    "not_found": "#b45309",
}
# Rows that need a look first.
_RESULT_ORDER = ("failed", "unchanged", "not_submitted", "unplanned", "not_found")
_PLAN_WORDS = {"change": "will change", "skip": "skipped", "not_found": "not found"}
_WHERE = "marked “will change” in the table below"


def count_cells(counts: Sequence[tuple[str, int]]) -> str:
    """The preview's big numbers, each with its name under it (table cells)."""
    return "".join(
        f"<td style='padding:2px 12px;text-align:center'><b style='font-size:16px'>{n}</b>"
        f"<br><small>{html.escape(name)}</small></td>"
        for name, n in counts
    )


def plan_preview_html(plan: Plan, confirm_count: int | None) -> str:
    """Counts, the jobs and what they select, what cannot be undone, and the confirmation."""
    s, e = plan.summary, html.escape
    title = f"{s.action.capitalize()} warmup" + (
        f": {plan.description}" if plan.description else ""
    )
    counts = count_cells([
        ("targeted", s.targeted), ("will change", s.change), ("skipped", s.skip),
        ("not found", s.not_found), ("at risk", s.at_risk), ("cannot undo", s.cannot_undo),
        ("jobs", s.jobs),
    ])  # fmt: skip
    jobs = "".join(f"<li>{e(line)}</li>" for line in request_lines(plan))
    parts = [
        f"<div class='instantly-nb-preview'><h4 style='margin:4px 0'>{e(title)}</h4>",
        _workspace_line(plan.workspace_name),
        f"<table><tr>{counts}</tr></table>",
    ]
    if s.change == 0:
        parts.append(f"<p><b>{e(nothing_to_change(plan))}</b></p>")
    else:
        parts += [
            f"<p style='margin:4px 0'><b>{e(cover_sentence(plan, _WHERE))}</b></p>",
            f"<ul style='margin:0'>{jobs}</ul>",
            f"<p style='margin:4px 0'><small>Run one after another, ~{s.estimated_seconds:.0f}s "
            f"(a rough estimate).</small></p>",
        ]
    if s.change and s.cannot_undo:
        parts.append(
            f"<p style='color:#b45309;margin:4px 0'><b>No undo for part of it</b>: "
            f"{e(cannot_undo_note(plan))}.</p>"
        )
    if confirm_count is not None:
        why = "touches every account of the workspace" if s.touches_every_account else (
            f"changes {s.change} accounts"
        )  # fmt: skip
        parts.append(
            f"<p style='color:#b45309;margin:4px 0'><b>Large change</b>: this plan {e(why)}. "
            f"Type <b>{confirm_count}</b> below to confirm.</p>"
        )
    parts.append(f"<small>Fingerprint <code>{e(plan.fingerprint)}</code></small></div>")
    return "".join(parts)


def nothing_to_change(plan: Plan | FleetRecord) -> str:
    """Why a plan changes nothing, plainly: no account matched, or why each one is left alone."""
    s = plan.summary
    if s.targeted == 0:
        return "No account matches this choice: there is nothing to change."
    reasons = plan.frame["reason"].fillna("").value_counts()
    goal = warmup_word(goal_of(plan.action))
    already = int(reasons.get(f"warmup already {goal}", 0))
    parts = []
    if already:
        parts.append(f"{already} already have warmup {goal}")
    if int(reasons.get("excluded", 0)):
        parts.append(f"{int(reasons['excluded'])} are excluded")
    if s.not_found:
        where = "any chosen workspace" if isinstance(plan, FleetRecord) else "this workspace"
        parts.append(f"{s.not_found} are not in {where}")
    why = ", ".join(parts) or "every one is left alone (see the table)"
    return f"Nothing to change: of the {s.targeted} targeted account(s), {why}."


def preview_rows(plan: Plan | FleetRecord) -> pd.DataFrame:
    """One row per targeted email for the preview table: accounts that change first (and each
    account's workspace first, over several)."""
    frame = plan.frame
    order = frame["action"].map({"change": 0, "skip": 1, "not_found": 2}).fillna(3)
    by = ["_o", WORKSPACE_COLUMN, "email"] if WORKSPACE_COLUMN in frame.columns else ["_o", "email"]
    rows = frame.assign(_o=order).sort_values(by, kind="stable")
    job = rows["request"].map(lambda i: "" if pd.isna(i) else f"Job {int(i) + 1}")
    shown = pd.DataFrame(
        {
            "email": rows["email"],
            "plan": rows["action"].map(_PLAN_WORDS).fillna(rows["action"]),
            "warmup now": rows["before_label"],
            "reason": rows["reason"],
            "risk": rows["risk"],
            "job": job,
        }
    )
    return _workspace_first(shown, rows)


def _workspace_first(shown: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    if WORKSPACE_COLUMN in rows.columns:
        shown.insert(0, WORKSPACE_COLUMN, rows[WORKSPACE_COLUMN])
    return shown


def submitted_html(plan: Plan | FleetRecord, preview: str) -> str:
    """The preview once submitted: one line, the full ``preview`` folded under it."""
    s = plan.summary
    where = f" in {plan.summary.workspaces} workspace(s)" if isinstance(plan, FleetRecord) else ""
    line = f"Submitted: {s.action} warmup for {s.change} account(s){where} in {s.jobs} job(s)" + (
        f" ({plan.description})" if plan.description else ""
    )
    return f"<details><summary>{html.escape(line)}</summary>{preview}</details>"


def results_html(
    title: str, outcome: RunOutcome, workspace: str = "", several: bool = False
) -> str:
    """The results' heading, the workspace (or the workspaces, ``several``), and one coloured
    count per outcome."""
    badges = " ".join(
        f"<span style='color:{colour}'><b>{outcome.n(name)}</b> {name.replace('_', ' ')}</span>"
        for name, colour in OUTCOME_COLOURS.items()
        if outcome.n(name)
    )
    return (
        f"<div class='instantly-nb-results'><h4 style='margin:4px 0'>{html.escape(title)}</h4>"
        f"{_workspace_line(workspace, several)}<p style='margin:2px 0'>{badges}</p></div>"
    )


def _workspace_line(name: str, several: bool = False) -> str:
    """Which workspace, beside what changes there: the banner may be scrolled out of sight."""
    if not name:
        return ""
    return f"<small>Workspace{'s' if several else ''}: <b>{html.escape(name)}</b></small>"


def result_rows(results: pd.DataFrame) -> pd.DataFrame:
    """One row per email for the results table: what needs a look first, warmup in words."""
    rank = {name: i for i, name in enumerate(_RESULT_ORDER)}
    order = results["outcome"].map(rank).fillna(len(rank))
    rows = results.assign(_o=order).sort_values("_o", kind="stable")
    shown = pd.DataFrame(
        {
            "email": rows["email"],
            "outcome": rows["outcome"],
            "warmup before": rows["before"].map(_warmup),
            "warmup after": rows["after"].map(_warmup),
            "error": rows["error"].map(_plain),
            "detail": rows["detail"].map(_plain),
            "job": rows["job_id"],
        }
    )
    return _workspace_first(shown, rows)


def _plain(text: object) -> object:
    """A row's error or detail as shown: no exception class name (the CSV keeps the text)."""
    return plain_reason(text) if isinstance(text, str) else text


def csv_link(results: pd.DataFrame, filename: str) -> str:
    """An ``<a download>`` carrying the results as CSV in a data URI."""
    data = base64.b64encode(results.to_csv(index=False).encode()).decode("ascii")
    return (
        f"<a download='{html.escape(filename)}' href='data:text/csv;base64,{data}' "
        f"style='text-decoration:underline'>Download results CSV ({len(results)} rows)</a>"
    )


def journal_html(path: str) -> str:
    """Where the run's journal is: what ``resume(client, journal)`` and audits read."""
    return f"<small>Journal: <code>{html.escape(path)}</code></small>"


def _warmup(code: object) -> str:
    if code is None or code is pd.NA:
        return ""
    return WarmupStatus(int(code)).label  # type: ignore[call-overload]


class _Texted(Protocol):
    def text(self) -> str: ...


def panel_text(
    workspace: str,
    notes: list[str],
    plan: Plan | FleetRecord | None,
    progress: _Texted | None,
    results: pd.DataFrame | None,
) -> str:
    """The panel as text: workspace, what it says, pending plan, last run and its outcome."""
    lines = [f"WarmupPanel: workspace {workspace}"]
    lines += ["  " + html.unescape(re.sub(r"<[^>]+>", "", note)) for note in notes if note]
    if plan is not None:
        lines += ["  " + line for line in repr(plan).splitlines()]
    if progress is not None:
        lines += ["  " + line for line in progress.text().splitlines()]
    if results is not None:
        lines.append(f"  results: {results['outcome'].value_counts().to_dict()}")
    return "\n".join(lines)
