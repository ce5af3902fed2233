"""The runner: submit a plan's requests one job at a time, watch them, verify, lose nothing.

Instantly runs one ``update-warmup-accounts`` job per workspace at a time and answers 409 while
one runs (docs/instantly-api.md §5.5), so requests go strictly in sequence. A job's ``success``
is not each account's (§5.2): the runner reads ``processed_emails`` and then re-reads the
accounts (verify.py). It runs a ``PlanRecord`` and never imports the planner.
Every step is journalled before it is taken, so a crash or kernel restart resumes without a
duplicate job: a submit whose answer was lost is looked up among recent jobs before anything is
sent again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import aclosing
from typing import Any

import pandas as pd

from . import _constants as C
from ._clock import epoch
from ._confirm import check_confirmation
from ._core import backoff_delay
from ._warmup import WarmupRequest
from .client import AsyncInstantly
from .errors import (
    ConflictError,
    JobTimeoutError,
    PlanStaleError,
    UncertainSubmitError,
)
from .events import EventKind, Listener, RunEvent, StopSignal
from .journal import Journal, Replay
from .models import Job
from .records import PlannedRequest, PlanRecord
from .results import results_frame, results_rows
from .sync_client import Client, async_client
from .verify import Verifier

__all__ = ["execute"]

# How far back to look for a job whose submit answer was lost; covers client/server clock skew.
RECONCILE_WINDOW = 300.0
RECONCILE_TRIES = 3


async def execute(
    client: Client,
    plan: PlanRecord,
    *,
    confirm: str | int | None = None,
    journal: Journal | str | os.PathLike[str] | None = None,
    on_update: Listener | None = None,
    stop: StopSignal | None = None,
    job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
    lock_timeout: float = C.DEFAULT_JOB_TIMEOUT,
) -> pd.DataFrame:
    """Carry out ``plan`` with ``client``: one result row per targeted email.

    The parameters are ``Plan.execute``'s; ``lock_timeout`` bounds the wait for another warmup
    job of the workspace to end (409).
    """
    check_confirmation(plan.summary, plan.fingerprint, confirm)
    aclient = async_client(client)
    log = journal if isinstance(journal, Journal) else (
        Journal(journal) if journal is not None else Journal.for_plan(plan.id)
    )  # fmt: skip
    return await _Run(plan, aclient, log, on_update, stop, job_timeout, lock_timeout).run()


class _Run:
    def __init__(
        self,
        plan: PlanRecord,
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
        self, kind: EventKind, request: int | None = None, job: Job | None = None, message: str = ""
    ) -> None:
        if self.on_update is not None:
            self.on_update(RunEvent(kind, self.total, request, job, len(self.jobs), message))

    async def run(self) -> pd.DataFrame:
        replay = self.journal.replay(self.plan)
        if replay.results is not None:
            if not replay.done:  # a crash between "results" and "done": finish the journal
                self.journal.done()
            return results_frame(replay.results, self.plan)
        self.fence, self.fenced = replay.fence, replay.fenced
        self.emit("started", message=f"{self.total} job(s)")
        self.verifier.start()
        try:
            return await self._run_jobs(replay)
        finally:
            await self.verifier.aclose()  # an error may have left the sweep waiting

    async def _run_jobs(self, replay: Replay) -> pd.DataFrame:
        for i, planned in enumerate(self.plan.planned):
            if i in replay.finished:
                self.jobs[i] = replay.finished[i]
                self.durations.learn(len(planned.accounts), replay.finished[i])
                self.verifier.job_ended(i)
                continue
            if self.stop is not None and self.stop.is_set() and i not in replay.submitted:
                self.ended = "not submitted: the run was stopped"
                self.journal.stopped(i)
                self.emit("stopped", i, message="stopped before this job")
                break
            job_id = replay.submitted.get(i)
            if job_id is None and i in replay.sending:
                job_id = await self._reconcile(planned.request, replay.sending[i])
                self.journal.reconciled(i, job_id)
            if job_id is None:
                if planned.spec is not None and not await self._still_fresh(i, planned):
                    break
                job_id = await self._submit(i, planned.request)
            if not await self._wait(i, planned, job_id):
                break
        self.emit("verifying", message="re-reading accounts")
        frame = await self._verify()
        if not self.ended:
            self.journal.done()
        self.emit("finished", message=self.ended or "done")
        return frame

    async def _verify(self) -> pd.DataFrame:
        """Re-read the planned accounts; journal and return one verified row per email."""
        after = await self.verifier.finish()
        rows = results_rows(self.plan, self.jobs, after, self.ended)
        self.journal.results(rows, complete=not self.ended)
        return results_frame(rows, self.plan)

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
            self.journal.sending(i, request.body(), sent_at=clock.now())
            self.sent_at = clock.now()
            try:
                job = await self.client.submit_warmup(request)
            except ConflictError as exc:
                if not exc.is_warmup_lock or clock.now() >= deadline:
                    raise
                self.journal.refused(i, exc.message)
                delay = backoff_delay(attempt, base=1.0, cap=C.CONFLICT_BACKOFF_CAP)
                self.emit("waiting_lock", i, message="another warmup job is running")
                await clock.sleep(delay)
                attempt += 1
                continue
            except UncertainSubmitError as exc:
                self.journal.uncertain(i, str(exc))
                found = await self._reconcile(request, {"sent_at": exc.sent_at})
                self.journal.reconciled(i, found)
                if found is None:
                    continue  # nothing was created: sending again cannot duplicate
                job_id = found
            else:
                job_id = job.id
            self.journal.submitted(i, job_id)
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
        self.journal.fence(self.fence)

    async def _reconcile(self, request: WarmupRequest, sending: Mapping[str, Any]) -> str | None:
        """The job a lost submit created, if any: a recent warmup job echoing the same body."""
        since = float(sending.get("sent_at") or sending.get("at") or 0) - RECONCILE_WINDOW
        taken = {job.id for job in self.jobs.values()}
        for attempt in range(RECONCILE_TRIES):
            async with aclosing(self.client.list_jobs(type="update-warmup-accounts")) as jobs:
                async for job in jobs:
                    if self.fenced and job.id == self.fence:
                        break  # it and every job listed after it predate this plan
                    created = epoch(job.created_at)
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
        self.journal.stale(i, message)
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
            self.journal.timeout(i, exc.job)
            self.ended = f"job {job_id} still {exc.job.status.value} at the deadline"
            self.jobs[i] = exc.job
            return False
        self.jobs[i] = job
        self.journal.job(i, job)
        self.durations.learn(len(planned.accounts), job)
        self.verifier.job_ended(i)
        self.emit("job_done", i, job)
        return True


class _Durations:
    """Job duration as a + b * accounts, learned from this run's finished jobs (server clock)."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, float]] = []

    def learn(self, accounts: int, job: Job) -> None:
        start, end = epoch(job.created_at), epoch(job.updated_at)
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
