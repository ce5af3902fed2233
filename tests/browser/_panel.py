"""Page helpers for ``WarmupPanel``: its steps, notes and tables, found the way a person sees them.

The panel's tables are itables' ``ITable`` (DataTables): a box ``.instantly-nb-<name>`` holds
the table, its search box, its buttons and its "Showing 1 to 10 of N entries" line.
"""

from __future__ import annotations

import re

from _lab import (
    button,
    field,
    fill_text,
    open_notebook,
    open_voila,
    run_all_cells,
    wait_for_widgets,
)
from _servers import Server, VoilaServers
from playwright.sync_api import Locator, Page, expect

RUN_TIMEOUT_MS = 120_000  # a few demo jobs take seconds; margin for loaded machines
CHOOSE = "Choose the accounts, then Preview."
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def open_panel(page: Page, where: str, notebook: str, lab: Server | None = None,
               voila: VoilaServers | None = None) -> Locator:  # fmt: skip
    """Open ``notebook`` in JupyterLab (run all cells) or Voila; wait for the panel to be ready."""
    if where == "lab":
        assert lab is not None
        scope = open_notebook(page, lab, notebook)
        run_all_cells(page, notebook)
        wait_for_widgets(scope)
    else:
        assert voila is not None
        scope = open_voila(page, voila(notebook))
    expect(scope.get_by_text(CHOOSE)).to_be_visible()
    return scope


def toggle(scope: Page | Locator, label: str) -> None:
    """Click the ToggleButtons option showing ``label`` (Action, Target)."""
    scope.locator("button.widget-toggle-button", has_text=label).click()


def submit(scope: Page | Locator) -> None:
    """Type the count if the plan asks for it, then click Submit (its label names the count)."""
    preview = scope.locator(".instantly-nb-preview")
    expect(preview).to_be_visible()
    asked = re.search(r"Type (\d+) below to confirm", preview.inner_text())
    if asked:
        fill_text(scope, "Confirm", asked.group(1))
    go = scope.locator("button.widget-button", has_text=re.compile(r"^\s*Submit: "))
    expect(go).to_be_enabled()
    assert go.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "Submit's label is cut"
    go.click()


def results_status(scope: Page | Locator) -> Locator:
    """The line that says how the last run ended (Done, Stopped, Finished with failures...)."""
    return scope.locator(".instantly-nb-note").filter(
        has_text=re.compile(r"^(Done|Stopped|Finished with failures|Ended early):")
    )


def expect_status(scope: Page | Locator, pattern: str | re.Pattern[str]) -> None:
    expect(results_status(scope)).to_have_text(pattern, timeout=RUN_TIMEOUT_MS)


def table(scope: Page | Locator, name: str) -> Locator:
    """The DataTables container of the panel table ``name`` (preview-rows, result-rows...)."""
    return scope.locator(f".instantly-nb-{name} .dt-container")


def column(box: Locator, name: str) -> list[str]:
    """The texts of column ``name`` in the rows the table shows now (its current page)."""
    headers = box.locator("thead th").all_inner_texts()
    index = [h.strip() for h in headers].index(name)
    return box.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()


def sort_by(box: Locator, name: str) -> list[str]:
    """Click column ``name``'s title (ascending) and wait for the page shown to be in order.

    DataTables orders on a timer after the click, so the rows are read once they moved.
    """
    box.locator("thead th", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).click()
    header = box.locator("thead th[aria-sort='ascending']")
    expect(header).to_have_text(re.compile(rf"^\s*{re.escape(name)}\s*$"))
    index = [h.strip() for h in box.locator("thead th").all_inner_texts()].index(name)
    box.page.wait_for_function(
        """([el, i]) => {
          const cells = [...el.querySelectorAll(`tbody tr td:nth-child(${i + 1})`)]
            .map((td) => td.textContent.toLowerCase());
          return cells.length > 0 && cells.every((c, k) => k === 0 || cells[k - 1] <= c);
        }""",
        arg=[box.element_handle(), index],
    )
    return column(box, name)


def select_rows(box: Locator, count: int) -> None:
    """Click the first ``count`` rows shown (each click toggles a row: "multi" selection)."""
    for i in range(count):
        box.locator("tbody tr").nth(i).locator("td").first.click()
    expect(box.locator("tbody tr.selected")).to_have_count(count)


def click_step(scope: Page | Locator, label: str) -> None:
    target = button(scope, label)
    expect(target).to_be_enabled()
    target.click()


def paste_emails(scope: Page | Locator, emails: list[str]) -> None:
    toggle(scope, "These emails")
    box = field(scope, "Emails")
    box.fill("\n".join(emails))
    box.dispatch_event("change")
