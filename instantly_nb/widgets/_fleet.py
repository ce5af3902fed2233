"""Several workspaces in the panel: which ones a change acts on, and their errors in plain words.

``WarmupPanel(fleet)`` takes a ``Workspaces``. The chooser (``Workspaces``, one, several or all)
limits every step: the account list and warmup health are read in the chosen workspaces only, and
the plan is made with ``workspaces=`` so the engine applies its own rules (a ``Selection`` in
each chosen workspace, picked rows in their own workspace, bare emails looked up in each).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

import ipywidgets as w
import pandas as pd

from .._demo import DemoWorkspaces
from ..errors import InstantlyError, RequestValidationError
from ..errors import __all__ as _error_names
from ..fleet_frames import WORKSPACE_COLUMN, with_workspace
from ..frames import aread_tags
from ..lookup import resolve_tag
from ..sync_client import Client, async_client
from ..workspaces import Workspaces
from ._note import Note
from ._report import plain_words

__all__ = [
    "WorkspaceChooser", "check_tag", "fleet_banner", "fleet_words", "plain_reason", "read_fleet",
    "workspaces_in",
]  # fmt: skip

# "AuthenticationError: 401 ..." as the engine records a workspace's failure: the person at
# the panel reads the message, never the class.
_CLASS_NAMES = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, _error_names), key=len, reverse=True)) + r"): "
)
# The note Workspaces.gather adds: which workspace failed, and how code goes on without it.
_WHERE = re.compile(r"^in workspace (?P<where>'[^']*'(?:; also failed: \[[^\]]*\])?)")


def plain_reason(text: str) -> str:
    """``text`` without the exception class names the engine writes before a message."""
    return _CLASS_NAMES.sub("", text)


def fleet_words(exc: BaseException) -> str:
    """``plain_words``, naming the workspace a fleet step failed in (from the error's note)."""
    said = plain_reason(plain_words(exc))
    for note in getattr(exc, "__notes__", ()):
        found = _WHERE.match(str(note))
        if found:
            return f"{said} (in workspace {found['where']}; leave it out in Workspaces to go on)"
    return said


def workspaces_in(frame: pd.DataFrame) -> list[str]:
    """The workspaces a frame's rows name, in order of first appearance."""
    if WORKSPACE_COLUMN not in frame.columns:
        return []
    return [str(n) for n in dict.fromkeys(frame[WORKSPACE_COLUMN].dropna())]


async def check_tag(fleet: Workspaces, names: Sequence[str], tag: str, note: Note) -> None:
    """The tag, by label, must exist in every chosen workspace: ``resolve_tag`` (the rule the
    planner applies) in each, its error said in ``note`` (beside Tag) before any planning."""

    async def one(_: str, client: Client) -> None:
        await resolve_tag(async_client(client), tag)

    try:
        await fleet.gather(one, list(names))
    except InstantlyError as exc:
        note.say(fleet_words(exc), "error")
        raise RequestValidationError(
            f"Not planned: the tag {tag!r} was not found in every chosen workspace (see beside Tag)"
        ) from exc


async def read_fleet(fleet: Workspaces) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """Each workspace's name checked and its tags read: the tags of those that answered (a
    ``workspace`` column first; None if none did), and why each other one did not."""

    async def one(name: str, client: Client) -> pd.DataFrame | str:
        try:
            await fleet.aidentify([name])
            return await aread_tags(client)
        except InstantlyError as exc:
            return fleet_words(exc)

    found = await fleet.gather(one)
    tags = {n: f for n, f in found.items() if isinstance(f, pd.DataFrame)}
    failed = {n: f for n, f in found.items() if isinstance(f, str)}
    return (with_workspace(tags) if tags else None), failed


def fleet_banner(fleet: Workspaces, failed: dict[str, str]) -> str:
    """Which workspaces the panel acts on, always in sight, with those it cannot reach."""
    names = ", ".join(f"<b>{html.escape(n)}</b>" for n in fleet.names)
    where = (
        "<span style='background:#b45309;color:white;padding:0 4px'>DEMO</span> "
        "<small>emulated in this kernel: nothing real is changed</small>"
        if isinstance(fleet, DemoWorkspaces)
        else "<small>each through its own client</small>"
    )
    trouble = "".join(
        f"<br><small style='color:#b91c1c'>{html.escape(name)} cannot be reached: "
        f"{html.escape(plain_reason(why))}</small>"
        for name, why in {**fleet.skipped, **failed}.items()
    )
    return (
        "<div style='padding:4px 8px;background:#f1f5f9;border-left:4px solid #1d4ed8'>"
        f"Workspaces ({len(fleet)}): {names} {where}{trouble}</div>"
    )


class WorkspaceChooser(w.VBox):  # type: ignore[misc]
    """The workspaces a change acts on (``chosen()``); every reachable one by default."""

    def __init__(self) -> None:
        self.select = w.SelectMultiple(
            description="Workspaces",
            style={"description_width": "110px"},
            layout=w.Layout(width="auto", min_width="360px"),
        )
        self.note = Note()
        super().__init__([w.HBox([self.select, self.note])])
        self.select.observe(lambda _: self._say_chosen(), "value")
        self.layout.display = "none"

    def set_names(self, names: Sequence[str], reachable: Sequence[str]) -> None:
        """Offer ``names``; choose the ``reachable`` ones."""
        self.select.options = list(names)
        self.select.rows = min(max(len(names), 2), 8)
        self.select.value = tuple(n for n in names if n in reachable)
        self.layout.display = ""
        self._say_chosen()

    def on_change(self, callback: Callable[[], None]) -> None:
        self.select.observe(lambda _: callback(), "value")

    def chosen(self) -> list[str]:
        """The chosen workspaces, in the set's order; a plain error when there is none."""
        if not self.select.value:
            raise RequestValidationError(
                "No workspace is chosen: select one or more in Workspaces (shift or ctrl-click "
                "for several)"
            )
        return [str(n) for n in self.select.options if n in self.select.value]

    def _say_chosen(self) -> None:
        n, of = len(self.select.value), len(self.select.options)
        if n == 0:
            self.note.say("None chosen: select one or more.", "warn")
        else:
            self.note.say(f"{n} of {of} chosen (shift or ctrl-click to choose several)", "info")
