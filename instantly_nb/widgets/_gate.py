"""How much confirmation a plan needs before Submit: proportional to its blast radius.

A small plan is one click. A plan changing more accounts than one job carries, or any plan
that touches every account of the workspace, needs its number of changes typed: reading the
number off the preview is the point.
"""

from __future__ import annotations

from ..plan import PlanSummary

__all__ = ["CONFIRM_ABOVE", "confirm_count", "may_submit", "submit_label"]

# One job carries at most 100 emails (REFERENCE.md §5.1): more than that is a large change.
CONFIRM_ABOVE = 100


def confirm_count(summary: PlanSummary, confirm_above: int = CONFIRM_ABOVE) -> int | None:
    """The number to type before Submit, or None when one click is enough."""
    big = summary.needs_confirmation or summary.change > confirm_above
    return summary.change if big and summary.change > 0 else None


def may_submit(summary: PlanSummary | None, typed: str, confirm_above: int = CONFIRM_ABOVE) -> bool:
    """Whether Submit may run: a plan with changes, and the count typed when one is needed."""
    if summary is None or summary.change == 0:
        return False
    need = confirm_count(summary, confirm_above)
    return need is None or typed.strip() == str(need)


def submit_label(summary: PlanSummary | None) -> str:
    if summary is None:
        return "Submit"
    return f"Submit: {summary.action} {summary.change} account(s)"
