"""The emulator as a raw ASGI 3 application (no framework), for uvicorn or any ASGI server.

A ``drop`` fault cannot close a connection from inside ASGI, so a dropped request is never
answered: the app waits until the client disconnects (a client sees its read timeout). With
``after_processing=True`` the request was processed first. Delays sleep on the given clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._clock import Clock
from .responses import Handle

__all__ = ["ASGIApp", "make_asgi"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Bodies past Fastify's 1 MiB limit are refused by the handler; keep just enough to know that.
MAX_BODY = 1024 * 1024 + 1


def make_asgi(handle: Handle, clock: Clock) -> ASGIApp:
    """An ASGI app answering every request through ``handle``, sleeping delays on ``clock``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if size < MAX_BODY:
                chunks.append(chunk[: MAX_BODY - size])
            size += len(chunk)
            more = bool(message.get("more_body", False))
        raw_path = scope.get("raw_path") or scope.get("path", "/").encode()
        path = bytes(raw_path).partition(b"?")[0].decode("ascii", "replace")
        query = bytes(scope.get("query_string", b"")).decode("ascii", "replace")
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            key = bytes(name).decode("latin-1").lower()
            text = bytes(value).decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        response = handle(scope.get("method", "GET"), path, query, headers, b"".join(chunks))
        if response.delay > 0:
            await clock.sleep(response.delay)
        if response.drop is not None:
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
