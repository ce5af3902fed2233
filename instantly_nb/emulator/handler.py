"""One request handler for every adapter: ``(method, path, query, headers, body) -> Response``.

The order is Fastify's, as far as the sources show (docs/instantly-api.md §2): routing first
(an unknown route is Fastify's 404 whatever the key), then the API key (401), the plan (402), the
key's scopes (403), the workspace rate limit (429), injected faults, then the endpoint, whose body
and query validation (400) comes before its own checks (the 409 warmup lock). The handler never
raises: anything unexpected becomes a 500 in Instantly's envelope.

Faults that answer instead of the endpoint (``status``, ``echo_key``, ``drop`` before processing,
``late_submit``) are looked at in that order; faults that bend a processed answer (``drop`` after
processing, then for a 2xx ``garbled``, listing cursors, ``missing_id``) come after it, then
``delay``.
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
from .group_api import list_group_members
from .jobs_api import get_job, list_jobs, warmup
from .responses import JSON_TYPE, Response, api_error, encode, phrase, route_not_found
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
GROUP_MEMBERS_READ = (
    "workspace_group_members:read", "workspace_group_members:all", "all:read", "all:all",
)  # fmt: skip

# A ``garbled(kind="html")`` 200: what a client gets when something in front of the API answers.
_CHALLENGE_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="refresh" content="390"></head><body><noscript>Enable JavaScript '
    b"and cookies to continue</noscript><p>Checking your browser before accessing "
    b"api.instantly.ai.</p></body></html>\n"
)
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
    _Route("GET", "/api/v2/workspace-group-members", GROUP_MEMBERS_READ, list_group_members),
)
# Static routes are listed before parametric ones, so they win, as in Fastify's router.
_COMPILED = tuple((route, route.pattern) for route in ROUTES)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it (``Emulator.log``).

    ``status`` is 0 when the request was dropped before processing (or, for ``late_submit``,
    when it was sent: its delivery is a second record with the real status); ``fault`` names the
    injected fault that shaped the answer (``"status"``, ``"delay"``, ``"drop"``, ``"garbled"``,
    ``"missing_id"``, ``"echo_key"``, ``"late_submit"``, ``"cursor_cycle"``, ``"drop_cursor"``,
    ``"vanishing_job"``) or is None.
    """

    at: float
    method: str
    path: str
    query: str
    status: int
    request_json: Any
    fault: str | None = None


