"""Verification alongside the jobs: pages read early, never trusted before their job ended."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import pytest
from helpers import (
    Crash,
    CrashingJournal,
    assert_results_match_the_workspace,
    states,
    warmup_jobs,
    workspace,
)

from instantly_nb._demo import DEMO_BASE_URL, DemoInstantly
from instantly_nb.client import AsyncInstantly
from instantly_nb.frames import read_accounts
from instantly_nb.planner import plan_disable
from instantly_nb.testing import ConcurrentClock, demo
from instantly_nb.verify import Verifier

PAUSED = "ACC_FILTER_W_PAUSED"
ERROR = "ACC_FILTER_W_ERROR"


def _job_ends(client: DemoInstantly) -> list[float]:
    return sorted(pd.Timestamp(j["updated_at"]).timestamp() for j in warmup_jobs(client))


def _state_pages(client: DemoInstantly, account_filter: str) -> list[float]:
    """When each page listing accounts in one warmup state was asked for."""
    return [
        r.at
        for r in client.emulator.log
        if r.method == "GET" and r.path == "/api/v2/accounts" and account_filter in r.query
    ]


def _assert_verified(client: DemoInstantly, results: pd.DataFrame) -> None:
    assert_results_match_the_workspace(client, results)
    for row in results.itertuples():
        assert row.outcome == ("changed" if row.after == 0 else "failed"), row


def _not_paused(client: DemoInstantly, n: int) -> list[str]:
    frame = read_accounts(client)
    return frame[frame["warmup_status"] != 0].sample(n, random_state=5)["email"].tolist()


def test_accounts_are_verified_while_later_jobs_run() -> None:
    client = workspace(negative_warmup="fail")  # targets in error stay there
    emails = _not_paused(client, 450)
    plan = plan_disable(client, emails)
    start = len(client.emulator.log)
    results = plan.execute(progress=False)
    _assert_verified(client, results)
    ends = _job_ends(client)
    assert len(ends) == 5
    pages = _state_pages(client, PAUSED)
    paused_now = sum(code == 0 for code in states(client).values())
    # One pass over the paused accounts, no page of it before the first job ended, and at
    # most the last job's share of it after the last job ended.
    assert len(pages) <= paused_now // 100 + 2
    assert min(pages) >= ends[0]
    assert sum(at > ends[-1] for at in pages) <= 3
    # The targets in error are read with one listing of that state, after the last job.
    errors = _state_pages(client, ERROR)
    assert errors and min(errors) > ends[-1]
    assert len(errors) <= sum(code < 0 for code in states(client).values()) // 100 + 2
    # Nothing else was read for verification: no second pass, no account one by one.
    reads = [r for r in client.emulator.log[start:] if r.path.startswith("/api/v2/accounts")]
    assert len([r for r in reads if r.method == "GET"]) == len(pages) + len(errors)


def test_each_next_job_is_sent_before_the_ended_one_is_re_read() -> None:
    # A hand-over waits on nothing but the submit: the re-reading of a job's accounts starts
    # once the next job is sent, and runs while it does (many workspaces hand over at once, on
    # one thread). Each submit is answered a second late, to show what waits for what; the
    # clock lets every task that is ready run before time moves on, as real time does.
    client = demo(1200, 7, negative_warmup="fail", clock=ConcurrentClock())
    plan = plan_disable(client, _not_paused(client, 450))
    client.emulator.faults.delay("POST /api/v2/accounts/warmup/disable", 1.0, times=5)
    start = len(client.emulator.log)
    results = plan.execute(progress=False)
    _assert_verified(client, results)
    log = client.emulator.log[start:]
    answered = [r.at + 1.0 for r in log if r.method == "POST" and "/warmup/" in r.path]
    sweep = _state_pages(client, PAUSED)
    assert len(answered) == 5 and sweep
    ends = _job_ends(client)
    for ended, next_answered in zip(ends, answered[1:], strict=False):
        read = [at for at in sweep if at >= ended]
        assert not read or min(read) >= next_answered  # not while the next submit was out
    assert min(sweep) < ends[-1]  # still alongside the jobs, not all after them


def test_without_pacing_every_target_is_read_again_after_the_jobs(monkeypatch: Any) -> None:
    # The sweep lists every page while the first job runs: nothing there counts, and the
    # results still match the workspace.
    monkeypatch.setattr(Verifier, "paced", False)
    client = workspace()
    emails = _not_paused(client, 300)
    results = plan_disable(client, emails).execute(progress=False)
    ends = _job_ends(client)
    pages = _state_pages(client, PAUSED)
    assert min(pages) < ends[0]  # the early reads did happen
    assert max(pages) > ends[-1]  # and the goal state was read again at the end
    _assert_verified(client, results)
    # negative_warmup="change": the error-state targets were paused by their jobs too.
    assert (results["after"] == 0).sum() == len(emails)


def test_a_read_counts_only_after_the_accounts_job_ended() -> None:
    client = workspace()
    plan = plan_disable(client, _not_paused(client, 150))
    reactivated = plan.planned[1].accounts[0]
    for planned in plan.planned:
        for email in planned.accounts:
            client.emulator.set_warmup_status(email, 0)  # as if the jobs had paused them all

    async def main() -> tuple[set[str], dict[str, int | None]]:
        emulator = client.emulator
        async with AsyncInstantly(
            emulator.api_key, base_url=DEMO_BASE_URL, transport=emulator.transport(),
            clock=emulator.clock,
        ) as aclient:  # fmt: skip
            verifier = Verifier(plan, aclient)
            verifier.paced = False
            verifier.start()
            verifier.job_ended(0)
            for _ in range(1000):  # the sweep lists every page while job 1 "runs"
                if verifier.swept:
                    break
                await asyncio.sleep(0)
            assert verifier.swept
            early = set(verifier.after)
            # Instantly may still change job 1's accounts before it ends (it can re-enable
            # warmup on its own, docs/instantly-api.md §5.6): what was listed early must not count.
            emulator.set_warmup_status(reactivated, 1)
            verifier.job_ended(1)
            return early, await verifier.finish()

    early, after = asyncio.run(main())
    assert early == {e.lower() for e in plan.planned[0].accounts}
    assert after[reactivated.lower()] == 1
    assert sum(code == 0 for code in after.values()) == len(after) - 1


@pytest.mark.parametrize("small", [True, False])
def test_a_run_stopped_early_verifies_what_ran_and_nothing_hangs(small: bool) -> None:
    client = workspace()
    emails = _not_paused(client, 15 if small else 300)

    class AfterFirstJob:
        def __init__(self) -> None:
            self.jobs = 0

        def is_set(self) -> bool:
            return self.jobs >= 1

    stop = AfterFirstJob()

    def count(event: Any) -> None:
        stop.jobs += event.kind == "job_done"

    results = plan_disable(client, emails).execute(stop=stop, on_update=count)
    assert_results_match_the_workspace(client, results)
    ran = results["job_id"].notna()
    assert (results.loc[ran, "outcome"] == "changed").all()
    assert (results.loc[~ran, "outcome"] == "not_submitted").all()
    assert ran.sum() == min(100, len(emails))


def test_a_run_that_raises_leaves_no_sweep_behind(monkeypatch: Any, tmp_path: Any) -> None:
    sweeps: list[asyncio.Task[None] | None] = []
    start = Verifier.start

    def recording_start(self: Verifier) -> None:
        start(self)
        sweeps.append(self.sweep)

    monkeypatch.setattr(Verifier, "start", recording_start)
    client = workspace()
    plan = plan_disable(client, _not_paused(client, 300))
    journal = CrashingJournal(tmp_path / "run.jsonl", "sending", 2)  # dies before job 1
    with pytest.raises(Crash):
        plan.execute(journal=journal, progress=False)
    (task,) = sweeps
    assert task is not None and task.cancelled()
