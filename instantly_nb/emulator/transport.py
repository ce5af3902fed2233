"""The emulator as an httpx transport, for ``httpx.Client`` and ``httpx.AsyncClient`` alike.

Faults surface the way a client sees them on a real network: a delayed answer longer than the
request's read timeout waits out that timeout and raises ``httpx.ReadTimeout``; an answer dropped
after processing raises ``httpx.ReadError`` (the request took effect, the client cannot know);
a request dropped before processing raises ``httpx.ConnectError`` (nothing happened).
"""

from __future__ import annotations

import time

import httpx

from .._clock import Clock
from .responses import Handle, Response

__all__ = ["EmulatorTransport"]


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict):
        value = timeout.get("read")
        if isinstance(value, int | float):
            return float(value)
    return None


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sends each request to ``handle`` and waits out delays on ``clock``.

    One object serves sync and async clients. ``Emulator.transport()`` builds one from the
    emulator's ``handle`` and ``clock``.
    """

    def __init__(self, handle: Handle, clock: Clock) -> None:
        self._handle = handle
        self._clock = clock

    def _answer(self, request: httpx.Request, body: bytes) -> Response:
        raw_path, _, query = request.url.raw_path.partition(b"?")
        return self._handle(
            request.method,
            raw_path.decode("ascii", "replace"),
            query.decode("ascii", "replace"),
            dict(request.headers),
            body,
        )

    def _wait(self, request: httpx.Request, response: Response) -> tuple[float, bool]:
        """How long to wait, and whether the wait ends in a read timeout."""
        timeout = _read_timeout(request)
        if timeout is not None and response.delay > timeout:
            return timeout, True
        return response.delay, False

    @staticmethod
    def _finish(request: httpx.Request, response: Response, timed_out: bool) -> httpx.Response:
        if timed_out:
            raise httpx.ReadTimeout(
                "emulated: the answer came later than the read timeout", request=request
            )
        if response.drop == "before":
            raise httpx.ConnectError("emulated: the connection was dropped", request=request)
        if response.drop == "after":
            raise httpx.ReadError("emulated: the answer was lost after processing", request=request)
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request, request.read())
        wait, timed_out = self._wait(request, response)
        if wait > 0:
            advance = getattr(self._clock, "advance", None)
            # A virtual clock moves instead of sleeping; sync code cannot await clock.sleep().
            if callable(advance):
                advance(wait)
            else:
                time.sleep(wait)
        return self._finish(request, response, timed_out)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request, await request.aread())
        wait, timed_out = self._wait(request, response)
        if wait > 0:
            await self._clock.sleep(wait)
        return self._finish(request, response, timed_out)
