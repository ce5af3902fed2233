"""Serving the emulator over real HTTP with uvicorn (the optional ``server`` extra).

Only loopback addresses are allowed unless ``allow_remote=True``: the emulator accepts a fixed,
well-known demo key and must not become a service on a network by accident.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._core import is_loopback

if TYPE_CHECKING:
    from .emulator import Emulator
    from .group import WorkspaceGroup

__all__ = ["RunningServer", "bind", "is_loopback", "serve", "start_server", "url_for"]


def bind(host: str, port: int, *, allow_remote: bool = False) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), loopback unless allowed."""
    if not allow_remote and not is_loopback(host):
        raise PermissionError(
            f"refusing to listen on {host!r}: the emulator serves loopback addresses only "
            "(127.0.0.1, ::1, localhost); pass allow_remote=True (--allow-remote) to expose it"
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only for sockets it knows are
    # TCP, and with it on every small answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def url_for(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(emulator: Emulator | WorkspaceGroup, log_level: str) -> Any:
    import uvicorn

    # A dropped request is held until its client disconnects (asgi.py); do not let one that
    # never does keep the server from stopping.
    config = uvicorn.Config(
        emulator.asgi,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        loop="asyncio",
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def serve(
    emulator: Emulator | WorkspaceGroup,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    allow_remote: bool = False,
    log_level: str = "warning",
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``emulator`` until interrupted; ``ready(url)`` is called once it listens.

    Parameters
    ----------
    emulator
        The workspace to serve, or a ``WorkspaceGroup``.
    host, port
        Where to listen; ``port=0`` picks a free port (``ready`` receives the real URL).
    allow_remote
        Allow a non-loopback ``host``.
    log_level
        uvicorn's log level.
    ready
        Called with the base URL, e.g. ``http://127.0.0.1:8765``, before serving starts.
    """
    sock = bind(host, port, allow_remote=allow_remote)
    server = _server(emulator, log_level)
    if ready is not None:
        ready(url_for(sock))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class RunningServer:
    """An emulator served from a background thread; ``stop()`` (or ``with``) shuts it down."""

    def __init__(
        self, emulator: Emulator | WorkspaceGroup, host: str, port: int, *, allow_remote: bool
    ) -> None:
        self._sock = bind(host, port, allow_remote=allow_remote)
        self.url = url_for(self._sock)
        self._server = _server(emulator, "warning")
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningServer({self.url})"


def start_server(
    emulator: Emulator | WorkspaceGroup,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
) -> RunningServer:
    """Serve ``emulator`` in a background thread (for notebooks and tests); see ``RunningServer``.

    Examples
    --------
    >>> with start_server(Emulator()) as server:
    ...     httpx.get(f"{server.url}/api/v2/workspaces/current", headers=...)
    """
    return RunningServer(emulator, host, port, allow_remote=allow_remote)