@dataclass(frozen=True)
class _Request:
    """A request kept for later delivery (``late_submit``)."""

    method: str
    path: str
    query: str
    params: dict[str, str]
    route: _Route
    name: str
    headers: dict[str, str]
    body: bytes
    request_json: Any


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
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        delegated: bool = False,
        limited: bool = True,
    ) -> Response:
        """Answer one request. ``delegated``: an admin key acting on this workspace, whose key
        and scopes its group already checked (group.py); ``limited=False``: the request does not
        count against this workspace's rate limit."""
        try:
            with self.lock:
                return self._handle(method, path, query, headers, body, delegated, limited)
        except Exception:  # the emulator must answer, whatever it was sent
            return api_error(500, "Internal Server Error")

    def admit(
        self, method: str, path: str, query: str, headers: Mapping[str, str], *, limited: bool
    ) -> Response | None:
        """This workspace's gate alone (route, key, plan, scopes, rate limit when ``limited``):
        the answer refusing the request (recorded), or None to let it through.

        A group passes a request acting on one of its members through its admin's gate first.
        """
        try:
            with self.lock:
                now = self.clock.now()
                self.ws.advance(now)
                method = str(method).upper()
                path = str(path).partition("?")[0]
                found = _match(method, path)
                if found is None:
                    refusal = route_not_found(method, path + (f"?{query}" if query else ""))
                    name = f"{method} *"
                else:
                    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
                    gate = self._gate(found[0], lowered, now, delegated=False, limited=limited)
                    if gate is None:
                        return None
                    refusal, name = gate, f"{found[0].method} {found[0].template}"
                self._record(now, method, unquote(path), query, name, refusal, None, None)
                return refusal
        except Exception:
            return api_error(500, "Internal Server Error")

    def _handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        delegated: bool = False,
        limited: bool = True,
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
        label: str | None = None
        response: Response | None = self._gate(
            route, lowered, now, delegated=delegated, limited=limited
        )
        if response is None:
            fault = self.faults.take("status", method, decoded)
            if fault is not None:
                response = _fault_answer(fault)
        if response is None:
            fault = self.faults.take("echo_key", method, decoded)
            if fault is not None:
                response = _echo_key_answer(fault, lowered.get("authorization", ""))
        if response is None:
            fault = self.faults.take("drop", method, decoded)
            if fault is not None and not fault.after_processing:
                response = Response(0, {}, b"", drop="before")
        if response is None and fault is None:
            late = self.faults.take("late_submit", method, decoded)
            if late is not None:
                fault = late
                response = Response(0, {}, b"", drop="after")
                delivery = _Request(
                    method, decoded, query, params, route, name, lowered, body, request_json
                )
                self.ws.schedule(now + late.seconds, lambda at: self._deliver(delivery, at, late))
        if response is None:
            query_values = parse_qs(query, keep_blank_values=True)
            listing = self.faults.listing(method, decoded) if method == "GET" else []
            pages: dict[int, int | None] = {}
            for item in listing:
                cursor = _last(query_values.get("starting_after"))
                if cursor is not None and cursor in item.rewind and item.live:
                    item.spend()  # cursor_cycle: this cursor leads back to page 1
                    query_values.pop("starting_after", None)
                    fault = fault or item
                    break
            cursor = _last(query_values.get("starting_after"))
            for item in listing:
                pages[id(item)] = 1 if not cursor else item.pages.get(cursor)
            call = Call(
                method=method,
                path=decoded,
                params=params,
                query=query_values,
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
            if fault is not None and fault.kind == "drop":
                response.drop = "after"
            else:
                bent = self._bend(response, method, decoded, listing, pages)
                fault = fault or bent
                label = call.fault  # a job fault the endpoint applied (vanishing_job)
        delay = self.faults.take("delay", method, decoded)
        if delay is not None:
            response.delay = delay.seconds
            fault = fault or delay
        if fault is not None:
            label = fault.kind
        self._record(now, method, decoded, query, name, response, request_json, label)
        return response

    def _bend(
        self,
        response: Response,
        method: str,
        path: str,
        listing: list[Fault],
        pages: dict[int, int | None],
    ) -> Fault | None:
        """Apply the faults that change a processed 2xx answer; the one that did, if any."""
        if not 200 <= response.status < 300:
            return None
        garbled = self.faults.take("garbled", method, path)
        if garbled is not None:
            _garble(response, garbled)  # no cursor can be read from it: listing faults wait
            return garbled
        fired = _bend_listing(response, listing, pages) if listing else None
        missing = self.faults.take("missing_id", method, path)
        if missing is not None:
            body = _try_json(response.body)
            if isinstance(body, dict):
                body.pop("id", None)
                _set_json(response, body)
            return missing
        return fired

    def _deliver(self, request: _Request, at: float, fault: Fault) -> None:
        """A ``late_submit`` request reaching the server at ``at`` (jobs advanced to it)."""
        call = Call(
            method=request.method,
            path=request.path,
            params=request.params,
            query=parse_qs(request.query, keep_blank_values=True),
            headers=request.headers,
            body=request.body,
            now=at,
            ws=self.ws,
            settings=self.settings,
            faults=self.faults,
            ids=self.ids,
            next_seq=self.next_seq,
            request_json=request.request_json,
        )
        try:
            response = request.route.endpoint(call)
        except Invalid as invalid:
            response = invalid.response
        except Exception:  # like handle(): whatever arrives late gets an answer, here a 500
            response = api_error(500, "Internal Server Error")
        self._record(
            at,
            request.method,
            request.path,
            request.query,
            request.name,
            response,
            request.request_json,
            fault.kind,
        )

    def _gate(
        self,
        route: _Route,
        headers: dict[str, str],
        now: float,
        *,
        delegated: bool = False,
        limited: bool = True,
    ) -> Response | None:
        """Auth, plan, scope and rate limit: the answer refusing the request, or None.

        A ``delegated`` request carries the admin's key, checked by the group: only this
        workspace's plan and (when ``limited``) rate limit apply.
        """
        settings = self.settings
        if not delegated:
            auth = headers.get("authorization")
            if auth is None:
                return api_error(401, "Missing authorization header")  # §2.2, as observed
            scheme, _, key = auth.strip().partition(" ")
            if scheme.lower() != "bearer" or key.strip() != settings.api_key:
                return api_error(401, "Invalid API key")
            if settings.key_revoked:
                return api_error(401, "Invalid API key")
        if not settings.plan_active:
            return api_error(402, "Workspace does not have an active paid plan")
        if (
            not delegated
            and settings.scopes is not None
            and settings.scopes.isdisjoint(route.scopes)
        ):
            # §2.1: the 403 body is undocumented; (guessed) the envelope naming the scopes needed.
            needed = ", ".join(route.scopes)
            return api_error(403, f"API key does not have any of the required scopes: {needed}")
        if self.limiter is not None and limited:
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
        kind: str | None,
    ) -> None:
        self._counts[(name, response.status)] += 1
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


def _echo_key_answer(fault: Fault, authorization: str) -> Response:
    # The bug a client must survive: the request's credentials quoted back in an error.
    message = f"Could not process the request with authorization '{authorization}'"
    return api_error(fault.status, message)


def _last(values: list[str] | None) -> str | None:
    return values[-1] if values else None


def _set_json(response: Response, value: Any) -> None:
    response.body = encode(value)
    response.headers["content-length"] = str(len(response.body))


def _garble(response: Response, fault: Fault) -> None:
    response.status = 200
    if fault.garble == "html":
        response.body = _CHALLENGE_PAGE
        response.headers = {"content-type": "text/html; charset=UTF-8"}
    else:
        response.body = response.body[: max(1, len(response.body) // 2)]
        response.headers = {"content-type": JSON_TYPE}
    response.headers["content-length"] = str(len(response.body))


def _bend_listing(
    response: Response, listing: list[Fault], pages: dict[int, int | None]
) -> Fault | None:
    """Track page numbers per fault and bend the cursor of the page a live fault names."""
    body = _try_json(response.body)
    if not isinstance(body, dict) or "items" not in body:
        return None
    fired: Fault | None = None
    for fault in listing:
        page = pages.get(id(fault))
        cursor = body.get("next_starting_after")
        if page is None or not isinstance(cursor, str):
            continue
        fault.pages[cursor] = page + 1
        if page != fault.page or not fault.live:
            continue
        if fault.kind == "cursor_cycle":
            fault.rewind.add(cursor)  # spent when a request follows it back to page 1
        elif fault.kind == "drop_cursor" and fired is None:
            del body["next_starting_after"]
            _set_json(response, body)
            fault.spend()
            fired = fault
    return fired


def _try_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
