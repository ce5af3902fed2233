"""Whole runs under the faults of the audit (issue 13, part 2): plan -> execute -> results.

Each test drives a plan through the runner against the emulated workspace with one fault of the
audit, and checks the workspace itself: how many jobs exist, what each account is now, and that
the results frame says so, one row per email.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import (
    Crash,
    CrashingJournal,
    assert_results_match_the_workspace,
    posts,
    states,
    warmup_jobs,
    workspace,
)

from instantly_nb import RequestValidationError
from instantly_nb import _constants as C
from instantly_nb._demo import DEMO_BASE_URL, DemoInstantly
from instantly_nb.events import RunEvent
from instantly_nb.planner import plan_disable, plan_enable
from instantly_nb.targets import Selection
from instantly_nb.testing import VirtualClock
from instantly_nb.undo import resume, undo

POSTS = ("POST", "/api/v2/accounts/warmup/*")


def _active(client: DemoInstantly, n: int) -> list[str]:
    return [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1][:n]


def _other_client(client: DemoInstantly, clock: Any = None) -> DemoInstantly:
    """A second client of the same emulated workspace (another notebook, or another clock)."""
    emulator = client.emulator
    other = DemoInstantly(
        emulator.api_key, base_url=DEMO_BASE_URL, transport=emulator.transport(),
        clock=clock or emulator.clock,
    )  # fmt: skip
    other.emulator = emulator
    return other


class _Ahead:
    """A client clock ``offset`` seconds ahead of the server's, sleeping on the same time."""

    def __init__(self, clock: VirtualClock, offset: float) -> None:
        self.clock, self.offset = clock, offset

    def now(self) -> float:
        return self.clock.now() + self.offset

    async def sleep(self, seconds: float) -> None:
        await self.clock.sleep(seconds)


def _assert_verified(client: DemoInstantly, results: pd.DataFrame, emails: list[str]) -> None:
    """One row per email, every one changed, each row's ``after`` what the workspace says."""
    assert sorted(results["email"]) == sorted(emails)
    assert Counter(results["outcome"]) == {"changed": len(emails)}
    assert results.attrs["instantly_nb"]["ended"] == ""
    assert_results_match_the_workspace(client, results)


def _jobs_sent_with(client: DemoInstantly, emails: list[str]) -> list[dict[str, Any]]:
    """The warmup jobs whose body named exactly these emails."""
    wanted = sorted(e.lower() for e in emails)
    return [j for j in warmup_jobs(client)
            if sorted(e.lower() for e in j["data"]["filters"].get("emails") or []) == wanted]  # fmt: skip


# --- 1-3: a POST whose answer is lost, late or unreadable ------------------------------------


def test_a_post_delivered_8s_late_makes_exactly_one_job() -> None:
    client = workspace(300)
    emails = _active(client, 10)
    plan = plan_disable(client, emails)
    client.emulator.faults.late_submit(seconds=8)
    results = plan.execute(progress=False)
    assert len(_jobs_sent_with(client, emails)) == 1 == len(warmup_jobs(client))
    assert [r.fault for r in posts(client)] == ["late_submit", "late_submit"]  # sent, delivered
    _assert_verified(client, results, emails)


def test_a_client_clock_6_minutes_ahead_does_not_resend_a_lost_post() -> None:
    home = workspace(300)
    clock = home.emulator.clock
    assert isinstance(clock, VirtualClock)
    client = _other_client(home, clock=_Ahead(clock, 360.0))
    emails = _active(home, 150)
    plan = plan_disable(client, emails)
    home.emulator.faults.drop(POSTS)  # processed, answer lost
    results = plan.execute(progress=False)
    assert len(posts(home)) == 2 == len(warmup_jobs(home))  # one POST per request, none resent
    _assert_verified(home, results, emails)


@pytest.mark.parametrize(
    "fault",
    [lambda f: f.missing_id(), lambda f: f.garbled(POSTS, kind="html"),
     lambda f: f.garbled(POSTS, kind="truncated")],
    ids=["200 without id", "200 html", "200 cut short"],
)  # fmt: skip
def test_an_unreadable_200_to_a_post_is_reconciled_to_its_job(fault: Any) -> None:
    client = workspace(300)
    emails = _active(client, 40)
    plan = plan_disable(client, emails)
    fault(client.emulator.faults)
    results = plan.execute(progress=False)
    (job,) = warmup_jobs(client)
    assert len(posts(client)) == 1
    assert set(results["job_id"]) == {job["id"]}
    _assert_verified(client, results, emails)


# --- 4-5: answers a run cannot go on from, and one it can ------------------------------------


