"""Progress of a run over several workspaces: one ``RunProgress`` per workspace, drawn as text.

A fleet run tells its listener ``(workspace name, RunEvent)`` (``events.FleetListener``). Each
workspace's events feed a ``TextProgress`` of its own, so a notebook shows one live line per
workspace and a terminal one line per milestone, prefixed with the workspace's name. The models
(``models``) are what a widget draws instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from .events import RunEvent
from .progress import RunProgress
from .progress_text import TextProgress

__all__ = ["FleetTextProgress"]


class FleetTextProgress:
    """An ``on_update(name, event)`` listener for a fleet run: one ``TextProgress`` per workspace.

    Parameters
    ----------
    title : str
        What the run does, e.g. ``"disable warmup"``; each line starts with its workspace.
    names : iterable of str
        The workspaces, in the order their lines should come (others are added as they speak).
    show, interval, now
        As for ``TextProgress``; ``show`` receives every workspace's lines.
    """

    def __init__(
        self,
        title: str,
        names: Iterable[str] = (),
        show: Callable[[str], None] | None = None,
        interval: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title, self._show, self._interval, self._now = title, show, interval, now
        self.members: dict[str, TextProgress] = {}
        for name in names:
            self._member(name)

    def __call__(self, name: str, event: RunEvent) -> None:
        self._member(name)(event)

    def _member(self, name: str) -> TextProgress:
        found = self.members.get(name)
        if found is None:
            found = self.members[name] = TextProgress(
                f"{name}: {self.title}", show=self._show, interval=self._interval, now=self._now
            )
            found.model.title = name
        return found

    @property
    def models(self) -> dict[str, RunProgress]:
        """Each workspace's progress model, by name."""
        return {name: member.model for name, member in self.members.items()}

    @property
    def lines(self) -> list[str]:
        """Every line drawn so far, workspace after workspace."""
        return [line for member in self.members.values() for line in member.lines]

    def text(self) -> str:
        """The state of every workspace's run, as text."""
        return "\n".join(model.text() for model in self.models.values())
