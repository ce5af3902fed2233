"""How a plan reads in a notebook (HTML) and in a terminal (text)."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence

import pandas as pd

from ._cover import selection_words
from ._warmup import goal_of
from .fleet_records import FleetRecord
from .models import warmup_word
from .records import PlannedRequest, PlanRecord

__all__ = [
    "cannot_undo_html", "cannot_undo_note", "confirm_html", "counts_html", "cover_sentence",
    "plan_html", "plan_text", "preview_html", "request_lines",
]  # fmt: skip

PREVIEW_ROWS = 15


def request_lines(plan: PlanRecord) -> list[str]:
    """One line per job: what selects its accounts, and how many of them change.

    A server-side selection is named for what it is (its tag by label, its filter, its search)
    and counted: the planner listed it, so its accounts are known, not estimated. A list of
    emails is called one.
    """
    goal = warmup_word(goal_of(plan.action))
    changes = _changes_per_job(plan)
    frame = plan.frame
    changing = frame[(frame["action"] == "change") & frame["request"].notna()]
    job_of = {
        str(e).lower(): int(r) for e, r in zip(changing["email"], changing["request"], strict=True)
    }
    lines = []
    for i, planned in enumerate(plan.planned):
        n, change = len(planned.accounts), changes.get(i, 0)
        if not planned.request.include_all_emails:
            lines.append(f"Job {i + 1}: a list of {n} email(s), {change} change")
            continue
        what = planned.label or _words(plan, planned)
        excluded = len(planned.request.excluded_emails)
        how = "selected server-side" + (f", {excluded} excluded by email" if excluded else "")
        # The rest of the selection: accounts an earlier job changes first, and accounts
        # already in the goal state (listed or not), which the job leaves as they are.
        earlier = sum(job_of.get(a.lower(), i) != i for a in planned.accounts)
        already = n - change - earlier
        also = f"; {already} already {goal}, left as they are" if already else ""
        also += f"; {earlier} changed by an earlier job" if earlier else ""
        lines.append(f"Job {i + 1}: {what} ({how}): {n} account(s), {change} change{also}")
    return lines


def cover_sentence(plan: PlanRecord, where: str = "listed below") -> str:
    """The plan's jobs in one sentence that says which accounts change, and that no other does.

    ``1 job: tag 'Client A', filter 'Warmup active', 606 accounts; these are exactly the
    accounts listed below.``
    """
    s = plan.summary
    if s.jobs == 0:
        return "No job: nothing to change."
    changes = _changes_per_job(plan)
    parts, listed, lists = [], 0, 0
    for i, planned in enumerate(plan.planned):
        if not planned.request.include_all_emails:
            listed, lists = listed + changes.get(i, 0), lists + 1
        else:
            parts.append(f"{planned.label or _words(plan, planned)}, {changes.get(i, 0)} accounts")
    if lists:
        parts.append(f"{listed} accounts sent as {lists} list(s) of emails")
    jobs = "1 job" if s.jobs == 1 else f"{s.jobs} jobs"
    return f"{jobs}: {'; '.join(parts)}; these are exactly the {s.change} accounts {where}."


def cannot_undo_note(plan: PlanRecord | FleetRecord) -> str:
    """Why part of the change has no undo, or empty when all of it can be undone."""
    n = plan.summary.cannot_undo
    if not n:
        return ""
    return (
        f"{n} account(s) cannot be undone: their warmup is in an error state now, and no request "
        "puts an error state back"
    )


def _changes_per_job(plan: PlanRecord) -> dict[int, int]:
    frame = plan.frame
    requests = frame.loc[frame["action"] == "change", "request"].dropna().astype(int)
    return {int(i): int(n) for i, n in Counter(requests).items()}


def _words(plan: PlanRecord, planned: PlannedRequest) -> str:
    """A selection named from its request body, for records made before requests had labels."""
    body = planned.request
    tag = None if body.tag_id is None else plan.tag_labels.get(body.tag_id, body.tag_id)
    return selection_words(tag, body.filter, body.search)


def plan_text(plan: PlanRecord) -> str:
    s = plan.summary
    on = f" on {plan.workspace_name!r}" if plan.workspace_name else ""
    lines = [
        f"Plan: {s.action} warmup{on}" + (f" ({plan.description})" if plan.description else ""),
        f"  targeted {s.targeted}: change {s.change}, skip {s.skip}, not found {s.not_found}, "
        f"at risk {s.at_risk}",
        f"  {cover_sentence(plan, 'marked change in plan.frame')}",
        f"  {s.jobs} job(s) (chunks of 100 alone: {s.chunked_jobs}), "
        f"~{s.estimated_seconds:.0f}s rough estimate",
        *(f"  {line}" for line in request_lines(plan)),
    ]  # fmt: skip
    if s.cannot_undo:
        lines.append(f"  {cannot_undo_note(plan)}")
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
    counts = counts_html([
        ("targeted", s.targeted), ("change", s.change), ("skip", s.skip),
        ("not found", s.not_found), ("at risk", s.at_risk), ("cannot undo", s.cannot_undo),
        ("jobs", s.jobs),
    ])  # fmt: skip
    requests = "".join(f"<li>{e(line)}</li>" for line in request_lines(plan))
    warnings = cannot_undo_html(plan)
    if s.needs_confirmation:
        why = "it touches every account" if s.touches_every_account else f"it changes {s.change}"
        warnings += confirm_html(why, plan.fingerprint, s.change)
    title = f"{s.action.capitalize()} warmup" + (
        f": {plan.description}" if plan.description else ""
    )
    workspace = (
        f"<p style='margin:2px 0'>Workspace: <b>{e(plan.workspace_name)}</b></p>"
        if plan.workspace_name else ""
    )  # fmt: skip
    return (
        f"<div class='instantly-nb-plan'><h4 style='margin:4px 0'>{e(title)}</h4>{workspace}"
        f"{counts}"
        f"<p><b>{e(cover_sentence(plan, 'marked change below'))}</b></p>"
        f"<ul style='margin:0'>{requests}</ul>"
        f"<p>{s.jobs} job(s) instead of {s.chunked_jobs} plain chunk(s) of 100; "
        f"~{s.estimated_seconds:.0f}s rough estimate. "
        f"Fingerprint <code>{e(plan.fingerprint)}</code>.</p>"
        f"{warnings}{preview_html(plan.frame)}</div>"
    )


# --- pieces shared with the preview of a plan over several workspaces (fleet_view.py) --------


def counts_html(counts: Sequence[tuple[str, int]]) -> str:
    """A row of numbers, each with its name under it."""
    cells = "".join(
        f"<td style='padding:2px 10px'><b>{value}</b><br><small>{html.escape(name)}</small></td>"
        for name, value in counts
    )
    return f"<table><tr>{cells}</tr></table>"


def cannot_undo_html(plan: PlanRecord | FleetRecord) -> str:
    """The warning for changes no undo can reverse; empty when there are none."""
    note = cannot_undo_note(plan)
    if not note:
        return ""
    return f"<p style='color:#b45309'><b>No undo for part of it:</b> {html.escape(note)}.</p>"


def confirm_html(why: str, fingerprint: str, change: int) -> str:
    """Why the plan needs a confirmation, and the two ways to give it."""
    e = html.escape
    return (
        f"<p style='color:#b45309'><b>Needs confirmation</b> because {e(why)}: "
        f"<code>execute(confirm={e(repr(fingerprint))})</code> or "
        f"<code>execute(confirm={change})</code></p>"
    )


def preview_html(frame: pd.DataFrame) -> str:
    """The first rows of a plan's frame, changes first, and how many more there are."""
    order = frame["action"].map({"change": 0, "not_found": 1, "skip": 2}).fillna(3)
    shown = frame.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
    table = shown.head(PREVIEW_ROWS).to_html(index=False, na_rep="", escape=True, border=0)
    more = len(frame) - PREVIEW_ROWS
    if more <= 0:
        return table
    return f"{table}<p><small>... and {more} more rows in <code>plan.frame</code></small></p>"
