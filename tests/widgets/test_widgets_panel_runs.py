"""WarmupPanel runs that do not simply finish: stop and resume, retry failed, undo, and what the
panel says about each, on the emulated workspace, driven by clicks.

At no moment may the panel show a number, word or colour that disagrees with the workspace.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from helpers import assert_results_match_the_workspace, posts, states, warmup_jobs, workspace
from widget_helpers import click, drive, saved_state, select, stop_once_submitted, tree

from instantly_nb import read_tags
from instantly_nb.widgets import WarmupPanel


def _posted_emails(client: Any) -> list[str]:
    """Every email sent in a warmup POST's list, once per time it was sent."""
    return [e for r in posts(client) for e in (r.request_json or {}).get("emails", [])]


def _active(client: Any, n: int) -> list[str]:
    emails = [e for e, s in states(client).items() if s == 1][:n]
    assert len(emails) == n
    return emails


def test_stop_mid_run_says_stopped_with_the_rest_not_submitted_and_resume_sends_only_that() -> None:
    client = workspace(1000)
    emails = _active(client, 700)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.target_kind.value = "emails"
        panel.emails.value = "\n".join(emails)
        await click(panel, panel.preview_button)
        assert panel.plan is not None and panel.plan.summary.jobs == 7
        panel.confirm.value = str(panel.confirm_count() or "")
        stopper = stop_once_submitted(panel, 2)  # Stop while the third job runs
        await click(panel, panel.submit_button)
        await stopper
        assert panel.results is not None
        seen["outcomes"] = Counter(panel.results["outcome"])
        seen["status"] = (panel.results_box.status.text, panel.results_box.status.tone)
        seen["progress"] = (panel.progress.model.phase, panel.progress.overall.bar_style)
        seen["heading"] = panel.progress.heading.value
        seen["buttons"] = (panel.resume_button.disabled, panel.retry_button.disabled,
                           panel.undo_button.disabled)  # fmt: skip
        seen["jobs"] = len(warmup_jobs(client))
        assert_results_match_the_workspace(client, panel.results)
        await click(panel, panel.resume_button)

    panel = drive(client, steps)
    assert seen["outcomes"] == {"changed": 300, "not_submitted": 400}
    assert seen["status"] == (
        "Stopped: 300 changed, 400 not submitted of 700. Resume sends the 400 account(s) not "
        "submitted.",
        "warn",
    )
    assert seen["progress"] == ("stopped", "warning")  # orange, never green
    assert "Done" not in seen["heading"]
    assert seen["buttons"] == (False, True, False)  # Resume, not Retry failed; Undo what changed
    assert seen["jobs"] == 3
    # Resumed: the four jobs never sent, and nothing twice.
    assert len(warmup_jobs(client)) == 7
    assert Counter(Counter(_posted_emails(client)).values()) == {1: 700}
    assert sorted(_posted_emails(client)) == sorted(emails)
    assert panel.results is not None and (panel.results["outcome"] == "changed").all()
    assert sorted(panel.results["email"]) == sorted(emails)
    assert panel.results_box.status.text == "Done: 700 changed of 700."
    assert panel.resume_button.disabled
    model = panel.progress.model
    assert (model.phase, model.percent, panel.progress.overall.bar_style) == (
        "finished", 100, "success"
    )  # fmt: skip
    assert model.counts()["jobs_done"] == 7  # the jobs of the first run are still counted
    assert_results_match_the_workspace(client, panel.results)


def test_a_one_job_run_stopped_after_its_job_was_submitted_is_finished() -> None:
    client = workspace(150)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        assert panel.plan is not None and panel.plan.summary.jobs == 1
        stopper = stop_once_submitted(panel, 0)
        await click(panel, panel.submit_button)
        await stopper

    panel = drive(client, steps)
    assert panel.progress.model.stop_requested  # the person did click Stop
    assert panel.results is not None and (panel.results["outcome"] == "changed").all()
    assert (panel.progress.model.phase, panel.progress.overall.bar_style) == ("finished", "success")
    assert panel.results_box.status.text.startswith("Done: ")
    assert panel.resume_button.disabled
    assert len(warmup_jobs(client)) == 1


