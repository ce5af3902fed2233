"""How a plan reads in a notebook (HTML) and in a terminal (text)."""

from __future__ import annotations

import html
from typing import Any

from .records import PlanRecord

__all__ = ["plan_html", "plan_text", "request_lines"]

PREVIEW_ROWS = 15


def request_lines(plan: PlanRecord) -> list[str]:
    """One line per request: what it sends and how many accounts it processes."""
    lines = []
    for i, planned in enumerate(plan.planned):
        body = planned.request.body()
        n = len(planned.accounts)
        if "emails" in body:
            lines.append(f"#{i + 1}: {n} emails listed")
        else:
            narrowing = f" with {planned.label}" if planned.label else _narrowing(body)
            excluded = len(body.get("excluded_emails", []))
            extra = f", {excluded} excluded" if excluded else ""
            lines.append(f"#{i + 1}: all accounts{narrowing}{extra} -> {n} accounts")
    return lines


def _narrowing(body: dict[str, Any]) -> str:
    parts = []
    filt = body.get("filter") or {}
    if "tag_id" in filt:
        parts.append(f"tag {filt['tag_id']}")
    if "filter" in filt:
        parts.append(filt["filter"])
    if "search" in body:
        parts.append(f"search {body['search']!r}")
    return (" with " + ", ".join(parts)) if parts else ""


def plan_text(plan: PlanRecord) -> str:
    s = plan.summary
    lines = [
        f"Plan: {s.action} warmup ({plan.description})" if plan.description else
        f"Plan: {s.action} warmup",
        f"  targeted {s.targeted}: change {s.change}, skip {s.skip}, not found {s.not_found}, "
        f"at risk {s.at_risk}",
        f"  {s.jobs} job(s) (chunks of 100 alone: {s.chunked_jobs}), "
        f"~{s.estimated_seconds:.0f}s rough estimate",
        *(f"  {line}" for line in request_lines(plan)),
    ]  # fmt: skip
    if s.needs_confirmation:
        why = "touches every account" if s.touches_every_account else f"changes {s.change}"
        lines.append(
            f"  needs confirmation ({why}): execute(confirm={plan.fingerprint!r}) "
            f"or execute(confirm={s.change})"
        )
    lines.append(f"  fingerprint {plan.fingerprint}")
    return "\n".join(lines)


def plan_html(plan: PlanRecord) -> str:
    s = plan.summary
    e = html.escape
    counts = "".join(
        f"<td style='padding:2px 10px'><b>{value}</b><br><small>{e(name)}</small></td>"
        for name, value in [("targeted", s.targeted), ("change", s.change), ("skip", s.skip),
                            ("not found", s.not_found), ("at risk", s.at_risk), ("jobs", s.jobs)]
    )  # fmt: skip
    requests = "".join(f"<li><code>{e(line)}</code></li>" for line in request_lines(plan))
    confirm = ""
    if s.needs_confirmation:
        why = "it touches every account" if s.touches_every_account else f"it changes {s.change}"
        confirm = (
            f"<p style='color:#b45309'><b>Needs confirmation</b> because {e(why)}: "
            f"<code>execute(confirm={e(repr(plan.fingerprint))})</code> or "
            f"<code>execute(confirm={s.change})</code></p>"
        )
    frame = plan.frame
    order = frame["action"].map({"change": 0, "not_found": 1, "skip": 2}).fillna(3)
    shown = frame.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
    table = shown.head(PREVIEW_ROWS).to_html(index=False, na_rep="", escape=True, border=0)
    more = len(frame) - PREVIEW_ROWS
    more_note = f"<p><small>... and {more} more rows in <code>plan.frame</code></small></p>"
    title = f"{s.action.capitalize()} warmup" + (
        f": {plan.description}" if plan.description else ""
    )
    return (
        f"<div class='instantly-nb-plan'><h4 style='margin:4px 0'>{e(title)}</h4>"
        f"<table><tr>{counts}</tr></table>"
        f"<p>{s.jobs} job(s) instead of {s.chunked_jobs} plain chunk(s) of 100; "
        f"~{s.estimated_seconds:.0f}s rough estimate. "
        f"Fingerprint <code>{e(plan.fingerprint)}</code>.</p>"
        f"<ol style='margin:0'>{requests}</ol>{confirm}{table}"
        f"{more_note if more > 0 else ''}</div>"
    )
