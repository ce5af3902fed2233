"""Running a plan over several workspaces: each workspace's plan by ``run.execute``, all at once.

Instantly's warmup lock and rate limit are per workspace (docs/instantly-api.md §5.5, §12), so
the workspaces run concurrently on one event loop, ``concurrency`` at a time, and each one runs
exactly as a single-workspace run does: one job at a time, journalled, verified. Nothing here
re-implements the runner.

One journal holds the run: a ``fleet`` record first, then each workspace's steps through
``Journal.member(name)``, then ``done`` once every workspace finished. ``resume_fleet`` reads it
back: workspaces that finished give their recorded results, the others go on where they
stopped, without a duplicate job.

A workspace that fails (a revoked key, an unpaid plan, a missing scope, a network fault, a key
that turns out to act on another workspace) fails alone: the others finish, and its rows say
why. Every email of the plan appears exactly once in the results, with its workspace.
"""

from __future__ import annotations

import asyncio
import logging
import os

import pandas as pd

from . import _constants as C
from ._confirm import check_confirmation
from .errors import InstantlyError, PlanStaleError, RequestValidationError
from .events import FleetListener, Listener, RunEnd, RunEvent, StopSignal
from .fleet_frames import with_workspace
from .fleet_records import FleetRecord
from .journal import Journal, Replay
from .records import PlanRecord
from .results import RESULT_COLUMNS, RunState, results_frame, results_rows
from .run import execute
from .workspaces import Workspaces

__all__ = ["execute_fleet", "resume_fleet"]

log = logging.getLogger("instantly_nb")

JournalLike = Journal | str | os.PathLike[str] | None


async def execute_fleet(
    fleet: Workspaces,
    record: FleetRecord,
    *,
    confirm: str | int | None = None,
    journal: JournalLike = None,
    on_update: FleetListener | None = None,
    stop: StopSignal | None = None,
    job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
    concurrency: int | None = None,
) -> pd.DataFrame:
    """Carry out ``record`` in every workspace of ``fleet``: one result row per targeted email,
    the first column naming its workspace.

    The parameters are ``FleetPlan.execute``'s.
    """
    check_confirmation(record.summary, record.fingerprint, confirm)
    missing = [name for name in record.plans if name not in fleet]
    if missing:
        raise RequestValidationError(
            f"the plan acts on workspace(s) {missing}, not in this set: {fleet.names}"
        )
    if concurrency is not None and (isinstance(concurrency, bool) or concurrency < 1):
        raise RequestValidationError(f"concurrency must be 1 or more, not {concurrency!r}")
    chosen = _open(journal, record)
    limit = asyncio.Semaphore(concurrency or fleet.concurrency)

    async def one(name: str) -> tuple[pd.DataFrame, str]:
        listener: Listener | None = None
        if on_update is not None:
            tell = on_update

            def listener(event: RunEvent) -> None:
                tell(name, event)

        async with limit:
            return await _member(
                fleet, name, record.plans[name], chosen.member(name), listener, stop, job_timeout
            )

    tasks = [asyncio.ensure_future(one(name)) for name in record.plans]
    try:
        finished = await asyncio.gather(*tasks)
    except BaseException:
        # A workspace's failure is in its rows; what gets here is the run itself ending (a
        # crash, a cancel). No workspace may go on sending on its own after that: stop them all.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    outcomes = dict(zip(record.plans, finished, strict=True))
    frames = {name: frame for name, (frame, _) in outcomes.items()}
    failed = {name: why for name, (_, why) in outcomes.items() if why}
    ended = {
        name: str(frame.attrs.get("instantly_nb", {}).get("ended") or "")
        for name, frame in frames.items()
    }
    if not failed and not any(ended.values()):
        chosen.done()
    return _results(record, frames, failed, ended, chosen)


async def resume_fleet(
    fleet: Workspaces,
    journal: Journal | str | os.PathLike[str],
    *,
    on_update: FleetListener | None = None,
    stop: StopSignal | None = None,
    job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
    concurrency: int | None = None,
) -> pd.DataFrame:
    """Finish a run over several workspaces from its journal (no duplicate jobs)."""
    log_ = journal if isinstance(journal, Journal) else Journal(journal)
    record = FleetRecord.from_json(log_.fleet_record())
    return await execute_fleet(
        fleet, record, confirm=record.fingerprint, journal=log_, on_update=on_update, stop=stop,
        job_timeout=job_timeout, concurrency=concurrency,
    )  # fmt: skip


