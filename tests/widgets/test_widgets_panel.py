"""WarmupPanel headless: driven with .value and Button.click(), on the emulated workspace."""

from __future__ import annotations

import asyncio
import base64
import datetime
import io
import re
import subprocess
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import pandas as pd
import pytest
from helpers import posts, states, warmup_jobs, workspace
from widget_helpers import saved_state, tree

from instantly_nb import ConfirmationRequired, DemoInstantly
from instantly_nb._demo import DEMO_BASE_URL
from instantly_nb.emulator import Emulator
from instantly_nb.testing import VirtualClock
from instantly_nb.widgets import WarmupPanel


def drive(client: Any, steps: Callable[[WarmupPanel], Coroutine[Any, Any, None]]) -> WarmupPanel:
    """Build the panel inside a running loop (as in a kernel), run ``steps``, wait for it."""

    async def main() -> WarmupPanel:
        panel = WarmupPanel(client)
        await panel.idle()
        await steps(panel)
        await panel.idle()
        return panel

    return asyncio.run(main())


async def click(panel: WarmupPanel, button: Any) -> None:
    button.click()
    await panel.idle()


def _rows(view_html: str) -> int:
    """Data rows of the account table (not the counts above it)."""
    table = view_html.split("<table class='instantly-nb-rows'", 1)[1].split("</table>", 1)[0]
    return table.count("<tr>") - 1  # minus the header


def _csv(link_html: str) -> pd.DataFrame:
    data = re.search(r"base64,([A-Za-z0-9+/=]+)", link_html)
    assert data is not None
    return pd.read_csv(io.BytesIO(base64.b64decode(data.group(1))))


def test_disable_progress_results_then_undo_restores_the_workspace() -> None:
    # Accounts with warmup active: undo (enable) puts back exactly what they were.
    client = workspace(120)
    before = states(client)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        assert "Demo workspace" in panel.workspace_label.value
        assert "DEMO" in panel.workspace_label.value
        assert panel.tag.options[0] == ("(none)", "") and panel.tag.label == "(none)"
        assert panel.filter.label == "(none)"  # shown selected, not an empty dropdown
        assert len(panel.tag.options) > 1  # loaded from the workspace
        assert panel.submit_button.disabled  # nothing previewed yet
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        plan = panel.plan
        assert plan is not None and 50 < plan.summary.change <= 100
        seen["targets"] = list(plan.frame.loc[plan.frame["action"] == "change", "email"])
        assert f"{plan.summary.change}</b><br><small>will change" in panel.plan_view.value
        assert _rows(panel.plan_view.value) == min(plan.summary.change, 50)
        assert panel.confirm.layout.display == "none"  # small plan: one click
        assert not panel.submit_button.disabled
        assert (
            panel.submit_button.description == f"Submit: disable {plan.summary.change} account(s)"
        )
        await click(panel, panel.submit_button)
        seen["after_disable"] = states(client)
        seen["progress"] = (panel.progress.overall.value, panel.progress.overall.bar_style)
        seen["results"] = panel.results
        seen["download"] = panel.download.value
        seen["results_view"] = panel.results_view.value
        assert panel.undo_button.layout.display == ""
        await click(panel, panel.undo_button)
        assert panel.action.value == "enable"
        assert panel.plan is not None and panel.plan.summary.change == len(seen["targets"])
        assert "undo of disable warmup" in panel.plan_view.value
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert panel.output.outputs == ()
    targets = seen["targets"]
    assert all(seen["after_disable"][e] == 0 for e in targets)
    assert seen["progress"] == (100.0, "success")
    results = seen["results"]
    assert sorted(results["email"]) == sorted(targets)
    assert (results["outcome"] == "changed").all()
    assert _rows(seen["results_view"]) == min(len(targets), 50)
    assert f"<b>{len(targets)}</b> changed" in seen["results_view"]
    downloaded = _csv(seen["download"])
    assert sorted(downloaded["email"]) == sorted(targets)
    assert list(downloaded.columns) == list(results.columns)
    assert states(client) == before  # undone: every account back where it was
    assert len(warmup_jobs(client)) == 2
    assert (panel.progress.overall.value, panel.progress.overall.bar_style) == (100.0, "success")
    assert "Done:" in panel.status.value


