"""Undo a run and resume an interrupted one: both start from what a run left behind.

``undo`` reads a results frame; ``resume`` reads a journal. Neither sends anything the runner
would not: they make a plan and hand it to the runner. ``can_undo`` and ``can_resume`` say,
from a results frame, whether either has anything to do (the panel enables its buttons by them).
"""

from __future__ import annotations

import os
from typing import overload

import pandas as pd

from . import _constants as C
from ._warmup import Action
from .errors import RequestValidationError
from .events import Listener, StopSignal
from .fleet_plan import FleetPlan, aundo_fleet
from .fleet_run import resume_fleet
from .journal import Journal
from .plan import Plan
from .planner import aplan
from .results import RESUMABLE_ERRORS
from .run import execute
from .sync_client import Client, blocking
from .workspaces import Workspaces

__all__ = ["aresume", "aundo", "can_resume", "can_undo", "resume", "undo"]


@overload
async def aundo(client: Client, results: pd.DataFrame) -> Plan: ...


@overload
async def aundo(client: Workspaces, results: pd.DataFrame) -> FleetPlan: ...


async def aundo(client: Client | Workspaces, results: pd.DataFrame) -> Plan | FleetPlan:
    """The plan that puts back the warmup state of every row that ``changed`` or ``unplanned``.

    Accounts whose warmup was in an error state before the run are left alone: no request can
    put an error state back, and the opposite toggle would turn their warmup on. ``unplanned``
    rows (a server-side job changed them outside the preview) are put back to the other state.
    With ``Workspaces`` and the results of a run over them, each workspace's rows are put back
    in that workspace, in one ``FleetPlan``.
    """
    if isinstance(client, pd.DataFrame):
        raise TypeError("undo takes the client first: undo(client, results)")
    if isinstance(client, Workspaces):
        return await aundo_fleet(client, results, aundo, can_undo)
    changed, restorable = _undoable(results)
    if changed.empty:
        raise RequestValidationError("nothing to undo: no row has outcome 'changed'")
    states = set(changed["after"].dropna().astype(int))
    if len(states) != 1:
        raise RequestValidationError(
            f"the changed rows end in different warmup states {sorted(states)}; undo each run apart"
        )
    lost = len(changed) - len(restorable)
    if restorable.empty:
        raise RequestValidationError(
            f"nothing to undo: the {lost} changed account(s) had warmup errors before the run, "
            "and no request can put an error state back"
        )
    action: Action = "enable" if states == {0} else "disable"
    plan = await aplan(client, action, list(restorable["email"]))
    plan.description = "undo of " + str(
        results.attrs.get("instantly_nb", {}).get("plan_id", "a run")
    )
    if lost:
        plan.description += f"; {lost} account(s) left alone: their warmup was in error before"
    return plan


def can_undo(results: pd.DataFrame) -> int:
    """How many rows ``undo(client, results)`` would put back: 0 means there is nothing to undo.

    Rows that ``changed`` (or ``unplanned``) from a warmup error state are not counted: no
    request can put an error state back.
    """
    return len(_undoable(results)[1])


def can_resume(results: pd.DataFrame) -> int:
    """How many rows ``resume(client, journal)`` would still send or settle; 0 when none.

    The rows not submitted, plus those whose request was sent but whose answer was lost, whose
    job outlived the wait, or which could not be re-read. A finished run has none, and neither
    has a stale one (a selection changed since the preview: make a new plan instead).
    """
    _check_results(results)
    end = results.attrs.get("instantly_nb", {}).get("end")
    if end in ("finished", "stale"):
        return 0
    errors = results.get("error", pd.Series("", index=results.index)).fillna("").astype(str)
    unsettled = (results["outcome"] == "failed") & errors.str.startswith(RESUMABLE_ERRORS)
    return int(((results["outcome"] == "not_submitted") | unsettled).sum())


def _check_results(results: pd.DataFrame) -> None:
    if not isinstance(results, pd.DataFrame) or not {"outcome", "after"} <= set(results.columns):
        raise RequestValidationError("expected the results frame returned by execute()")


def _undoable(results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows a run changed, and those of them whose state before can be put back."""
    _check_results(results)
    changed = results[results["outcome"].isin(["changed", "unplanned"])]
    unplanned = changed["outcome"] == "unplanned"
    restorable = changed[changed["before"].isin([0, 1]) | (unplanned & changed["before"].isna())]
    return changed, restorable


async def aresume(
    client: Client | Workspaces,
    journal: Journal | str | os.PathLike[str],
    *,
    on_update: Listener | None = None,
    stop: StopSignal | None = None,
    job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
) -> pd.DataFrame:
    """Finish a run from its journal: after a stop, an early end, a crash or a kernel restart.

    Only what was not sent is sent (no job twice); the result has one row per email of the
    whole plan. A finished run's results come back as they are. ``can_resume(results)`` says
    whether there is anything left to do. A run over several workspaces resumes with the same
    ``Workspaces`` (``resume(fleet, journal)``): each workspace goes on where it stopped.
    """
    if not isinstance(journal, Journal | str | os.PathLike):
        raise TypeError("resume takes the client first: resume(client, journal)")
    log = journal if isinstance(journal, Journal) else Journal(journal)
    if isinstance(client, Workspaces):
        tell = on_update  # the fleet's listener also names the workspace; this one does not
        each = None if tell is None else (lambda _name, event: tell(event))
        return await resume_fleet(client, log, on_update=each, stop=stop, job_timeout=job_timeout)
    plan = log.plan_record()
    return await execute(
        client, plan, confirm=plan.fingerprint, journal=log, on_update=on_update, stop=stop,
        job_timeout=job_timeout,
    )  # fmt: skip


undo = blocking(aundo)
resume = blocking(aresume)
