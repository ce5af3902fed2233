"""What the emulator answers: a status, headers and bytes, plus the fault marks adapters act on.

Bodies are compact JSON with the key order Instantly uses (docs/instantly-api.md §2.2): errors
raised by the application put ``statusCode`` first, Fastify's own errors (unknown route) put
``message`` first, Fastify validation errors carry ``code`` after ``statusCode``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

__all__ = [
    "JSON_TYPE",
    "Handle",
    "Response",
    "api_error",
    "json_response",
    "route_not_found",
    "validation_error",
]

JSON_TYPE = "application/json; charset=utf-8"

_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

Drop = Literal["before", "after"]


@dataclass
class Response:
    """One answer of the emulated API.

    Attributes
    ----------
    status, headers, body
        The HTTP answer. ``headers`` keys are lower case.
    delay
        Seconds the adapter waits before answering (a ``delay`` fault).
    drop
        ``"before"``: the request was not processed and gets no answer; ``"after"``: it was
        processed but its answer is lost (a ``drop`` fault). None: answer normally.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    drop: Drop | None = None

    def json(self) -> Any:
        """The body decoded as JSON (for tests and direct callers)."""
        return json.loads(self.body)


# The adapters (transport.py, asgi.py) take a Handle, not the Emulator: emulator.py builds them,
# and an adapter importing it back would close an import cycle.
Handle: TypeAlias = Callable[[str, str, str, dict[str, str], bytes], Response]
"""Answers one request: ``(method, raw path, raw query, headers, body) -> Response``.

Header names are lower case; path and query are as sent (percent-encoded). ``Emulator.handle``
is one.
"""


def encode(value: Any) -> bytes:
    """Compact JSON, as Fastify's serializer sends it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    body = encode(value)
    merged = {"content-type": JSON_TYPE, "content-length": str(len(body))}
    if headers:
        merged.update(headers)
    return Response(status, merged, body)


def phrase(status: int) -> str:
    return _PHRASES.get(status, "Error")


def api_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Instantly's own envelope: ``statusCode`` first (§2.2)."""
    return json_response(
        status, {"statusCode": status, "error": phrase(status), "message": message}, headers
    )


def validation_error(message: str, code: str = "FST_ERR_VALIDATION", status: int = 400) -> Response:
    """Fastify's schema-validation envelope, e.g. ``querystring/limit must be <= 100`` (§2.2)."""
    return json_response(
        status, {"statusCode": status, "code": code, "error": phrase(status), "message": message}
    )


def route_not_found(method: str, url: str) -> Response:
    """Fastify's default 404, ``message`` first, naming the URL as requested (§2.2)."""
    return json_response(
        404, {"message": f"Route {method}:{url} not found", "error": "Not Found", "statusCode": 404}
    )
