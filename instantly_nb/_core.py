"""Pure decisions of the HTTP client: no I/O here, so each is a table test.

The I/O loops in ``client.py`` only send, sleep and ask these functions what to do next.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from . import _constants as C
from ._analytics import analytics_problem
from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PaginationError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "ErrorKind",
    "PollSample",
    "Retry",
    "Shape",
    "accounts_cursor",
    "backoff_delay",
    "build_headers",
    "check_base_url",
    "check_workspace_id",
    "classify_exception",
    "error_from_response",
    "is_loopback",
    "next_cursor",
    "next_poll_delay",
    "parse_retry_after",
    "read_answer",
    "redact",
    "resolve_api_key",
    "retry_decision",
    "retry_delay",
]


# --- configuration -------------------------------------------------------------------------


def resolve_api_key(api_key: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The key from the argument, else from ``INSTANTLY_API_KEY``; a clear error when neither."""
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get(C.API_KEY_ENV)
    if key is None or not key.strip():
        raise ConfigurationError(
            f"No Instantly API key: pass api_key=... or set the {C.API_KEY_ENV} environment "
            "variable (or use instantly_nb.demo() for an emulated workspace)."
        )
    key = key.strip()
    if any(ch.isspace() for ch in key) or not key.isprintable():
        raise ConfigurationError("The API key contains whitespace or control characters.")
    return key


def check_base_url(base_url: str) -> str:
    """Normalise ``base_url``; refuse plain ``http://`` unless the host is loopback.

    The key travels in every request's ``Authorization`` header, so it must never cross a
    network in clear text. Loopback is allowed for the emulator served locally, and the client
    sends such requests straight there, never to a proxy named in the environment (client.py).
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"Refusing plain http:// to {parts.hostname}: the API key would travel unencrypted. "
            "Use https://, or http://127.0.0.1 for a local emulator."
        )
    if parts.query or parts.fragment:
        raise ConfigurationError("base_url must not carry a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (plain http and the emulator are allowed there)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_headers(api_key: str, as_workspace: str | None = None) -> dict[str, str]:
    """Bearer auth (§2.1) and an explicit User-Agent: Cloudflare blocks some default ones.

    ``as_workspace``: an admin workspace's key acting on one of its sub-workspaces (§12).
    """
    headers = {
        "Authorization": f"Bearer {api_key}",
        "User-Agent": C.USER_AGENT,
        "Accept": "application/json",
    }
    if as_workspace is not None:
        headers[C.AS_WORKSPACE_HEADER] = as_workspace
    return headers


def check_workspace_id(value: object) -> str:
    """A sub-workspace id for the ``x-as-workspace`` header: one printable token (§12).

    It travels as a header, so whitespace or control characters could split or forge one.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"as_workspace must be a workspace id, got {value!r}")
    text = value.strip()
    if len(text) > 200 or any(ch.isspace() for ch in text) or not text.isprintable():
        raise ConfigurationError(
            "as_workspace must be a workspace id: no spaces or control characters, at most "
            "200 characters"
        )
    return text


# --- errors --------------------------------------------------------------------------------

_ERROR_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_from_response(
    status_code: int,
    content: bytes,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
    secret: str | None = None,
) -> APIStatusError:
    """Map an error answer to its class, keeping Instantly's ``message`` (§2.2).

    Instantly's own errors put ``statusCode`` first and Fastify's put ``message`` first; a JSON
    object is read by key so both orders work. A body that is not the envelope (an HTML page from
    a proxy, say) is summarised, never dumped. The server's text is quoted with ``secret`` (the
    API key) replaced by ``<hidden>``: a server or proxy that echoes the request's credentials
    must not put them into tracebacks and notebook outputs.
    """
    message = redact(_envelope_message(content) or _default_message(status_code), secret)
    if status_code == 429:
        return RateLimitError(
            message, status_code=429, method=method, path=path, retry_after=retry_after
        )
    cls = _ERROR_CLASSES.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else APIStatusError
    return cls(message, status_code=status_code, method=method, path=path)


