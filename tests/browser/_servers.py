"""Real JupyterLab and Voila servers for the browser tests: started on 127.0.0.1, stopped by PID.

Each server runs in its own process group with its log in a file, and with every Jupyter
directory (config, data, runtime, Lab settings and workspaces, IPython) under a temporary folder,
so nothing from the machine's own Jupyter setup leaks into a test. Its kernels import this
checkout and never see ``INSTANTLY_API_KEY``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 60

# JupyterLab's "receive official Jupyter news?" toast, and the news and update checks behind it,
# all come from this frontend plugin; disabling it is what JupyterLab's "Announcements" docs
# recommend. Nothing then covers the notebook or asks the server to look for news or updates.
DISABLED_LAB_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)

# Lab user settings written for every test server.
LAB_USER_SETTINGS = {
    # Attach every cell to the DOM: the default "contentVisibility" lets the browser skip
    # rendering off-screen cells, which makes visibility checks depend on scrolling.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


# Requests to the test servers never go through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Server:
    """A running server: its base URL (ending in "/"), notebook folder, process and log file."""

    name: str
    url: str
    root_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"<no log at {self.log_path}: {exc}>"
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def isolated_environment(home: Path) -> dict[str, str]:
    """The process environment for a server whose Jupyter state all lives under ``home``."""
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    # Also drops JUPYTERLAB_SETTINGS_DIR and friends: Lab's settings and workspaces then default
    # to JUPYTER_CONFIG_DIR/lab/, inside ``home`` too.
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    env.update({key: str(path) for key, path in dirs.items()})
    # Notebooks fall back to demo() without a key: a developer's real key must not reach them.
    env.pop("INSTANTLY_API_KEY", None)
    # Kernels import this checkout even where it is not pip-installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["JUPYTER_PLATFORM_DIRS"] = "1"  # the future default; silences jupyter_core's notice
    env["PYTHONUNBUFFERED"] = "1"
    return env


def configure_lab(env: dict[str, str]) -> None:
    """Write the page config and user settings that keep popups away from the notebook."""
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(DISABLED_LAB_PLUGINS, True)}
    (labconfig / "page_config.json").write_text(json.dumps(page_config), encoding="utf-8")
    settings_dir = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings"
    for relative, values in LAB_USER_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def stage_notebooks(root: Path) -> Path:
    """Copy the repository's ``notebooks/`` and the test notebooks, side by side, into ``root``.

    Copies over what is there, so staging again restores the notebooks a test changed.
    """
    root.mkdir(parents=True, exist_ok=True)
    examples = REPO_ROOT / "notebooks"
    tests = sorted(TEST_NOTEBOOKS.glob("*.ipynb"))
    shadowed = [notebook.name for notebook in tests if (examples / notebook.name).exists()]
    if shadowed:
        raise FileExistsError(f"test notebooks shadow notebooks/: {shadowed}")
    if examples.is_dir():
        shutil.copytree(
            examples, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
    for notebook in tests:
        shutil.copy2(notebook, root / notebook.name)
    return root


def shut_down_kernels(server: Server) -> None:
    """End every session and kernel of a Jupyter server through its REST API."""
    for kind in ("sessions", "kernels"):
        with _OPENER.open(f"{server.url}api/{kind}", timeout=30) as response:
            items = json.load(response)
        for item in items:
            url = f"{server.url}api/{kind}/{item['id']}"
            _OPENER.open(urllib.request.Request(url, method="DELETE"), timeout=30).close()


def lab_command(port: int, root_dir: Path) -> list[str]:
    """The ``jupyter lab`` command line for a test server (see the module docstring)."""
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",  # tests and CI run as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a taken port fails loudly instead of moving elsewhere
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",  # lets shut_down_kernels() DELETE, as in Galata
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, as in Galata
        # A safety net should pytest die without its teardown: idle kernels are culled and then
        # the server stops itself.
        "--MappingKernelManager.cull_idle_timeout=900",
        "--ServerApp.shutdown_no_activity_timeout=900",
    ]


def voila_command(port: int, notebook: Path) -> list[str]:
    """The ``voila`` command line for one notebook (standalone Voila has no root check)."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        "--show_tracebacks=True",  # a failing cell shows its traceback in the page
    ]


def start_server(
    name: str,
    command: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    port: int,
    ready_path: str,
) -> Server:
    """Start ``command`` in ``cwd``, in its own process group; wait until ``ready_path`` answers.

    Raises ``RuntimeError`` with the log's tail if the server exits or does not answer in time.
    """
    url = f"http://127.0.0.1:{port}/"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name=name, url=url, root_dir=cwd, process=process, log_path=log_path)
    try:
        _wait_until_ready(server, url + ready_path.lstrip("/"))
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    """Terminate the server's process group, wait, and kill it if it does not stop in time.

    On SIGTERM the server shuts its kernels down. Kernels run in sessions of their own, so a
    killed server cannot take them along, but ipykernel then ends itself when its parent dies.
    """
    process = server.process
    if process.poll() is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # start_new_session=True made the server its group's leader, so its PID is the group ID.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _wait_until_ready(server: Server, ready_url: str) -> None:
    # Polling is unavoidable here: a starting server has no event to wait on. 0.1 s steps keep
    # the wait within ~0.1 s of the moment it answers.
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with code {server.process.returncode} while starting;"
                f" log tail:\n{server.log_tail()}"
            )
        try:
            with _OPENER.open(ready_url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise RuntimeError(
        f"{server.name} did not answer {ready_url} within {STARTUP_TIMEOUT_S:.0f} s"
        f" ({last_error}); log tail:\n{server.log_tail()}"
    )


class VoilaServers:
    """Starts one Voila server per notebook: ``voila_server("smoke_widgets.ipynb")``."""

    def __init__(self, home: Path) -> None:
        self._home = home
        self._root = stage_notebooks(home / "root")
        self.started: list[Server] = []

    def __call__(self, notebook: str | Path) -> Server:
        """Serve ``notebook`` (relative to the staged notebooks, or absolute) at ``server.url``."""
        path = self._root / notebook
        if not path.is_file():
            raise FileNotFoundError(path)
        home = self._home / f"voila-{len(self.started)}"
        env = isolated_environment(home / "jupyter")
        port = free_port()
        try:
            server = start_server(
                f"voila {path.name}",
                voila_command(port, path),
                env=env,
                cwd=path.parent,
                log_path=home / "voila.log",
                port=port,
                ready_path="voila/static/voila.js",
            )
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            stop_server(server)
