"""Page helpers for driving notebooks and ipywidgets in a real JupyterLab or Voila page.

Lab helpers talk to ``window.jupyterapp`` (exposed by ``--LabApp.expose_app_in_browser``) the way
JupyterLab's Galata helpers talk to ``window.galata``. Widget helpers take a *scope* (a ``Page``
or a ``Locator``, e.g. the notebook panel returned by :func:`open_notebook`) and find ipywidgets 8
views by their DOM: every view carries ``.jupyter-widgets``; a description is a
``label.widget-label`` whose ``for`` points at the view's input.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from _servers import REPO_ROOT, Server
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

ARTIFACTS = REPO_ROOT / "artifacts"

OPEN_TIMEOUT_MS = 60_000  # first load of Lab's bundles plus a kernel start
RUN_TIMEOUT_MS = 120_000
WIDGET_TIMEOUT_MS = 20_000

# The open notebook panel for a path, among Lab's main-area widgets.
_FIND_PANEL = """(path) => {
  const app = window.jupyterapp;
  if (!app || !app.shell) { return null; }
  for (const widget of app.shell.widgets('main')) {
    if (widget.context && widget.context.path === path && widget.sessionContext) {
      return widget;
    }
  }
  return null;
}"""

# Kernel started, connected and idle: Galata waits for "Idle" in the status bar; this reads the
# same state from the panel's session instead of from its rendering.
_KERNEL_IDLE = f"""(path) => {{
  const panel = ({_FIND_PANEL})(path);
  if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) {{ return false; }}
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}}"""

# "Run All Cells" on that panel: the command resolves when every cell has replied, to false if
# one failed (later cells are then not run).
_RUN_ALL = f"""async ([path, timeoutMs]) => {{
  const panel = ({_FIND_PANEL})(path);
  const run = window.jupyterapp.commands.execute(
    'notebook:run-all-cells', {{ widgetId: panel.id }});
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  return await Promise.race([run, timeout]);
}}"""

_DIALOG = ".jp-Dialog"
_ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


# --- JupyterLab ----------------------------------------------------------------------------


def open_notebook(page: Page, lab: Server, path: str) -> Locator:
    """Open ``path`` (relative to the server's root) in Lab and wait for its kernel to be idle.

    Returns the notebook panel, the scope to pass to the widget helpers.
    """
    # ?reset starts from an empty workspace: no tabs restored from an earlier test.
    page.goto(f"{lab.url}lab/tree/{quote(path)}?reset")
    wait_for_kernel_idle(page, path)
    panel = notebook_panel(page, path)
    expect(panel).to_be_visible()
    return panel


def notebook_panel(page: Page, path: str) -> Locator:
    """The panel of the notebook ``path``, already open in Lab."""
    panel_id = page.evaluate(f"(path) => ({_FIND_PANEL})(path).id", path)
    return page.locator(f'[id="{panel_id}"]')


def wait_for_kernel_idle(page: Page, path: str, timeout_ms: float = OPEN_TIMEOUT_MS) -> None:
    """Wait until the notebook at ``path`` is open with a connected, idle kernel."""
    try:
        page.wait_for_function(_KERNEL_IDLE, arg=path, timeout=timeout_ms)
    except PlaywrightError as exc:
        raise AssertionError(
            f"kernel of {path} not idle within {timeout_ms / 1000:.0f} s{_dialog_note(page)}"
        ) from exc


def run_all_cells(page: Page, path: str, timeout_ms: float = RUN_TIMEOUT_MS) -> None:
    """Run All Cells of the open notebook ``path`` and wait until every cell has finished.

    Raises ``AssertionError`` carrying the error output if a cell failed.
    """
    wait_for_kernel_idle(page, path)
    result = page.evaluate(_RUN_ALL, [path, timeout_ms])
    if result == "timeout":
        raise AssertionError(f"Run All Cells of {path} did not finish in {timeout_ms / 1000:.0f} s")
    if result is not True:
        errors = "\n".join(notebook_panel(page, path).locator(_ERROR_OUTPUT).all_inner_texts())
        raise AssertionError(f"a cell of {path} failed:\n{errors}{_dialog_note(page)}")
    wait_for_kernel_idle(page, path)


def _dialog_note(page: Page) -> str:
    dialogs = page.locator(_DIALOG)
    if dialogs.count() == 0:
        return ""
    return "; a dialog is open: " + " | ".join(dialogs.all_inner_texts())


# --- Voila ---------------------------------------------------------------------------------


def open_voila(page: Page, voila: Server, timeout_ms: float = OPEN_TIMEOUT_MS) -> Locator:
    """Load a Voila server's page and wait for its first widget; returns the page body."""
    page.goto(voila.url)
    body = page.locator("body")
    try:
        wait_for_widgets(body, timeout_ms)
    except AssertionError as exc:
        # Voila runs with show_tracebacks: a failing cell's traceback is in the page text.
        raise AssertionError(
            f"no widget in Voila's page, which reads:\n{body.inner_text()}"
        ) from exc
    return body


# --- ipywidgets 8 --------------------------------------------------------------------------


def wait_for_widgets(scope: Page | Locator, timeout_ms: float = WIDGET_TIMEOUT_MS) -> Locator:
    """Wait until at least one rendered widget view is visible in ``scope``; returns them all."""
    views = scope.locator(".jupyter-widgets")
    expect(views.first).to_be_visible(timeout=timeout_ms)
    return views


def widget(scope: Page | Locator, description: str) -> Locator:
    """The widget view (slider, dropdown, progress, checkbox, ...) described as ``description``.

    For a Button, whose description is its text, use :func:`button`.
    """
    caption = _page(scope).locator(
        ":scope > label.widget-label, :scope > label.widget-label-basic",
        has_text=_exactly(description),
    )
    return scope.locator(".jupyter-widgets").filter(has=caption)


def button(scope: Page | Locator, description: str) -> Locator:
    """The ``ipywidgets.Button`` whose description is exactly ``description``."""
    return scope.locator("button.widget-button").filter(has_text=_exactly(description))


def click_button(scope: Page | Locator, description: str) -> None:
    """Click the Button with this description once it is visible and enabled."""
    target = button(scope, description)
    expect(target).to_be_enabled()
    target.click()


def field(scope: Page | Locator, description: str) -> Locator:
    """The input (text, number, password, textarea, select, checkbox) labelled ``description``."""
    return scope.locator(".jupyter-widgets").get_by_label(description, exact=True)


def fill_text(scope: Page | Locator, description: str, value: str) -> None:
    """Type ``value`` into the Text/Textarea/IntText/... labelled ``description``.

    A ``change`` event follows, so widgets with ``continuous_update=False`` sync too.
    """
    target = field(scope, description)
    target.fill(value)
    target.dispatch_event("change")


def select_option(scope: Page | Locator, description: str, option: str | list[str]) -> None:
    """Pick option label(s) in the Dropdown/Select/SelectMultiple labelled ``description``."""
    # ipywidgets shows labels with non-breaking spaces but keeps the plain label as the value.
    field(scope, description).select_option(value=option)


def labels(scope: Page | Locator) -> Locator:
    """All ``ipywidgets.Label`` views (not descriptions) in ``scope``; filter or index them."""
    return scope.locator("div.jupyter-widgets.widget-label")


def progress_bar(scope: Page | Locator, description: str | None = None) -> Locator:
    """The bar of the (Int/Float)Progress with this description (the only one if ``None``)."""
    if description is None:
        return scope.locator(".widget-hprogress .progress-bar, .widget-vprogress .progress-bar")
    # widget() is the progress view itself: a descendant selector naming its own class would
    # look for a second progress view inside it and never match.
    return widget(scope, description).locator(".progress-bar")


def progress_percent(bar: Locator) -> float:
    """How full a :func:`progress_bar` is now, in percent (ipywidgets sets only its size)."""
    size: str = bar.evaluate(
        "(el) => el.closest('.widget-vprogress') ? el.style.height : el.style.width"
    )
    return float(size.rstrip("%"))


def expect_progress(
    bar: Locator, percent: float, timeout_ms: float = WIDGET_TIMEOUT_MS, tolerance: float = 1e-6
) -> None:
    """Wait until a :func:`progress_bar` shows ``percent`` (0-100)."""
    element = bar.element_handle(timeout=timeout_ms)
    try:
        bar.page.wait_for_function(
            """([el, want, tol]) => {
              const size = el.closest('.widget-vprogress') ? el.style.height : el.style.width;
              return Math.abs(parseFloat(size) - want) <= tol;
            }""",
            arg=[element, percent, tolerance],
            timeout=timeout_ms,
        )
    except PlaywrightError as exc:
        raise AssertionError(
            f"progress bar at {progress_percent(bar)}%, expected {percent}%"
        ) from exc


# --- artifacts -----------------------------------------------------------------------------


def save_screenshot(page: Page, name: str) -> Path:
    """Save the viewport to ``artifacts/<name>.png`` (gitignored); returns the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def _page(scope: Page | Locator) -> Page:
    return scope.page if isinstance(scope, Locator) else scope


def _exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")
