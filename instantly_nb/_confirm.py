"""The confirmation policy: which plans need an explicit yes, and what counts as one.

One rule for the API, the panel, the README and the notebooks: a plan that changes more than
``CONFIRM_ABOVE`` accounts, or that would touch every account of the workspace, runs only with
its fingerprint or its exact number of changes given back (``execute(confirm=...)``, or the count
typed into the panel). Reading the number off the preview is the point.
"""

from __future__ import annotations

from typing import Protocol

from .errors import ConfirmationRequired

__all__ = ["CONFIRM_ABOVE", "check_confirmation", "confirm_count", "needs_confirmation"]

CONFIRM_ABOVE = 500


class Confirmable(Protocol):
    """What the policy reads of a plan summary."""

    @property
    def change(self) -> int: ...

    @property
    def needs_confirmation(self) -> bool: ...

    @property
    def touches_every_account(self) -> bool: ...


def needs_confirmation(
    change: int, touches_every_account: bool, above: int = CONFIRM_ABOVE
) -> bool:
    return touches_every_account or change > above


def confirm_count(summary: Confirmable) -> int | None:
    """The number to give back before running, or None when no confirmation is needed."""
    return summary.change if summary.needs_confirmation and summary.change > 0 else None


def check_confirmation(summary: Confirmable, fingerprint: str, confirm: object) -> None:
    """Pass when ``confirm`` is the plan's fingerprint or its count (when one is needed).

    ``True`` is not a count: ``bool`` is an ``int`` in Python, and ``confirm=True`` must not
    pass for a plan of one change.
    """
    if not summary.needs_confirmation:
        return
    if confirm == fingerprint:
        return
    if isinstance(confirm, int) and not isinstance(confirm, bool) and confirm == summary.change:
        return
    why = "touches every account of the workspace" if summary.touches_every_account else (
        f"changes {summary.change} accounts"
    )  # fmt: skip
    raise ConfirmationRequired(
        f"This plan {why}. Check plan.frame, then run execute(confirm={fingerprint!r}) "
        f"or execute(confirm={summary.change}).",
        count=summary.change,
        fingerprint=fingerprint,
    )