def test_large_plans_need_the_count_typed_before_submit() -> None:
    client = workspace(150)

    async def steps(panel: WarmupPanel) -> None:
        panel.everything.value = True
        await click(panel, panel.preview_button)
        plan = panel.plan
        assert plan is not None and plan.summary.touches_every_account
        n = plan.summary.change
        assert panel.confirm.layout.display == ""
        assert f"Type <b>{n}</b> below to confirm" in panel.plan_view.value
        assert panel.submit_button.disabled
        await click(panel, panel.submit_button)  # click() ignores `disabled`: the gate must not
        assert f"Not submitted: type {n} in Confirm first" in panel.status.value
        panel.confirm.value = str(n - 1)
        assert panel.submit_button.disabled
        await click(panel, panel.submit_button)
        assert posts(client) == []  # nothing was sent
        panel.confirm.value = f" {n} "
        assert not panel.submit_button.disabled
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert len(posts(client)) >= 1
    assert panel.results is not None and (panel.results["outcome"] == "changed").any()
    assert set(states(client).values()) <= {0, -1, -2, -3}  # every account paused (or in error)
    assert panel.confirm.value == "" and panel.plan is None  # a plan runs once


@pytest.mark.parametrize("extra", [0, 1])
def test_the_panel_asks_exactly_when_execute_would(extra: int) -> None:
    """One threshold: the panel types a count for the same plans ``execute()`` refuses."""
    client = workspace(120)
    active = [e for e, s in states(client).items() if s == 1]
    limit = len(active) - extra  # plans above `limit` changes need confirmation

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)

    async def build() -> WarmupPanel:
        panel = WarmupPanel(client, confirm_above=limit)
        await panel.idle()
        await steps(panel)
        await panel.idle()
        return panel

    panel = asyncio.run(build())
    plan = panel.plan
    assert plan is not None and plan.summary.change == len(active)
    asks = panel.confirm_count() is not None
    assert asks == bool(extra) == (panel.confirm.layout.display == "")
    if asks:
        with pytest.raises(ConfirmationRequired):
            plan.execute(progress=False)
    assert posts(client) == []


def test_changing_the_choice_after_preview_withdraws_the_plan() -> None:
    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        assert panel.plan is not None
        panel.search.value = "example"
        assert panel.plan is None and panel.submit_button.disabled
        assert "Preview again" in panel.plan_view.value
        await click(panel, panel.submit_button)
        assert "Preview first" in panel.status.value

    client = workspace(120)
    drive(client, steps)
    assert posts(client) == []


def test_emails_pasted_uploaded_and_picked_with_exclusions() -> None:
    client = workspace(120)
    active = [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1]

    async def steps(panel: WarmupPanel) -> None:
        panel.target_kind.value = "emails"
        panel.emails.value = f"{active[0]}, {active[1]}\nemail\n"
        _upload(panel, "accounts.csv", f"Email,name\n{active[2]},x\n{active[3]},y\n".encode())
        assert panel.upload.value == ()  # read, then dropped from the widget state
        assert "2 email(s) from <code>accounts.csv</code>" in panel.targets.upload_note.value
        await click(panel, panel.load_button)
        assert len(panel.pick.options) == 120
        panel.targets.pick_filter.value = active[4]
        assert [email for _, email in panel.pick.options] == [active[4]]
        panel.pick.value = (active[4],)
        panel.targets.pick_filter.value = ""  # the pick survives widening the list
        assert panel.pick.value == (active[4],)
        assert "1 picked · 120 of 120 accounts listed" in panel.targets.pick_note.value
        panel.exclude.value = active[1]
        await click(panel, panel.preview_button)

    panel = drive(client, steps)
    assert panel.plan is not None
    frame = panel.plan.frame.set_index("email")
    assert sorted(frame.index) == sorted(active[:5])
    assert frame.loc[active[1], "reason"] == "excluded"
    assert panel.plan.summary.change == 4
    assert panel.plan.description == "5 email(s)"
    assert "Skipped (1)" in panel.plan_view.value


def _upload(panel: WarmupPanel, name: str, content: bytes) -> None:
    panel.upload.value = (
        {"name": name, "type": "text/csv", "size": len(content), "content": memoryview(content),
         "last_modified": datetime.datetime.now(datetime.UTC)},
    )  # fmt: skip


def test_errors_land_in_the_output_and_the_status_turns_red() -> None:
    async def steps(panel: WarmupPanel) -> None:
        await click(panel, panel.preview_button)  # nothing chosen
        assert "Choose a filter, a tag or a search" in panel.output.outputs[-1]["text"]
        assert "#b91c1c" in panel.status.value
        panel.target_kind.value = "emails"
        _upload(panel, "wrong.csv", b"name,domain\nx,acme.com\n")
        assert "no email column" in panel.output.outputs[-1]["text"]
        assert panel.upload.value == () and panel.targets.uploaded == []
        panel.emails.value = "not-an-email\nbad@"
        await click(panel, panel.preview_button)
        text = panel.output.outputs[-1]["text"]
        assert text.startswith("RequestValidationError: 2 unusable email value(s)")
        assert "item 0" in text and "item 1" in text

    panel = drive(workspace(50), steps)
    assert [o["name"] for o in panel.output.outputs] == ["stderr"] * 3
    assert panel.plan is None


