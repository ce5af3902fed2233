"""A plan over several workspaces as the panel previews it: the totals, one row per workspace
(counts, jobs, kinds of risk), each workspace's jobs, and the one confirmation for all of it."""

from __future__ import annotations

import html

from ..fleet_records import FleetRecord
from ..plan_view import cannot_undo_note, request_lines
from ._views import count_cells

__all__ = ["fleet_preview_html", "workspace_outcomes_html"]

_PER_WORKSPACE = (
    ("targeted", "targeted"), ("change", "will change"), ("skip", "skipped"),
    ("not_found", "not found"), ("at_risk", "at risk"), ("jobs", "jobs"),
)  # fmt: skip
_CELL = "padding:2px 10px;text-align:center"


def fleet_preview_html(plan: FleetRecord, confirm_count: int | None) -> str:
    """Counts, the per-workspace table, the jobs, what cannot be undone, the confirmation."""
    s, e = plan.summary, html.escape
    title = f"{s.action.capitalize()} warmup in {s.workspaces} workspace(s)" + (
        f": {plan.description}" if plan.description else ""
    )
    counts = count_cells([
        ("workspaces", s.workspaces), ("targeted", s.targeted), ("will change", s.change),
        ("skipped", s.skip), ("not found", s.not_found), ("at risk", s.at_risk),
        ("cannot undo", s.cannot_undo), ("jobs", s.jobs),
    ])  # fmt: skip
    parts = [
        f"<div class='instantly-nb-preview'><h4 style='margin:4px 0'>{e(title)}</h4>",
        f"<table><tr>{counts}</tr></table>",
        _by_workspace(plan),
    ]
    if s.change:
        parts += [
            "<details><summary><small>Each workspace's jobs</small></summary>",
            *(
                f"<p style='margin:2px 0'><b>{e(name)}</b></p><ul style='margin:0'>"
                + "".join(f"<li>{e(line)}</li>" for line in request_lines(p))
                + "</ul>"
                for name, p in plan.plans.items()
                if p.summary.jobs
            ),
            "</details>",
            f"<p style='margin:4px 0'><small>The workspaces run at the same time, each one job "
            f"after another: ~{s.estimated_seconds:.0f}s (a rough estimate).</small></p>",
        ]
    if s.change and s.cannot_undo:
        parts.append(
            "<p style='color:#b45309;margin:4px 0'><b>No undo for part of it</b>: "
            f"{e(cannot_undo_note(plan))}.</p>"
        )
    if confirm_count is not None:
        why = "touches every account of a workspace" if s.touches_every_account else (
            f"changes {s.change} accounts in all"
        )  # fmt: skip
        parts.append(
            f"<p style='color:#b45309;margin:4px 0'><b>Large change</b>: this plan {e(why)}. "
            f"Type <b>{confirm_count}</b> below to confirm (once, for every workspace).</p>"
        )
    parts.append(
        f"<small>One fingerprint for the whole change <code>{e(plan.fingerprint)}</code></small>"
        "</div>"
    )
    return "".join(parts)


def _by_workspace(plan: FleetRecord) -> str:
    """One row per workspace; emails found in none of them get a row of their own."""
    e = html.escape
    head = "".join(f"<th style='{_CELL}'>{e(word)}</th>" for _, word in _PER_WORKSPACE)
    rows = []
    for row in plan.by_workspace.astype(object).to_dict("records"):
        name = row["workspace"] if isinstance(row["workspace"], str) else "(in no workspace)"
        cells = "".join(f"<td style='{_CELL}'>{row[key]}</td>" for key, _ in _PER_WORKSPACE)
        risks = row["risks"] if isinstance(row["risks"], str) else ""
        rows.append(
            f"<tr><td style='padding:2px 10px'><b>{e(name)}</b></td>{cells}"
            f"<td style='padding:2px 10px'><small>{e(risks)}</small></td></tr>"
        )
    return (
        "<table class='instantly-nb-by-workspace' style='border-collapse:collapse;margin:4px 0'>"
        f"<tr><th style='padding:2px 10px;text-align:left'>workspace</th>{head}"
        f"<th style='padding:2px 10px;text-align:left'>risks</th></tr>{''.join(rows)}</table>"
    )


def workspace_outcomes_html(counts: dict[str, dict[str, int]]) -> str:
    """``Acme: 10 changed · Globex: 10 not submitted``: each workspace's outcomes on one line."""
    e = html.escape
    parts = [
        f"<b>{e(name)}</b>: " + ", ".join(f"{n} {e(o.replace('_', ' '))}" for o, n in c.items())
        for name, c in counts.items()
    ]
    return "<p style='margin:2px 0'><small>" + " · ".join(parts) + "</small></p>"
