"""What the panel shows: the plan preview and results as HTML, the results' CSV as a download
link, and the whole panel as text for front ends without widgets.

Plain HTML in ``ipywidgets.HTML``: no JavaScript, and it renders the same in JupyterLab,
Notebook 7 and Voila. The CSV travels in a ``data:`` URI, so the download needs no server route.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
from collections.abc import Iterable

import pandas as pd

from ..models import WarmupStatus
from ..plan_view import request_lines
from ..progress import RunProgress
from ..records import PlanRecord as Plan

__all__ = ["csv_link", "panel_text", "plan_preview_html", "results_html", "submitted_html"]

TABLE_ROWS = 50
LIST_ITEMS = 20
OUTCOME_COLOURS = {
    "changed": "#15803d",
    "unchanged": "#b45309",
    "skipped": "#555",
    "not_found": "#b45309",
    "failed": "#b91c1c",
}
_TABLE_STYLE = "border-collapse:collapse;font-size:12px"
_CELL = "style='padding:1px 8px;text-align:left;border-bottom:1px solid #ddd'"


def plan_preview_html(plan: Plan, confirm_count: int | None) -> str:
    """Counts, jobs, risks, skipped and not-found accounts, and the accounts that change."""
    s, frame, e = plan.summary, plan.frame, html.escape
    title = f"{s.action.capitalize()} warmup" + (
        f": {plan.description}" if plan.description else ""
    )
    counts = "".join(
        f"<td style='padding:2px 12px;text-align:center'><b style='font-size:16px'>{n}</b>"
        f"<br><small>{e(name)}</small></td>"
        for name, n in [("targeted", s.targeted), ("will change", s.change), ("skipped", s.skip),
                        ("not found", s.not_found), ("at risk", s.at_risk), ("jobs", s.jobs)]
    )  # fmt: skip
    jobs = "".join(f"<li><code>{e(line)}</code></li>" for line in request_lines(plan))
    parts = [
        f"<div class='instantly-nb-preview'><h4 style='margin:4px 0'>{e(title)}</h4>",
        f"<table><tr>{counts}</tr></table>",
        f"<p style='margin:4px 0'>{s.jobs} job(s), run one after another "
        f"(~{s.estimated_seconds:.0f}s rough estimate):</p><ol style='margin:0'>{jobs}</ol>",
    ]
    if s.change == 0:
        parts.append("<p><b>Nothing to change</b>: every targeted account is already there.</p>")
    elif confirm_count is not None:
        why = "touches every account of the workspace" if s.touches_every_account else (
            f"changes {s.change} accounts"
        )  # fmt: skip
        parts.append(
            f"<p style='color:#b45309'><b>Large change</b>: this plan {e(why)}. "
            f"Type <b>{confirm_count}</b> below to confirm.</p>"
        )
    risky = frame[frame["risk"].fillna("") != ""]
    if len(risky):
        parts.append(
            _list("Risks", (f"{r.email}: {r.risk}" for r in risky.itertuples()), len(risky))
        )
    skipped = frame[frame["action"] == "skip"]
    if len(skipped):
        items = (f"{r.email}: {r.reason}" for r in skipped.itertuples())
        parts.append(_list("Skipped", items, len(skipped)))
    missing = frame[frame["action"] == "not_found"]
    if len(missing):
        parts.append(_list("Not found in this workspace", missing["email"], len(missing)))
    change = frame.loc[frame["action"] == "change", ["email", "before_label", "reason", "risk"]]
    parts.append(f"<p style='margin:6px 0 2px'><b>Accounts that change ({len(change)})</b></p>")
    parts.append(_table(change.rename(columns={"before_label": "warmup now"}), len(change)))
    parts.append(f"<small>Fingerprint <code>{e(plan.fingerprint)}</code></small></div>")
    return "".join(parts)


def submitted_html(plan: Plan) -> str:
    """The preview once submitted: one line, the full preview folded under it."""
    s = plan.summary
    line = f"Submitted: {s.action} warmup for {s.change} account(s) in {s.jobs} job(s)" + (
        f" ({plan.description})" if plan.description else ""
    )
    return (
        f"<details><summary>{html.escape(line)}</summary>{plan_preview_html(plan, None)}</details>"
    )


def results_html(results: pd.DataFrame, title: str) -> str:
    """Outcome counts and one row per email, failures first."""
    counts = results["outcome"].value_counts()
    badges = " ".join(
        f"<span style='color:{colour}'><b>{int(counts.get(name, 0))}</b> {name}</span>"
        for name, colour in OUTCOME_COLOURS.items()
        if counts.get(name, 0)
    )
    order = results["outcome"].map({"failed": 0, "unchanged": 1, "not_found": 2}).fillna(3)
    shown = results.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
    shown = shown.assign(
        before=[_warmup(v) for v in shown["before"]], after=[_warmup(v) for v in shown["after"]]
    )[["email", "outcome", "before", "after", "error", "detail", "job_id"]]
    return (
        f"<div class='instantly-nb-results'><h4 style='margin:4px 0'>{html.escape(title)}</h4>"
        f"<p style='margin:2px 0'>{badges}</p>{_table(shown, len(shown))}</div>"
    )


def csv_link(results: pd.DataFrame, filename: str) -> str:
    """An ``<a download>`` carrying the results as CSV in a data URI."""
    data = base64.b64encode(results.to_csv(index=False).encode()).decode("ascii")
    return (
        f"<a download='{html.escape(filename)}' href='data:text/csv;base64,{data}' "
        f"style='text-decoration:underline'>Download results CSV ({len(results)} rows)</a>"
    )


def _warmup(code: object) -> str:
    return "" if code is None or code is pd.NA else WarmupStatus(int(code)).label  # type: ignore[call-overload]


def _list(heading: str, items: Iterable[str], total: int) -> str:
    shown = [f"<li>{html.escape(str(item))}</li>" for item in itertools.islice(items, LIST_ITEMS)]
    more = f"<li>… and {total - LIST_ITEMS} more</li>" if total > LIST_ITEMS else ""
    return (
        f"<details style='margin:2px 0'><summary><b>{html.escape(heading)} ({total})</b></summary>"
        f"<ul style='margin:0'>{''.join(shown)}{more}</ul></details>"
    )


def _table(frame: pd.DataFrame, total: int) -> str:
    head = "".join(f"<th {_CELL}>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.head(TABLE_ROWS).itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            text = "" if value is None or value is pd.NA else str(value)
            colour = OUTCOME_COLOURS.get(text) if column == "outcome" else None
            style = f" style='color:{colour}'" if colour else ""
            cells.append(f"<td {_CELL}><span{style}>{html.escape(text)}</span></td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = (
        f"<p><small>… and {total - TABLE_ROWS} more rows (all of them in the CSV)</small></p>"
        if total > TABLE_ROWS else ""
    )  # fmt: skip
    return (
        f"<table class='instantly-nb-rows' style='{_TABLE_STYLE}'><tr>{head}</tr>"
        f"{''.join(body)}</table>{more}"
    )


def panel_text(
    workspace: str,
    status_html: str,
    plan: Plan | None,
    progress: RunProgress | None,
    results: pd.DataFrame | None,
) -> str:
    """The panel as text: workspace, status line, pending plan, last run and its outcome."""
    lines = [f"WarmupPanel: workspace {workspace}"]
    lines.append("  " + html.unescape(re.sub(r"<[^>]+>", "", status_html)))
    if plan is not None:
        lines += ["  " + line for line in repr(plan).splitlines()]
    if progress is not None:
        lines += ["  " + line for line in progress.text().splitlines()]
    if results is not None:
        lines.append(f"  results: {results['outcome'].value_counts().to_dict()}")
    return "\n".join(lines)
