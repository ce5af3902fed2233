"""Submit's gate in the panel: the library's confirmation policy, as a typed count.

A plan that needs confirmation (``instantly_nb._confirm``: more than ``CONFIRM_ABOVE`` changes,
or every account of the workspace) needs its number of changes typed before Submit; any other
plan with changes is one click.
"""

from __future__ import annotations

from .._confirm import confirm_count
from ..fleet_records import FleetSummary
from ..records import PlanSummary

__all__ = ["may_submit", "submit_label"]


def may_submit(summary: PlanSummary | FleetSummary | None, typed: str) -> bool:
    """Whether Submit may run: a plan with changes, and the count typed when one is needed."""
    if summary is None or summary.change == 0:
        return False
    need = confirm_count(summary)
    return need is None or typed.strip() == str(need)


def submit_label(summary: PlanSummary | FleetSummary | None) -> str:
    """``Submit: disable 612 account(s)``: what a click sends; plain "Submit" when nothing."""
    if summary is None or summary.change == 0:
        return "Submit"
    return f"Submit: {summary.action} {summary.change} account(s)"
