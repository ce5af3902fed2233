"""RunProgress, the plain-Python state JobProgress draws: events in, numbers and tones out."""

from __future__ import annotations

import pytest
from widget_helpers import job, one_job_run

from instantly_nb._confirm import CONFIRM_ABOVE, confirm_count, needs_confirmation
from instantly_nb.events import RunEvent
from instantly_nb.progress import RunProgress, clock_text
from instantly_nb.records import PlanSummary
from instantly_nb.widgets._gate import may_submit, submit_label


class Clock:
    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.t = now

    def __call__(self) -> float:
        return self.t


def test_a_two_job_run_reads_as_numbers_and_tones() -> None:
    clock = Clock()
    model = RunProgress(clock)
    model.apply(RunEvent("started", 2, message="2 job(s)"))
    assert (model.phase, model.requests, model.percent, model.tone) == ("running", 2, 0, "running")
    for event in one_job_run(2, 0, job("success", 100, id="a", ok=100)):
        model.apply(event)
        clock.t += 1
    assert model.percent == 50
    first = model.jobs["request-0"]
    assert (first.title, first.job_id, first.label, first.tone) == (
        "Job 1/2",
        "a",
        "Success",
        "success",
    )
    assert (first.processed, first.total) == (100, 100)
    model.apply(RunEvent("submitted", 2, 1, message="b"))
    model.apply(RunEvent("progress", 2, 1, job(progress=25, id="b", ok=20, failed=5)))
    assert model.percent == pytest.approx(62.5)
    assert model.counts() == {"jobs": 2, "jobs_done": 1, "total": 200, "processed": 125,
                              "succeeded": 120, "failed": 5, "failed_jobs": 0}  # fmt: skip
    model.apply(RunEvent("job_done", 2, 1, job("success", 100, id="b", ok=95, failed=5), done=2))
    model.apply(RunEvent("verifying", 2, message="re-reading accounts"))
    assert model.phase == "verifying" and not model.final
    model.apply(RunEvent("finished", 2, message="done"))
    assert (model.phase, model.message, model.percent) == ("finished", "", 100)
    assert model.jobs["request-1"].tone == "partial"  # success with failed accounts: orange
    assert model.tone == "partial"


def test_a_failed_job_keeps_the_run_red_after_later_jobs_succeed() -> None:
    model = RunProgress(Clock())
    model.apply(RunEvent("started", 3))
    for event in one_job_run(3, 0, job("failed", 40, id="a", ok=40)):
        model.apply(event)
    for i, name in ((1, "b"), (2, "c")):
        for event in one_job_run(3, i, job("success", 100, id=name, ok=100)):
            model.apply(event)
    model.apply(RunEvent("finished", 3, message="done"))
    failed = model.jobs["request-0"]
    assert (failed.tone, failed.percent, failed.label) == ("failed", 40, "Failed")
    assert model.tone == "failed"
    assert model.percent == 100  # every job is over, one of them badly
    assert model.counts()["failed_jobs"] == 1


def test_unknown_statuses_and_event_kinds_are_shown_not_fatal() -> None:
    model = RunProgress(Clock())
    model.apply(RunEvent("started", 1))
    model.apply(RunEvent("progress", 1, 0, job("verifying", 70, id="a")))
    row = model.jobs["request-0"]
    assert (row.status, row.label, row.tone, row.terminal) == (
        "verifying", "Unknown (verifying)", "attention", False
    )  # fmt: skip
    assert "Unknown (verifying)" in model.text()
    model.apply(RunEvent("rebalancing", 1, message="something new"))
    assert model.message == "rebalancing: something new"
    model.apply(RunEvent("progress", 1, 0, job("paused", 70, id="a")))
    assert (row.label, row.tone) == ("Paused", "attention")
    assert model.tone == "attention"


