"""The runner: submit a plan's requests one job at a time, watch them, verify, lose nothing.

Instantly runs one ``update-warmup-accounts`` job per workspace at a time and answers 409 while
one runs (docs/instantly-api.md §5.5), so requests go strictly in sequence. A job's ``success``
is not each account's (§5.2): the runner reads ``processed_emails`` and then re-reads the
accounts (verify.py). It runs a ``PlanRecord`` and never imports the planner.
Every step is journalled before it is taken, so a crash or kernel restart resumes without a
duplicate job: a submit whose answer was lost is looked up among recent jobs (reconcile.py),
and a server-side job is audited once it ends (audit.py), against what other jobs of the
workspace did meanwhile. Whatever ends a run early (a stop, an odd answer, an uncertain submit,
an unplanned change), it ends with a row for every email.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import _constants as C
from ._clock import epoch
from ._confirm import check_confirmation
from ._core import backoff_delay
from ._warmup import WarmupRequest
from .audit import audit_job, left_by
from .client import AsyncInstantly
from .errors import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
    ConnectionFailed,
    InstantlyError,
    JobTimeoutError,
    PaymentRequiredError,
    PermissionDeniedError,
    PlanStaleError,
    RequestValidationError,
    ServerError,
    UncertainSubmitError,
)
from .events import EventKind, Listener, RunEnd, RunEvent, StopSignal
from .journal import Journal, Replay
from .lookup import current_workspace
from .models import Job
from .reconcile import Reconciler
from .records import PlannedRequest, PlanRecord
from .results import RunState, results_frame, results_rows
from .sync_client import Client, async_client
from .verify import Verifier

__all__ = ["execute"]

log = logging.getLogger("instantly_nb")


# Answers that say the key or the workspace cannot do this at all (docs/instantly-api.md §2.2).
_REFUSALS = (AuthenticationError, PaymentRequiredError, PermissionDeniedError)
# ... and those, or a connection that never opened, before any job exists: said plainly (raised),
# as there is nothing sent to report row by row.
_UNREACHABLE = (*_REFUSALS, ConnectionFailed)


class _EndRun(Exception):
    """Ends the run early: nothing further is sent, every email still gets its row."""


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
    workspace: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Carry out ``plan`` with ``client``: one result row per targeted email.

    The parameters are ``Plan.execute``'s; ``lock_timeout`` bounds the wait for another warmup
    job of the workspace to end (409). ``workspace`` (``id``, ``name``) is the workspace the
    client acts on, when the caller has read it already (a fleet checks each member's): a key
    acts on one workspace for good, so it is not read again.
    """
    check_confirmation(plan.summary, plan.fingerprint, confirm)
    aclient = async_client(client)
    chosen = Journal.choose(journal, plan.id, plan.journal_path)
    plan.journal_path = chosen.path.resolve()
    return await _Run(
        plan, aclient, chosen, on_update, stop, job_timeout, lock_timeout, workspace
    ).run()


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
        workspace: Mapping[str, Any] | None = None,
    ) -> None:
        self.plan, self.client, self.journal = plan, client, journal
        self.on_update, self.stop = on_update, stop
        self.job_timeout, self.lock_timeout = job_timeout, lock_timeout
        self.total = len(plan.planned)
        self.state = RunState()
        self.durations = _Durations()
        self.sent_at: float | None = None  # when the job being waited for was submitted
        self.reconciler = Reconciler(client, journal)
        self.verifier = Verifier(plan, client)
        # Jobs ended whose accounts the verifier may re-read once the next job is sent: the
        # next job starts first, and its wait is when the re-reading happens (verify.py).
        self.to_verify: list[int] = []
        self.previewed = {str(e).lower() for e in plan.frame["email"]}
        self.made_job = False  # whether a job of this run exists yet
        self.latest: dict[str, int | None] = {}  # the newest snapshot (_snapshot)
        # per server-side request: what other jobs left accounts in before its job ran
        self.others: dict[int, dict[str, tuple[int | None, str]]] = {}
        self.workspace = dict(workspace or {})  # id and name, when known before the run

    @property
    def jobs(self) -> dict[int, Job]:
        return self.state.jobs

    def emit(
        self,
        kind: EventKind,
        request: int | None = None,
        job: Job | None = None,
        message: str = "",
        end: RunEnd | None = None,
    ) -> None:
        if self.on_update is not None:
            self.on_update(RunEvent(kind, self.total, request, job, len(self.jobs), message, end))

    async def run(self) -> pd.DataFrame:
        replay = self.journal.replay(self.plan)
        await self._check_workspace(replay)
        if replay.results is not None:
            if not replay.done:  # a crash between "results" and "done": finish the journal
                self.journal.done()
            return results_frame(replay.results, self.plan, journal=self._journal_name)
        self.reconciler.fence, self.reconciler.fenced = replay.fence, replay.fenced
        self.others = dict(replay.others)
        for states in replay.snapshots:
            self._remember(states)
        self.emit("started", message=f"{self.total} job(s)")
        self.verifier.start()
        try:
            try:
                await self._run_jobs(replay)
            except _EndRun as end:
                self.state.ended = str(end)
            except InstantlyError as exc:
                if isinstance(exc, PlanStaleError):
                    raise
                if isinstance(exc, _UNREACHABLE) and not (replay.submitted or self.made_job):
                    raise  # the workspace cannot do this or be reached, and no job exists
                # An answer the run cannot go on from (a refusal, a long rate limit, an odd
                # body): what was sent is verified, what was not is reported, nothing is lost.
                self.state.ended = f"ended early by an error: {exc}"
                self.journal.error(str(exc))
            return await self._finish()
        finally:
            await self.verifier.aclose()  # an error may have left the sweep waiting

    async def _check_workspace(self, replay: Replay) -> None:
        """Journal the workspace this run acts on; refuse a journal of another workspace."""
        # Without that scope ({}), the base URL still names the place.
        workspace = self.workspace or await current_workspace(self.client)
        here = {"id": workspace.get("id"), "name": workspace.get("name"),
                "base_url": self.client.base_url}  # fmt: skip
        if replay.workspace is None:
            self.journal.workspace(here)
            return
        there = replay.workspace
        same_id = there.get("id") == here["id"] or None in (there.get("id"), here["id"])
        if not same_id or there.get("base_url") != here["base_url"]:
            raise RequestValidationError(
                f"{self.journal.path} records a run on workspace {there.get('name')!r} "
                f"({there.get('id')}, {there.get('base_url')}); this client acts on "
                f"{here['name']!r} ({here['id']}, {here['base_url']}): resume it with a client "
                "of that workspace"
            )

    async def _run_jobs(self, replay: Replay) -> None:
        for i, planned in enumerate(self.plan.planned):
            if i in replay.finished:
                self._ended(i, planned, replay.finished[i])
                # Told again, so a resumed run's progress counts the jobs done before it.
                self.emit("job_done", i, replay.finished[i])
                continue
            if self.stop is not None and self.stop.is_set() and i not in replay.submitted:
                why = f"stopped: {self.total - i} job(s) not submitted"
                self.journal.stopped(i, why)
                self.emit("stopped", i, message="stopped before this job")
                self.state.stopped = True
                raise _EndRun(why)
            job_id = replay.submitted.get(i)
            if job_id is None and i in replay.sending:
                sent = replay.sending[i]
                waited = self.client.clock.now() - float(sent.get("sent_at") or sent["at"])
                job_id = await self._reconcile(i, planned.request, waited, resumed=True)
            if job_id is None:
                if planned.spec is not None:
                    await self._still_fresh(i, planned)
                job_id = await self._submit(i, planned.request)
            await self._wait(i, planned, job_id)

    async def _finish(self) -> pd.DataFrame:
        self.emit("verifying", message="re-reading accounts")
        frame = await self._verify()
        if not self.state.ended:
            self.journal.done()
        else:
            log.warning("the run ended early: %s", self.state.ended)
        self.emit("finished", message=self.state.ended or "done", end=self.state.end)
        return frame

    def _verify_ended(self) -> None:
        """Let the verifier re-read the accounts of the jobs ended so far."""
        for i in self.to_verify:
            self.verifier.job_ended(i)
        self.to_verify.clear()

    async def _verify(self) -> pd.DataFrame:
        """Re-read the planned accounts; journal and return one verified row per email."""
        self._verify_ended()
        self.verifier.also_read(list(self.state.unplanned))
        try:
            self.state.after = await self.verifier.finish()
        except InstantlyError as exc:
            # What was read stands; the rest says why it is unknown, and the journal stays
            # open, so resuming the run reads those accounts again.
            self.state.after = dict(self.verifier.after)
            self.state.unverified = str(exc)
            self.state.ended = self.state.ended or f"verification incomplete: {exc}"
        rows = results_rows(self.plan, self.state)
        self.journal.results(rows, complete=not self.state.ended)
        return results_frame(rows, self.plan, self.state, self._journal_name)

    @property
    def _journal_name(self) -> str:
        """Where the journal is, for ``resume``: absolute, since the working directory may move."""
        return str(self.journal.path.resolve())

    async def _submit(self, i: int, request: WarmupRequest) -> str:
        await self.reconciler.take_fence()
        clock = self.client.clock
        deadline = clock.now() + self.lock_timeout
        attempt = 0
        planned, again = self.plan.planned[i], False
        while True:
            if again and planned.spec is not None:
                # A lock can be waited out for minutes: the selection must still be the preview.
                await self._still_fresh(i, planned)
            if planned.spec is not None:
                await self._snapshot()
            again = True
            self.emit("submitting", i)
            self.journal.sending(i, request.body(), sent_at=clock.now())
            self.sent_at = clock.now()
            try:
                try:
                    job = await self.client.submit_warmup(request)
                finally:
                    self._verify_ended()
            except ConflictError as exc:
                self.journal.refused(i, exc.message)
                if not exc.is_warmup_lock or clock.now() >= deadline:
                    raise
                delay = backoff_delay(attempt, base=1.0, cap=C.CONFLICT_BACKOFF_CAP)
                self.emit("waiting_lock", i, message="another warmup job is running")
                await clock.sleep(delay)
                attempt += 1
                continue
            except UncertainSubmitError as exc:
                self.journal.uncertain(i, str(exc))
                job_id = await self._reconcile(i, request, clock.now() - exc.sent_at)
                assert job_id is not None  # else _reconcile ended the run
            except (APIStatusError, ConnectionFailed) as exc:
                # Any other answer refused the request, and a connection that never opened sent
                # nothing (a 5xx is uncertain, above): no job exists, a resume sends it at once.
                if not isinstance(exc, ServerError):
                    self.journal.refused(i, str(exc))
                raise
            else:
                job_id = job.id
            self.journal.submitted(i, job_id)
            self.made_job = True
            self.emit("submitted", i, message=job_id)
            return job_id

    async def _snapshot(self) -> None:
        """Read every account's warmup state just before a server-side job is sent.

        The job's audit needs to know what an account it processed outside the preview was
        before: one already in the goal state was not changed, and undo must know what to put
        back. The states are journalled, so a resumed run audits with them too.
        """
        states = {
            str(a["email"]).lower(): a.get("warmup_status")
            async for a in self.client.list_accounts()
        }
        self.journal.snapshot(states)
        self._remember(states)

    def _remember(self, states: dict[str, int | None]) -> None:
        """The newest snapshot audits the next job; the first state seen of each account is
        what the results call its state before the run."""
        self.latest = states
        for key, status in states.items():
            self.state.before_jobs.setdefault(key, status)

    async def _reconcile(
        self, i: int, request: WarmupRequest, waited: float, resumed: bool = False
    ) -> str | None:
        """The job behind request ``i``'s lost answer; the run ends if none appears in time.

        A resumed run whose request has waited past the grace may send it again (None): by
        then a late POST cannot arrive any more, and the user chose to resume.
        """
        taken = {job.id for job in self.jobs.values()}
        found = await self.reconciler.wait_for(request, taken, waited)
        self.journal.reconciled(i, found)
        if found is None and not (resumed and waited >= C.RECONCILE_GRACE):
            why = (
                f"request #{i + 1} was sent but its answer was lost, and no job echoing it "
                f"appeared within {C.RECONCILE_GRACE:.0f}s; it may still run. Check "
                "read_jobs(client), then resume(client, journal) to send what is left"
            )
            self.state.uncertain[i] = why
            raise _EndRun(f"uncertain: {why}")
        return found

    async def _still_fresh(self, i: int, planned: PlannedRequest) -> None:
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
            return
        message = "The workspace changed since the plan was made: " + "; ".join(problems)
        self.journal.stale(i, message)
        self.state.ended = "not submitted: the selection changed since the preview"
        self.state.stale = True
        error = PlanStaleError(message + ". Make a new plan to see what would change now.")
        # What already ran is not lost: the error carries the verified results so far.
        error.results = await self._verify()
        self.emit("stale", i, message=message)
        raise error

    async def _wait(self, i: int, planned: PlannedRequest, job_id: str) -> None:
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
            self.jobs[i] = exc.job
            raise _EndRun(f"job {job_id} still {exc.job.status.value} at the deadline") from None
        if planned.spec is not None:
            await self._others_before(i, job)
        self.journal.job(i, job)
        self._ended(i, planned, job)
        self.emit("job_done", i, job)

    async def _others_before(self, i: int, job: Job) -> None:
        """Note what other warmup jobs, made since this plan's previous job, left accounts in.

        The server resolves a selection when its job starts. Another notebook's job may end in
        between (this request held in transit): the audit must compare with what it left.
        """
        ours = {j.id for j in self.jobs.values()}
        left = left_by(await self.reconciler.others_before(job.id, ours))
        if left:
            self.journal.others(i, left)
        self.others[i] = left

    def _ended(self, i: int, planned: PlannedRequest, job: Job) -> None:
        """A job ended (now, or before a resume): learn from it, verify it, audit it."""
        self.jobs[i] = job
        self.durations.learn(len(planned.accounts), job)
        self.to_verify.append(i)
        if planned.spec is None:
            return
        goal = planned.request.target_warmup_status
        left = self.others.get(i, {})
        meanwhile = {email: status for email, (status, _) in left.items()}
        audit = audit_job(planned, job, self.previewed, self.latest, goal, meanwhile)
        for email in (*audit.unplanned, *audit.reverted):
            self.state.unplanned[email] = job.id
            if email.lower() in left:  # its state just before this job: another job's doing
                self.state.before_jobs[email.lower()] = meanwhile[email.lower()]
                self.state.meanwhile[email.lower()] = left[email.lower()][1]
        if not audit.clean:
            raise _EndRun(
                f"ended early: {audit.describe()}; they are in the results as 'unplanned' and "
                "undo(client, results) restores them. Nothing further was sent."
            )


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
