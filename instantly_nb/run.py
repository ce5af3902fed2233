"""The runner: submit a plan's requests one job at a time, watch them, verify, lose nothing.

Instantly runs one ``update-warmup-accounts`` job per workspace at a time and answers 409 while
one runs (REFERENCE.md §5.5), so requests go strictly in sequence. A job's ``success`` is not
each account's (§5.2): the runner reads ``processed_emails`` and then re-reads the accounts.
Every step is journalled before it is taken, so a crash or kernel restart resumes without a
duplicate job: a submit whose answer was lost is looked up among recent jobs before anything is
sent again.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from . import _constants as C
from ._core import backoff_delay
from ._errors import (
    ConfirmationRequired,
    ConflictError,
    JobTimeoutError,
    PlanStaleError,
    RequestValidationError,
    UncertainSubmitError,
)
from ._warmup import WarmupRequest
from .client import AsyncInstantly
from .journal import Journal
from .models import Job, WarmupStatus
from .plan import Plan, PlannedRequest, to_record
from .run_verify import Verifier
from .sync_client import Instantly, resolve_async

__all__ = ["OUTCOMES", "RESULT_COLUMNS", "RunEvent", "client_of_results", "execute"]

RESULT_COLUMNS: dict[str, str] = {
    "email": "string",
    "job_id": "string",
    "before": "Int64",  # warmup_status when planned
    "after": "Int64",  # warmup_status re-read after the run (verified)
    "outcome": "string",  # changed, unchanged, skipped, not_found, failed
    "error": "string",  # what went wrong, for failed (and unchanged) rows
    "detail": "string",  # why, in words, for every row
}
OUTCOMES = ("changed", "unchanged", "skipped", "not_found", "failed")

# How far back to look for a job whose submit answer was lost; covers client/server clock skew.
RECONCILE_WINDOW = 300.0
RECONCILE_TRIES = 3

_clients: weakref.WeakValueDictionary[str, Instantly | AsyncInstantly] = (
    weakref.WeakValueDictionary()
)


class StopSignal(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class RunEvent:
    """What ``on_update`` receives while a plan runs.

    ``kind`` is one of ``started``, ``submitting``, ``waiting_lock``, ``submitted``,
    ``progress``, ``job_done``, ``verifying``, ``finished``, ``stopped``, ``stale``.
    """

    kind: str
    requests: int
    request: int | None = None
    job: Job | None = None
    done: int = 0
    message: str = ""


Listener = Callable[[RunEvent], object]


async def execute(
    plan: Plan,
    *,
    confirm: str | int | None = None,
    journal: Journal | str | os.PathLike[str] | None = None,
    on_update: Listener | None = None,
    stop: StopSignal | None = None,
    job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
    lock_timeout: float = C.DEFAULT_JOB_TIMEOUT,
) -> pd.DataFrame:
    """Carry out ``plan``: one result row per targeted email (``RESULT_COLUMNS``).

    Parameters
    ----------
    confirm : str or int, optional
        The plan's fingerprint or its number of changes; required when the plan says so.
    journal : Journal or path, optional
        Where to log the run; ``instantly_nb_runs/<plan id>.jsonl`` by default. Running the
        same plan with the same journal again resumes it.
    on_update : callable, optional
        Receives a ``RunEvent`` for every step and job poll.
    stop : object with ``is_set()``, optional
        When set, no further job is submitted (the running one finishes; Instantly cannot
        cancel it).
    """
    _check_confirmation(plan, confirm)
    aclient = resolve_async(plan.client)
    log = journal if isinstance(journal, Journal) else (
        Journal(journal) if journal is not None else Journal.for_plan(plan.id)
    )  # fmt: skip
    _clients[plan.id] = plan.client
    return await _Run(plan, aclient, log, on_update, stop, job_timeout, lock_timeout).run()


def _check_confirmation(plan: Plan, confirm: str | int | None) -> None:
    s = plan.summary
    if not s.needs_confirmation:
        return
    if confirm == plan.fingerprint or (isinstance(confirm, int) and confirm == s.change):
        return
    why = "touches every account of the workspace" if s.touches_every_account else (
        f"changes {s.change} accounts"
    )  # fmt: skip
    raise ConfirmationRequired(
        f"This plan {why}. Check plan.frame, then run execute(confirm={plan.fingerprint!r}) "
        f"or execute(confirm={s.change}).",
        count=s.change,
        fingerprint=plan.fingerprint,
    )


class _Run:
    def __init__(
        self,
        plan: Plan,
        client: AsyncInstantly,
        journal: Journal,
        on_update: Listener | None,
        stop: StopSignal | None,
        job_timeout: float,
        lock_timeout: float,
    ) -> None:
        self.plan, self.client, self.journal = plan, client, journal
        self.on_update, self.stop = on_update, stop
        self.job_timeout, self.lock_timeout = job_timeout, lock_timeout
        self.total = len(plan.planned)
        self.jobs: dict[int, Job] = {}
        self.durations = _Durations()
        self.sent_at: float | None = None  # when the job being waited for was submitted
        # The newest warmup job before this plan first sent anything (journalled, "fence").
        self.fence: str | None = None
        self.fenced = False
        self.ended = ""  # why the run stopped early, if it did
        self.verifier = Verifier(plan, client)

    def emit(
        self, kind: str, request: int | None = None, job: Job | None = None, message: str = ""
    ) -> None:
        if self.on_update is not None:
            self.on_update(RunEvent(kind, self.total, request, job, len(self.jobs), message))

    async def run(self) -> pd.DataFrame:
        replay = _Replay(self.journal, self.plan)
        if replay.results is not None:
            if not replay.done:  # a crash between "results" and "done": finish the journal
                self.journal.append("done")
            return _frame(replay.results, self.plan)
        self.fence, self.fenced = replay.fence, replay.fenced
        self.emit("started", message=f"{self.total} job(s)")
        self.verifier.start()
        try:
            return await self._run_jobs(replay)
        finally:
            await self.verifier.aclose()  # an error may have left the sweep waiting

    async def _run_jobs(self, replay: _Replay) -> pd.DataFrame:
        for i, planned in enumerate(self.plan.planned):
            if i in replay.finished:
                self.jobs[i] = replay.finished[i]
                self.durations.learn(len(planned.accounts), replay.finished[i])
                self.verifier.job_ended(i)
                continue
            if self.stop is not None and self.stop.is_set() and i not in replay.submitted:
                self.ended = "not submitted: the run was stopped"
                self.journal.append("stopped", request=i)
                self.emit("stopped", i, message="stopped before this job")
                break
            job_id = replay.submitted.get(i)
            if job_id is None and i in replay.sending:
                job_id = await self._reconcile(planned.request, replay.sending[i])
                self.journal.append("reconciled", request=i, job_id=job_id)
            if job_id is None:
                if planned.spec is not None and not await self._still_fresh(i, planned):
                    break
                job_id = await self._submit(i, planned.request)
            if not await self._wait(i, planned, job_id):
                break
        self.emit("verifying", message="re-reading accounts")
        frame = await self._verify()
        if not self.ended:
            self.journal.append("done")
        self.emit("finished", message=self.ended or "done")
        return frame

    async def _verify(self) -> pd.DataFrame:
        """Re-read the planned accounts; journal and return one verified row per email."""
        after = await self.verifier.finish()
        rows = _results(self.plan, self.jobs, after, self.ended)
        self.journal.append("results", rows=rows, complete=not self.ended)
        return _frame(rows, self.plan)

    async def _submit(self, i: int, request: WarmupRequest) -> str:
        if not self.fenced:
            await self._take_fence()
        clock = self.client.clock
        deadline = clock.now() + self.lock_timeout
        attempt = 0
        planned, again = self.plan.planned[i], False
        while True:
            if again and planned.spec is not None:
                # A lock can be waited out for minutes: the selection must still be the preview.
                await self._still_fresh(i, planned)
            again = True
            self.emit("submitting", i)
            self.journal.append("sending", request=i, body=request.body(), sent_at=clock.now())
            self.sent_at = clock.now()
            try:
                job = await self.client.submit_warmup(request)
            except ConflictError as exc:
                if not exc.is_warmup_lock or clock.now() >= deadline:
                    raise
                self.journal.append("refused", request=i, message=exc.message)
                delay = backoff_delay(attempt, base=1.0, cap=C.CONFLICT_BACKOFF_CAP)
                self.emit("waiting_lock", i, message="another warmup job is running")
                await clock.sleep(delay)
                attempt += 1
                continue
            except UncertainSubmitError as exc:
                self.journal.append("uncertain", request=i, message=str(exc))
                found = await self._reconcile(request, {"sent_at": exc.sent_at})
                self.journal.append("reconciled", request=i, job_id=found)
                if found is None:
                    continue  # nothing was created: sending again cannot duplicate
                job_id = found
            else:
                job_id = job.id
            self.journal.append("submitted", request=i, job_id=job_id)
            self.emit("submitted", i, message=job_id)
            return job_id

    async def _take_fence(self) -> None:
        """Note the newest warmup job before the plan's first submit, once, in the journal.

        A lost submit is then never matched to an older job with the same body (the same plan
        run and undone minutes ago): only jobs listed before the fence can be this plan's.
        """
        newest_first = self.client.list_jobs(type="update-warmup-accounts", limit=1)
        async with aclosing(newest_first) as jobs:
            newest = await anext(jobs, None)
        self.fence, self.fenced = (newest.id if newest is not None else None), True
        self.journal.append("fence", job_id=self.fence)

    async def _reconcile(self, request: WarmupRequest, sending: Mapping[str, Any]) -> str | None:
        """The job a lost submit created, if any: a recent warmup job echoing the same body."""
        since = float(sending.get("sent_at") or sending.get("at") or 0) - RECONCILE_WINDOW
        taken = {job.id for job in self.jobs.values()}
        for attempt in range(RECONCILE_TRIES):
            async with aclosing(self.client.list_jobs(type="update-warmup-accounts")) as jobs:
                async for job in jobs:
                    if self.fenced and job.id == self.fence:
                        break  # it and every job listed after it predate this plan
                    created = _epoch(job.created_at)
                    if created is not None and created < since:
                        break
                    if job.id not in taken and request.matches_job(job):
                        return job.id
            if attempt + 1 < RECONCILE_TRIES:
                await self.client.clock.sleep(1.0)
        return None

    async def _still_fresh(self, i: int, planned: PlannedRequest) -> bool:
        """Re-list a server-side selection just before sending it (the preview must hold)."""
        assert planned.spec is not None
        listed = [a async for a in self.client.list_accounts(**planned.spec.list_params())]
        now = {str(a["email"]).lower(): a for a in listed}
        problems = []
        # Selections may overlap (_cover.py): accounts an earlier job of this plan processed may
        # have left or joined a selection that depends on warmup state. That is the plan working.
        earlier = {a.lower() for p in self.plan.planned[:i] for a in p.accounts}
        added = set(now) - planned.members - earlier
        gone = planned.members - set(now) - earlier
        if added or gone:
            problems.append(f"{len(added)} account(s) joined and {len(gone)} left the selection")
        goal = planned.request.target_warmup_status
        frame = self.plan.frame
        changes = set(frame.loc[frame["action"] == "change", "email"].str.lower())
        expected = changes & {a.lower() for a in planned.accounts}
        excluded = {e.lower() for e in planned.request.excluded_emails}
        drifted = [
            k for k, a in now.items()
            if k not in expected and k not in excluded and a.get("warmup_status") != goal
        ]  # fmt: skip
        if drifted:
            problems.append(f"{len(drifted)} account(s) outside the preview would now change")
        if not problems:
            return True
        message = "The workspace changed since the plan was made: " + "; ".join(problems)
        self.journal.append("stale", request=i, message=message)
        self.ended = "not submitted: the selection changed since the preview"
        error = PlanStaleError(message + ". Make a new plan to see what would change now.")
        # What already ran is not lost: the error carries the verified results so far.
        error.results = await self._verify()
        self.emit("stale", i, message=message)
        raise error

    async def _wait(self, i: int, planned: PlannedRequest, job_id: str) -> bool:
        expected = self.durations.predict(len(planned.accounts))
        if expected is not None and self.sent_at is not None:
            # The job started when it was sent, not now: the submit's answer and the journal's
            # fsync came in between, and aiming later would notice its end that much later.
            expected = max(0.0, expected - (self.client.clock.now() - self.sent_at))
        self.sent_at = None
        try:
            job = await self.client.wait_job(
                job_id,
                timeout=self.job_timeout,
                expected_duration=expected,
                on_update=lambda j: self.emit("progress", i, j),
                raise_on_failure=False,
            )
        except JobTimeoutError as exc:
            self.journal.append("timeout", request=i, job_id=job_id, status=exc.job.status.value)
            self.ended = f"job {job_id} still {exc.job.status.value} at the deadline"
            self.jobs[i] = exc.job
            return False
        self.jobs[i] = job
        self.journal.append(
            "job", request=i, job_id=job.id, status=job.status.value, progress=job.progress,
            total=job.total_to_process, success_count=job.success_count,
            failed_count=job.failed_count, processed=job.processed_emails,
            created_at=job.created_at, updated_at=job.updated_at,
        )  # fmt: skip
        self.durations.learn(len(planned.accounts), job)
        self.verifier.job_ended(i)
        self.emit("job_done", i, job)
        return True


class _Replay:
    """What a journal says already happened to this plan."""

    def __init__(self, journal: Journal, plan: Plan) -> None:
        records = journal.records()
        if not records:
            journal.append("plan", **to_record(plan))
        elif records[0].get("plan_id") != plan.id:
            raise RequestValidationError(
                f"{journal.path} records another plan ({records[0].get('plan_id')}); "
                "give this run its own journal"
            )
        self.sending: dict[int, dict[str, Any]] = {}
        self.submitted: dict[int, str] = {}
        self.finished: dict[int, Job] = {}
        self.results: list[dict[str, Any]] | None = None
        self.done = False
        self.fence: str | None = None
        self.fenced = False
        for r in records:
            kind, i = r["kind"], int(r.get("request", -1))
            if kind == "sending":
                self.sending[i] = r
            elif kind == "refused":
                self.sending.pop(i, None)
            elif kind in ("submitted", "reconciled") and r.get("job_id"):
                self.submitted[i] = r["job_id"]
            elif kind == "reconciled":
                self.sending.pop(i, None)
            elif kind == "job":
                self.finished[i] = _job_from_record(r)
            elif kind == "results" and r.get("complete"):
                self.results = r["rows"]
            elif kind == "done":
                self.done = True
            elif kind == "fence" and not self.fenced:
                self.fence, self.fenced = r.get("job_id"), True


def _job_from_record(r: Mapping[str, Any]) -> Job:
    return Job.from_api(
        {"id": r["job_id"], "status": r["status"], "progress": r.get("progress", 0),
         "type": "update-warmup-accounts", "created_at": r.get("created_at", ""),
         "updated_at": r.get("updated_at", ""),
         "data": {"total_to_process": r.get("total"), "success_count": r.get("success_count"),
                  "failed_count": r.get("failed_count"),
                  "processed_emails": r.get("processed") or []}}
    )  # fmt: skip


def _results(
    plan: Plan, jobs: Mapping[int, Job], after: Mapping[str, int | None], ended: str
) -> list[dict[str, Any]]:
    goal = 0 if plan.action == "disable" else 1
    per_email: dict[str, dict[str, Any]] = {}
    for finished in jobs.values():
        for entry in finished.processed_emails:
            per_email[str(entry["email"]).lower()] = entry
    rows = []
    for row in plan.frame.astype(object).where(plan.frame.notna(), None).to_dict("records"):
        key = str(row["email"]).lower()
        now = after.get(key)
        out: dict[str, Any] = {"email": row["email"], "job_id": None, "before": row["before"],
                               "after": now, "error": None, "detail": row["reason"]}  # fmt: skip
        if row["action"] == "not_found":
            rows.append({**out, "after": None, "outcome": "not_found"})
            continue
        if row["action"] == "skip":
            rows.append({**out, "outcome": "skipped"})
            continue
        job = jobs.get(row["request"]) if row["request"] is not None else None
        if job is None:
            rows.append({**out, "outcome": "skipped", "detail": ended or "not submitted"})
            continue
        out["job_id"] = job.id
        entry = per_email.get(key) or {}
        if key not in after or now is None:
            rows.append({**out, "outcome": "failed", "error": "account no longer in the workspace"})
        elif now == goal:
            rows.append({**out, "outcome": "changed", "detail": f"warmup {_label(now)}"})
        elif entry.get("status") == "failed":
            rows.append({**out, "outcome": "failed", "error": str(entry.get("error") or "failed")})
        elif not job.is_terminal or job.status.value != "success":
            why = f"job {job.status.value}" + (
                f" ({ended})" if ended and not job.is_terminal else ""
            )
            rows.append({**out, "outcome": "failed", "error": why})
        elif now == row["before"]:
            rows.append({**out, "outcome": "unchanged",
                         "error": f"job succeeded but warmup is still {_label(now)}"})  # fmt: skip
        else:
            rows.append(
                {**out, "outcome": "failed", "error": f"warmup is {_label(now)} after the job"}
            )
    return rows


def _frame(rows: list[dict[str, Any]], plan: Plan) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(RESULT_COLUMNS)
    frame.attrs["instantly_nb"] = {"plan_id": plan.id, "action": plan.action}
    return frame


def _label(code: int | None) -> str:
    return WarmupStatus(code).label.lower() if code is not None else "unknown"


def _epoch(stamp: str) -> float | None:
    try:
        return float(pd.Timestamp(stamp).timestamp())
    except (ValueError, TypeError):
        return None


class _Durations:
    """Job duration as a + b * accounts, learned from this run's finished jobs (server clock)."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, float]] = []

    def learn(self, accounts: int, job: Job) -> None:
        start, end = _epoch(job.created_at), _epoch(job.updated_at)
        if start is not None and end is not None and end > start and job.status.value == "success":
            self.samples.append((accounts, end - start))

    def predict(self, accounts: int) -> float | None:
        if not self.samples:
            return None
        sizes = {n for n, _ in self.samples}
        if len(sizes) == 1:
            n, d = self.samples[-1]
            return d * accounts / n if n else d
        mean_n = sum(n for n, _ in self.samples) / len(self.samples)
        mean_d = sum(d for _, d in self.samples) / len(self.samples)
        cov = sum((n - mean_n) * (d - mean_d) for n, d in self.samples)
        var = sum((n - mean_n) ** 2 for n, _ in self.samples)
        slope = max(0.0, cov / var)
        return max(0.0, mean_d + slope * (accounts - mean_n))


def client_of_results(results: pd.DataFrame) -> Instantly | AsyncInstantly | None:
    """The client that produced ``results``, while it is alive (for ``undo(results)``)."""
    plan_id = results.attrs.get("instantly_nb", {}).get("plan_id")
    return _clients.get(plan_id) if plan_id else None