def test_elapsed_and_eta_follow_the_clock() -> None:
    clock = Clock()
    model = RunProgress(clock)
    model.apply(RunEvent("started", 1))
    model.apply(RunEvent("submitted", 1, 0, message="a"))
    clock.t += 30
    model.apply(RunEvent("progress", 1, 0, job(progress=25, id="a")))
    row = model.jobs["request-0"]
    assert row.elapsed(clock()) == 30
    assert row.eta(clock()) == 90  # 25% in 30 s: 75% takes 90 s more
    assert model.eta() == 90
    assert "ETA 1:30" in model.summary() and "elapsed 0:30" in model.summary()


def test_watched_jobs_start_at_their_creation_time() -> None:
    clock = Clock(1_780_000_000.0)
    model = RunProgress(clock)
    model.start_watch(["a"])
    created = "2026-05-28T20:26:10.000Z"  # 30 s before the clock
    assert model.jobs["a"].elapsed(clock()) is None
    model.apply_job(job(progress=50, id="a", created=created), key="a")
    assert model.jobs["a"].elapsed(clock()) == pytest.approx(30)
    model.mark_error("b", "NotFoundError: no such job")
    assert (model.jobs["b"].tone, model.jobs["b"].note) == ("failed", "NotFoundError: no such job")


def test_stop_marks_the_run_stopped_with_the_jobs_not_submitted() -> None:
    model = RunProgress(Clock())
    model.apply(RunEvent("started", 4))
    for event in one_job_run(4, 0, job("success", 100, id="a", ok=100)):
        model.apply(event)
    model.request_stop()
    model.apply(RunEvent("stopped", 4, 1, message="stopped before this job"))
    model.apply(RunEvent("verifying", 4))
    model.apply(RunEvent("finished", 4, message="not submitted: the run was stopped"))
    assert model.phase == "stopped"
    assert model.message == "stopped: 3 job(s) not submitted"
    assert model.percent == 25
    assert model.tone == "partial"


def test_a_broken_run_is_red_whatever_the_jobs_say() -> None:
    model = RunProgress(Clock())
    model.apply(RunEvent("started", 1))
    model.fail("PlanStaleError: the workspace changed")
    model.apply(RunEvent("finished", 1))
    assert (model.phase, model.tone, model.final) == ("failed", "failed", True)
    assert model.message == "PlanStaleError: the workspace changed"


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "-"), (0, "0:00"), (59.6, "1:00"), (61, "1:01"), (3725, "1:02:05")]
)
def test_clock_text(seconds: float | None, text: str) -> None:
    assert clock_text(seconds) == text


def _summary(change: int, *, every: bool = False) -> PlanSummary:
    return PlanSummary(
        action="disable", targeted=change, change=change, skip=0, not_found=0, at_risk=0,
        jobs=1, chunked_jobs=1, estimated_seconds=1.0,
        needs_confirmation=needs_confirmation(change, every),
        touches_every_account=every,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("summary", "typed", "need", "allowed"),
    [
        (_summary(10), "", None, True),  # small: one click
        (_summary(CONFIRM_ABOVE), "", None, True),  # up to the library's threshold
        (_summary(CONFIRM_ABOVE + 1), "", CONFIRM_ABOVE + 1, False),  # above: type the count
        (_summary(CONFIRM_ABOVE + 1), str(CONFIRM_ABOVE), CONFIRM_ABOVE + 1, False),
        (_summary(CONFIRM_ABOVE + 1), f" {CONFIRM_ABOVE + 1} ", CONFIRM_ABOVE + 1, True),
        (_summary(12, every=True), "", 12, False),  # every account, however few
        (_summary(12, every=True), "12", 12, True),
        (_summary(0), "", None, False),  # nothing to change: nothing to submit
    ],
)
def test_the_confirmation_gate_grows_with_the_blast_radius(
    summary: PlanSummary, typed: str, need: int | None, allowed: bool
) -> None:
    assert confirm_count(summary) == need
    assert may_submit(summary, typed) is allowed
    assert may_submit(None, typed) is False
    label = f"Submit: disable {summary.change} account(s)" if summary.change else "Submit"
    assert submit_label(summary) == label
