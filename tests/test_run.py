"""The runner against the emulated workspace, in virtual time."""

from __future__ import annotations

import itertools
import json
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

from instantly_nb import ConfirmationRequired, PlanStaleError, RequestValidationError
from instantly_nb._demo import DemoInstantly
from instantly_nb.events import RunEvent
from instantly_nb.frames import read_accounts
from instantly_nb.journal import Journal
from instantly_nb.planner import plan_disable
from instantly_nb.progress import RunProgress
from instantly_nb.progress_text import TextProgress
from instantly_nb.records import PlanRecord, plain_rows
from instantly_nb.results import OUTCOMES, RESULT_COLUMNS
from instantly_nb.targets import Selection
from instantly_nb.undo import can_resume, can_undo, resume, undo


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
    with pytest.raises(PlanStaleError, match="joined") as info:
        plan.execute(confirm=plan.fingerprint)
    assert posts(client) == []
    results = info.value.results
    assert results.attrs["instantly_nb"]["end"] == "stale"
    assert Counter(results["outcome"]) == {
        "not_submitted": plan.summary.change, "skipped": plan.summary.skip
    }  # fmt: skip
    assert can_resume(results) == 0  # resuming would meet the same change: plan again instead


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


# --- how a run ends: finished, stopped, ended early; resume sends only what was not sent ------


def _processed(client: DemoInstantly) -> Counter[str]:
    """How many jobs processed each email, over every warmup job of the workspace."""
    return Counter(
        str(entry["email"]).lower()
        for job in warmup_jobs(client)
        for entry in job["data"].get("processed_emails") or []
    )


def test_a_stopped_run_reports_not_submitted_and_resume_sends_only_the_rest(tmp_path: Any) -> None:
    client = workspace()
    emails = _active(client, 700)
    plan = plan_disable(client, emails, confirm_above=1000)
    assert plan.summary.jobs == 7
    stop = threading.Event()
    model = RunProgress(client.clock.now)
    ends: list[RunEvent] = []

    def on_update(event: RunEvent) -> None:
        model.apply(event)
        if event.kind == "finished":
            ends.append(event)
        if event.kind == "job_done" and event.request == 1:
            stop.set()  # as the panel's Stop does, while job 2 ends
            model.request_stop()

    stopped = plan.execute(on_update=on_update, stop=stop)
    _assert_one_row_per_email(stopped, emails)
    assert Counter(stopped["outcome"]) == {"changed": 200, "not_submitted": 500}
    assert len(warmup_jobs(client)) == 2
    unsent = stopped[stopped["outcome"] == "not_submitted"]
    assert unsent["job_id"].isna().all() and unsent["after"].eq(1).all()  # never sent, still on
    assert (unsent["detail"] == "not submitted: the run was stopped before its job").all()
    about = stopped.attrs["instantly_nb"]
    assert (about["end"], about["ended"]) == ("stopped", "stopped: 5 job(s) not submitted")
    assert (ends[0].end, ends[0].message) == ("stopped", about["ended"])
    assert (model.phase, model.message, model.tone) == (
        "stopped", "stopped: 5 job(s) not submitted", "partial"
    )  # fmt: skip
    assert can_resume(stopped) == 500 and can_undo(stopped) == 200
    assert not Journal(about["journal"]).finished
    assert_results_match_the_workspace(client, stopped)
    audit = pd.read_csv(Journal(about["journal"]).export_csv(tmp_path / "audit.csv"))
    assert audit.loc[audit["kind"] == "stopped", "detail"].tolist() == [about["ended"]]
    said = audit.loc[audit["kind"] == "results", "outcome"].value_counts().to_dict()
    assert said == {"not_submitted": 500, "changed": 200}

    events: list[RunEvent] = []
    resumed = resume(client, about["journal"], on_update=events.append)
    _assert_one_row_per_email(resumed, emails)
    assert (resumed["outcome"] == "changed").all()
    assert [e.request for e in events if e.kind == "submitted"] == [2, 3, 4, 5, 6]
    # The resumed run's progress counts the two jobs done before it: 7 of 7, not 5.
    again = RunProgress(client.clock.now)
    for event in events:
        again.apply(event)
    assert sorted(e.request for e in events if e.kind == "job_done") == list(range(7))
    assert len(again.jobs) == 7 and all(row.terminal for row in again.jobs.values())
    assert len(warmup_jobs(client)) == 7  # the two that ran were not sent again
    assert set(_processed(client).values()) == {1}  # every email processed by exactly one job
    assert sorted(_processed(client)) == sorted(e.lower() for e in emails)
    assert resumed.attrs["instantly_nb"]["end"] == "finished" and can_resume(resumed) == 0
    assert Journal(about["journal"]).finished
    assert_results_match_the_workspace(client, resumed)