def test_a_429_with_retry_after_300_on_a_post_ends_the_run_with_results(tmp_path: Path) -> None:
    client = workspace(600)
    emails = _active(client, 250)
    plan = plan_disable(client, emails)
    path = tmp_path / "run.jsonl"

    def refuse_the_second(event: RunEvent) -> None:
        if event.kind == "job_done" and event.request == 0:
            client.emulator.faults.rate_limited(POSTS, retry_after=300)

    results = plan.execute(journal=path, on_update=refuse_the_second, progress=False)
    assert Counter(results["outcome"]) == {"changed": 100, "not_submitted": 150}
    unsent = results[results["outcome"] == "not_submitted"]
    assert "429" in results.attrs["instantly_nb"]["ended"]
    assert "wait 5 min" in unsent["detail"].iloc[0]
    assert len(warmup_jobs(client)) == 1
    first_job = warmup_jobs(client)[0]["id"]
    # A refused POST made nothing: resuming sends exactly the two requests never sent, at once.
    client.emulator.clock.advance(300)
    refused_at = len(posts(client))
    again = resume(client, path)
    assert len(posts(client)) == refused_at + 2
    later = [j for j in warmup_jobs(client) if j["id"] != first_job]
    assert len(later) == 2
    sent = {e.lower() for j in later for e in j["data"]["filters"]["emails"]}
    assert sent == set(unsent["email"].str.lower())
    _assert_verified(client, again, emails)


def test_a_429_with_retry_after_300_on_the_first_post_is_resumable_at_once(
    tmp_path: Path,
) -> None:
    client = workspace(300)
    emails = _active(client, 30)
    plan = plan_disable(client, emails)
    client.emulator.faults.rate_limited(POSTS, retry_after=300)
    path = tmp_path / "run.jsonl"
    results = plan.execute(journal=path, progress=False)
    assert Counter(results["outcome"]) == {"not_submitted": 30}
    assert warmup_jobs(client) == []
    start = client.emulator.clock.now()
    again = resume(client, path)
    # The 429 said nothing was created: no wait for a late job that cannot exist.
    assert client.emulator.clock.now() - start < C.RECONCILE_GRACE
    assert len(warmup_jobs(client)) == 1
    _assert_verified(client, again, emails)


def test_a_job_not_yet_visible_on_its_first_poll_is_watched_to_its_end() -> None:
    client = workspace(600)
    emails = _active(client, 250)
    plan = plan_disable(client, emails)
    client.emulator.faults.vanishing_job(times=3)
    results = plan.execute(progress=False)
    vanished = [r for r in client.emulator.log if r.fault == "vanishing_job"]
    assert len(vanished) == 3 and all(r.status == 404 for r in vanished)
    assert len(warmup_jobs(client)) == 3
    _assert_verified(client, results, emails)


# --- 6-7: a journal acts on one workspace, a plan runs under one journal ---------------------


def test_resume_on_another_workspace_is_refused_before_any_post(tmp_path: Path) -> None:
    a = workspace(300)
    emails = _active(a, 250)
    path = tmp_path / "a.jsonl"
    with pytest.raises(Crash):
        plan_disable(a, emails).execute(journal=CrashingJournal(path, "submitted", 2))
    # A copy of A's workspace under another id: the same accounts, so the plan would "work".
    b = workspace(300, workspace_id="00000000-0000-4000-8000-00000000000b")
    assert set(states(b)) == set(states(a)) and b.emulator.workspace_id != a.emulator.workspace_id
    with pytest.raises(RequestValidationError, match="resume it with a client of that workspace"):
        resume(b, path)
    assert posts(b) == []
    assert len(warmup_jobs(b)) == 0


def test_the_same_plan_under_a_second_journal_is_refused(tmp_path: Path) -> None:
    client = workspace(300)
    plan = plan_disable(client, _active(client, 150))
    first = plan.execute(journal=tmp_path / "one.jsonl", progress=False)
    sent = len(posts(client))
    with pytest.raises(RequestValidationError, match="already ran with the journal"):
        plan.execute(journal=tmp_path / "two.jsonl", progress=False)
    with pytest.raises(RequestValidationError, match="already ran with the journal"):
        plan.execute(progress=False)  # the default journal is a second journal too
    assert len(posts(client)) == sent == 2
    again = plan.execute(journal=tmp_path / "one.jsonl", progress=False)
    pd.testing.assert_frame_equal(again, first)
    assert len(posts(client)) == 2


# --- 8: undo after a late original -----------------------------------------------------------


def test_undo_after_a_late_original_leaves_the_workspace_as_before() -> None:
    client = workspace(300)
    before = states(client)
    emails = _active(client, 10)
    plan = plan_disable(client, emails)
    client.emulator.faults.late_submit(seconds=8)
    results = plan.execute(progress=False)
    back = undo(client, results)
    reenabled = back.execute(confirm=back.fingerprint, progress=False)
    assert set(reenabled["email"]) == set(emails)
    assert (reenabled["outcome"] == "changed").all()
    client.emulator.clock.advance(600)  # anything still in flight has landed by now
    assert states(client) == before
    assert len(warmup_jobs(client)) == 2  # the disable (once) and the undo


