"""One request handler for every adapter: ``(method, path, query, headers, body) -> Response``.

The order is Fastify's, as far as the sources show (docs/instantly-api.md §2): routing first
(an unknown route is Fastify's 404 whatever the key), then the API key (401), the plan (402), the
key's scopes (403), the workspace rate limit (429), injected faults, then the endpoint, whose body
and query validation (400) comes before its own checks (the 409 warmup lock). The handler never
raises: anything unexpected becomes a 500 in Instantly's envelope.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from .._budget import RateBudget
from .._clock import Clock
from .accounts_api import get_account, list_accounts, warmup_analytics
from .context import Call, Settings
from .faults import Fault, Faults
from .generate import ObjectIds
from .jobs_api import get_job, list_jobs, warmup
from .responses import Response, api_error, phrase, route_not_found
from .tags_api import get_tag, list_mappings, list_tags, workspace
from .validate import Invalid
from .workspace import Workspace

__all__ = ["Counts", "Handler", "RequestRecord"]

Endpoint = Callable[[Call], Response]

# §2.1: the scopes each endpoint accepts. Warmup enable/disable state none: guessed, the update set.
ACCOUNTS_READ = ("accounts:read", "accounts:all", "all:read", "all:all")
ACCOUNTS_UPDATE = ("accounts:update", "accounts:all", "all:update", "all:all")
JOBS_READ = ("background-jobs:read", "background-jobs:all", "all:read", "all:all")
TAGS_READ = ("custom_tags:read", "custom_tags:all", "all:read", "all:all")
MAPPINGS_READ = ("custom_tag_mappings:read", "custom_tag_mappings:all", "all:read", "all:all")
WORKSPACES_READ = ("workspaces:read", "workspaces:all", "all:read", "all:all")

_CLOUDFLARE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {phrase} | api.instantly.ai</title></head>"
    "<body><h1>{status} {phrase}</h1><p>The origin server did not answer in time. "
    "Cloudflare Ray ID: 8f1c2d3e4a5b6c7d</p></body></html>\n"
)


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    scopes: tuple[str, ...]
    endpoint: Endpoint

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


ROUTES = (
    _Route("GET", "/api/v2/accounts", ACCOUNTS_READ, list_accounts),
    _Route("POST", "/api/v2/accounts/warmup/disable", ACCOUNTS_UPDATE, lambda c: warmup(c, 0)),
    _Route("POST", "/api/v2/accounts/warmup/enable", ACCOUNTS_UPDATE, lambda c: warmup(c, 1)),
    _Route("POST", "/api/v2/accounts/warmup-analytics", ACCOUNTS_READ, warmup_analytics),
    _Route("GET", "/api/v2/accounts/{email}", ACCOUNTS_READ, get_account),
    _Route("GET", "/api/v2/background-jobs", JOBS_READ, list_jobs),
    _Route("GET", "/api/v2/background-jobs/{id}", JOBS_READ, get_job),
    _Route("GET", "/api/v2/custom-tags", TAGS_READ, list_tags),
    _Route("GET", "/api/v2/custom-tags/{id}", TAGS_READ, get_tag),
    _Route("GET", "/api/v2/custom-tag-mappings", MAPPINGS_READ, list_mappings),
    _Route("GET", "/api/v2/workspaces/current", WORKSPACES_READ, workspace),
)
# Static routes are listed before parametric ones, so they win, as in Fastify's router.
_COMPILED = tuple((route, route.pattern) for route in ROUTES)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it (``Emulator.log``).

    ``status`` is 0 when the request was dropped before processing; ``fault`` names the injected
    fault that shaped the answer (``"status"``, ``"delay"``, ``"drop"``) or is None.
    """

    at: float
    method: str
    path: str
    query: str
    status: int
    request_json: Any
    fault: str | None = None


@dataclass(frozen=True)
class Counts:
    """Request counters: per route (``"GET /api/v2/accounts"``), per status, and both."""

    routes: dict[str, int]
    statuses: dict[int, int]
    by_route: dict[str, dict[int, int]]

    def __getitem__(self, route: str) -> int:
        return self.routes.get(route, 0)