def test_retry_failed_sends_again_only_the_failed_rows_selected() -> None:
    client = workspace(300)
    client.emulator.faults.fail_emails(fraction=0.2)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        await click(panel, panel.submit_button)
        assert panel.results is not None
        seen["failed"] = set(panel.results.loc[panel.results["outcome"] == "failed", "email"])
        assert len(seen["failed"]) > 5 and not panel.retry_button.disabled
        select(panel.results_table, lambda row: row["outcome"] == "changed")
        await click(panel, panel.retry_button)
        seen["nothing"] = panel.results_box.note.text  # only rows that did not fail
        sent = len(posts(client))
        outcomes = list(panel.results_table.frame["outcome"])
        rows = [i for i, o in enumerate(outcomes) if o == "failed"][:4]
        rows.append(outcomes.index("changed"))  # selected too, but it did not fail
        panel.results_table.table.selected_rows = rows
        seen["chosen"] = {panel.results_table.frame["email"].iloc[i] for i in rows[:4]}
        await click(panel, panel.retry_button)
        seen["new_posts"] = posts(client)[sent:]

    panel = drive(client, steps)
    assert seen["nothing"].startswith("None of the selected rows failed")
    assert len(seen["chosen"]) == 4 and seen["chosen"] <= seen["failed"]
    (post,) = seen["new_posts"]
    assert set(post.request_json["emails"]) == seen["chosen"]
    assert panel.results is not None and set(panel.results["email"]) == seen["chosen"]
    assert (panel.results["outcome"] == "changed").all()
    assert "retry of 4 failed account(s) of disable warmup" in panel.plan_view.value
    assert_results_match_the_workspace(client, panel.results)


def test_retry_failed_with_no_row_selected_retries_every_failed_one() -> None:
    client = workspace(300)
    client.emulator.faults.fail_emails(fraction=0.2)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        await click(panel, panel.submit_button)
        assert panel.results is not None
        failed = set(panel.results.loc[panel.results["outcome"] == "failed", "email"])
        await click(panel, panel.retry_button)
        assert panel.results is not None and set(panel.results["email"]) == failed

    panel = drive(client, steps)
    assert panel.results is not None and (panel.results["outcome"] == "changed").all()
    assert panel.retry_button.disabled  # nothing failed any more


def test_an_error_state_change_warns_in_the_preview_and_leaves_undo_disabled() -> None:
    client = workspace(600)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ERROR"
        await click(panel, panel.preview_button)
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert panel.results is not None and (panel.results["outcome"] == "changed").any()
    # the preview (folded once submitted) said it, with the count
    changed = int((panel.results["outcome"] == "changed").sum())
    assert f"{changed} account(s) cannot be undone" in panel.plan_view.value
    assert panel.undo_button.disabled  # nothing a request can put back
    assert panel.undo_button.layout.display != "none"  # in sight, and visibly unavailable


def test_the_tag_is_named_by_its_label_and_its_id_is_in_no_widget() -> None:
    client = workspace(600)
    tags = read_tags(client)
    tag_id = str(tags.loc[tags["label"] == "Client A", "id"].iloc[0])
    seen: dict[str, str] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ERROR"
        panel.tag.label = "Client A"
        await click(panel, panel.preview_button)
        seen["preview"] = panel.plan_view.value
        seen["status"] = panel.status.text
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    words = "tag &#x27;Client A&#x27;, filter &#x27;Warmup has errors&#x27;"
    assert words in seen["preview"]
    assert words in panel.plan_view.value  # the "Submitted:" line
    assert "tag &#x27;Client A&#x27;" in panel.results_view.value  # the results' heading
    for shown in (seen["preview"], panel.results_view.value):  # the workspace, beside both
        assert "Workspace: <b>Demo workspace</b>" in shown
    assert "Client A" in panel.progress.heading.value
    assert "Client A" in repr(panel)
    assert all(tag_id not in json.dumps(w.get_state(), default=str) for w in tree(panel))
    assert tag_id not in repr(panel)


