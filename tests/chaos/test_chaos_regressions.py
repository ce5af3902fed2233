"""What the chaos suite found, each reduced to a plain example (fixed in the library)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaos_world import Crashed, CrashingJournal

from instantly_nb import PlanStaleError, RequestValidationError, Selection, demo
from instantly_nb._demo import DemoInstantly
from instantly_nb.emulator import JobTiming
from instantly_nb.emulator.jobs import JobScript, Target, WarmupJob
from instantly_nb.events import RunEvent
from instantly_nb.frames import read_accounts
from instantly_nb.journal import Journal
from instantly_nb.planner import plan_disable
from instantly_nb.testing import VirtualClock
from instantly_nb.undo import resume, undo


def warmup_jobs(client: DemoInstantly) -> list[dict[str, object]]:
    return client.emulator.jobs("update-warmup-accounts")


def test_resume_after_a_crash_between_results_and_done_finishes_the_journal(
    tmp_path: Path,
) -> None:
    # Found as: Crash(where='journal', kind='done', nth=1) -- resume returned the recorded
    # results but never wrote "done", so the run stayed in Journal.unfinished() forever.
    client = demo(30, 3, clock=VirtualClock())
    plan = plan_disable(client, [client.emulator.accounts()[0]["email"]])
    path = tmp_path / "run.jsonl"
    with pytest.raises(Crashed):
        plan.execute(journal=CrashingJournal(path, "done", 1))
    assert Journal.unfinished(tmp_path) == [path]
    first = resume(client, path)
    assert Journal(path).finished
    assert Journal.unfinished(tmp_path) == []
    assert [r["kind"] for r in Journal(path).records()].count("done") == 1
    assert first.equals(resume(client, path))


def test_a_lost_submit_is_not_matched_to_an_earlier_run_of_the_same_plan() -> None:
    # Found as: history=True with faults.server_error(route='*') -- the plan had run and been
    # undone a minute before; the 5xx on the new POST made the runner reconcile, and it adopted
    # the earlier run's job (same body, within the 5-minute window): nothing was disabled and
    # every row said "unchanged", naming the old job.
    client = demo(200, 2, clock=VirtualClock())
    emails = [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1][:30]
    first = plan_disable(client, emails).execute()
    undo(client, first).execute()
    client.emulator.clock.advance(60)
    again = plan_disable(client, emails)
    assert again.requests == [{"emails": emails}]  # the very same body as the first run's
    client.emulator.faults.server_error(("POST", "/api/v2/accounts/warmup/*"), status=502)
    uncertain = again.execute()
    # No job appeared within the grace: the request is reported uncertain, not resent on a guess.
    assert (uncertain["outcome"] == "failed").all()
    assert uncertain["error"].str.startswith("uncertain: ").all()
    assert len(warmup_jobs(client)) == 2
    assert again.journal_path is not None
    results = resume(client, again.journal_path)  # the user's call, after the grace: sent again
    assert (results["outcome"] == "changed").all()
    assert set(results["job_id"]).isdisjoint(set(first["job_id"]))
    assert len(warmup_jobs(client)) == 3  # disable, enable (undo), disable


def test_undo_leaves_accounts_whose_warmup_was_in_error_alone() -> None:
    # Found as: history=True on a target holding a banned account (negative_warmup='change') --
    # the run paused its warmup, and undo then *enabled* it: warmup turned on for a banned
    # account, which is not the state it had. No request can put an error state back.
    client = demo(200, 2, clock=VirtualClock())
    accounts = client.emulator.accounts()
    banned = next(a["email"] for a in accounts if a["warmup_status"] < 0)
    active = next(a["email"] for a in accounts if a["warmup_status"] == 1)
    results = plan_disable(client, [banned, active]).execute()
    assert set(results["outcome"]) == {"changed"}
    back = undo(client, results)
    assert list(back.frame["email"]) == [active]
    assert "1 account(s) left alone" in back.description
    back.execute()
    assert client.emulator.account(active)["warmup_status"] == 1
    assert client.emulator.account(banned)["warmup_status"] == 0  # not switched on
    only_banned = results[results["email"] == banned]
    with pytest.raises(RequestValidationError, match="warmup errors before the run"):
        undo(client, only_banned)


def test_a_plan_gone_stale_midway_still_returns_what_ran() -> None:
    # Found as: Drift(kind='started', edit='set_warmup', ...) on a selection -- PlanStaleError
    # carried nothing, and resume raised it again: the jobs that had already run had no results
    # row anywhere (no outcome, no undo). Now the error carries the verified results so far.
    client = demo(1500, 9, clock=VirtualClock())
    frame = read_accounts(client)
    in_a_or_b = frame["tags"].apply(lambda tags: "Client A" in tags or "Client B" in tags)
    plan = plan_disable(client, frame[in_a_or_b & (frame["warmup_status"] == 1)], server_side=True)
    assert [p.spec is not None for p in plan.planned[:2]] == [True, True]
    second = plan.planned[1].label  # "tag 'Client B', warmup active"

    def someone_else(event: RunEvent) -> None:
        if event.kind == "job_done" and event.request == 0:
            client.emulator.add_account("late@newcomer.example", tags=["Client B"])

    with pytest.raises(PlanStaleError, match="1 account\\(s\\) joined") as info:
        plan.execute(confirm=plan.fingerprint, on_update=someone_else)
    results = info.value.results
    assert len(results) == len(plan.frame)
    ran = results[results["job_id"].notna()]
    assert len(ran) == len(plan.planned[0].accounts) and (ran["outcome"] == "changed").all()
    for row in ran.itertuples():
        assert client.emulator.account(row.email)["warmup_status"] == row.after == 0
    rest = results[results["job_id"].isna() & (results["outcome"] == "not_submitted")]
    assert "selection changed since the preview" in rest["detail"].iloc[0], second
    assert client.emulator.account("late@newcomer.example")["warmup_status"] == 1
    assert len(warmup_jobs(client)) == 1


def test_a_selection_is_checked_again_after_waiting_out_a_lock() -> None:
    # Found as: faults.lock(times=2) with Drift(kind='waiting_lock', edit='add', ...) -- the
    # selection was checked once, then the runner waited out the 409 and sent include_all_emails
    # without looking again, so an account created during the wait had its warmup paused.
    client = demo(300, 3, clock=VirtualClock())
    plan = plan_disable(client, Selection.all_accounts())
    client.emulator.faults.lock(times=2)

    def someone_else(event: RunEvent) -> None:
        if event.kind == "waiting_lock" and client.emulator.account("late@x.example") is None:
            client.emulator.add_account("late@x.example")

    with pytest.raises(PlanStaleError, match="joined"):
        plan.execute(confirm=plan.fingerprint, on_update=someone_else)
    assert warmup_jobs(client) == []
    assert client.emulator.account("late@x.example")["warmup_status"] == 1


def test_one_stray_404_while_verifying_does_not_make_an_account_gone() -> None:
    # Found as: faults.respond(route=('GET', '/api/v2/accounts/*'), status=404, times=1) -- the
    # account was paused, but one 404 on re-reading it made its row "failed: account no longer
    # in the workspace" with no `after`. Planning double-checks a 404 with a search; now
    # verifying does too.
    client = demo(30, 3, clock=VirtualClock())
    email = next(a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1)
    plan = plan_disable(client, [email])
    client.emulator.faults.respond(("GET", "/api/v2/accounts/*"), 404, times=1)
    row = plan.execute().iloc[0]
    assert (row["outcome"], row["after"]) == ("changed", 0)
    assert client.emulator.account(email)["warmup_status"] == 0


def test_a_job_applies_every_target_before_it_says_it_ended() -> None:
    # Found as: Workspace(accounts=279, seed=7925, per_account=0.05), a 157-email disable with
    # faults.pause_job(at=0.0, seconds=1.0) and faults.fail_job(at=0.96875): the second job said
    # "failed" with 31 of its 34 targets done, then applied the 32nd -- after the runner had
    # verified it unchanged. At epoch-sized times the emulator's count of handled targets came
    # out one short of the instant its status was decided from.
    targets = [Target(f"a{i}@x.io", f"a{i}@x.io") for i in range(34)]
    for k in range(200):
        for script in (JobScript("failed", at=0.96875), JobScript("paused", at=0.5, seconds=1.0),
                       None):  # fmt: skip
            job = WarmupJob(
                id="j", seq=1, workspace_id="w", created=1_780_000_048.528 + k * 0.0137,
                warmup_status=0, filters={}, targets=targets,
                timing=JobTiming(queue_delay=0.4, per_account=0.05), script=script,
            )  # fmt: skip
            for index in range(job.stop):
                assert job.done_by(job.item_time(index)) == index + 1, (k, script, index)
            end = job.updated(job.item_time(job.total) + 60)
            assert job.status(end) in ("failed", "success")
            assert job.done_by(end) == job.stop, (k, script)
