"""The browser harness end to end: real JupyterLab and real Voila, driven in Chromium."""

from __future__ import annotations

import re

import pytest
from _lab import (
    click_button,
    expect_progress,
    field,
    fill_text,
    labels,
    open_notebook,
    open_voila,
    progress_bar,
    progress_percent,
    run_all_cells,
    save_screenshot,
    select_option,
    wait_for_widgets,
    widget,
)
from _servers import Server, VoilaServers
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SMOKE = "smoke_widgets.ipynb"
FORM = "form_widgets.ipynb"


def test_lab_runs_notebook_and_python_callback_updates_widgets(
    page: Page, lab_server: Server
) -> None:
    notebook = open_notebook(page, lab_server, SMOKE)
    run_all_cells(page, SMOKE)
    wait_for_widgets(notebook)
    bar = progress_bar(notebook, "Progress")
    expect(labels(notebook)).to_have_text("waiting")
    assert progress_percent(bar) == 0

    click_button(notebook, "Press me")

    expect(labels(notebook)).to_have_text("done")
    expect_progress(bar, 100)
    save_screenshot(page, "smoke-lab")


def test_lab_form_helpers_reach_the_kernel(page: Page, lab_server: Server) -> None:
    notebook = open_notebook(page, lab_server, FORM)
    run_all_cells(page, FORM)
    wait_for_widgets(notebook)

    fill_text(notebook, "Name", "Ada")
    select_option(notebook, "Mode", "warmup off")
    fill_text(notebook, "Count", "7")
    field(notebook, "Confirm").check()
    expect(widget(notebook, "Confirm")).to_have_class(re.compile(r"\bwidget-checkbox\b"))

    # The kernel echoes what it received back into the page.
    expect(labels(notebook)).to_have_text("Ada|warmup off|7|True")
    assert progress_percent(progress_bar(notebook, "Half")) == 50
    assert progress_percent(progress_bar(notebook, "Full")) == 100


def test_voila_renders_notebook_widgets(page: Page, voila_server: VoilaServers) -> None:
    body = open_voila(page, voila_server(SMOKE))

    click_button(body, "Press me")

    expect(labels(body)).to_have_text("done")
    expect_progress(progress_bar(body, "Progress"), 100)
    save_screenshot(page, "smoke-voila")