def test_a_new_preview_or_run_clears_the_previous_results_links_and_errors() -> None:
    client = workspace(300)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        await click(panel, panel.submit_button)
        assert "Download results CSV" in panel.download.value
        await click(panel, panel.retry_button)  # nothing failed: an error beside the button
        assert panel.results_box.note.tone == "error"
        panel.filter.value = "ACC_FILTER_W_PAUSED"
        panel.action.value = "enable"
        await click(panel, panel.preview_button)
        # The previous run's table, link, journal, words and buttons are all gone.
        assert panel.results is None and panel.results_box.layout.display == "none"
        assert panel.download.value == "" and panel.results_box.journal.value == ""
        assert panel.results_box.note.text == "" and panel.results_box.status.text == ""
        assert panel.progress.layout.display == "none"
        assert panel.results_table.frame.empty
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert panel.results is not None and set(panel.results["outcome"]) <= {"changed"}
    assert panel.output.outputs == ()


def test_nothing_to_change_is_said_plainly() -> None:
    client = workspace(200)

    async def steps(panel: WarmupPanel) -> None:
        panel.search.value = "no-such-domain.example"
        await click(panel, panel.preview_button)
        assert panel.status.text == "No account matches this choice: there is nothing to change."
        assert panel.submit_button.disabled and not panel.preview_table.visible
        panel.search.value = ""
        panel.filter.value = "ACC_FILTER_W_PAUSED"
        await click(panel, panel.preview_button)  # disable what is already paused

    panel = drive(client, steps)
    assert panel.plan is not None
    n = panel.plan.summary.targeted
    assert panel.status.text == (
        f"Nothing to change: of the {n} targeted account(s), {n} already have warmup paused."
    )
    assert panel.submit_button.disabled and panel.submit_button.description == "Submit"
    assert posts(client) == []


def test_picks_are_listed_and_the_pick_list_shows_the_state_a_run_left() -> None:
    client = workspace(120)

    async def steps(panel: WarmupPanel) -> None:
        panel.target_kind.value = "emails"
        await click(panel, panel.load_button)
        picked = select(panel.pick, lambda row: row["warmup"] == "Active")[:12]
        panel.pick.table.selected_rows = panel.pick.table.selected_rows[:12]
        assert panel.targets.picked == picked
        note = panel.targets.pick_note.value
        assert "12 picked</b>: " + ", ".join(picked[:10]) + " and 2 more" in note
        await click(panel, panel.preview_button)
        assert panel.plan is not None
        assert sorted(panel.plan.frame["email"]) == sorted(picked)
        await click(panel, panel.submit_button)
        frame = panel.pick.frame.set_index("email")
        assert (frame.loc[picked, "warmup"] == "Paused").all()  # read back after the run
        assert panel.targets.picked == picked  # still picked

    panel = drive(client, steps)
    assert panel.output.outputs == ()
    assert "Preview again" not in panel.plan_view.value  # a refreshed list is no new choice


def test_the_saved_widget_state_holds_no_exception_class_name() -> None:
    client = workspace(60)

    async def steps(panel: WarmupPanel) -> None:
        await click(panel, panel.preview_button)  # an error: nothing chosen
        await click(panel, panel.undo_button)  # another: nothing has run

    panel = drive(client, steps)
    assert panel.status.tone == "error"
    assert panel.results_box.note.text == "Nothing has run yet: Preview, then Submit"
    assert "RequestValidationError" not in saved_state()


def test_a_selection_that_changed_since_the_preview_shows_what_ran_and_says_to_plan_again() -> None:
    client = workspace(1200)

    async def steps(panel: WarmupPanel) -> None:
        panel.tag.label = "Client A"
        await click(panel, panel.preview_button)
        assert panel.plan is not None and panel.plan.requests[0].get("include_all_emails")
        client.emulator.add_account("newcomer@acme-late.com", tags=["Client A"])
        panel.confirm.value = str(panel.confirm_count() or "")
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert posts(client) == []  # the changed selection was not sent
    assert panel.results is not None and set(panel.results["outcome"]) == {
        "not_submitted",
        "skipped",
    }
    text, tone = panel.results_box.status.text, panel.results_box.status.tone
    assert (
        text.startswith("Stopped because the workspace changed since the preview")
        and tone == "error"
    )
    assert text.endswith("Preview again to plan the rest.")
    assert panel.resume_button.disabled  # resuming would send the stale selection
    assert panel.progress.overall.bar_style == "danger"
    assert "PlanStaleError" not in panel.progress.heading.value
    assert panel.output.outputs == ()
