"""One plan over several workspaces: each workspace planned by the planner, previewed together.

``plan_disable(fleet, target)`` (planner.aplan with ``Workspaces``) comes here. The target says
where each email is, or it is looked up:

* a ``Selection`` is planned in every workspace (or those named by ``workspaces=``);
* a DataFrame (or CSV file) with ``workspace`` and ``email`` columns is split by workspace, as
  ``read_accounts(fleet)`` returns it;
* bare emails (a list, a Series, a frame or CSV without a ``workspace`` column) are looked up in
  every workspace: each goes to the one that has it, one found nowhere is ``not_found``, and one
  found in two workspaces is an error asking for the ``workspace`` column.

Each workspace's plan is the planner's own (passed in as ``plan_one``, so this module stays below
it); the ``FleetPlan`` adds one preview, one fingerprint and one confirmation for the whole change.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _constants as C
from ._confirm import CONFIRM_ABOVE
from ._warmup import Action
from .errors import RequestValidationError
from .events import FleetListener, StopSignal
from .fleet_frames import FleetRead, workspace_column
from .fleet_progress import FleetTextProgress
from .fleet_records import FleetRecord
from .fleet_run import execute_fleet
from .fleet_view import fleet_html, fleet_text
from .journal import Journal
from .plan import Plan
from .records import PLAN_COLUMNS, row_counts
from .sync_client import Client
from .targets import Selection, Target, read_emails
from .workspaces import Workspaces

__all__ = ["FleetPlan", "aplan_fleet", "aundo_fleet"]

JournalLike = Journal | str | os.PathLike[str] | None
PlanOne = Callable[..., Awaitable[Any]]  # (client, action, target, workspace_name=, **options)
UndoOne = Callable[[Client, pd.DataFrame], Awaitable[Any]]  # undo.aundo
Undoable = Callable[[pd.DataFrame], int]  # undo.can_undo


@dataclass(kw_only=True)
class FleetPlan(FleetRecord):
    """A preview of one warmup change across several workspaces; nothing has been sent.

    Attributes
    ----------
    plans : dict of str to Plan
        Each workspace's plan (its own preview, requests and fingerprint).
    frame : DataFrame
        One row per targeted email: ``workspace``, then the plan columns.
    by_workspace : DataFrame
        One row per workspace: counts, kinds of risk, jobs.
    requests : dict of str to list of dict
        Each workspace's exact JSON bodies, in send order.
    summary : FleetSummary
    fingerprint : str
        One hash for the whole change; pass it to ``execute(confirm=...)`` when asked.
    """

    fleet: Workspaces = field(repr=False)

    def execute(
        self,
        *,
        confirm: str | int | None = None,
        journal: JournalLike = None,
        on_update: FleetListener | None = None,
        stop: StopSignal | None = None,
        progress: bool = True,
        job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
        concurrency: int | None = None,
    ) -> pd.DataFrame:
        """Run every workspace's plan at once (each one job at a time); one result row per
        targeted email, its workspace first.

        Parameters
        ----------
        confirm : str or int, optional
            The fingerprint or the total number of changes, when the plan says it needs one.
        journal : Journal or path, optional
            One journal for the whole run; ``instantly_nb_runs/<plan id>.jsonl`` by default.
            Running again with the same journal (or ``resume(fleet, journal)``) resumes it.
        on_update : callable, optional
            Receives ``(workspace name, RunEvent)`` for every step. Without it, one live line
            per workspace (``progress=False``: quiet).
        stop : object with ``is_set()``, optional
            When set, no workspace submits a further job.
        job_timeout : float
            Seconds to wait for one job before giving up on watching it.
        concurrency : int, optional
            How many workspaces run at once; the set's ``concurrency`` by default.
        """
        if on_update is None and progress:
            on_update = FleetTextProgress(f"{self.action} warmup", self.names)
        return self.fleet._run(
            execute_fleet(
                self.fleet, self, confirm=confirm, journal=journal, on_update=on_update,
                stop=stop, job_timeout=job_timeout, concurrency=concurrency,
            )
        )  # fmt: skip

    async def aexecute(
        self,
        *,
        confirm: str | int | None = None,
        journal: JournalLike = None,
        on_update: FleetListener | None = None,
        stop: StopSignal | None = None,
        job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
        concurrency: int | None = None,
    ) -> pd.DataFrame:
        """``execute`` for async code."""
        return await execute_fleet(
            self.fleet, self, confirm=confirm, journal=journal, on_update=on_update, stop=stop,
            job_timeout=job_timeout, concurrency=concurrency,
        )  # fmt: skip

    def _repr_html_(self) -> str:
        return fleet_html(self)

    def __repr__(self) -> str:
        return fleet_text(self)


async def aplan_fleet(
    fleet: Workspaces,
    action: Action,
    target: Target,
    *,
    plan_one: PlanOne,
    workspaces: str | Iterable[str] | None = None,
    progress: Any = True,
    **options: Any,
) -> FleetPlan:
    """Plan ``action`` for ``target`` in each workspace it concerns (see the module docstring).

    ``options`` (``exclude``, ``confirm_above``, ``server_side``) go to every workspace's plan.
    """
    chosen = fleet.resolve(workspaces)
    await fleet.aidentify(chosen)
    report = FleetRead(progress, f"planning: {action} warmup", chosen)
    split = fleet.split(target, chosen)
    emails: list[str] = []
    if split is None:
        assert not isinstance(target, Selection)  # a Selection always splits
        emails = read_emails(target)
    names = chosen if split is None else list(split)
    if not names:
        raise RequestValidationError("the target names no email in the chosen workspaces")

    async def one(name: str, client: Client) -> Plan:
        part = emails if split is None else split[name]
        plan = await plan_one(
            client, action, part, workspace_name=name, progress=report.member(name), **options
        )
        assert isinstance(plan, Plan)
        return plan

    plans = await fleet.gather(one, names)
    unplaced = pd.DataFrame(columns=list(PLAN_COLUMNS)).astype(PLAN_COLUMNS)
    if split is None:
        plans, unplaced = _place(plans)
    described = {p.description for p in plans.values()} or {"emails"}
    return FleetPlan(
        action=action, plans=plans, unplaced=unplaced,
        description=described.pop() if len(described) == 1 else "",
        confirm_above=options.get("confirm_above", CONFIRM_ABOVE), fleet=fleet,
    )  # fmt: skip


def _place(plans: dict[str, Plan]) -> tuple[dict[str, Plan], pd.DataFrame]:
    """Bare emails, planned in every workspace: each kept where it was found.

    Raises ``RequestValidationError`` naming each email found in more than one workspace.
    """
    found: dict[str, list[str]] = {}
    for name, plan in plans.items():
        present = plan.frame.loc[plan.frame["action"] != "not_found", "email"]
        for email in present.str.lower():
            found.setdefault(email, []).append(name)
    twice = {email: names for email, names in found.items() if len(names) > 1}
    if twice:
        raise RequestValidationError(
            f"{len(twice)} email(s) are in more than one workspace: say which one is meant with "
            "a frame of 'workspace' and 'email' columns (read_accounts(fleet) gives one)",
            [f"{email}: in {', '.join(names)}" for email, names in sorted(twice.items())],
        )
    placed = {
        name: _narrowed(plan, {e for e, names in found.items() if names == [name]})
        for name, plan in plans.items()
    }
    first = next(iter(plans.values())).frame
    nowhere = first.loc[~first["email"].str.lower().isin(found)].reset_index(drop=True)
    nowhere["reason"] = f"not in any of the {len(plans)} workspace(s)"
    return {n: p for n, p in placed.items() if len(p.frame)}, nowhere.astype(PLAN_COLUMNS)


def _narrowed(plan: Plan, keep: set[str]) -> Plan:
    """``plan`` with only the rows of ``keep`` (lower-case emails); its requests are unchanged
    (an email it did not find was in none of them)."""
    frame = plan.frame.loc[plan.frame["email"].str.lower().isin(keep)].reset_index(drop=True)
    summary = dataclasses.replace(plan.summary, **row_counts(frame))
    return dataclasses.replace(plan, frame=frame, summary=summary)


async def aundo_fleet(
    fleet: Workspaces, results: pd.DataFrame, undo_one: UndoOne, undoable: Undoable
) -> FleetPlan:
    """The plan that puts back what a run over several workspaces changed, in each workspace.

    ``undo_one`` (``undo.aundo``) plans each workspace's rows; a workspace with nothing it
    can put back (``undoable``, ``undo.can_undo``, is 0) is left out.
    """
    if not isinstance(results, pd.DataFrame) or workspace_column(results) is None:
        raise RequestValidationError(
            "undo(fleet, results) takes the results of a run over several workspaces (with a "
            "'workspace' column); undo one workspace's results with its own client"
        )
    changed = results[results["outcome"].isin(["changed", "unplanned"])]
    if changed.empty:
        raise RequestValidationError("nothing to undo: no row has outcome 'changed'")
    parts = fleet.split(changed)
    assert parts is not None  # a frame with a workspace column always splits
    parts = {n: p for n, p in parts.items() if isinstance(p, pd.DataFrame) and undoable(p)}
    if not parts:
        raise RequestValidationError(
            f"nothing to undo: the {len(changed)} changed account(s) had warmup errors before "
            "the run, and no request can put an error state back"
        )

    async def one(name: str, client: Client) -> Plan:
        rows = parts[name]
        assert isinstance(rows, pd.DataFrame)
        plan = await undo_one(client, rows)
        assert isinstance(plan, Plan)
        return plan

    plans = await fleet.gather(one, [n for n in fleet.names if n in parts])
    actions = {p.action for p in plans.values()}
    if len(actions) != 1:
        raise RequestValidationError(
            f"the rows would need both {sorted(actions)}: undo the runs one by one"
        )
    origin = results.attrs.get("instantly_nb", {}).get("plan_id", "a run")
    return FleetPlan(
        action=actions.pop(), plans=plans, description=f"undo of {origin}", fleet=fleet
    )