@pytest.mark.parametrize("n", [80, 150], ids=["one-job", "two-jobs"])
def test_a_stop_after_the_last_job_was_submitted_is_a_finished_run(n: int) -> None:
    client = workspace()
    plan = plan_disable(client, _active(client, n))
    last = plan.summary.jobs - 1
    stop = threading.Event()
    model = RunProgress(client.clock.now)
    lines: list[str] = []
    text = TextProgress("disable warmup", show=lines.append, now=client.clock.now)
    ends: list[RunEvent] = []

    def on_update(event: RunEvent) -> None:
        model.apply(event)
        text(event)
        if event.kind == "finished":
            ends.append(event)
        if event.kind == "submitted" and event.request == last:
            stop.set()  # too late to hold anything back: every job is out
            model.request_stop()

    results = plan.execute(on_update=on_update, stop=stop)
    assert (results["outcome"] == "changed").all() and len(results) == n
    assert results.attrs["instantly_nb"]["end"] == "finished"
    assert results.attrs["instantly_nb"]["ended"] == ""
    assert (ends[0].end, ends[0].message) == ("finished", "done")
    assert (model.phase, model.message, model.tone, model.percent) == (
        "finished",
        "",
        "success",
        100,
    )
    assert f"{last + 1}/{last + 1} job(s) done · {n} account(s) processed · done" in lines[-1]
    assert "stopped" not in lines[-1]
    assert Journal(results.attrs["instantly_nb"]["journal"]).finished
    assert can_resume(results) == 0


def test_a_run_that_ended_early_is_resumed_to_the_end() -> None:
    client = workspace()
    emails = _active(client, 250)
    plan = plan_disable(client, emails)
    # Watching gives up on the first job before it ends: nothing after it is sent.
    model = RunProgress(client.clock.now)
    early = plan.execute(job_timeout=0.5, on_update=model.apply)
    assert early.attrs["instantly_nb"]["end"] == "ended_early"
    assert (model.phase, model.tone) == ("ended_early", "partial")  # not green, not "stopped"
    assert model.message == early.attrs["instantly_nb"]["ended"]
    first = early[early["job_id"].notna()]
    assert len(first) == 100 and set(first["outcome"]) <= {"changed", "failed"}
    running = first[first["outcome"] == "failed"]
    assert len(running) and running["error"].str.startswith("still running: job").all()
    assert Counter(early.loc[early["job_id"].isna(), "outcome"]) == {"not_submitted": 150}
    assert can_resume(early) == 150 + len(running)
    finished = resume(client, early.attrs["instantly_nb"]["journal"])
    assert (finished["outcome"] == "changed").all()
    assert len(warmup_jobs(client)) == 3 and set(_processed(client).values()) == {1}


def test_skipped_means_already_there_and_excluded_says_so() -> None:
    client = workspace()
    frame = read_accounts(client)
    paused = frame[frame["warmup_status"] == 0]["email"].head(5).tolist()
    active = _active(client, 30)
    results = plan_disable(client, active + paused, exclude=active[:4]).execute(progress=False)
    by_outcome = {k: set(g["email"]) for k, g in results.groupby("outcome")}
    assert by_outcome == {"changed": set(active[4:]), "skipped": set(paused),
                          "excluded": set(active[:4])}  # fmt: skip
    assert (results.loc[results["outcome"] == "skipped", "before"] == 0).all()
    assert (results.loc[results["outcome"] == "excluded", "after"] == 1).all()  # left warming


def test_can_undo_counts_what_undo_restores_and_the_preview_said_so() -> None:
    client = workspace()
    frame = read_accounts(client)
    errors = frame[frame["warmup_status"] < 0]["email"].head(6).tolist()
    target = _active(client, 20) + errors
    plan = plan_disable(client, target)
    assert plan.summary.cannot_undo == 6
    results = plan.execute(progress=False)
    assert (results["outcome"] == "changed").all()
    assert can_undo(results) == 20 == plan.summary.change - plan.summary.cannot_undo
    back = undo(client, results)
    assert sorted(back.frame["email"]) == sorted(target[:20])
    only_errors = results[results["email"].isin(errors)]
    assert can_undo(only_errors) == 0
    with pytest.raises(RequestValidationError, match="no request can put an error state back"):
        undo(client, only_errors)
    assert can_undo(results.iloc[0:0]) == 0
    with pytest.raises(RequestValidationError, match="results frame"):
        can_undo(pd.DataFrame({"email": ["a@b.co"]}))


def test_a_plan_journalled_and_read_back_is_the_same_plan_with_json_plain_values() -> None:
    client = workspace(accounts=40)
    some = [a["email"] for a in client.list_accounts()][:8]
    emails = [*some, "nobody@example.com"]
    plan = plan_disable(client, emails, progress=False)
    data = plan.to_json()
    text = json.dumps(data)  # no pandas value (NA, numpy int) can reach the journal
    back = PlanRecord.from_json(json.loads(text))
    pd.testing.assert_frame_equal(back.frame, plan.frame)
    assert back.fingerprint == plan.fingerprint
    missing = [row for row in data["frame"] if row["action"] == "not_found"]
    assert len(missing) == 1 and missing[0]["before"] is None and missing[0]["request"] is None


def test_plain_rows_turns_every_kind_of_missing_value_into_none() -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "s": pd.array(["a", None], dtype="string"),
            "f": [0.5, float("nan")],
            "t": pd.to_datetime(["2026-01-02", None], utc=True),
            "o": ["x", None],
        }
    )
    rows = plain_rows(frame)
    assert rows[1] == {"n": None, "s": None, "f": None, "t": None, "o": None}
    assert rows[0]["n"] == 1 and type(rows[0]["n"]) is int and rows[0]["s"] == "a"
    assert rows[0]["f"] == 0.5 and rows[0]["t"] == pd.Timestamp("2026-01-02", tz="UTC")
    assert list(rows[0]) == ["n", "s", "f", "t", "o"]
    assert plain_rows(frame.iloc[:0]) == []
