"""WarmupPanel over several workspaces (issue 15), headless on ``demo(workspaces=3)``.

The chooser limits every step to the workspaces chosen; one preview per workspace with one
confirmation; a progress row per workspace; a workspace that fails does so alone, in its own
row; Stop, Resume, Retry failed and Undo act on the fleet's results as on one workspace's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pytest
from widget_helpers import click, drive, saved_state, select

import instantly_nb as nb
from instantly_nb import ConfirmationRequired, errors
from instantly_nb.emulator import Emulator, JobTiming
from instantly_nb.events import RunEvent
from instantly_nb.testing import DEMO_BASE_URL, ConcurrentClock, DemoWorkspaces, demo
from instantly_nb.widgets import WarmupPanel
from instantly_nb.widgets._fleet_progress import FleetProgress

NAMES = ["Acme", "Globex", "Initech"]
TIMING = JobTiming(queue_delay=2.0, per_account=0.05)
ERROR_NAMES = [name for name in errors.__all__ if name.endswith(("Error", "Required", "Failed"))]


def agency(accounts: int = 60) -> DemoWorkspaces:
    return demo(accounts, 5, workspaces=NAMES, clock=ConcurrentClock(), timing=TIMING)


def keyed(fleet: DemoWorkspaces) -> nb.Workspaces:
    """The same workspaces, each reached with its own key (which can then be revoked)."""
    group = fleet.group
    return nb.Workspaces({
        name: nb.Instantly(f"{group.api_key}-{n}", base_url=DEMO_BASE_URL,
                           transport=group.transport(), clock=group.clock)
        for n, name in enumerate(NAMES, start=1)
    })  # fmt: skip


def warmup_posts(member: Emulator) -> list[Any]:
    return [r for r in member.log if r.method == "POST" and "/warmup/" in r.path]


def active(fleet: DemoWorkspaces, names: list[str]) -> set[tuple[str, str]]:
    """(workspace, email) of every account with warmup active in the workspaces named."""
    return {
        (name, a["email"])
        for name in names
        for a in fleet.group.member(name).accounts()
        if a["warmup_status"] == 1
    }


def pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["workspace"], frame["email"], strict=True))


def rows(panel: WarmupPanel) -> dict[str, tuple[float, str, str]]:
    """Each workspace's progress row: its bar's value and style, and what it says."""
    assert isinstance(panel.progress, FleetProgress)
    return {
        row.bar.description: (row.bar.value, row.bar.bar_style, row.status.value)
        for row in panel.progress.rows.children
    }


def said(panel: WarmupPanel) -> str:
    notes = [panel.status, panel.submit_note, panel.results_box.status, panel.results_box.note,
             panel.targets.tag_note, panel.chooser.note]  # fmt: skip
    return " | ".join(n.text for n in notes) + panel.progress.heading.value


@pytest.mark.parametrize("chosen", [["Globex"], ["Acme", "Initech"], NAMES])
def test_the_chooser_limits_preview_run_and_results_to_the_chosen_workspaces(
    chosen: list[str],
) -> None:
    fleet = agency()
    targets = active(fleet, chosen)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        assert panel.workspaces.options == tuple(NAMES)
        assert panel.workspaces.value == tuple(NAMES)  # every workspace by default
        assert "Workspaces (3)" in panel.workspace_label.value
        panel.workspaces.value = tuple(chosen)
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        plan = panel.plan
        assert plan is not None
        seen["plan"] = plan
        seen["preview"] = panel.plan_view.value
        seen["table"] = panel.preview_table.frame
        await click(panel, panel.submit_button)

    panel = drive(fleet, steps)
    plan = seen["plan"]
    assert plan.names == chosen
    assert pairs(plan.frame) == targets
    for name in chosen:  # each chosen workspace has its row, with its own count
        change = int((plan.frame["workspace"] == name).sum())
        assert (
            f"<b>{name}</b></td><td style='padding:2px 10px;text-align:center'>{change}<"
            in (seen["preview"])
        )
    for name in set(NAMES) - set(chosen):
        assert f"<b>{name}</b>" not in seen["preview"]
        assert warmup_posts(fleet.group.member(name)) == []
    assert list(seen["table"].columns[:2]) == ["workspace", "email"]
    assert pairs(seen["table"]) == targets
    results = panel.results
    assert results is not None and pairs(results) == targets
    assert (results["outcome"] == "changed").all()
    assert set(panel.results_table.frame["workspace"]) == set(chosen)
    shown = rows(panel)  # one progress row per chosen workspace, each complete
    assert list(shown) == chosen
    assert all(v[:2] == (100.0, "success") and "Done" in v[2] for v in shown.values())
    for name in chosen:
        now = {a["email"]: a["warmup_status"] for a in fleet.group.member(name).accounts()}
        assert all(now[e] == 0 for w, e in targets if w == name)
    assert panel.output.outputs == ()


def test_choosing_no_workspace_is_said_and_nothing_is_sent() -> None:
    fleet = agency(30)

    async def steps(panel: WarmupPanel) -> None:
        panel.workspaces.value = ()
        assert panel.chooser.note.tone == "warn"
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)

    panel = drive(fleet, steps)
    assert panel.status.tone == "error"
    assert panel.status.text.startswith("No workspace is chosen: select one or more in Workspaces")
    assert panel.plan is None
    assert all(warmup_posts(m) == [] for m in fleet.group.members.values())


def test_a_tag_a_chosen_workspace_cannot_find_is_said_beside_tag_and_nothing_is_planned() -> None:
    fleet = agency(40)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        assert ("Client A", "Client A") in panel.tag.options  # by label: ids differ per workspace
        panel.tag.value = "Client A"
        fleet.group.member("Globex").faults.respond(
            "GET /api/v2/custom-tags", 403, times=5, message="Missing scope: tags:read"
        )
        await click(panel, panel.preview_button)
        seen["tag"] = (panel.targets.tag_note.text, panel.targets.tag_note.tone)
        seen["status"] = panel.status.text
        seen["plan"] = panel.plan
        panel.workspaces.value = ("Acme", "Initech")  # leave it out, as the note says
        seen["cleared"] = panel.targets.tag_note.text
        await click(panel, panel.preview_button)

    panel = drive(fleet, steps)
    text, tone = seen["tag"]
    assert tone == "error" and "Missing scope: tags:read" in text
    assert "(in workspace 'Globex'; leave it out in Workspaces to go on)" in text
    assert seen["status"] == (
        "Not planned: the tag 'Client A' was not found in every chosen workspace (see beside Tag)"
    )
    assert seen["plan"] is None and seen["cleared"] == ""
    assert all(warmup_posts(m) == [] for m in fleet.group.members.values())
    assert panel.plan is not None and panel.plan.names == ["Acme", "Initech"]
    assert "tag 'Client A'" in panel.plan.description


def test_one_confirmation_for_the_whole_change_across_workspaces() -> None:
    fleet = agency()
    each = {name: len(active(fleet, [name])) for name in NAMES}
    limit = max(each.values())  # no workspace alone needs it; all of them together do
    total = sum(each.values())

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        assert panel.confirm_count() == total
        assert f"Type <b>{total}</b> below to confirm" in panel.plan_view.value
        assert panel.submit_button.disabled
        await click(panel, panel.submit_button)  # click() ignores `disabled`: the gate must not
        assert panel.submit_note.text == f"Not submitted: type {total} in Confirm first."
        plan = panel.plan
        assert plan is not None
        with pytest.raises(ConfirmationRequired):
            await plan.aexecute()  # the same rule the panel applies
        assert all(warmup_posts(m) == [] for m in fleet.group.members.values())
        panel.confirm.value = str(total)
        await click(panel, panel.submit_button)

    panel = drive(fleet, steps, confirm_above=limit)
    assert panel.results is not None and (panel.results["outcome"] == "changed").all()
    assert len(panel.results) == total


def test_a_workspace_that_fails_says_why_in_its_own_row_and_the_others_finish() -> None:
    fleet = agency()
    targets = active(fleet, NAMES)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        fleet.group.member("Globex").revoke_key()  # after the preview: the run meets it
        panel.confirm.value = str(panel.confirm_count() or "")
        await click(panel, panel.submit_button)

    panel = drive(keyed(fleet), steps)
    shown = rows(panel)
    assert shown["Globex"][:2] == (0.0, "danger")
    assert "<b>Failed</b> - 401 Invalid API key" in shown["Globex"][2]
    for name in ("Acme", "Initech"):
        assert shown[name][:2] == (100.0, "success")
    results = panel.results
    assert results is not None and pairs(results) == targets  # every email once, its workspace
    by = results.groupby("workspace")["outcome"].agg(set).to_dict()
    assert by == {"Acme": {"changed"}, "Globex": {"not_submitted"}, "Initech": {"changed"}}
    assert warmup_posts(fleet.group.member("Globex")) == []
    status = panel.results_box.status.text
    assert status.startswith("Ended early (Globex: 401 Invalid API key")
    assert status.endswith("Resume finishes what is left.")
    assert not panel.resume_button.disabled and not panel.undo_button.disabled
    failed_rows = panel.results_table.frame[panel.results_table.frame["workspace"] == "Globex"]
    assert failed_rows["error"].str.startswith("workspace failed: 401 Invalid API key").all()
    for name in ERROR_NAMES:  # the engine's class names never reach the person
        assert name not in said(panel) + "".join(v[2] for v in shown.values()), name
        assert name not in failed_rows.to_string(), name
    assert panel.output.outputs == ()


def test_a_fleet_run_stopped_then_resumed_sends_no_job_twice() -> None:
    fleet = agency(150)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        plan, progress = panel.plan, panel.progress
        assert plan is not None and isinstance(progress, FleetProgress)
        seen["jobs"] = {name: p.summary.jobs for name, p in plan.plans.items()}
        seen["targets"] = pairs(plan.frame)
        panel.confirm.value = str(panel.confirm_count() or "")
        shown = progress.on_update

        def stop_once_acme_submits(name: str, event: RunEvent) -> None:
            shown(name, event)
            if name == "Acme" and event.kind == "submitted":
                progress.stop_button.click()  # as a person would, seeing its job start

        # Events arrive in the run's own order: the Stop lands at the same step every time.
        progress.on_update = stop_once_acme_submits
        await click(panel, panel.submit_button)
        del progress.on_update
        seen["status"] = panel.results_box.status.text
        seen["outcomes"] = Counter(panel.results["outcome"])  # type: ignore[index]
        seen["rows"] = rows(panel)
        seen["posts"] = {n: len(warmup_posts(m)) for n, m in fleet.group.members.items()}
        seen["buttons"] = (panel.resume_button.disabled, panel.retry_button.disabled)
        await click(panel, panel.resume_button)

    panel = drive(fleet, steps)
    assert seen["posts"] == {"Acme": 1, "Globex": 0, "Initech": 0}
    unsent = seen["outcomes"]["not_submitted"]
    assert unsent > 0 and seen["outcomes"]["changed"] > 0
    assert seen["status"] == (
        f"Stopped: {seen['outcomes']['changed']} changed, {unsent} not submitted of "
        f"{sum(seen['outcomes'].values())}. Resume sends the {unsent} account(s) not submitted."
    )
    assert seen["rows"]["Acme"][:2] == (100.0, "success")
    assert seen["rows"]["Globex"][1] == "warning" and "Stopped" in seen["rows"]["Globex"][2]
    assert seen["buttons"] == (False, True)
    # Resumed: each workspace's jobs sent once in all, every email of the plan exactly once.
    assert {n: len(warmup_posts(m)) for n, m in fleet.group.members.items()} == seen["jobs"]
    results = panel.results
    assert results is not None and (results["outcome"] == "changed").all()
    assert pairs(results) == seen["targets"] == active(agency(150), NAMES)
    for name, member in fleet.group.members.items():
        now = {a["email"]: a["warmup_status"] for a in member.accounts()}
        assert all(now[e] == 0 for w, e in seen["targets"] if w == name)
    assert panel.results_box.status.text.startswith("Done: ")
    assert all(style == "success" for _, style, _ in rows(panel).values())


def test_picked_rows_carry_their_workspace_and_pasted_emails_cannot_join_them() -> None:
    fleet = agency(40)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.workspaces.value = ("Acme", "Globex")
        panel.target_kind.value = "emails"
        await click(panel, panel.load_button)
        table = panel.pick.frame
        assert list(table.columns[:2]) == ["workspace", "email"]
        assert set(table["workspace"]) == {"Acme", "Globex"}  # the chosen workspaces only
        picked = select(panel.pick, lambda row: row["warmup"] == "Active")
        seen["picked"] = pairs(table[table["email"].isin(picked)])
        await click(panel, panel.preview_button)
        assert panel.plan is not None
        seen["planned"] = pairs(panel.plan.frame)
        panel.emails.value = "someone@example.com"
        await click(panel, panel.preview_button)
        seen["mixed"] = panel.status.text

    drive(fleet, steps)
    assert seen["planned"] == seen["picked"] == active(fleet, ["Acme", "Globex"])
    assert seen["mixed"].startswith("Picked rows carry their workspace, pasted or uploaded")


def test_retry_failed_and_undo_act_on_each_workspace_s_rows() -> None:
    fleet = agency(80)
    before = {n: {a["email"]: a["warmup_status"] for a in m.accounts()}
              for n, m in fleet.group.members.items()}  # fmt: skip
    fleet.group.member("Initech").faults.fail_emails(fraction=0.3)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        await click(panel, panel.submit_button)
        results = panel.results
        assert results is not None
        failed = results[results["outcome"] == "failed"]
        assert set(failed["workspace"]) == {"Initech"} and len(failed) > 3
        seen["failed"] = pairs(failed)
        assert not panel.retry_button.disabled
        await click(panel, panel.retry_button)  # no row selected: every failed one
        assert "retry of" in panel.plan_view.value
        seen["retried"] = panel.results
        await click(panel, panel.undo_button)
        assert panel.action.value == "enable" and panel.plan is not None
        seen["undo"] = pairs(panel.plan.frame)
        await click(panel, panel.submit_button)

    panel = drive(fleet, steps)
    retried = seen["retried"]
    assert pairs(retried) == seen["failed"] and (retried["outcome"] == "changed").all()
    assert seen["undo"] == seen["failed"]  # undo of the last run: the retried rows
    for name, member in fleet.group.members.items():
        now = {a["email"]: a["warmup_status"] for a in member.accounts()}
        for workspace, email in seen["failed"]:
            if workspace == name:
                assert now[email] == before[name][email] == 1
    assert panel.output.outputs == ()
    assert "RequestValidationError" not in saved_state()
