"""Runs as the panel starts them, each feeding the panel's progress widget.

One workspace's run is drawn by a ``JobProgress`` (a bar per job); a run over several workspaces
by a ``FleetProgress`` (a row per workspace, fed ``(workspace name, RunEvent)``). A plan is run
(``execute``) or a journal resumed (``resume``) with the progress that matches it, so the panel
itself never asks which kind it holds.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

import pandas as pd

from ..fleet_plan import FleetPlan
from ..fleet_run import resume_fleet
from ..journal import Journal
from ..plan import Plan
from ..sync_client import Client
from ..undo import aresume
from ..workspaces import Workspaces
from ._fleet_progress import FleetProgress
from .progress import JobProgress

__all__ = [
    "Progress",
    "execute",
    "new_progress",
    "restart",
    "resume",
    "set_clock",
    "shown_progress",
]

Progress = JobProgress | FleetProgress
Run = Coroutine[Any, Any, pd.DataFrame]


class Texted(Protocol):
    def text(self) -> str: ...


def new_progress(several: bool) -> Progress:
    """The progress widget for runs in one workspace, or in several."""
    return FleetProgress() if several else JobProgress()


def set_clock(progress: Progress, client: Client | Workspaces) -> None:
    """Elapsed times on the client's clock (virtual in tests and demos)."""
    if isinstance(progress, FleetProgress):
        assert isinstance(client, Workspaces)
        progress.now = client[client.names[0]].clock.now
    else:
        assert not isinstance(client, Workspaces)
        progress.model.now = client.clock.now


def restart(progress: Progress, title: str, names: Sequence[str], resumed: bool) -> None:
    """A clean slate for a run (a resumed one keeps what already ended)."""
    if isinstance(progress, FleetProgress):
        progress.reset(title, names=names, keep_finished=resumed)
    else:
        progress.reset(title, keep_finished=resumed)


def execute(
    plan: Plan | FleetPlan, progress: Progress, need: int | None, journal: Journal | None
) -> Run:
    """``plan`` run with ``need`` as its confirmation, drawn and stoppable by ``progress``."""
    if isinstance(plan, FleetPlan):
        assert isinstance(progress, FleetProgress)
        return plan.aexecute(
            confirm=need, journal=journal, on_update=progress.on_update, stop=progress.stop_event
        )
    assert isinstance(progress, JobProgress)
    return plan.aexecute(
        confirm=need, journal=journal, on_update=progress.on_update, stop=progress.stop_event
    )


def resume(client: Client | Workspaces, progress: Progress, journal: str) -> Run:
    """The run recorded in ``journal`` finished from where it stopped (nothing sent twice)."""
    if isinstance(client, Workspaces):
        assert isinstance(progress, FleetProgress)
        return resume_fleet(client, journal, on_update=progress.on_update, stop=progress.stop_event)
    assert isinstance(progress, JobProgress)
    return aresume(client, journal, on_update=progress.on_update, stop=progress.stop_event)


def shown_progress(progress: Progress) -> Texted | None:
    """What the progress shows, as text, or None before any run."""
    if isinstance(progress, FleetProgress):
        return progress if progress.models else None
    return progress.model if progress.model.phase != "idle" else None
