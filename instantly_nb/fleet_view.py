"""How a plan over several workspaces reads: its totals, one line (or row) per workspace, the
confirmation it needs, and the first rows of its preview."""

from __future__ import annotations

import html

from .fleet_records import FleetRecord
from .plan_view import cannot_undo_html, cannot_undo_note, confirm_html, counts_html, preview_html

__all__ = ["fleet_html", "fleet_text"]


def _title(plan: FleetRecord) -> str:
    s = plan.summary
    what = f" ({plan.description})" if plan.description else ""
    return f"{s.action.capitalize()} warmup in {s.workspaces} workspace(s){what}"


def _confirm_why(plan: FleetRecord) -> str | None:
    s = plan.summary
    if not s.needs_confirmation:
        return None
    if s.touches_every_account:
        return "it touches every account of a workspace"
    return f"it changes {s.change} accounts in all"


def fleet_text(plan: FleetRecord) -> str:
    s = plan.summary
    lines = [
        f"Plan: {_title(plan)}",
        f"  targeted {s.targeted}: change {s.change}, skip {s.skip}, not found {s.not_found}, "
        f"at risk {s.at_risk}",
        f"  {s.jobs} job(s), the workspaces in parallel: ~{s.estimated_seconds:.0f}s rough "
        "estimate (the longest workspace)",
    ]
    for row in plan.by_workspace.astype(object).to_dict("records"):
        where = row["workspace"] if isinstance(row["workspace"], str) else "in no workspace"
        risks = f" ({row['risks']})" if isinstance(row["risks"], str) and row["risks"] else ""
        lines.append(
            f"  {where}: change {row['change']}, skip {row['skip']}, not found "
            f"{row['not_found']}, at risk {row['at_risk']}{risks}; {row['jobs']} job(s)"
        )
    if s.cannot_undo:
        lines.append(f"  {cannot_undo_note(plan)}")
    why = _confirm_why(plan)
    if why:
        lines.append(
            f"  needs confirmation because {why}: execute(confirm={plan.fingerprint!r}) or "
            f"execute(confirm={s.change})"
        )
    lines.append(f"  fingerprint {plan.fingerprint}")
    return "\n".join(lines)


def fleet_html(plan: FleetRecord) -> str:
    s = plan.summary
    e = html.escape
    counts = counts_html([
        ("workspaces", s.workspaces), ("targeted", s.targeted), ("change", s.change),
        ("skip", s.skip), ("not found", s.not_found), ("at risk", s.at_risk),
        ("cannot undo", s.cannot_undo), ("jobs", s.jobs),
    ])  # fmt: skip
    per_workspace = plan.by_workspace.to_html(index=False, na_rep="(none)", escape=True, border=0)
    why = _confirm_why(plan)
    confirm = "" if why is None else confirm_html(why, plan.fingerprint, s.change)
    return (
        f"<div class='instantly-nb-fleet-plan'><h4 style='margin:4px 0'>{e(_title(plan))}</h4>"
        f"{counts}"
        f"<p>The workspaces run at the same time, each one job after another: "
        f"~{s.estimated_seconds:.0f}s rough estimate. One fingerprint for the whole change: "
        f"<code>{e(plan.fingerprint)}</code>.</p>"
        f"{per_workspace}{cannot_undo_html(plan)}{confirm}{preview_html(plan.frame)}</div>"
    )
