"""JobProgress headless: real runs on the emulated workspace, synthetic floods, watching jobs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers import warmup_jobs, workspace
from widget_helpers import VirtualTimer, job, one_job_run

from instantly_nb import demo
from instantly_nb.events import RunEvent
from instantly_nb.frames import read_accounts
from instantly_nb.planner import plan_disable
from instantly_nb.sync_client import async_client
from instantly_nb.testing import VirtualClock
from instantly_nb.widgets import JobProgress
from instantly_nb.widgets._metrics import MessageCounter
from instantly_nb.widgets.progress import STOP_NOTE


def _active(client: Any, n: int) -> list[str]:
    frame = read_accounts(client)
    return frame[frame["warmup_status"] == 1]["email"].head(n).tolist()


def _bars(progress: JobProgress) -> list[tuple[str, float, str]]:
    return [(r.bar.description, r.bar.value, r.bar.bar_style) for r in progress.rows.children]


def test_a_three_job_run_ends_green_at_100_with_counts() -> None:
    client = workspace()
    plan = plan_disable(client, _active(client, 250))
    progress = JobProgress("Disable warmup", now=client.clock.now)
    results = asyncio.run(plan.aexecute(on_update=progress.on_update))
    assert (results["outcome"] == "changed").all()
    assert _bars(progress) == [(f"Job {i}/3", 100.0, "success") for i in (1, 2, 3)]
    assert (progress.overall.value, progress.overall.bar_style) == (100.0, "success")
    assert "finished" in progress.heading.value
    assert "3/3 job(s) · 250/250 accounts processed · 250 succeeded, 0 failed" in (
        progress.summary.value
    )
    assert "100/100 processed, 100 ok, 0 failed" in progress.rows.children[0].counts.value
    assert progress.stop_button.layout.display == "none"  # nothing left to stop
    assert progress.output.outputs == ()
    assert 1 <= progress.redraws <= 10


def test_a_blocking_execute_in_a_cell_draws_its_final_state_too() -> None:
    client = workspace()
    plan = plan_disable(client, _active(client, 150))
    progress = JobProgress(now=client.clock.now)
    plan.execute(on_update=progress.on_update)  # the sync API runs on the client's own loop
    assert (progress.overall.value, progress.overall.bar_style) == (100.0, "success")
    assert _bars(progress) == [("Job 1/2", 100.0, "success"), ("Job 2/2", 100.0, "success")]


def test_a_failed_job_turns_its_bar_red_and_it_stays_red_and_visible() -> None:
    client = workspace()
    client.emulator.faults.fail_job(at=0.5)
    plan = plan_disable(client, _active(client, 250))
    # Room for one job only: the failed first job must stay on screen anyway.
    progress = JobProgress(now=client.clock.now, max_rows=1)
    results = asyncio.run(plan.aexecute(on_update=progress.on_update))
    assert (results["outcome"] == "failed").sum() > 0
    bars = _bars(progress)
    assert bars[0][0] == "Job 1/3" and bars[0][2] == "danger"
    assert 0 < bars[0][1] < 100  # where it stopped, not a full bar
    assert bars[-1] == ("Job 3/3", 100.0, "success")
    assert progress.overall.bar_style == "danger"
    assert "Failed" in progress.rows.children[0].status.value
    assert "#b91c1c" in progress.rows.children[0].status.value  # red text too
    assert "1 more job(s)" in progress.more.value


def test_unknown_and_paused_statuses_are_displayed_while_running() -> None:
    client = workspace()
    client.emulator.faults.job_status("verifying", seconds=5)
    client.emulator.faults.pause_job(seconds=8)
    plan = plan_disable(client, _active(client, 150))
    progress = JobProgress(now=client.clock.now, interval=0)  # draw every event
    shown: list[tuple[str, str]] = []

    def watch(event: RunEvent) -> None:
        progress.on_update(event)
        if progress.rows.children:
            row = progress.rows.children[-1]
            shown.append((row.status.value, row.bar.bar_style))

    asyncio.run(plan.aexecute(on_update=watch))
    statuses = {status for status, _ in shown}
    assert any("Unknown (verifying)" in s for s in statuses)
    assert any(">Paused<" in s for s in statuses)
    assert ("warning" in {style for _, style in shown}) and ("info" in {s for _, s in shown})
    assert progress.overall.bar_style == "success"


def test_stop_submits_no_further_job_and_says_why() -> None:
    client = workspace()
    plan = plan_disable(client, _active(client, 250))
    progress = JobProgress(now=client.clock.now)
    during: list[tuple[bool, str, str]] = []

    def on_update(event: RunEvent) -> None:
        progress.on_update(event)
        if event.kind == "submitted" and event.request == 0:
            progress.stop_button.click()
            during.append((progress.stop_button.disabled, progress.stop_button.description,
                           progress.stop_note.value))  # fmt: skip

    results = asyncio.run(plan.aexecute(on_update=on_update, stop=progress.stop_event))
    assert during == [(True, "Stopping…", f"<small>{STOP_NOTE}</small>")]
    assert "no endpoint to cancel" in STOP_NOTE
    assert len(warmup_jobs(client)) == 1  # the running job finished; no other was sent
    assert (results["outcome"] == "changed").sum() == 100
    assert progress.model.phase == "stopped"
    assert "stopped: 2 job(s) not submitted" in progress.heading.value
    assert progress.overall.bar_style == "warning"


def test_errors_inside_callbacks_land_in_the_output_and_the_run_goes_on() -> None:
    progress = JobProgress(interval=0)

    def broken(event: RunEvent) -> None:
        raise KeyError("model bug")

    progress.model.apply = broken  # type: ignore[method-assign]
    progress.on_update(RunEvent("started", 1))  # must not raise into the runner
    text = progress.output.outputs[0]["text"]
    assert progress.output.outputs[0]["name"] == "stderr"
    assert "KeyError: 'model bug'" in text and "Traceback" in text


def test_an_error_while_drawing_later_lands_in_the_output() -> None:
    timer = VirtualTimer()
    progress = JobProgress(interval=0.02, timer=timer)
    progress.on_update(RunEvent("started", 1))  # drawn at once
    progress.model.summary = _fail  # type: ignore[method-assign]
    progress.on_update(RunEvent("submitting", 1, 0))  # drawn later, with no caller to raise to
    assert progress.output.outputs == ()
    timer.advance(0.02)
    text = progress.output.outputs[-1]["text"]
    assert text.startswith("while drawing progress: Traceback")
    assert text.endswith("RuntimeError: cannot draw\n")


def _fail() -> str:
    raise RuntimeError("cannot draw")


def test_the_throttle_caps_messages_with_100_jobs_updating() -> None:
    timer = VirtualTimer()
    progress = JobProgress("100 jobs", timer=timer)
    draws: list[float] = []  # when each redraw happened, in the timer's seconds

    def feed(event: RunEvent, seconds: float = 0.0) -> None:
        before = progress.redraws
        progress.on_update(event)
        timer.advance(seconds)  # a trailing redraw, if one is due, happens in here
        draws.extend([timer.now()] * (progress.redraws - before))

    start, events = timer.now(), 0
    with MessageCounter(clock=timer.now) as sent:
        feed(RunEvent("started", 100))
        for i in range(100):
            final = job("success", 100, id=f"job-{i}", ok=100)
            for event in one_job_run(100, i, final, steps=8):
                feed(event, 0.001)  # 1200 events, one a millisecond
                events += 1
        feed(RunEvent("verifying", 100))
        feed(RunEvent("finished", 100, message="done"))
    elapsed = timer.now() - start
    assert events == 1200 and elapsed == pytest.approx(1.2)
    # A redraw at once, then one per interval while events stream in, and the end at once.
    assert [t - start for t in draws] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.2])
    per_second = max(sum(1 for t in draws if t0 <= t < t0 + 1.0) for t0 in draws)
    assert per_second <= 5  # four a second, plus the final flush
    # Rows of jobs scrolled out of view are reused: 8 rows (a bar each) for 100 jobs.
    assert sent.count("open", "FloatProgress") == 8
    assert sent.count("open") <= 8 * 12
    # A redraw sends one message per changed widget: about a dozen, never one per event.
    assert sent.count("update") <= progress.redraws * 20
    assert sent.max_per_second() <= 8 * 12 + 5 * 20
    assert (progress.overall.value, progress.overall.bar_style) == (100.0, "success")
    assert len(progress.rows.children) == 8 and "92 more job(s)" in progress.more.value


def test_watch_reattaches_to_running_jobs_and_reports_unknown_ids() -> None:
    client = demo(300, clock=VirtualClock(), warmup_lock=False)
    emails = _active(client, 60)

    async def run() -> JobProgress:
        aclient = async_client(client)
        first = await aclient.disable_warmup(emails[:30])
        second = await aclient.disable_warmup(emails[30:])
        progress = JobProgress.watch(client, [first.id, second.id, "no-such-job"])
        assert progress.unwatch_button.layout.display == ""
        assert progress.task is not None
        await progress.task
        return progress

    progress = asyncio.run(run())
    bars = _bars(progress)
    assert [b[1:] for b in bars[:2]] == [(100.0, "success"), (100.0, "success")]
    assert bars[2][2] == "danger"
    # In plain words: what Instantly answered, never an exception class name.
    assert "404 Background job not found" in progress.rows.children[2].status.value
    assert [o["text"].split(" (")[0] for o in progress.output.outputs] == [
        "404 Background job not found"
    ]
    assert "NotFoundError" not in progress.rows.children[2].status.value
    assert progress.model.phase == "finished"
    assert progress.overall.bar_style == "danger"
    assert progress.unwatch_button.layout.display == "none"


def test_stop_watching_cancels_the_polling_not_the_jobs() -> None:
    client = demo(300, speed=0.01)  # real time, a slow job: it is still running when we stop

    async def run() -> JobProgress:
        aclient = async_client(client)
        started = await aclient.disable_warmup(_active_async(client, 20))
        progress = JobProgress.watch(client, [started.id])
        await asyncio.sleep(0.05)
        progress.unwatch_button.click()
        assert progress.task is not None
        await progress.task
        return progress

    progress = asyncio.run(run())
    assert progress.model.phase == "stopped"
    assert "stopped watching" in progress.heading.value
    job_now = warmup_jobs(client)[0]
    assert job_now["status"] in ("pending", "in-progress")  # Instantly runs it on regardless


def _active_async(client: Any, n: int) -> list[str]:
    accounts = client.emulator.accounts()
    return [a["email"] for a in accounts if a["warmup_status"] == 1][:n]


def test_watch_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        JobProgress.watch(workspace(), ["x"])


def test_text_repr_for_front_ends_without_widgets() -> None:
    progress = JobProgress("Disable warmup")
    progress.on_update(RunEvent("started", 2))
    for event in one_job_run(2, 0, job("failed", 40, id="abc", ok=40)):
        progress.on_update(event)
    text = repr(progress)
    assert text.splitlines()[0] == "Disable warmup: running, 50%"
    assert "Job 1/2: Failed 40%, 40/100 processed, 40 ok, 0 failed" in text
    assert progress._repr_mimebundle_()["text/plain"] == text
