"""Fixtures for the browser tests: a real JupyterLab, real Voila servers and a Chromium page.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright through ``executable_path``:
Playwright cannot download its own browsers here, and ``playwright install`` is never run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from _lab import save_screenshot
from _servers import (
    Server,
    VoilaServers,
    configure_lab,
    free_port,
    isolated_environment,
    lab_command,
    shut_down_kernels,
    stage_notebooks,
    start_server,
    stop_server,
)
from playwright.sync_api import ConsoleMessage, Page, ViewportSize, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = "INSTANTLY_NB_REQUIRE_BROWSER"

CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container: Chromium's sandbox refuses to start as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Chromium's own background traffic (component updates, sync, safe-browsing lists) meets
    # refused connections on a closed network; tests must only ever talk to 127.0.0.1.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = ViewportSize(width=1366, height=900)
_NOT_LOCAL = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")

# A widget round trip (click -> kernel -> comm update -> DOM) is well under a second here; the
# margin is for loaded CI machines.
expect.set_options(timeout=15_000)

_BROWSER_ERRORS = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure: a screenshot of the page as it is now, and the servers' and browser's logs."""
    report = yield
    if report.failed:
        funcargs: dict[str, object] = getattr(item, "funcargs", {})
        page = funcargs.get("page")
        if isinstance(page, Page) and not page.is_closed():
            report.sections.append(("failure screenshot", _screenshot_failure(page, item)))
        for server in _servers_used_by(funcargs):
            report.sections.append((f"{server.name} log (tail)", server.log_tail()))
        errors = item.stash.get(_BROWSER_ERRORS, [])
        if errors:
            report.sections.append(("browser console errors", "\n".join(errors)))
    return report


def _screenshot_failure(page: Page, item: pytest.Item) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name) + "-failure"
    try:
        return str(save_screenshot(page, name))
    except PlaywrightError as exc:  # a crashed page must not hide the test's own failure
        return f"none: {exc}"


def _servers_used_by(funcargs: dict[str, object]) -> list[Server]:
    servers: list[Server] = []
    for value in funcargs.values():
        if isinstance(value, Server):
            servers.append(value)
        elif isinstance(value, VoilaServers):
            servers.extend(value.started)
    return servers


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; fails without it where the browser is required (CI), else skips."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    message = "Debian chromium not installed; apt-get install -y chromium"
    if os.environ.get(REQUIRE_BROWSER) == "1":
        pytest.fail(f"{message} ({REQUIRE_BROWSER}=1 requires the browser tests to run)")
    pytest.skip(message)


# The server fixtures take chromium_path first so that, without a browser, they skip (or fail)
# before spending seconds on a server nothing could look at.


@pytest.fixture(scope="session")
def _lab_process(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("lab")
    env = isolated_environment(home / "jupyter")
    configure_lab(env)
    root = stage_notebooks(home / "root")
    port = free_port()
    try:
        server = start_server(
            "jupyter lab",
            lab_command(port, root),
            env=env,
            cwd=root,
            log_path=home / "jupyter-lab.log",
            port=port,
            ready_path="api/status",
        )
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    stop_server(server)


@pytest.fixture
def lab_server(_lab_process: Server) -> Iterator[Server]:
    """A JupyterLab 4 server on 127.0.0.1, shared by the session, clean for each test.

    Its root (``lab_server.root_dir``) holds a copy of ``notebooks/`` and of
    ``tests/browser/notebooks/`` side by side, restored before each test, and no kernel runs
    when a test starts or ends. Open a notebook with
    ``open_notebook(page, lab_server, "smoke_widgets.ipynb")``.
    """
    shut_down_kernels(_lab_process)
    stage_notebooks(_lab_process.root_dir)
    yield _lab_process
    shut_down_kernels(_lab_process)


@pytest.fixture
def voila_server(chromium_path: str, tmp_path: Path) -> Iterator[VoilaServers]:
    """A factory: ``voila_server(notebook) -> Server``; every server stops at teardown."""
    servers = VoilaServers(tmp_path / "voila")
    yield servers
    servers.stop_all()


@pytest.fixture
def page(chromium_path: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of a headless Chromium with a fresh profile, closed at teardown.

    Only 127.0.0.1 is reachable from it. On failure, ``artifacts/<test>-failure.png``.
    """
    errors = request.node.stash.setdefault(_BROWSER_ERRORS, [])
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        try:
            # Anything not on 127.0.0.1 (Voila's CDN icon font) fails at once, the same way
            # whatever the network does with it.
            context.route(_NOT_LOCAL, lambda route: route.abort())
            browser_page = context.pages[0] if context.pages else context.new_page()
            browser_page.on("console", lambda message: _keep_error(errors, message))
            browser_page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            yield browser_page
        finally:
            context.close()


def _keep_error(errors: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        errors.append(f"console: {message.text}")