def test_a_post_later_than_the_grace_is_reported_uncertain_and_undo_does_not_claim_it(
    tmp_path: Path,
) -> None:
    client = workspace(300)
    before = states(client)
    emails = _active(client, 150)
    plan = plan_disable(client, emails)
    path = tmp_path / "run.jsonl"

    def late_second(event: RunEvent) -> None:
        if event.kind == "job_done" and event.request == 0:
            client.emulator.faults.late_submit(seconds=C.RECONCILE_GRACE + 30)

    results = plan.execute(journal=path, on_update=late_second, progress=False)
    uncertain = results[results["error"].str.startswith("uncertain: ", na=False)]
    assert len(uncertain) == 50 and (uncertain["outcome"] == "failed").all()
    assert "uncertain" in results.attrs["instantly_nb"]["ended"]
    back = undo(client, results)
    assert not set(back.frame["email"]) & set(uncertain["email"])  # it undoes what it saw done
    reenabled = back.execute(confirm=back.fingerprint, progress=False)
    assert set(reenabled.loc[reenabled["outcome"] == "changed", "email"]) == set(
        results.loc[results["outcome"] == "changed", "email"]
    )
    client.emulator.clock.advance(600)  # the late original lands after the undo
    now = states(client)
    # Every account undo reported re-enabled is still enabled; only the uncertain ones moved.
    assert all(now[e] == 1 for e in reenabled.loc[reenabled["outcome"] == "changed", "email"])
    moved = {e for e in now if now[e] != before[e]}
    assert moved == set(uncertain["email"])
    # Resuming the run finds the late job instead of sending the request again.
    done = resume(client, path)
    assert len(warmup_jobs(client)) == 3
    assert (done.set_index("email").loc[list(uncertain["email"]), "outcome"] == "changed").all()


# --- 9: a selection resolved after another notebook's job ------------------------------------


@pytest.mark.parametrize("crash", [False, True], ids=["one session", "resumed after a crash"])
def test_accounts_another_notebook_enabled_meanwhile_are_reported_not_skipped(
    crash: bool, tmp_path: Path
) -> None:
    a = workspace(600)
    b = _other_client(a)
    plan = plan_disable(a, Selection(tag="Client A"))
    assert plan.requests[0].get("include_all_emails")
    paused = plan.frame[(plan.frame["action"] == "skip") & (plan.frame["before"] == 0)]
    enabled_by_b = list(paused["email"])
    assert len(enabled_by_b) >= 3
    b_results: list[pd.DataFrame] = []

    def b_runs_meanwhile(event: RunEvent) -> None:
        # A has re-checked its selection and is about to send it: B's whole run fits in between
        # (as when A's request is held in transit). B runs in its own thread, as another kernel.
        if event.kind == "submitting" and not b_results:
            thread = threading.Thread(target=lambda: b_results.append(b_enables()))
            thread.start()
            thread.join()

    def b_enables() -> pd.DataFrame:
        return plan_enable(b, enabled_by_b).execute(progress=False)

    path = tmp_path / "a.jsonl"
    journal = CrashingJournal(path, "results", 1) if crash else path
    try:
        results = plan.execute(confirm=plan.fingerprint, journal=journal,
                               on_update=b_runs_meanwhile, progress=False)  # fmt: skip
    except Crash:
        results = resume(a, path)  # the audit's view of B's job came back from the journal
    assert (b_results[0]["outcome"] == "changed").all()  # B reports them enabled ...
    assert all(states(a)[e] == 0 for e in enabled_by_b)  # ... and A's job paused them again
    rows = results.set_index("email").loc[enabled_by_b]
    assert (rows["outcome"] == "unplanned").all(), rows  # never "skipped: already paused"
    b_job = b_results[0]["job_id"].iloc[0]
    assert rows["detail"].str.contains(f"job {b_job} had changed it since").all()
    assert "another job changed after the preview" in results.attrs["instantly_nb"]["ended"]
    assert len(results) == len(set(results["email"].str.lower()))
    assert_results_match_the_workspace(a, results)
    back = undo(a, results)
    back.execute(confirm=back.fingerprint, progress=False)
    assert all(states(a)[e] == 1 for e in enabled_by_b)  # as B left them


# --- 10: a page that cannot be read ----------------------------------------------------------


def test_a_truncated_accounts_page_is_read_again_when_planning_and_verifying() -> None:
    client = workspace(1200)
    emails = _active(client, 250)
    accounts = ("GET", "/api/v2/accounts")
    client.emulator.faults.garbled(accounts, times=2)
    plan = plan_disable(client, emails)
    assert Counter(plan.frame["action"]) == {"change": 250}
    client.emulator.faults.garbled(accounts, times=2)
    results = plan.execute(progress=False)
    garbled = [r for r in client.emulator.log if r.fault == "garbled"]
    assert len(garbled) == 4
    _assert_verified(client, results, emails)
