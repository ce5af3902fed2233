"""Undo a run and resume an interrupted one: both start from what a run left behind.

``undo`` reads a results frame; ``resume`` reads a journal. Neither sends anything the runner
would not: they make a plan and hand it to ``run.execute``.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from ._errors import RequestValidationError
from ._warmup import Action
from .client import AsyncInstantly
from .journal import Journal
from .plan import Plan, aplan, from_record
from .run import client_of_results, execute
from .sync_client import Instantly, run_blocking

__all__ = ["aresume", "aundo", "resume", "undo"]


def undo(results: pd.DataFrame, client: Instantly | None = None) -> Plan:
    """The plan that puts back the warmup state of every row that ``changed``.

    ``client`` defaults to the one that ran the plan (kept while it is alive).
    """
    chosen = client or _client_of(results)
    if not isinstance(chosen, Instantly):
        raise TypeError(
            "undo needs an Instantly client; with AsyncInstantly use `await aundo(...)`"
        )
    return run_blocking(chosen, aundo(results, chosen))


async def aundo(results: pd.DataFrame, client: Instantly | AsyncInstantly | None = None) -> Plan:
    """``undo`` for async code."""
    chosen = client or _client_of(results)
    if "outcome" not in results.columns or "after" not in results.columns:
        raise RequestValidationError("undo expects the results frame returned by execute()")
    changed = results[results["outcome"] == "changed"]
    if changed.empty:
        raise RequestValidationError("nothing to undo: no row has outcome 'changed'")
    states = set(changed["after"].dropna().astype(int))
    if len(states) != 1:
        raise RequestValidationError(
            f"the changed rows end in different warmup states {sorted(states)}; undo each run apart"
        )
    # A warmup error before the run (banned, suspended: < 0) cannot be put back by any request;
    # the opposite toggle would turn such an account's warmup on, so undo leaves it alone.
    restorable = changed[changed["before"].isin([0, 1])]
    lost = len(changed) - len(restorable)
    if restorable.empty:
        raise RequestValidationError(
            f"nothing to undo: the {lost} changed account(s) had warmup errors before the run, "
            "and no request can put an error state back"
        )
    action: Action = "enable" if states == {0} else "disable"
    plan = await aplan(chosen, action, list(restorable["email"]))
    plan.description = "undo of " + str(
        results.attrs.get("instantly_nb", {}).get("plan_id", "a run")
    )
    if lost:
        plan.description += f"; {lost} account(s) left alone: their warmup was in error before"
    return plan


def _client_of(results: pd.DataFrame) -> Instantly | AsyncInstantly:
    client = client_of_results(results)
    if client is None:
        raise RequestValidationError("pass the client: undo(results, client)")
    return client


def resume(
    client: Instantly, journal: Journal | str | os.PathLike[str], **options: Any
) -> pd.DataFrame:
    """Finish a run from its journal after a crash or kernel restart (no duplicate jobs)."""
    return run_blocking(client, aresume(client, journal, **options))


async def aresume(
    client: Instantly | AsyncInstantly, journal: Journal | str | os.PathLike[str], **options: Any
) -> pd.DataFrame:
    """``resume`` for async code."""
    log = journal if isinstance(journal, Journal) else Journal(journal)
    records = log.records()
    if not records or records[0].get("kind") != "plan":
        raise RequestValidationError(f"{log.path} holds no plan to resume")
    plan = from_record(client, records[0])
    return await execute(plan, confirm=plan.fingerprint, journal=log, **options)
