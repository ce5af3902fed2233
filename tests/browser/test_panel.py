"""WarmupPanel in a real JupyterLab and in Voila, driven in Chromium by clicks and typing only.

Preview with a filter and a tag (the tag by its label, never its id), a seven-job run stopped
while its third job runs and then resumed, sorting and selecting in the results table and
retrying the failed rows, a 5,000-row results table (its time to render measured, not judged),
disable then undo, and the app mode of ``06_panel_app``.

Screenshots go to ``artifacts/``; with ``INSTANTLY_NB_UPDATE_SCREENSHOT=1`` the finished run
also replaces ``docs/panel.png`` (the README's picture), so an ordinary run leaves the checkout
as it was. Timings go to ``artifacts/table-render-<front end>.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from _lab import (
    ARTIFACTS,
    button,
    expect_progress,
    field,
    fill_text,
    progress_bar,
    save_screenshot,
    select_option,
    widget,
)
from _panel import (
    RUN_TIMEOUT_MS,
    UUID,
    click_step,
    column,
    expect_status,
    open_panel,
    paste_emails,
    select_rows,
    sort_by,
    submit,
    table,
)
from _servers import REPO_ROOT, Server, VoilaServers
from playwright.sync_api import Locator, Page, expect

import instantly_nb

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = REPO_ROOT / "docs" / "panel.png"
FRONT_ENDS = ["lab", "voila"]


@pytest.fixture(params=FRONT_ENDS)
def where(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _open(page: Page, request: pytest.FixtureRequest, where: str, notebook: str) -> Locator:
    if where == "lab":
        return open_panel(page, where, notebook, lab=request.getfixturevalue("lab_server"))
    return open_panel(page, where, notebook, voila=request.getfixturevalue("voila_server"))


def _tag_ids(accounts: int, seed: int = 0) -> list[str]:
    """The tag ids of the demo workspace a notebook makes (same size and seed, same tags)."""
    return [str(i) for i in instantly_nb.read_tags(instantly_nb.demo(accounts, seed))["id"]]


def test_preview_with_a_filter_and_a_tag_names_the_tag_by_its_label(
    page: Page, request: pytest.FixtureRequest, where: str
) -> None:
    scope = _open(page, request, where, "panel.ipynb")
    expect(scope.get_by_text("Workspace:")).to_contain_text("Demo workspace")
    select_option(scope, "Filter", "Warmup has errors")
    select_option(scope, "Tag", "Client A")
    button(scope, "Preview").click()
    preview = scope.locator(".instantly-nb-preview")
    expect(preview).to_contain_text("tag 'Client A', filter 'Warmup has errors'")
    expect(preview).to_contain_text("cannot be undone")  # warmup errors cannot be put back
    expect(table(scope, "preview-rows").locator(".dt-info")).to_contain_text("entries")
    save_screenshot(page, f"panel-tag-preview-{where}")
    submit(scope)
    expect_status(scope, re.compile(r"^Done: \d+ changed of \d+\.$"))
    expect(scope.locator(".instantly-nb-results")).to_contain_text("tag 'Client A'")
    expect(button(scope, "Undo")).to_be_disabled()  # nothing a request can put back
    text = scope.inner_text()
    for tag_id in _tag_ids(800):
        assert tag_id not in text
    shown = text.split("Results:")[0]  # above the results table, whose job column holds ids
    assert not UUID.search(shown), UUID.search(shown)


def test_a_seven_job_run_stopped_after_job_2_then_resumed(
    page: Page, request: pytest.FixtureRequest, where: str
) -> None:
    # The workspace panel_stop.ipynb makes: the same size and seed give the same accounts.
    frame = instantly_nb.read_accounts(instantly_nb.demo(1000, 7))
    emails = frame.loc[frame["warmup_status"] == 1, "email"].head(700).tolist()
    scope = _open(page, request, where, "panel_stop.ipynb")
    paste_emails(scope, emails)
    button(scope, "Preview").click()
    expect(scope.locator(".instantly-nb-preview")).to_contain_text("Job 7: a list of 100")
    submit(scope)
    # Stop while the third job runs: it finishes (Instantly cannot cancel it), four never go.
    job_3 = page.locator("label.widget-label", has_text=re.compile(r"^\s*Job 3/7\s*$"))
    third = scope.locator(".widget-hbox").filter(has=job_3)
    expect(third).to_contain_text(re.compile(r"Pending|In progress"), timeout=RUN_TIMEOUT_MS)
    button(scope, "Stop").click()
    expect_status(
        scope,
        "Stopped: 300 changed, 400 not submitted of 700. Resume sends the 400 account(s) not "
        "submitted.",
    )
    expect(widget(scope, "Overall").locator(".progress-bar-warning")).to_be_visible()  # orange
    expect(scope.get_by_text(re.compile(r"^Journal: "))).to_be_visible()
    save_screenshot(page, f"panel-stopped-{where}")
    click_step(scope, "Resume")
    expect_status(scope, "Done: 700 changed of 700.")
    expect_progress(progress_bar(scope, "Overall"), 100, timeout_ms=RUN_TIMEOUT_MS)
    expect(button(scope, "Resume")).to_be_disabled()
    save_screenshot(page, f"panel-resumed-{where}")


def test_the_results_table_sorts_selects_and_retries_the_selected_failures(
    page: Page, request: pytest.FixtureRequest, where: str
) -> None:
    scope = _open(page, request, where, "panel_failures.ipynb")
    select_option(scope, "Filter", "Warmup active")
    button(scope, "Preview").click()
    submit(scope)
    expect_status(scope, re.compile(r"^Finished with failures: \d+ changed, \d+ failed of \d+"))
    results = table(scope, "result-rows")
    assert set(column(results, "outcome")) == {"failed"}  # failures first
    emails = sort_by(results, "email")
    assert emails == sorted(emails, key=str.lower) and len(emails) == 10
    assert set(column(results, "outcome")) != {"failed"}  # ordered by email, not failures first
    results.locator(".dt-search input").fill("failed")  # the table's own search
    expect(results.locator(".dt-info")).to_contain_text("filtered from")
    assert set(column(results, "outcome")) == {"failed"}
    select_rows(results, 2)
    chosen = column(results, "email")[:2]
    save_screenshot(page, f"panel-retry-selected-{where}")
    click_step(scope, "Retry failed")
    expect_status(scope, "Done: 2 changed of 2.")
    expect(scope.get_by_text(re.compile(r"^Submitted: .*retry of 2 failed"))).to_be_visible()
    retried = table(scope, "result-rows")
    expect(retried.locator("tbody tr")).to_have_count(2)  # one page: no "Showing..." line
    assert sorted(column(retried, "email")) == sorted(chosen)


def test_a_5000_row_results_table_renders_and_its_time_is_measured(
    page: Page, request: pytest.FixtureRequest, where: str
) -> None:
    """Time to render, measured against a small table of the same run (not asserted).

    The first results table of a page also loads DataTables' code; later runs update it. So:
    a small run (the table is made), its undo (a few hundred rows: the baseline update), then
    every account (5,000 rows, an update).
    """
    scope = _open(page, request, where, "panel_5000.ipynb")
    fill_text(scope, "Search", "gmail.com")
    button(scope, "Preview").click()
    first = _measured_run(page, scope)
    click_step(scope, "Undo")
    baseline = _measured_run(page, scope)  # the accounts the first run changed
    fill_text(scope, "Search", "")
    field(scope, "Every account of the workspace (needs the count typed to submit)").check()
    button(scope, "Preview").click()
    large = _measured_run(page, scope)
    assert large["rows"] == 5000
    results = table(scope, "result-rows")
    timing = {
        "front_end": where,
        "first_table": first,
        "baseline": baseline,
        "large": large,
        "ratio": round(large["render_ms"] / max(baseline["render_ms"], 1), 1),
        "sort_ms": round(page.evaluate(_SORT, ".instantly-nb-result-rows")),
        "search_ms": round(page.evaluate(_SEARCH, ".instantly-nb-result-rows")),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"table-render-{where}.json").write_text(json.dumps(timing) + "\n")
    print(f"results tables in {where}: {timing}")
    select_rows(results, 3)  # still answers clicks
    save_screenshot(page, f"panel-5000-{where}")


def _measured_run(page: Page, scope: Locator) -> dict[str, int]:
    """Submit the plan shown; how long its results table took to show every row."""
    preview = scope.locator(".instantly-nb-preview")
    expect(preview).to_be_visible()
    rows = int(re.findall(r"(\d+)\s*targeted", preview.inner_text())[0])
    page.evaluate(_MARK_RESULTS, f"of {rows:,} entries")
    submit(scope)
    expect_status(scope, re.compile(rf"^Done: .* of {rows}\.$"))
    info = table(scope, "result-rows").locator(".dt-info")
    expect(info).to_contain_text(f"of {rows:,} entries", timeout=RUN_TIMEOUT_MS)
    marks = page.evaluate("() => window.__instantly_nb_marks")
    return {"rows": rows, "render_ms": round(marks["table"] - marks["results"])}


# When the results' heading appears, and when the results table says it holds all its rows
# (``entries``, e.g. "of 5,000 entries"): the table's time to render, from the moment the
# results reach the page.
_MARK_RESULTS = """(entries) => {
  if (window.__instantly_nb_watch) { window.__instantly_nb_watch.disconnect(); }
  const marks = window.__instantly_nb_marks = {};
  const look = () => {
    const now = performance.now();
    if (marks.results === undefined && document.querySelector('.instantly-nb-results')) {
      marks.results = now;
    }
    const info = document.querySelector('.instantly-nb-result-rows .dt-info');
    if (marks.table === undefined && info && info.textContent.includes(entries)) {
      marks.table = now;
    }
  };
  window.__instantly_nb_watch = new MutationObserver(look);
  window.__instantly_nb_watch.observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""
# A click on a column's name sorts and redraws at once (DataTables, client side): time to the
# next frame.
_SORT = """async (box) => {
  const header = [...document.querySelectorAll(box + ' thead th')]
    .find((th) => th.textContent.trim() === 'email');
  const start = performance.now();
  header.click();
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - start;
}"""
_SEARCH = """async (box) => {
  const input = document.querySelector(box + ' .dt-search input');
  const start = performance.now();
  input.value = 'gmail';
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - start;
}"""


def test_disable_then_undo_with_clicks_in_jupyterlab(page: Page, lab_server: Server) -> None:
    scope = open_panel(page, "lab", "panel.ipynb", lab=lab_server)
    expect(scope.get_by_text("Workspace:")).to_contain_text("Demo workspace")
    # Warmup active: every change can be undone exactly (an error state cannot be put back).
    select_option(scope, "Filter", "Warmup active")
    button(scope, "Preview").click()
    preview = scope.locator(".instantly-nb-preview")
    expect(preview).to_contain_text("Disable warmup: filter 'Warmup active'")
    expect(preview).to_contain_text("these are exactly the")
    changing = int(re.findall(r"(\d+)\s*will change", preview.inner_text())[0])
    assert changing > 0
    submit(scope)
    expect_status(scope, f"Done: {changing} changed of {changing}.")
    expect_progress(progress_bar(scope, "Overall"), 100, timeout_ms=RUN_TIMEOUT_MS)
    expect(widget(scope, "Overall").locator(".progress-bar-success")).to_be_visible()
    expect(scope.get_by_role("link", name=re.compile("Download results CSV"))).to_be_visible()
    expect(table(scope, "result-rows").locator(".dt-info")).to_contain_text(
        f"of {changing} entries"
    )
    # Frame the run: the submitted plan's line at the top, progress and results below it, the
    # file browser folded away.
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    scope.get_by_text(re.compile(r"^Submitted: disable warmup")).evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    shot = save_screenshot(page, "panel")
    if os.environ.get("INSTANTLY_NB_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, DOCS_SCREENSHOT)

    click_step(scope, "Undo")
    expect(preview).to_contain_text("Enable warmup: undo of disable warmup")
    action = scope.locator("button.widget-toggle-button.mod-active", has_text=" warmup")
    expect(action).to_have_text(re.compile("Enable warmup"))  # what the plan on screen does
    submit(scope)
    expect_status(scope, f"Done: {changing} changed of {changing}.")
    expect(scope.locator(".instantly-nb-results")).to_contain_text("undo of disable warmup")
    # The undo ran: the toggle is back on the action chosen.
    expect(action).to_have_text(re.compile("Disable warmup"))
    save_screenshot(page, "panel-undone")


def test_the_panel_app_shows_only_the_panel_in_voila(
    page: Page, voila_server: VoilaServers
) -> None:
    body = open_panel(page, "voila", "06_panel_app.ipynb", voila=voila_server)
    cells = body.locator("#rendered_cells")
    shown = cells.inner_text() if cells.count() else body.inner_text()
    assert shown.lstrip().startswith("Workspace: Demo workspace"), shown[:200]
    for developer_text in ("KEY_SOURCE", "voila notebooks", "INSTANTLY_API_KEY", "papermill"):
        assert developer_text not in body.inner_text(), developer_text
    save_screenshot(page, "panel-app-voila")