def _open(journal: JournalLike, record: FleetRecord) -> Journal:
    """The run's journal, started with the ``fleet`` record, or one that recorded this run."""
    chosen = Journal.choose(journal, record.id, record.journal_path)
    records = chosen.records()
    if not records:
        chosen.fleet(record.to_json())
    elif records[0].get("kind") != "fleet" or records[0].get("fleet_id") != record.id:
        raise RequestValidationError(
            f"{chosen.path} records another run; give this run its own journal"
        )
    record.journal_path = chosen.path.resolve()
    return chosen


async def _member(
    fleet: Workspaces,
    name: str,
    plan: PlanRecord,
    journal: Journal,
    listener: Listener | None,
    stop: StopSignal | None,
    job_timeout: float,
) -> tuple[pd.DataFrame, str]:
    """Run one workspace's plan; on failure its rows say why. Returns (results, why failed)."""
    try:
        # The name is checked before anything is sent: a key filed under the wrong client
        # fails here, never acts in another workspace.
        identity = (await fleet.aidentify([name]))[name]
        frame = await execute(
            fleet[name], plan, confirm=plan.fingerprint, journal=journal, on_update=listener,
            stop=stop, job_timeout=job_timeout,
            workspace={"id": identity.id, "name": identity.name},
        )  # fmt: skip
        return frame, ""
    except PlanStaleError as exc:
        if exc.results is not None:
            return exc.results, ""  # its rows already say the selection changed
        why = str(exc)
    except InstantlyError as exc:
        why = f"{type(exc).__name__}: {exc}"
    log.warning("workspace %r failed: %s", name, why)
    if listener is not None:
        listener(
            RunEvent("finished", len(plan.planned), message=f"failed: {why}", end="ended_early")
        )
    return _failed(plan, journal, why), why


def _failed(plan: PlanRecord, journal: Journal, why: str) -> pd.DataFrame:
    """The rows of a workspace whose run raised: what its journal shows sent, and why not more."""
    replay = Replay()
    for r in journal.records():
        replay.take(r)
    state = RunState(jobs=dict(replay.finished), ended=why, unverified=why)
    for i in {*replay.submitted, *replay.sending} - set(replay.finished):
        state.uncertain[i] = f"sent before the workspace failed ({why}); resume to settle it"
    rows = results_rows(plan, state)
    for row in rows:
        if row["outcome"] == "not_submitted":
            row["error"] = f"workspace failed: {why}"
    return results_frame(rows, plan, state, journal=str(journal.path))


def _results(
    record: FleetRecord,
    frames: dict[str, pd.DataFrame],
    failed: dict[str, str],
    ended: dict[str, str],
    journal: Journal,
) -> pd.DataFrame:
    """Every workspace's rows as one frame, then the emails found in no workspace."""
    unplaced = [
        {"email": row.email, "job_id": None, "before": None, "after": None,
         "outcome": "not_found", "error": None, "detail": row.reason}
        for row in record.unplaced.itertuples()
    ]  # fmt: skip
    nowhere = pd.DataFrame(unplaced, columns=list(RESULT_COLUMNS)).astype(RESULT_COLUMNS)
    frame = with_workspace(frames, nowhere=nowhere if unplaced else None)
    words = "; ".join(f"{name}: {why}" for name, why in {**ended, **failed}.items() if why)
    frame.attrs["instantly_nb"] = {
        "plan_id": record.id, "action": record.action, "fleet": True,
        "end": _fleet_end(frames, failed), "ended": words,
        "failed": dict(failed), "journal": str(journal.path),
    }  # fmt: skip
    return frame


def _fleet_end(frames: dict[str, pd.DataFrame], failed: dict[str, str]) -> RunEnd:
    """How the whole run ended, from how each workspace's did: finished when all finished;
    stopped when the others finished and the rest stopped (a Stop reaches every workspace);
    stale when a selection changed anywhere; ended early otherwise (a failure, an error)."""
    ends = {str(f.attrs.get("instantly_nb", {}).get("end") or "finished") for f in frames.values()}
    if failed:
        ends.add("ended_early")
    ends.discard("finished")
    if not ends:
        return "finished"
    if "stale" in ends:
        return "stale"
    return "stopped" if ends == {"stopped"} else "ended_early"
