"""The runner against the emulated workspace, in virtual time."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
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

from instantly_nb import ConfirmationRequired, PlanStaleError
from instantly_nb._demo import DemoInstantly
from instantly_nb.events import RunEvent
from instantly_nb.frames import read_accounts
from instantly_nb.journal import Journal
from instantly_nb.planner import plan_disable
from instantly_nb.results import OUTCOMES, RESULT_COLUMNS
from instantly_nb.targets import Selection
from instantly_nb.undo import resume, undo


def _active(client: DemoInstantly, n: int, seed: int = 1) -> list[str]:
    frame = read_accounts(client)
    return frame[frame["warmup_status"] == 1].sample(n, random_state=seed)["email"].tolist()


def _assert_one_row_per_email(results: pd.DataFrame, emails: list[str]) -> None:
    assert sorted(results["email"].str.lower()) == sorted(e.lower() for e in emails)
    assert set(results["outcome"]) <= set(OUTCOMES)
    assert dict(results.dtypes.astype(str)) == RESULT_COLUMNS


def test_250_emails_run_as_3_serialised_verified_jobs() -> None:
    client = workspace()
    emails = _active(client, 250)
    results = plan_disable(client, emails).execute()
    _assert_one_row_per_email(results, emails)
    assert (results["outcome"] == "changed").all()
    assert (results["after"] == 0).all()
    assert_results_match_the_workspace(client, results)
    jobs = sorted(warmup_jobs(client), key=lambda j: j["created_at"])
    assert len(jobs) == 3
    for earlier, later in itertools.pairwise(jobs):
        assert later["created_at"] >= earlier["updated_at"]  # one job at a time
    assert results["job_id"].nunique() == 3


def test_events_tell_the_story(tmp_path: Any) -> None:
    client = workspace()
    events: list[RunEvent] = []
    plan_disable(client, _active(client, 150)).execute(on_update=events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == "started"
    assert kinds[-2:] == ["verifying", "finished"]
    assert Counter(kinds)["submitted"] == Counter(kinds)["job_done"] == 2
    progress = [e for e in events if e.kind == "progress"]
    assert progress
    assert all(e.requests == 2 and e.job is not None for e in progress)


def test_the_warmup_lock_is_waited_out() -> None:
    client = workspace()
    client.emulator.faults.lock(times=3)
    emails = _active(client, 120)
    results = plan_disable(client, emails).execute()
    assert (results["outcome"] == "changed").all()
    assert len(warmup_jobs(client)) == 2
    refused = [r for r in posts(client) if r.status == 409]
    assert len(refused) == 3


def test_a_failed_job_marks_its_unprocessed_accounts_failed() -> None:
    client = workspace()
    client.emulator.faults.fail_job(at=0.5)
    emails = _active(client, 80)
    results = plan_disable(client, emails).execute()
    outcomes = Counter(results["outcome"])
    assert outcomes["changed"] > 0
    assert outcomes["failed"] > 0
    assert outcomes["changed"] + outcomes["failed"] == 80
    failed = results[results["outcome"] == "failed"]
    assert failed["error"].str.contains("failed").all()
    assert_results_match_the_workspace(client, results)


def test_per_email_failures_are_reported_with_instantlys_error() -> None:
    client = workspace()
    emails = _active(client, 30)
    client.emulator.faults.fail_emails(emails=emails[:4], error="Account is disconnected")
    results = plan_disable(client, emails).execute().set_index("email")
    assert (results.loc[emails[:4], "outcome"] == "failed").all()
    assert (results.loc[emails[:4], "error"] == "Account is disconnected").all()
    assert (results.loc[emails[4:], "outcome"] == "changed").all()


def test_unknown_and_paused_statuses_are_waited_through() -> None:
    client = workspace()
    client.emulator.faults.job_status("verifying", seconds=5)
    client.emulator.faults.pause_job(seconds=8)
    seen: list[str] = []

    def watch(event: RunEvent) -> None:
        if event.job is not None:
            seen.append(event.job.status.value)

    results = plan_disable(client, _active(client, 150)).execute(on_update=watch)
    assert (results["outcome"] == "changed").all()
    assert "verifying" in seen
    assert "paused" in seen


def test_429_storms_are_ridden_out() -> None:
    client = workspace()
    client.emulator.faults.rate_limited("*", times=6)
    emails = _active(client, 120)
    results = plan_disable(client, emails).execute()
    assert (results["outcome"] == "changed").all()
    assert len(warmup_jobs(client)) == 2


def test_polling_outlasts_errors_longer_than_the_retry_budget() -> None:
    client = workspace()
    emails = _active(client, 50)
    plan = plan_disable(client, emails)
    client.emulator.faults.rate_limited(("GET", "/api/v2/background-jobs/*"), times=20)
    client.emulator.faults.server_error(("GET", "/api/v2/background-jobs/*"), times=10)
    results = plan.execute()
    assert (results["outcome"] == "changed").all()
    assert len(warmup_jobs(client)) == 1


@pytest.mark.parametrize("after_processing", [True, False])
def test_a_lost_submit_answer_never_duplicates_a_job(after_processing: bool) -> None:
    client = workspace()
    emails = _active(client, 150)
    client.emulator.faults.drop(("POST", "/api/v2/accounts/warmup/*"), times=2,
                                after_processing=after_processing)  # fmt: skip
    results = plan_disable(client, emails).execute()
    assert (results["outcome"] == "changed").all()
    jobs = warmup_jobs(client)
    assert len(jobs) == 2
    bodies = [tuple(sorted(j["data"]["filters"]["emails"])) for j in jobs]
    assert len(set(bodies)) == 2


@pytest.mark.parametrize(
    ("kind", "nth"),
    [("sending", 1), ("submitted", 1), ("submitted", 2), ("job", 1), ("job", 3), ("results", 1),
     ("done", 1)],
)  # fmt: skip
def test_resume_after_a_crash_at_each_step(kind: str, nth: int, tmp_path: Any) -> None:
    client = workspace()
    emails = _active(client, 250)
    plan = plan_disable(client, emails)
    path = tmp_path / "run.jsonl"
    with pytest.raises(Crash):
        plan.execute(journal=CrashingJournal(path, kind, nth))
    # A new session: the journal is all that survived.
    results = resume(client, path)
    _assert_one_row_per_email(results, emails)
    assert (results["outcome"] == "changed").all()
    assert len(warmup_jobs(client)) == 3  # no chunk submitted twice
    assert_results_match_the_workspace(client, results)
    again = resume(client, path)
    pd.testing.assert_frame_equal(again, results)
    assert len(warmup_jobs(client)) == 3


def test_executing_the_same_plan_twice_does_not_resubmit() -> None:
    client = workspace()
    plan = plan_disable(client, _active(client, 120))
    first = plan.execute()
    second = plan.execute()
    pd.testing.assert_frame_equal(first, second)
    assert len(warmup_jobs(client)) == 2


def test_stop_submits_no_further_jobs_and_keeps_every_email() -> None:
    client = workspace()
    emails = _active(client, 250)
    stop = threading.Event()

    def on_update(event: RunEvent) -> None:
        if event.kind == "job_done":
            stop.set()

    results = plan_disable(client, emails).execute(on_update=on_update, stop=stop)
    _assert_one_row_per_email(results, emails)
    assert len(warmup_jobs(client)) == 1
    assert Counter(results["outcome"]) == {"changed": 100, "not_submitted": 150}
    unsent = results[results["outcome"] == "not_submitted"]
    assert unsent["detail"].str.contains("stopped").all()


def test_a_selection_that_changed_since_the_preview_is_not_sent() -> None:
    client = workspace()
    plan = plan_disable(client, Selection(tag="Client A"))
    assert plan.requests[0].get("include_all_emails")
    client.emulator.add_account("newcomer@acme-late.com", tags=["Client A"])
    with pytest.raises(PlanStaleError, match="joined"):
        plan.execute(confirm=plan.fingerprint)
    assert posts(client) == []


def test_a_preview_skip_that_would_now_change_makes_the_plan_stale() -> None:
    client = workspace()
    plan = plan_disable(client, Selection(tag="Client A"))
    skipped = plan.frame[plan.frame["action"] == "skip"]["email"].iloc[0]
    client.emulator.set_warmup_status(skipped, 1)
    with pytest.raises(PlanStaleError, match="would now change"):
        plan.execute(confirm=plan.fingerprint)
    assert posts(client) == []


def test_confirmation_is_required_for_large_plans() -> None:
    client = workspace()
    plan = plan_disable(client, Selection.all_accounts())
    with pytest.raises(ConfirmationRequired) as info:
        plan.execute()
    assert info.value.fingerprint == plan.fingerprint
    with pytest.raises(ConfirmationRequired):
        plan.execute(confirm=plan.summary.change + 1)
    assert posts(client) == []
    results = plan.execute(confirm=plan.summary.change)
    assert len(warmup_jobs(client)) == 1
    assert set(results["outcome"]) == {"changed", "skipped"}


def test_undo_restores_the_exact_prior_state() -> None:
    client = workspace()
    frame = read_accounts(client)
    target = frame[frame["warmup_status"] >= 0].sample(260, random_state=5)
    before = states(client)
    results = plan_disable(client, target).execute()
    assert states(client) != before
    back = undo(client, results).execute()
    assert (back["outcome"] == "changed").all()
    assert states(client) == before


def test_results_and_journal_export_for_audit(tmp_path: Any) -> None:
    client = workspace()
    path = tmp_path / "audit.jsonl"
    plan_disable(client, _active(client, 30)).execute(journal=path)
    exported = pd.read_csv(Journal(path).export_csv())
    assert {"plan", "sending", "submitted", "job", "processed", "results", "done"} <= set(
        exported["kind"]
    )
    assert client.emulator.api_key not in path.read_text()


def test_execute_shows_live_progress_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    client = workspace()
    plan_disable(client, _active(client, 150)).execute()
    lines = capsys.readouterr().err.splitlines()
    # A terminal gets milestones only: the start, each finished job, the end.
    assert lines[0].startswith("disable warmup: job 1/2")
    assert sum("success 100%" in line for line in lines) == 2
    assert "2/2 job(s) done" in lines[-1]
    assert "150 account(s) processed" in lines[-1]
    plan_disable(client, _active(client, 10, seed=2)).execute(progress=False)
    assert capsys.readouterr().err == ""


def test_text_progress_throttles_all_but_milestones() -> None:
    from instantly_nb.models import Job
    from instantly_nb.progress_text import TextProgress

    clock = [100.0]
    shown: list[str] = []
    progress = TextProgress("disable warmup", show=shown.append, interval=1.0, now=lambda: clock[0])
    job = Job.from_api({"id": "j", "status": "in-progress", "progress": 10,
                        "data": {"total_to_process": 100, "success_count": 10}})  # fmt: skip
    progress(RunEvent("started", 1))
    for _ in range(50):  # 50 polls within 0.5 s: not one drawn
        clock[0] += 0.01
        progress(RunEvent("progress", 1, 0, job))
    assert len(shown) == 1
    clock[0] += 0.6  # the interval has passed since "started": the next poll is drawn
    progress(RunEvent("progress", 1, 0, job))
    assert shown[-1] == "disable warmup: job 1/1 · in progress 10% · 10 account(s) processed · 1s"
    progress(RunEvent("progress", 1, 0, job))  # at once again: throttled
    assert len(shown) == 2
    done = Job.from_api({"id": "j", "status": "success", "progress": 100,
                         "data": {"total_to_process": 100, "success_count": 100}})  # fmt: skip
    progress(RunEvent("job_done", 1, 0, done, done=1))  # milestones are always drawn
    progress(RunEvent("finished", 1, done=1, message="done"))
    assert len(shown) == 4
    assert "success 100%" in shown[2]
    assert "100 account(s) processed" in shown[-1]


def test_true_is_not_a_confirmation_count() -> None:
    client = workspace()
    plan = plan_disable(client, _active(client, 1), confirm_above=0)
    assert plan.summary.needs_confirmation and plan.summary.change == 1
    with pytest.raises(ConfirmationRequired):
        plan.execute(confirm=True)  # bool is an int in Python; it must not pass for 1
    assert posts(client) == []


def test_the_journal_replays_exactly_what_the_run_wrote(tmp_path: Any) -> None:
    client = workspace()
    path = tmp_path / "run.jsonl"
    plan = plan_disable(client, _active(client, 150))
    results = plan.execute(journal=path, progress=False)
    replay = Journal(path).replay(plan)
    ran = {j.id: j for j in (client.get_job(i) for i in results["job_id"].dropna().unique())}
    assert sorted(job.id for job in replay.finished.values()) == sorted(ran)
    for job in replay.finished.values():
        real = ran[job.id]
        assert (job.status, job.total_to_process, job.success_count, job.failed_count) == (
            real.status, real.total_to_process, real.success_count, real.failed_count
        )  # fmt: skip
        assert job.processed_emails == real.processed_emails
    assert replay.done and replay.fenced
    assert replay.submitted == {i: j.id for i, j in replay.finished.items()}
    assert pd.DataFrame(replay.results)["email"].tolist() == results["email"].tolist()
    assert Journal(path).plan_record().fingerprint == plan.fingerprint
    other = plan_disable(client, _active(client, 5, seed=9))
    with pytest.raises(ValueError, match="records another plan"):
        Journal(path).replay(other)