def _envelope_message(content: bytes) -> str | None:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        text = content.decode("utf-8", "replace").strip()
        if text and not text.startswith("<") and len(text) <= 200:
            return text
        return None
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``<hidden>``."""
    return text.replace(secret, "<hidden>") if secret else text


def _default_message(status_code: int) -> str:
    try:
        from http import HTTPStatus

        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Unexpected status"


# --- successful answers --------------------------------------------------------------------

Shape = Literal["any", "object", "page", "job", "analytics"]


def read_answer(content: bytes, shape: Shape = "any") -> tuple[Any, str | None]:
    """Decode a 2xx body and check it has the ``shape`` the call needs.

    Returns ``(body, None)``, or ``(None, problem)`` where ``problem`` describes the body without
    quoting it. A 2xx is always a success in the API used here (§2.2), so a body that is not
    JSON was cut short or came from something in between (a proxy's HTML page): a transient
    fault, like a 5xx. Shapes: ``"object"`` a JSON object, ``"page"`` an object whose ``items``
    is a list (§2.3), ``"job"`` an object with a string ``id`` (§4.2), ``"analytics"`` warmup
    analytics (§7, ``_analytics.analytics_problem``); ``"any"`` takes any JSON, and an empty body
    as None.
    """
    body: Any = None
    if content.strip():
        try:
            body = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            if content.lstrip()[:1] == b"<":
                return None, "the body is an HTML page, not JSON (from a proxy or gateway?)"
            return None, f"the body is not valid JSON (cut short? {len(content)} bytes)"
    problem = _shape_problem(body, shape)
    return (None, problem) if problem else (body, None)


def _shape_problem(body: Any, shape: Shape) -> str | None:
    if shape == "any":
        return None
    if not isinstance(body, dict):
        return f"expected a JSON object, got {_json_kind(body)}"
    if shape == "page" and not isinstance(body.get("items"), list):
        return f"expected a page, got an object whose items is {_json_kind(body.get('items'))}"
    if shape == "job" and not (isinstance(body.get("id"), str) and body["id"]):
        return "expected a job, got an object without an id"
    if shape == "analytics":
        return analytics_problem(body)
    return None


def _json_kind(value: Any) -> str:
    if value is None:
        return "nothing"
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "a number")


# --- retries -------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


class ErrorKind(Enum):
    """What a transport exception says about whether the server saw the request."""

    NOT_SENT = "not_sent"  # connect failures: the request never left
    LOST = "lost"  # it may have arrived; its answer did not


def classify_exception(exc: httpx.TransportError) -> ErrorKind:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ErrorKind.NOT_SENT
    return ErrorKind.LOST


Retry = Literal["retry", "raise", "uncertain"]


def retry_decision(
    *,
    idempotent: bool,
    status: int | None = None,
    error: ErrorKind | None = None,
    invalid: bool = False,
) -> Retry:
    """Whether to retry, raise, or report an uncertain submit (docs/instantly-api.md §2.2).

    429 means the request was refused, so any method retries. A 5xx, a lost answer or an
    ``invalid`` 2xx body (``read_answer``) on a non-idempotent POST may have created a job:
    Instantly has no idempotency keys (§2.2), so that is reported as uncertain for the runner
    to reconcile, never resent blindly. On a GET all of these are transient and retried.
    """
    if error is ErrorKind.NOT_SENT:
        return "retry"
    if error is ErrorKind.LOST or invalid:
        return "retry" if idempotent else "uncertain"
    if status == 429:
        return "retry"
    if status is not None and status >= 500:
        return "retry" if idempotent else "uncertain"
    return "raise"


def backoff_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    base: float = C.BACKOFF_BASE,
    cap: float = C.BACKOFF_CAP,
) -> float:
    """The wait before retry number ``attempt`` (0-based).

    A server-given ``Retry-After`` wins. Otherwise "full jitter" between half and all of the
    capped exponential, so clients that failed together do not retry together.
    """
    if retry_after is not None:
        return retry_after
    ceiling = min(cap, base * 2.0**attempt)
    r: float = (rng or random).random()
    return ceiling * (0.5 + 0.5 * r)


def retry_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    cap: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """The wait before retry number ``attempt``, or None: do not wait, raise.

    ``Retry-After`` is not documented on general 429s (§2.4), so one above ``MAX_RETRY_AFTER``
    is surfaced to the caller rather than silently waited out. With ``cap`` (polling a job runs
    on regardless, §4.4) the wait is at most ``cap`` whatever the server asks: a poll every
    ``MAX_POLL`` seconds costs nothing against the workspace's limit, and a long wait would
    lose sight of the job.
    """
    delay = backoff_delay(attempt, retry_after=retry_after, rng=rng)
    if cap is not None:
        return min(delay, cap)
    if retry_after is not None and retry_after > C.MAX_RETRY_AFTER:
        return None
    return delay


# --- pagination ----------------------------------------------------------------------------


def next_cursor(
    page: Mapping[str, Any],
    seen: Collection[str] = frozenset(),
    *,
    limit: int | None = None,
    derive: Callable[[Any], str | None] | None = None,
    path: str = "",
) -> str | None:
    """The cursor to fetch next, or None when the listing is over.

    Instantly returns a cursor even on the short last page and then ``{"items": []}`` (§2.3),
    so an empty page ends the listing whatever it carries, and so does a short page (fewer
    than ``limit`` items) without a cursor.

    Raises ``PaginationError`` where following the listing would go wrong:

    - the cursor is one this listing already followed (``seen``): it would loop forever;
    - a full page (``limit`` items) came without a cursor: more may follow, so ending there
      could silently drop accounts. ``derive`` makes the cursor from the page's last item
      where its format is documented (``accounts_cursor``), and the listing goes on.
    """
    items = page.get("items")
    if not isinstance(items, list) or not items:
        return None
    cursor = page.get("next_starting_after")
    if not isinstance(cursor, str) or not cursor:
        if limit is None or len(items) < limit:
            return None
        cursor = derive(items[-1]) if derive is not None else None
        if cursor is None:
            raise PaginationError(
                f"GET {path}: a full page of {len(items)} came without a cursor, so the "
                "listing may be incomplete (docs/instantly-api.md §2.3)",
                path=path,
            )
    if cursor in seen:
        shown = cursor if len(cursor) <= 60 else cursor[:57] + "..."
        raise PaginationError(
            f"GET {path}: the cursor {shown!r} came back after {len(seen)} cursor(s) of this "
            "listing; following it would loop forever",
            path=path,
        )
    return cursor


def accounts_cursor(account: Any) -> str | None:
    """The ``GET /accounts`` cursor after ``account``: ``<timestamp_created>&<email>`` (§2.3).

    None when the item lacks either field (the cursor cannot be made).
    """
    if not isinstance(account, Mapping):
        return None
    created, email = account.get("timestamp_created"), account.get("email")
    if isinstance(created, str) and created and isinstance(email, str) and email:
        return f"{created}&{email}"
    return None


# --- job polling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PollSample:
    at: float
    status: str
    progress: float


def next_poll_delay(
    samples: Sequence[PollSample],
    *,
    now: float,
    expected_end: float | None = None,
    min_delay: float = C.MIN_POLL,
    first_delay: float = C.FIRST_POLL,
    max_delay: float = C.MAX_POLL,
    growth: float = C.POLL_GROWTH,
) -> float:
    """How long to wait before polling a running job again.

    Aim at the job's predicted end: from the progress rate seen so far, or from
    ``expected_end`` (the runner predicts it from earlier jobs of the same run). Past a predicted
    end, poll at short but growing intervals. Never slower than ``max_delay``, so progress stays
    live and a stuck job is seen to be stuck; never faster than ``min_delay``.
    """
    predictions = [end for end in (_end_from_progress(samples), expected_end) if end is not None]
    if predictions:
        target = min(predictions)
        if target > now:
            # A hair after the predicted end: arriving early costs a whole extra request.
            return _clamp(target - now + min_delay / 4, min_delay, max_delay)
        overdue = sum(1 for s in samples if s.at >= target)
        return _clamp(min_delay * growth**overdue, min_delay, max_delay)
    return _clamp(first_delay * growth ** max(0, len(samples) - 1), min_delay, max_delay)


def _end_from_progress(samples: Sequence[PollSample]) -> float | None:
    moving = [s for s in samples if 0 < s.progress < 100]
    if len(moving) < 2:
        return None
    first, last = moving[0], moving[-1]
    if last.at <= first.at or last.progress <= first.progress:
        return None
    rate = (last.progress - first.progress) / (last.at - first.at)
    return last.at + (100 - last.progress) / rate


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
