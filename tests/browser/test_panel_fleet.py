"""WarmupPanel over several workspaces and with a health threshold, in a real JupyterLab, driven
in Chromium by clicks and typing only (issues 15 and 16).

The expected numbers come from the same demo made here: the same size and seed give the same
workspaces, accounts and warmup history.
"""

from __future__ import annotations

import re

import pytest
from _lab import (
    button,
    expect_progress,
    fill_text,
    progress_bar,
    save_screenshot,
    select_option,
    widget,
)
from _panel import RUN_TIMEOUT_MS, column, expect_status, open_panel, submit, table
from _servers import Server
from playwright.sync_api import Page, expect

import instantly_nb
from instantly_nb.widgets._health import HEALTH_SHOWN

pytestmark = pytest.mark.browser

ACTIVE = "ACC_FILTER_W_ACTIVE"


def test_two_of_three_workspaces_previewed_per_workspace_then_run_in_parallel(
    page: Page, lab_server: Server
) -> None:
    fleet = instantly_nb.demo(120, workspaces=3)  # what panel_fleet.ipynb makes
    accounts = instantly_nb.read_accounts(fleet, filter=ACTIVE, progress=False)
    counts = accounts.groupby("workspace").size().to_dict()
    chosen = ["Acme", "Globex"]
    total = counts["Acme"] + counts["Globex"]

    scope = open_panel(page, "lab", "panel_fleet.ipynb", lab=lab_server)
    expect(scope.get_by_text(re.compile(r"^Workspaces \(3\): "))).to_contain_text("Initech")
    select_option(scope, "Workspaces", chosen)
    expect(scope.get_by_text("2 of 3 chosen", exact=False)).to_be_visible()
    select_option(scope, "Filter", "Warmup active")
    button(scope, "Preview").click()
    preview = scope.locator(".instantly-nb-preview")
    expect(preview).to_contain_text("Disable warmup in 2 workspace(s): filter 'Warmup active'")
    by_workspace = preview.locator(".instantly-nb-by-workspace")
    for name in chosen:  # each chosen workspace's row, with its own count of changes
        row = by_workspace.locator("tr", has_text=name)
        expect(row.locator("td").nth(2)).to_have_text(str(counts[name]))
    expect(by_workspace).not_to_contain_text("Initech")
    rows = table(scope, "preview-rows")
    expect(rows.locator(".dt-info")).to_contain_text(f"of {total} entries")
    assert set(column(rows, "workspace")) <= set(chosen)
    save_screenshot(page, "panel-fleet-preview")
    submit(scope)
    for name in chosen:  # one progress row per workspace, each complete
        expect_progress(progress_bar(scope, name), 100, timeout_ms=RUN_TIMEOUT_MS)
        expect(widget(scope, name).locator(".progress-bar-success")).to_be_visible()
    expect(widget(scope, "Initech")).to_have_count(0)
    expect_status(scope, f"Done: {total} changed of {total}.")
    expect(scope.locator(".instantly-nb-results")).to_contain_text("Acme, Globex")
    results = table(scope, "result-rows")
    expect(results.locator(".dt-info")).to_contain_text(f"of {total} entries")
    widget(scope, "Overall").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    save_screenshot(page, "panel-fleet-done")


def test_a_spam_threshold_previews_the_health_columns_beside_each_account(
    page: Page, lab_server: Server
) -> None:
    client = instantly_nb.demo(accounts=800, speed=5)  # what panel.ipynb makes
    health = instantly_nb.read_warmup_health(
        client, instantly_nb.Selection(filter=ACTIVE), progress=False
    )
    spammy = int((health["spam_rate"] > 0.2).sum())
    assert 0 < spammy < len(health)

    scope = open_panel(page, "lab", "panel.ipynb", lab=lab_server)
    select_option(scope, "Filter", "Warmup active")
    fill_text(scope, "Spam rate above", "20%")
    button(scope, "Preview").click()
    expect(scope.get_by_text(re.compile(r"^Warmup health: "))).to_contain_text(
        f"{spammy} of {len(health)} account(s) have spam rate above 20%"
    )
    preview = scope.locator(".instantly-nb-preview")
    expect(preview).to_contain_text("filter 'Warmup active', spam rate above 20%")
    rows = table(scope, "preview-rows")
    expect(rows.locator(".dt-info")).to_contain_text(f"of {spammy} entries")
    headers = [h.strip() for h in rows.locator("thead th").all_inner_texts()]
    assert headers[-4:] == list(HEALTH_SHOWN), headers
    rates = [float(r.rstrip("%")) for r in column(rows, "spam_rate")]
    assert rates and all(r > 20 for r in rates), rates
    rows.evaluate("(el) => el.scrollIntoView({block: 'center'})")
    save_screenshot(page, "panel-health-preview")
    fill_text(scope, "Spam rate above", "lots")  # a typo: said beside the field
    expect(scope.get_by_text(re.compile(r"^Spam rate above takes a number"))).to_be_visible()
