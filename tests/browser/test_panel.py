"""WarmupPanel in a real JupyterLab and in Voila, driven in Chromium: disable, watch, undo.

Only clicks and typing, as an analyst would: pick a filter, Preview, confirm if asked, Submit,
wait for the overall bar to reach 100% and the results table, then Undo and Submit again.

The screenshot of the finished run is saved with the test's artifacts; with
``INSTANTLY_NB_UPDATE_SCREENSHOT=1`` it also replaces ``docs/panel.png`` (the README's picture),
so an ordinary test run leaves the checkout as it was.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from _lab import (
    button,
    expect_progress,
    fill_text,
    open_notebook,
    open_voila,
    progress_bar,
    run_all_cells,
    save_screenshot,
    select_option,
    wait_for_widgets,
    widget,
)
from _servers import REPO_ROOT, Server, VoilaServers
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

NOTEBOOK = "panel.ipynb"
RUN_TIMEOUT_MS = 90_000  # a few demo jobs at speed=5 take seconds; margin for loaded machines
DOCS_SCREENSHOT = REPO_ROOT / "docs" / "panel.png"


def _submit(panel: Locator) -> None:
    """Type the count if the plan asks for it, then click Submit (its text names the count)."""
    preview = panel.locator(".instantly-nb-preview")
    expect(preview).to_be_visible()
    asked = re.search(r"Type (\d+) below to confirm", preview.inner_text())
    if asked:
        fill_text(panel, "Confirm", asked.group(1))
    submit = panel.locator("button.widget-button", has_text=re.compile(r"^\s*Submit: "))
    expect(submit).to_be_enabled()
    submit.click()


def _wait_for_results(panel: Locator, action: str) -> Locator:
    results = panel.locator(".instantly-nb-results")
    expect(results).to_contain_text(f"Results: {action} warmup", timeout=RUN_TIMEOUT_MS)
    expect_progress(progress_bar(panel, "Overall"), 100, timeout_ms=RUN_TIMEOUT_MS)
    return results


def test_disable_then_undo_with_clicks_in_jupyterlab(page: Page, lab_server: Server) -> None:
    notebook = open_notebook(page, lab_server, NOTEBOOK)
    run_all_cells(page, NOTEBOOK)
    wait_for_widgets(notebook)
    expect(notebook.get_by_text("Choose the accounts, then Preview.")).to_be_visible()
    expect(notebook.get_by_text("Workspace:")).to_contain_text("Demo workspace")

    # Warmup active: every change can be undone exactly (an error state cannot be put back),
    # and the plan is large enough that Submit asks for the count to be typed.
    select_option(notebook, "Filter", "Warmup active")
    button(notebook, "Preview").click()
    preview = notebook.locator(".instantly-nb-preview")
    expect(preview).to_contain_text("Disable warmup: accounts: warmup active")
    expect(preview).to_contain_text("below to confirm")
    changing = int(re.findall(r"Accounts that change \((\d+)\)", preview.inner_text())[0])
    assert changing > 0
    _submit(notebook)

    results = _wait_for_results(notebook, "disable")
    expect(results).to_contain_text(f"{changing} changed")
    expect(widget(notebook, "Overall").locator(".progress-bar-success")).to_be_visible()
    expect(notebook.get_by_role("link", name=re.compile("Download results CSV"))).to_be_visible()
    # Frame the run: the submitted plan's line at the top, progress and results below it.
    notebook.get_by_text(re.compile(r"^Submitted: disable warmup")).evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    shot = save_screenshot(page, "panel")
    if os.environ.get("INSTANTLY_NB_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, DOCS_SCREENSHOT)

    button(notebook, "Undo").click()
    expect(preview).to_contain_text("Enable warmup: undo of disable warmup")
    _submit(notebook)
    results = _wait_for_results(notebook, "enable")
    expect(results).to_contain_text(f"{changing} changed")
    expect(notebook.get_by_text(re.compile(r"Done: \d+ changed, 0 failed"))).to_be_visible()
    save_screenshot(page, "panel-undone")


def test_the_panel_renders_and_previews_in_voila(page: Page, voila_server: VoilaServers) -> None:
    body = open_voila(page, voila_server(NOTEBOOK))
    expect(body.get_by_text("Choose the accounts, then Preview.")).to_be_visible()
    expect(body.get_by_text("Workspace:")).to_contain_text("Demo workspace")
    select_option(body, "Filter", "Warmup has errors")
    button(body, "Preview").click()
    expect(body.locator(".instantly-nb-preview")).to_contain_text("Accounts that change")
    save_screenshot(page, "panel-voila")
