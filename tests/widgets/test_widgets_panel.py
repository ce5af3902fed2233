"""WarmupPanel headless: driven with .value and Button.click(), on the emulated workspace.

The sequence choose -> preview -> confirm -> run -> results, the confirmation rule, the key,
and errors said in plain words next to the control that caused them. Runs that stop, resume,
retry and undo are in test_widgets_panel_runs.py.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import io
import json
import re
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest
from helpers import assert_results_match_the_workspace, posts, states, warmup_jobs, workspace
from widget_helpers import click, drive, saved_state, select, tree

from instantly_nb import ConfirmationRequired, DemoInstantly, errors, read_emails
from instantly_nb._confirm import CONFIRM_ABOVE
from instantly_nb._demo import DEMO_BASE_URL
from instantly_nb.emulator import Emulator
from instantly_nb.planner import plan_disable
from instantly_nb.testing import VirtualClock
from instantly_nb.widgets import WarmupPanel

# Every exception class we raise: none may be named in what the panel says.
ERROR_NAMES = [name for name in errors.__all__ if name.endswith(("Error", "Required", "Failed"))]


def _csv(link_html: str) -> pd.DataFrame:
    data = re.search(r"base64,([A-Za-z0-9+/=]+)", link_html)
    assert data is not None
    return pd.read_csv(io.BytesIO(base64.b64decode(data.group(1))))


def _table_rows(rows: Any) -> list[list[Any]]:
    """The rows an ITable holds for the browser (all of them: nothing downsampled)."""
    assert "downsampling_warning" not in rows.table._dt_args
    return list(json.loads(rows.table._dt_args["data_json"]))


def _said(panel: WarmupPanel) -> str:
    """Every message the panel shows, as text."""
    notes = [
        panel.status, panel.submit_note, panel.results_box.status, panel.results_box.note,
        panel.targets.upload_note, panel.targets.load_note, panel.key_box.note,
        panel.preview.confirm_note,
    ]  # fmt: skip
    return " | ".join(n.text for n in notes)


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
        assert panel.results_box.layout.display == "none"
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        plan = panel.plan
        assert plan is not None and 50 < plan.summary.change <= 100
        seen["targets"] = list(plan.frame.loc[plan.frame["action"] == "change", "email"])
        assert f"{plan.summary.change}</b><br><small>will change" in panel.plan_view.value
        assert "these are exactly the" in panel.plan_view.value
        shown = _table_rows(panel.preview_table)
        assert sorted(r[0] for r in shown) == sorted(plan.frame["email"])  # every row, not 50
        assert panel.preview.confirm_box.layout.display == "none"  # small plan: one click
        assert not panel.submit_button.disabled
        assert (
            panel.submit_button.description == f"Submit: disable {plan.summary.change} account(s)"
        )
        assert panel.submit_button.layout.width == "auto"  # the count is never cut off
        await click(panel, panel.submit_button)
        seen["after_disable"] = states(client)
        seen["progress"] = (panel.progress.overall.value, panel.progress.overall.bar_style)
        seen["results"] = panel.results
        seen["download"] = panel.download.value
        seen["results_rows"] = _table_rows(panel.results_table)
        seen["journal"] = panel.results_box.journal.value
        seen["status"] = panel.results_box.status.text
        assert not panel.undo_button.disabled and panel.resume_button.disabled
        assert panel.retry_button.disabled  # nothing failed
        await click(panel, panel.undo_button)
        assert panel.action.value == "enable"  # the toggle shows what the plan on screen does
        assert panel.plan is not None and panel.plan.summary.change == len(seen["targets"])
        assert "undo of disable warmup" in panel.plan_view.value
        assert panel.results_box.layout.display == "none"  # a new preview: old results gone
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert panel.output.outputs == ()
    targets = seen["targets"]
    assert all(seen["after_disable"][e] == 0 for e in targets)
    assert seen["progress"] == (100.0, "success")
    results = seen["results"]
    assert sorted(results["email"]) == sorted(targets)
    assert (results["outcome"] == "changed").all()
    assert sorted(r[0] for r in seen["results_rows"]) == sorted(targets)
    assert seen["status"] == f"Done: {len(targets)} changed of {len(targets)}."
    downloaded = _csv(seen["download"])
    assert sorted(downloaded["email"]) == sorted(targets)
    assert list(downloaded.columns) == list(results.columns)
    assert re.search(r"Journal: <code>instantly_nb_runs/[^<]+\.jsonl</code>", seen["journal"])
    assert states(client) == before  # undone: every account back where it was
    assert len(warmup_jobs(client)) == 2
    assert (panel.progress.overall.value, panel.progress.overall.bar_style) == (100.0, "success")
    assert panel.results_box.status.text.startswith("Done:")
    assert panel.action.value == "disable"  # the undo ran: the toggle shows the choice again
    assert_results_match_the_workspace(client, panel.results)


def test_large_plans_need_the_count_typed_before_submit() -> None:
    client = workspace(150)

    async def steps(panel: WarmupPanel) -> None:
        panel.everything.value = True
        await click(panel, panel.preview_button)
        plan = panel.plan
        assert plan is not None and plan.summary.touches_every_account
        n = plan.summary.change
        assert panel.preview.confirm_box.layout.display == ""
        assert f"Type <b>{n}</b> below to confirm" in panel.plan_view.value
        assert panel.submit_button.disabled
        await click(panel, panel.submit_button)  # click() ignores `disabled`: the gate must not
        assert panel.submit_note.text == f"Not submitted: type {n} in Confirm first."
        panel.confirm.value = str(n - 1)
        assert panel.submit_button.disabled
        expected = f"Type exactly {n}, the number of accounts that will change."
        assert panel.preview.confirm_note.text == expected  # a wrong count says what is wanted
        await click(panel, panel.submit_button)
        assert posts(client) == []  # nothing was sent
        panel.confirm.value = f" {n} "
        assert panel.preview.confirm_note.text == "Confirmed: Submit is enabled."
        assert not panel.submit_button.disabled
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert len(posts(client)) >= 1
    assert panel.results is not None and (panel.results["outcome"] == "changed").any()
    assert set(states(client).values()) <= {0, -1, -2, -3}  # every account paused (or in error)
    assert panel.confirm.value == "" and panel.plan is None  # a plan runs once
    assert panel.submit_note.text == ""  # the earlier refusal is not left standing


@pytest.mark.parametrize("extra", [0, 1])
def test_the_panel_asks_exactly_when_execute_would(extra: int) -> None:
    """One threshold: the panel types a count for the same plans ``execute()`` refuses."""
    client = workspace(120)
    active = [e for e, s in states(client).items() if s == 1]
    limit = len(active) - extra  # plans above `limit` changes need confirmation

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)

    panel = drive(client, steps, confirm_above=limit)
    plan = panel.plan
    assert plan is not None and plan.summary.change == len(active)
    asks = panel.confirm_count() is not None
    assert asks == bool(extra) == (panel.preview.confirm_box.layout.display == "")
    if asks:
        with pytest.raises(ConfirmationRequired):
            plan.execute(progress=False)
    assert posts(client) == []


@pytest.mark.parametrize("extra", [0, 1])
def test_by_default_the_panel_and_execute_share_the_one_threshold(extra: int) -> None:
    client = workspace(1200)
    emails = [e for e, s in states(client).items() if s == 1][: CONFIRM_ABOVE + extra]
    assert len(emails) == CONFIRM_ABOVE + extra

    async def steps(panel: WarmupPanel) -> None:
        panel.target_kind.value = "emails"
        panel.emails.value = "\n".join(emails)
        await click(panel, panel.preview_button)

    panel = drive(client, steps)
    assert panel.confirm_count() == (CONFIRM_ABOVE + 1 if extra else None)
    plan = plan_disable(client, emails)
    assert plan.summary.needs_confirmation == bool(extra)
    assert (f"Type {CONFIRM_ABOVE + 1} in Confirm" in panel.status.text) == bool(extra)


def test_changing_the_choice_after_preview_withdraws_the_plan() -> None:
    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)
        assert panel.plan is not None and panel.preview_table.visible
        panel.search.value = "example"
        assert panel.plan is None and panel.submit_button.disabled
        assert "Preview again" in panel.plan_view.value
        assert not panel.preview_table.visible  # no row of the withdrawn plan stays in sight
        await click(panel, panel.submit_button)
        assert "Preview first" in panel.submit_note.text

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
        assert panel.targets.upload_note.text == "2 email(s) from accounts.csv"
        await click(panel, panel.load_button)
        assert len(_table_rows(panel.pick)) == 120  # every account, not a sample
        assert select(panel.pick, lambda row: row["email"] == active[4]) == [active[4]]
        assert panel.targets.picked == [active[4]]
        assert f"1 picked</b>: {active[4]}" in panel.targets.pick_note.value
        panel.exclude.value = active[1]
        await click(panel, panel.preview_button)

    panel = drive(client, steps)
    assert panel.plan is not None
    frame = panel.plan.frame.set_index("email")
    assert sorted(frame.index) == sorted(active[:5])
    assert frame.loc[active[1], "reason"] == "excluded"
    assert panel.plan.summary.change == 4
    assert panel.plan.description == "5 email(s)"
    plan_words = {row[0]: row[1] for row in _table_rows(panel.preview_table)}
    assert plan_words[active[1]] == "skipped" and plan_words[active[0]] == "will change"


def _upload(panel: WarmupPanel, name: str, content: bytes) -> None:
    panel.upload.value = (
        {"name": name, "type": "text/csv", "size": len(content), "content": memoryview(content),
         "last_modified": datetime.datetime.now(datetime.UTC)},
    )  # fmt: skip


def test_errors_are_said_next_to_their_control_in_plain_words_and_do_not_linger() -> None:
    seen: dict[str, str] = {}

    async def steps(panel: WarmupPanel) -> None:
        await click(panel, panel.preview_button)  # nothing chosen
        seen["nothing"] = panel.status.text
        assert panel.status.tone == "error"
        panel.target_kind.value = "emails"
        assert panel.status.tone == "info"  # the choice moved on: that error no longer applies
        _upload(panel, "wrong.csv", b"name,domain\nx,acme.com\n")
        seen["upload"] = panel.targets.upload_note.text
        assert panel.upload.value == () and panel.targets.uploaded == []
        panel.emails.value = "not-an-email\nbad@"
        await click(panel, panel.preview_button)
        seen["emails"] = panel.status.text
        seen["everything"] = _said(panel)
        good = [e for e, s in states(panel.client).items() if s == 1][:2]  # type: ignore[arg-type]
        panel.emails.value = "\n".join(good)
        await click(panel, panel.preview_button)

    panel = drive(workspace(50), steps)
    assert seen["nothing"].startswith("Nothing is chosen yet: choose a filter, a tag or a search")
    assert seen["upload"].startswith("No email column: expected one named 'email'")
    assert seen["emails"].startswith("2 unusable email value(s)")
    assert "item 0" in seen["emails"] and "item 1" in seen["emails"]
    for name in ERROR_NAMES:
        assert name not in seen["everything"], name
    assert panel.output.outputs == ()  # no traceback: these are not bugs
    assert panel.plan is not None and panel.status.tone == "info"  # the error is gone
    assert "unusable" not in _said(panel)


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
    assert panel.results_box.status.tone == "error"
    assert panel.results_box.status.text.startswith("Finished with failures: ")
    outcomes = [row[1] for row in _table_rows(panel.results_table)]
    assert outcomes[0] == "failed"  # failures first, where they are seen


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


def test_a_wrong_key_is_reported_beside_connect_and_asked_again() -> None:
    emulator = Emulator(40, 3, clock=VirtualClock())

    async def main() -> WarmupPanel:
        panel = WarmupPanel.from_key(base_url=DEMO_BASE_URL, transport=emulator.transport())
        panel.key.value = "wrong-key-123"
        panel.connect_button.click()
        await panel.idle()
        return panel

    panel = asyncio.run(main())
    assert panel.key_box.note.text.startswith("401 Invalid API key")
    assert "AuthenticationError" not in _said(panel) and panel.output.outputs == ()
    assert panel.client is None and panel.key.value == ""
    assert panel.key_box.layout.display == "" and panel.preview_button.disabled
    assert "wrong-key-123" not in saved_state()


def test_the_default_is_the_demo_and_the_repr_is_text() -> None:
    panel = WarmupPanel()  # no loop running: still builds, says so
    assert isinstance(panel.client, DemoInstantly)
    assert "No event loop running" in panel.status.text
    text = repr(panel)
    assert text.startswith("WarmupPanel: workspace Demo workspace (emulated, 500 accounts)")
    assert panel._repr_mimebundle_()["text/plain"] == text

    client = workspace(120)

    async def steps(p: WarmupPanel) -> None:
        p.filter.value = "ACC_FILTER_W_ERROR"
        await click(p, p.preview_button)

    shown = repr(drive(client, steps))
    assert "Plan: disable warmup" in shown and "filter 'Warmup has errors'" in shown


@pytest.mark.parametrize(
    ("missing", "hint"),
    [("ipywidgets", "pip install 'ipywidgets>=8.1'"),
     ("anywidget", "pip install 'itables[widget]>=2.9'")],
)  # fmt: skip
def test_importing_without_a_widget_library_gives_an_install_hint(missing: str, hint: str) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "try:\n    import instantly_nb.widgets\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert hint in out.stdout


def test_a_second_click_while_busy_is_refused() -> None:
    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ERROR"
        panel.preview_button.click()  # not awaited: still planning
        assert panel.preview_button.disabled
        panel.preview_button.click()
        assert panel.status.text == "Still working on the previous step…"
        panel.submit_button.click()
        assert panel.submit_note.text.startswith("Preview first")

    client = workspace(120)
    drive(client, steps)
    assert posts(client) == []


def test_long_reads_show_their_pages_beside_the_control_that_started_them() -> None:
    client = workspace(1200)
    loading: list[str] = []
    planning: list[str] = []

    async def steps(panel: WarmupPanel) -> None:
        panel.targets.load_note.observe(lambda c: loading.append(c["new"]), "value")
        panel.status.observe(lambda c: planning.append(c["new"]), "value")
        panel.target_kind.value = "emails"
        await click(panel, panel.load_button)
        panel.target_kind.value = "selection"
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        await click(panel, panel.preview_button)

    drive(client, steps)
    assert any(
        re.search(r"Loading the account list… 12 page\(s\), 1,200 account", s) for s in loading
    )
    assert "1200 accounts listed: select rows to pick them" in loading[-1]
    assert any("Planning: reading… " in s for s in planning)


def test_the_tables_hold_every_row_of_a_large_run() -> None:
    client = workspace(1500)
    emails = read_emails([a["email"] for a in client.emulator.accounts()])

    async def steps(panel: WarmupPanel) -> None:
        panel.everything.value = True
        await click(panel, panel.preview_button)
        panel.confirm.value = str(panel.confirm_count())
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert panel.results is not None and len(panel.results) == len(emails)
    shown = _table_rows(panel.results_table)
    assert sorted(r[0] for r in shown) == sorted(emails)  # 1,500 rows, well above 64 KB
    assert len(panel.results_table.table._dt_args["data_json"]) > 64_000
