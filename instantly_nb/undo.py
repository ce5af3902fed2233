"""Undo a run and resume an interrupted one: both start from what a run left behind.

``undo`` reads a results frame; ``resume`` reads a journal. Neither sends anything the runner
would not: they make a plan and hand it to the runner.
"""

from __future__ import annotations

import os

import pandas as pd

from . import _constants as C
from ._warmup import Action
from .errors import RequestValidationError
from .events import Listener, StopSignal
from .journal import Journal
from .plan import Plan
from .planner import aplan
from .run import execute
from .sync_client import Client, blocking

__all__ = ["aresume", "aundo", "resume", "undo"]


async def aundo(client: Client, results: pd.DataFrame) -> Plan:
    """The plan that puts back the warmup state of every row that ``changed`` or ``unplanned``.

    Accounts whose warmup was in an error state before the run are left alone: no request can
    put an error state back, and the opposite toggle would turn their warmup on. ``unplanned``
    rows (a server-side job changed them outside the preview) are put back to the other state.
    """
    if isinstance(client, pd.DataFrame):
        raise TypeError("undo takes the client first: undo(client, results)")
    if "outcome" not in results.columns or "after" not in results.columns:
        raise RequestValidationError("undo expects the results frame returned by execute()")
    changed = results[results["outcome"].isin(["changed", "unplanned"])]
    if changed.empty:
        raise RequestValidationError("nothing to undo: no row has outcome 'changed'")
    states = set(changed["after"].dropna().astype(int))
    if len(states) != 1:
        raise RequestValidationError(
            f"the changed rows end in different warmup states {sorted(states)}; undo each run apart"
        )
    unplanned = changed["outcome"] == "unplanned"
    restorable = changed[changed["before"].isin([0, 1]) | (unplanned & changed["before"].isna())]
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


async def aresume(
    client: Client,
    journal: Journal | str | os.PathLike[str],
    *,
    on_update: Listener | None = None,
    stop: StopSignal | None = None,
    job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
) -> pd.DataFrame:
    """Finish a run from its journal after a crash or kernel restart (no duplicate jobs)."""
    if not isinstance(journal, Journal | str | os.PathLike):
        raise TypeError("resume takes the client first: resume(client, journal)")
    log = journal if isinstance(journal, Journal) else Journal(journal)
    plan = log.plan_record()
    return await execute(
        client, plan, confirm=plan.fingerprint, journal=log, on_update=on_update, stop=stop,
        job_timeout=job_timeout,
    )  # fmt: skip


undo = blocking(aundo)
resume = blocking(aresume)
