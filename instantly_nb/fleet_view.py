"""How a plan over several workspaces reads: its totals, one line (or row) per workspace, the
confirmation it needs, and the first rows of its preview."""

from __future__ import annotations

import html

from .fleet_records import FleetRecord

__all__ = ["fleet_html", "fleet_text"]

PREVIEW_ROWS = 15


def _title(plan: FleetRecord) -> str:
    s = plan.summary
    what = f" ({plan.description})" if plan.description else ""
    return f"{s.action.capitalize()} warmup in {s.workspaces} workspace(s){what}"


def _confirm_words(plan: FleetRecord) -> str | None:
    s = plan.summary
    if not s.needs_confirmation:
        return None
    why = "it touches every account of a workspace" if s.touches_every_account else (
        f"it changes {s.change} accounts in all"
    )  # fmt: skip
    return f"needs confirmation because {why}"


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
    words = _confirm_words(plan)
    if words:
        lines.append(
            f"  {words}: execute(confirm={plan.fingerprint!r}) or execute(confirm={s.change})"
        )
    lines.append(f"  fingerprint {plan.fingerprint}")
    return "\n".join(lines)


def fleet_html(plan: FleetRecord) -> str:
    s = plan.summary
    e = html.escape
    counts = "".join(
        f"<td style='padding:2px 10px'><b>{value}</b><br><small>{e(name)}</small></td>"
        for name, value in [("workspaces", s.workspaces), ("targeted", s.targeted),
                            ("change", s.change), ("skip", s.skip), ("not found", s.not_found),
                            ("at risk", s.at_risk), ("jobs", s.jobs)]
    )  # fmt: skip
    per_workspace = plan.by_workspace.to_html(index=False, na_rep="(none)", escape=True, border=0)
    words = _confirm_words(plan)
    confirm = "" if words is None else (
        f"<p style='color:#b45309'><b>{e(words.capitalize())}</b>: "
        f"<code>execute(confirm={e(repr(plan.fingerprint))})</code> or "
        f"<code>execute(confirm={s.change})</code></p>"
    )  # fmt: skip
    frame = plan.frame
    order = frame["action"].map({"change": 0, "not_found": 1, "skip": 2}).fillna(3)
    shown = frame.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
    table = shown.head(PREVIEW_ROWS).to_html(index=False, na_rep="", escape=True, border=0)
    more = len(frame) - PREVIEW_ROWS
    more_note = (
        f"<p><small>... and {more} more rows in <code>plan.frame</code></small></p>"
        if more > 0
        else ""
    )
    return (
        f"<div class='instantly-nb-fleet-plan'><h4 style='margin:4px 0'>{e(_title(plan))}</h4>"
        f"<table><tr>{counts}</tr></table>"
        f"<p>The workspaces run at the same time, each one job after another: "
        f"~{s.estimated_seconds:.0f}s rough estimate. One fingerprint for the whole change: "
        f"<code>{e(plan.fingerprint)}</code>.</p>"
        f"{per_workspace}{confirm}{table}{more_note}</div>"
    )