def test_a_failed_job_shows_red_in_progress_and_results() -> None:
    client = workspace(300)
    client.emulator.faults.fail_job(at=0.5)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        panel.confirm.value = str(panel.confirm_count() or "")
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert panel.progress.overall.bar_style == "danger"
    assert panel.progress.rows.children[0].bar.bar_style == "danger"
    assert "failed</span>" in panel.results_view.value
    assert "#b91c1c" in panel.status.value and "failed of" in panel.status.value


def test_the_typed_key_is_cleared_and_never_in_any_widget_state() -> None:
    emulator = Emulator(40, 3, clock=VirtualClock())
    key = emulator.api_key

    async def main() -> WarmupPanel:
        panel = WarmupPanel.from_key(
            base_url=DEMO_BASE_URL, transport=emulator.transport(), clock=emulator.clock
        )
        assert panel.key_box.layout.display == "" and panel.preview_button.disabled
        panel.key.value = key
        panel.connect_button.click()
        assert panel.key.value == ""  # cleared before any request went out
        await panel.idle()
        return panel

    panel = asyncio.run(main())
    assert panel.output.outputs == ()
    assert "Demo workspace" in panel.workspace_label.value
    assert "DEMO" not in panel.workspace_label.value  # a real client, even if emulated here
    assert panel.key_box.layout.display == "none" and not panel.preview_button.disabled
    widgets = list(tree(panel))
    assert len(widgets) > 40
    assert all(key not in str(w.get_state()) for w in widgets)
    assert key not in saved_state()
    assert key not in repr(panel)


def test_a_wrong_key_is_reported_and_asked_again() -> None:
    emulator = Emulator(40, 3, clock=VirtualClock())

    async def main() -> WarmupPanel:
        panel = WarmupPanel.from_key(base_url=DEMO_BASE_URL, transport=emulator.transport())
        panel.key.value = "wrong-key-123"
        panel.connect_button.click()
        await panel.idle()
        return panel

    panel = asyncio.run(main())
    assert panel.output.outputs[-1]["text"].startswith("AuthenticationError")
    assert panel.client is None and panel.key.value == ""
    assert panel.key_box.layout.display == "" and panel.preview_button.disabled
    assert "wrong-key-123" not in saved_state()


def test_the_default_is_the_demo_and_the_repr_is_text() -> None:
    panel = WarmupPanel()  # no loop running: still builds, says so
    assert isinstance(panel.client, DemoInstantly)
    assert "No event loop running" in panel.status.value
    text = repr(panel)
    assert text.startswith("WarmupPanel: workspace Demo workspace (emulated, 500 accounts)")
    assert panel._repr_mimebundle_()["text/plain"] == text

    client = workspace(120)

    async def steps(p: WarmupPanel) -> None:
        p.filter.value = "ACC_FILTER_W_ERROR"
        await click(p, p.preview_button)

    shown = repr(drive(client, steps))
    assert "Plan: disable warmup (accounts: warmup has errors)" in shown


def test_importing_without_ipywidgets_gives_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "try:\n    import instantly_nb.widgets\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'ipywidgets>=8.1'" in out.stdout


@pytest.mark.parametrize("busy_click", ["preview_button", "submit_button"])
def test_a_second_click_while_busy_is_refused(busy_click: str) -> None:
    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ERROR"
        panel.preview_button.click()  # not awaited: still planning
        assert panel.preview_button.disabled
        getattr(panel, busy_click).click()
        assert "Still working" in panel.status.value or "Preview first" in panel.status.value

    client = workspace(120)
    drive(client, steps)
    assert posts(client) == []


def test_long_reads_show_their_pages_in_the_status_line() -> None:
    client = workspace(1200)
    said: list[str] = []

    async def steps(panel: WarmupPanel) -> None:
        panel.status.observe(lambda change: said.append(change["new"]), "value")
        await click(panel, panel.load_button)
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)

    drive(client, steps)
    assert any(re.search(r"Loading the account list… 12 page\(s\), 1,200 account", s) for s in said)
    assert any("Planning: reading… " in s for s in said)