class Handler:
    """Routes, authenticates, limits and answers requests for one workspace."""

    def __init__(
        self,
        *,
        settings: Settings,
        ws: Workspace,
        faults: Faults,
        ids: ObjectIds,
        clock: Clock,
        limiter: RateBudget | None,
    ) -> None:
        self.settings = settings
        self.ws = ws
        self.faults = faults
        self.ids = ids
        self.clock = clock
        self.limiter = limiter
        self.lock = threading.Lock()
        self.log: list[RequestRecord] = []
        self._counts: Counter[tuple[str, int]] = Counter()
        self._seq = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._seq)

    def counts(self) -> Counts:
        with self.lock:
            routes: Counter[str] = Counter()
            statuses: Counter[int] = Counter()
            by_route: dict[str, dict[int, int]] = {}
            for (route, status), n in self._counts.items():
                routes[route] += n
                statuses[status] += n
                by_route.setdefault(route, {})[status] = n
            return Counts(dict(routes), dict(statuses), by_route)

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        try:
            with self.lock:
                return self._handle(method, path, query, headers, body)
        except Exception:  # the emulator must answer, whatever it was sent
            return api_error(500, "Internal Server Error")

    def _handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        now = self.clock.now()
        self.ws.advance(now)
        method = str(method).upper()
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        path, _, inline = str(path).partition("?")
        query = query or inline
        decoded = unquote(path)
        request_json = _try_json(body)
        url = path + (f"?{query}" if query else "")

        found = _match(method, path)
        if found is None:
            missing = route_not_found(method, url)
            self._record(now, method, decoded, query, f"{method} *", missing, request_json, None)
            return missing
        route, params = found
        name = f"{route.method} {route.template}"
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        fault: Fault | None = None
        response: Response | None = self._gate(route, lowered, now)
        if response is None:
            fault = self.faults.take("status", method, decoded)
            if fault is not None:
                response = _fault_answer(fault)
        if response is None:
            fault = self.faults.take("drop", method, decoded)
            if fault is not None and not fault.after_processing:
                response = Response(0, {}, b"", drop="before")
        if response is None:
            call = Call(
                method=method,
                path=decoded,
                params=params,
                query=parse_qs(query, keep_blank_values=True),
                headers=lowered,
                body=body,
                now=now,
                ws=self.ws,
                settings=self.settings,
                faults=self.faults,
                ids=self.ids,
                next_seq=self.next_seq,
                request_json=request_json,
            )
            try:
                response = route.endpoint(call)
            except Invalid as invalid:
                response = invalid.response
            if fault is not None:
                response.drop = "after"
        delay = self.faults.take("delay", method, decoded)
        if delay is not None:
            response.delay = delay.seconds
            fault = fault or delay
        self._record(now, method, decoded, query, name, response, request_json, fault)
        return response

    def _gate(self, route: _Route, headers: dict[str, str], now: float) -> Response | None:
        """Auth, plan, scope and rate limit: the answer refusing the request, or None."""
        settings = self.settings
        auth = headers.get("authorization")
        if auth is None:
            return api_error(401, "Missing authorization header")  # §2.2, lower case as observed
        scheme, _, key = auth.strip().partition(" ")
        if scheme.lower() != "bearer" or key.strip() != settings.api_key or settings.key_revoked:
            return api_error(401, "Invalid API key")
        if not settings.plan_active:
            return api_error(402, "Workspace does not have an active paid plan")
        if settings.scopes is not None and settings.scopes.isdisjoint(route.scopes):
            # §2.1: the 403 body is undocumented; (guessed) the envelope naming the scopes needed.
            needed = ", ".join(route.scopes)
            return api_error(403, f"API key does not have any of the required scopes: {needed}")
        if self.limiter is not None:
            wait = self.limiter.reserve(now)
            if wait > 0:
                extra = (
                    {"retry-after": str(max(1, math.ceil(wait)))} if settings.retry_after else None
                )
                return api_error(429, "Rate limit exceeded", extra)
        return None

    def _record(
        self,
        now: float,
        method: str,
        path: str,
        query: str,
        name: str,
        response: Response,
        request_json: Any,
        fault: Fault | None,
    ) -> None:
        self._counts[(name, response.status)] += 1
        kind = fault.kind if fault is not None else None
        self.log.append(
            RequestRecord(now, method, path, query, response.status, request_json, kind)
        )


def _match(method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
    for route, pattern in _COMPILED:
        if route.method != method:
            continue
        match = pattern.match(path)
        if match is not None:
            return route, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def _fault_answer(fault: Fault) -> Response:
    status = fault.status
    if status in (502, 503, 504):
        # What a client really gets when the edge, not Instantly, answers: an HTML page.
        page = _CLOUDFLARE_PAGE.format(status=status, phrase=phrase(status)).encode()
        headers = {"content-type": "text/html; charset=UTF-8", "content-length": str(len(page))}
        return Response(status, headers, page)
    message = fault.message or ("Rate limit exceeded" if status == 429 else "")
    extra = None
    if fault.retry_after is not None:
        extra = {"retry-after": str(max(0, math.ceil(fault.retry_after)))}
    return api_error(status, message or phrase(status), extra)


def _try_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
