"""Verification alongside the jobs: pages read early, never trusted before their job ended."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from helpers import states, warmup_jobs, workspace

from instantly_nb._demo import DemoInstantly
from instantly_nb.frames import read_accounts
from instantly_nb.plan import plan_disable
from instantly_nb.run_verify import Verifier

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
    now = states(client)
    for row in results.itertuples():
        assert now[str(row.email)] == row.after, row
        assert row.outcome == ("changed" if row.after == 0 else "failed"), row


def _not_paused(client: DemoInstantly, n: int) -> list[str]:
    frame = read_accounts(client)
    return frame[frame["warmup_status"] != 0].sample(n, random_state=5)["email"].tolist()


def test_accounts_are_verified_while_later_jobs_run() -> None:
    client = workspace()
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
    # Nothing else was read for verification: no second pass, no account one by one.
    reads = [r for r in client.emulator.log[start:] if r.path.startswith("/api/v2/accounts")]
    assert len([r for r in reads if r.method == "GET"]) == len(pages) + len(
        _state_pages(client, ERROR)
    )


def test_pages_read_before_a_job_ended_are_read_again(monkeypatch: Any) -> None:
    # Without pacing, the sweeps list every page while the first job runs: the error-state
    # targets show their old status there, and the run must not report it.
    async def no_pacing(self: Verifier, frontier: int) -> None:
        return None

    monkeypatch.setattr(Verifier, "_pace", no_pacing)
    client = workspace()
    emails = _not_paused(client, 300)
    plan = plan_disable(client, emails)
    errors_before = int((plan.frame["before"] < 0).sum())
    assert errors_before > 0
    results = plan.execute(progress=False)
    ends = _job_ends(client)
    assert min(_state_pages(client, ERROR)) < ends[0]  # the early reads did happen
    _assert_verified(client, results)
    # negative_warmup="change": the error-state targets were paused by their jobs.
    assert (results["after"] == 0).sum() == len(emails)


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
    now = states(client)
    for row in results.itertuples():
        assert now[str(row.email)] == row.after, row
    ran = results["job_id"].notna()
    assert (results.loc[ran, "outcome"] == "changed").all()
    assert (results.loc[~ran, "outcome"] == "skipped").all()
    assert ran.sum() == min(100, len(emails))
