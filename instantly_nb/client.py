"""The Instantly v2 client: ``AsyncInstantly`` owns every I/O loop.

There is one implementation of each loop (request with retries and budget, pagination, job
polling), the async one here. ``sync_client.Instantly`` runs it on an event loop of its own.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any, Concatenate, ParamSpec, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from . import _constants as C
from ._analytics import analytics_emails
from ._budget import RateBudget, RateLimit
from ._clock import Clock, SystemClock
from ._core import (
    ErrorKind,
    PollSample,
    Shape,
    accounts_cursor,
    backoff_delay,
    build_headers,
    check_base_url,
    check_workspace_id,
    classify_exception,
    error_from_response,
    next_cursor,
    next_poll_delay,
    parse_retry_after,
    read_answer,
    resolve_api_key,
    retry_decision,
    retry_delay,
)
from ._warmup import WarmupRequest, bind_action, check_filter, warmup_request
from .errors import (
    ConfigurationError,
    ConnectionFailed,
    InvalidResponseError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RateLimitError,
    RequestTimeout,
    RequestValidationError,
    ServerError,
    TransportError,
    UncertainSubmitError,
)
from .models import Job

__all__ = ["AsyncInstantly", "ClientBase", "JobCallback"]

log = logging.getLogger("instantly_nb")
# A library logs; the application decides where to. Without this, Python's last-resort handler
# would print every routine retry into notebook cells.
log.addHandler(logging.NullHandler())
T = TypeVar("T")
P = ParamSpec("P")

JobCallback = Callable[[Job], object]

_ACCOUNT_FILTERS = frozenset(
    {"search", "status", "provider_code", "tag_ids", "tag_ids_all", "include_tags", "filter",
     "sort_by", "sort_order", "skip", "limit"}
)  # fmt: skip


class _Secret(str):
    """A str that never shows itself in a repr."""

    def __repr__(self) -> str:
        return "'<hidden>'"


@dataclass(frozen=True)
class _Call:
    """One request as the retry loop sees it: what to send and what the answer must be."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    idempotent: bool = True
    shape: Shape = "any"
    wait_cap: float | None = None  # polling: no retry waits longer than this (§4.4)

    def uncertain(self, why: str, sent_at: float) -> UncertainSubmitError:
        return UncertainSubmitError(
            f"{why}; a job may exist", method=self.method, path=self.path,
            body=dict(self.json or {}), sent_at=sent_at,
        )  # fmt: skip


@dataclass(frozen=True)
class _Settings:
    api_key: _Secret
    base_url: str
    timeout: float
    max_retries: int
    transport: httpx.AsyncBaseTransport | None
    clock: Clock
    budget: RateBudget
    name: str
    as_workspace: str | None = None


def _submitting(
    build: Callable[P, WarmupRequest],
) -> Callable[Concatenate[AsyncInstantly, P], Coroutine[Any, Any, Job]]:
    """A client method that builds a request with ``build``'s arguments and submits it."""

    async def method(self: AsyncInstantly, /, *args: P.args, **kwargs: P.kwargs) -> Job:
        return await self.submit_warmup(build(*args, **kwargs))

    signature = inspect.signature(build)
    me = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[me, *signature.parameters.values()], return_annotation="Job"
    )
    method.__name__ = method.__qualname__ = "_action_warmup"
    return method


class ClientBase:
    """What both clients share: the constructor, and what they say about themselves (never the
    key). ``AsyncInstantly`` and ``Instantly`` differ only in ``_init``.

    Parameters
    ----------
    api_key : str, optional
        A workspace API key; defaults to the ``INSTANTLY_API_KEY`` environment variable.
    base_url : str
        ``https://api.instantly.ai`` by default. Plain ``http://`` only to loopback, and then
        never through a proxy: ``HTTP_PROXY`` and the like are ignored for it, as a proxy
        would read the key in clear text. Over https they are honoured.
    timeout : float
        Seconds for each HTTP request.
    max_retries : int
        Retries for 429 (any method), 5xx and timeouts (read-only requests only).
    rate : RateLimit, optional
        The client's own request budget; a fifth of the workspace limit by default.
    transport : httpx.AsyncBaseTransport, optional
        Where requests go; the emulator's transport in tests and ``demo()``.
    clock : Clock, optional
        Time source for backoff, budget and polling (a ``VirtualClock`` in tests).
    name : str, optional
        What to call the workspace in notebooks and panels; the API host by default.
    as_workspace : str, optional
        With an admin workspace's key: the id of one of its sub-workspaces to act on, sent as
        the ``x-as-workspace`` header (docs/instantly-api.md §12). ``Workspaces.from_admin_key``
        finds them for you.
    """

    _settings: _Settings

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = C.DEFAULT_BASE_URL,
        timeout: float = C.DEFAULT_TIMEOUT,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        rate: RateLimit | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        as_workspace: str | None = None,
    ) -> None:
        url = check_base_url(base_url)
        if timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        if max_retries < 0:
            raise ConfigurationError("max_retries cannot be negative")
        self._init(
            _Settings(
                api_key=_Secret(resolve_api_key(api_key)),
                base_url=url,
                timeout=timeout,
                max_retries=max_retries,
                transport=transport,
                clock=clock or SystemClock(),
                budget=RateBudget(rate, margin=C.BUDGET_MARGIN),
                name=name or (urlsplit(url).hostname or url),
                as_workspace=None if as_workspace is None else check_workspace_id(as_workspace),
            )
        )

    @classmethod
    def _from_settings(cls, settings: _Settings) -> Self:
        self = cls.__new__(cls)
        self._init(settings)
        return self

    def _init(self, settings: _Settings) -> None:
        raise NotImplementedError

    def acting_as(
        self, workspace_id: str, *, name: str | None = None, shared_budget: bool = True
    ) -> Self:
        """A client of the same key acting on the sub-workspace ``workspace_id``.

        For an admin workspace's key (docs/instantly-api.md §12): every request carries
        ``x-as-workspace: <workspace_id>``. Whether Instantly counts such requests against the
        admin's rate limit or the sub-workspace's is not documented, so by default they draw on
        this client's budget (``shared_budget=True``); ``False`` gives the new client a budget of
        its own, of the same ``rate``.
        """
        s = self._settings
        budget = s.budget if shared_budget else RateBudget(s.budget.limit, margin=C.BUDGET_MARGIN)
        chosen = check_workspace_id(workspace_id)
        return self._from_settings(
            replace(s, as_workspace=chosen, budget=budget, name=name or f"{s.name} as {chosen}")
        )

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def name(self) -> str:
        return self._settings.name

    @property
    def clock(self) -> Clock:
        return self._settings.clock

    @property
    def rate(self) -> RateLimit:
        return self._settings.budget.limit

    @property
    def as_workspace(self) -> str | None:
        """The sub-workspace id sent as ``x-as-workspace``, or None (the key's own workspace)."""
        return self._settings.as_workspace

    def __repr__(self) -> str:
        acting = f", as_workspace={self.as_workspace!r}" if self.as_workspace else ""
        return f"{type(self).__name__}(base_url={self.base_url!r}, name={self.name!r}{acting})"


class AsyncInstantly(ClientBase):
    """Async client for the parts of Instantly API v2 that bulk warmup work needs.

    Parameters are those of ``ClientBase``: ``api_key`` (``INSTANTLY_API_KEY`` by default),
    ``base_url``, ``timeout``, ``max_retries``, ``rate``, ``transport``, ``clock``, ``name``.
    """

    def _init(self, settings: _Settings) -> None:
        self._settings = settings
        self._http: httpx.AsyncClient | None = None

    # --- the request loop --------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            s = self._settings
            self._http = httpx.AsyncClient(
                base_url=s.base_url,
                headers=build_headers(s.api_key, s.as_workspace),
                timeout=httpx.Timeout(s.timeout),
                transport=s.transport,
                follow_redirects=False,
                # httpx sends plain-http requests to an HTTP_PROXY / ALL_PROXY from the
                # environment, headers and all: the proxy would read the key (§2.1). Plain http
                # only ever goes to loopback (check_base_url), which needs no proxy, so the
                # environment is ignored there. Over https a proxy sees only a CONNECT tunnel,
                # and corporate networks need it: honoured.
                trust_env=s.base_url.startswith("https://"),
            )
        return self._http

    async def _acquire(self) -> None:
        clock, budget = self._settings.clock, self._settings.budget
        while (wait := budget.reserve(clock.now())) > 0:
            await clock.sleep(wait)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API request with the budget and retry policy; return the decoded JSON.

        ``idempotent`` defaults to True for GET only: a POST whose answer is lost raises
        ``UncertainSubmitError`` rather than being sent twice.
        """
        idempotent = method == "GET" if idempotent is None else idempotent
        return await self._send(_Call(method, path, params, json, idempotent))

    async def _send(self, call: _Call) -> Any:
        """The retry loop: send ``call`` until it succeeds, or raise what ended it.

        A GET is retried on 429, 5xx, a lost answer and a 2xx body that is not the JSON it
        needs (§2.2). A POST only on 429 and a connection that never opened; any other doubt
        is an ``UncertainSubmitError`` for the runner to reconcile.
        """
        s = self._settings
        attempt = 0
        while True:
            # The client first: making it (an SSL context) takes tens of ms, which must not fall
            # between the budget admitting a request and the request leaving.
            http = self._client()
            await self._acquire()
            sent_at = s.clock.now()
            retry_after: float | None = None
            cause: BaseException | None = None
            try:
                response = await http.request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except httpx.TransportError as exc:
                kind = classify_exception(exc)
                decision = retry_decision(idempotent=call.idempotent, error=kind)
                why, cause = f"the answer was lost ({type(exc).__name__})", exc
                failure: Exception = _transport_error(exc, kind, call, attempt)
            else:
                status = response.status_code
                log.debug("%s %s -> %s (attempt %d)", call.method, call.path, status, attempt + 1)
                if response.is_success:
                    body, problem = read_answer(response.content, call.shape)
                    if problem is None:
                        return body
                    decision = retry_decision(idempotent=call.idempotent, invalid=True)
                    why = f"Instantly answered {status}, but {problem}"
                    failure = InvalidResponseError(
                        f"{problem}; tried {attempt + 1} time(s)", status_code=status,
                        method=call.method, path=call.path,
                    )  # fmt: skip
                else:
                    retry_after = parse_retry_after(
                        response.headers.get("retry-after"), s.clock.now()
                    )
                    decision = retry_decision(idempotent=call.idempotent, status=status)
                    why = f"Instantly answered {status}"
                    failure = error_from_response(
                        status, response.content, method=call.method, path=call.path,
                        retry_after=retry_after, secret=s.api_key,
                    )  # fmt: skip
            if decision == "uncertain":
                raise call.uncertain(why, sent_at) from cause
            delay = retry_delay(attempt, retry_after=retry_after, cap=call.wait_cap)
            if decision == "raise" or delay is None or attempt >= s.max_retries:
                raise failure from cause
            log.info("%s %s: %s; retry in %.2fs", call.method, call.path, why, delay)
            await s.clock.sleep(delay)
            attempt += 1

    async def _pages(self, path: str, params: Mapping[str, Any]) -> AsyncGenerator[list[Any], None]:
        """Each page's items; the next page is requested only when the caller asks for it."""
        query = {k: v for k, v in params.items() if v is not None}
        query.setdefault("limit", C.PAGE_LIMIT)
        # §2.3: only the accounts cursor has a documented format, and only in the default
        # (timestamp_created) order; other sorts are offset-paginated and carry none.
        by_created = query.get("sort_by", "timestamp_created") == "timestamp_created"
        derive = accounts_cursor if path == f"{C.API_PREFIX}/accounts" and by_created else None
        seen: set[str] = set()
        while True:
            # httpx percent-encodes query values, so the accounts cursor's "&" goes out as %26.
            page = await self._send(_Call("GET", path, params=dict(query), shape="page"))
            items = page["items"]
            yield list(items)
            limit = _int_or_none(query["limit"])
            cursor = next_cursor(page, seen, limit=limit, derive=derive, path=path)
            if cursor is None:
                return
            if not page.get("next_starting_after"):
                log.warning(
                    "GET %s: a full page of %d came without a cursor; continuing after its "
                    "last account (docs/instantly-api.md §2.3)", path, len(items),
                )  # fmt: skip
            seen.add(cursor)
            query["starting_after"] = cursor

    async def _paginate(self, path: str, params: Mapping[str, Any]) -> AsyncGenerator[Any, None]:
        async with aclosing(self._pages(path, params)) as pages:
            async for page in pages:
                for item in page:
                    yield item

    # --- accounts and tags ----------------------------------------------------------------

    def list_accounts(self, /, **filters: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Every account matching ``filters``, page after page (``GET /api/v2/accounts``).

        Filters: ``search``, ``status``, ``provider_code``, ``tag_ids`` / ``tag_ids_all`` (a
        UUID or a list of them), ``include_tags``, ``filter`` (an ``ACC_FILTER_*``),
        ``sort_by``, ``sort_order``, ``limit`` (page size).
        """
        return self._paginate(f"{C.API_PREFIX}/accounts", _account_query(filters))

    def list_account_pages(self, /, **filters: Any) -> AsyncGenerator[list[dict[str, Any]], None]:
        """``list_accounts`` a page at a time: one request per page, sent when it is asked for.

        For callers that must know when each page was read (the runner's verification does).
        """
        return self._pages(f"{C.API_PREFIX}/accounts", _account_query(filters))

    async def get_account(self, email: str) -> dict[str, Any]:
        """One account by email (``GET /api/v2/accounts/{email}``); ``NotFoundError`` if absent."""
        path = f"{C.API_PREFIX}/accounts/{quote(email, safe='')}"
        body: dict[str, Any] = await self._send(_Call("GET", path, shape="object"))
        return body

    def list_tags(self, /, **params: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Every custom tag (``GET /api/v2/custom-tags``); params ``search``, ``tag_ids``."""
        return self._paginate(f"{C.API_PREFIX}/custom-tags", _comma_join(params))

    def list_tag_mappings(self, /, **params: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Every tag-to-resource mapping (``GET /api/v2/custom-tag-mappings``)."""
        return self._paginate(f"{C.API_PREFIX}/custom-tag-mappings", _comma_join(params))

    async def get_workspace(self) -> dict[str, Any]:
        """The key's workspace (``GET /api/v2/workspaces/current``): id, name, owner."""
        path = f"{C.API_PREFIX}/workspaces/current"
        body: dict[str, Any] = await self._send(_Call("GET", path, shape="object"))
        return body

    def list_workspace_group_members(self) -> AsyncGenerator[dict[str, Any], None]:
        """The sub-workspaces of the key's (admin) workspace, page after page
        (``GET /api/v2/workspace-group-members``): ``sub_workspace_id``, ``sub_workspace_name``,
        ``status`` (``pending``, ``accepted``, ``rejected``)."""
        return self._paginate(f"{C.API_PREFIX}/workspace-group-members", {})

    # --- warmup analytics -----------------------------------------------------------------

    async def warmup_analytics(self, emails: Iterable[str]) -> dict[str, Any]:
        """Warmup inbox and spam counts of 1 to 100 accounts, in one request.

        ``POST /api/v2/accounts/warmup-analytics``, checked before it is sent: 1 to 100
        well-formed emails, no duplicates. The answer as Instantly gives it (docs/instantly-api.md
        §7): ``aggregate_data`` maps each known email to ``sent, received, landed_inbox,
        landed_spam, health_score, health_score_label``, and ``email_date_data`` (``{}`` when
        absent) maps it to its days. An email the workspace does not know is in neither map. It
        is a read, so it is retried like a GET. For any number of accounts, as a DataFrame, use
        ``read_warmup_health(client, target)``.
        """
        body = {"emails": list(analytics_emails(emails))}
        path = f"{C.API_PREFIX}/accounts/warmup-analytics"
        answer: dict[str, Any] = await self._send(
            _Call("POST", path, json=body, idempotent=True, shape="analytics")
        )
        answer.setdefault("email_date_data", {})
        return answer

    # --- warmup jobs ----------------------------------------------------------------------

    async def submit_warmup(self, request: WarmupRequest) -> Job:
        """Send one validated warmup request; returns the ``pending`` job Instantly created.

        Raises ``UncertainSubmitError`` when the request left but no job can be read from the
        answer (lost, 5xx, or a 2xx without a job ``id``): a job may exist (§2.2).
        """
        call = _Call("POST", request.path, json=request.body(), idempotent=False, shape="job")
        return Job.from_api(await self._send(call))

    _action_warmup = _submitting(warmup_request)

    disable_warmup = bind_action(
        _action_warmup,
        "disable",
        "disable_warmup",
        """Start one job pausing warmup: ≤100 ``emails``, or ``include_all_emails`` narrowed.

        One raw request, validated before it is sent. For any number of accounts, with a
        preview, verification and resume, use ``plan_disable(client, target)``.
        """,
    )
    enable_warmup = bind_action(
        _action_warmup,
        "enable",
        "enable_warmup",
        """Start one job resuming warmup: ≤100 ``emails``, or ``include_all_emails`` narrowed.

        One raw request, validated before it is sent; the mirror of ``disable_warmup``.
        """,
    )

    async def get_job(self, id: str, data_fields: Iterable[str] | None = None) -> Job:
        """One background job (``GET /api/v2/background-jobs/{id}``)."""
        return await self._get_job(id, data_fields)

    async def _get_job(
        self, id: str, data_fields: Iterable[str] | None = None, wait_cap: float | None = None
    ) -> Job:
        params = {"data_fields": ",".join(data_fields)} if data_fields is not None else None
        path = f"{C.API_PREFIX}/background-jobs/{quote(id, safe='')}"
        call = _Call("GET", path, params, shape="job", wait_cap=wait_cap)
        return Job.from_api(await self._send(call))

    def list_jobs(
        self,
        *,
        ids: Iterable[str] | None = None,
        type: str | None = None,
        status: str | Iterable[str] | None = None,
        sort_column: str | None = None,
        sort_order: str | None = None,
        limit: int = C.PAGE_LIMIT,
    ) -> AsyncGenerator[Job, None]:
        """Background jobs, newest first by default (``GET /api/v2/background-jobs``).

        ``status`` may be several (``["pending", "in-progress"]``); ``type`` is e.g.
        ``"update-warmup-accounts"``.
        """
        params = _comma_join(
            {"ids": ids, "type": type, "status": status, "sort_column": sort_column,
             "sort_order": sort_order, "limit": limit}
        )  # fmt: skip
        return _jobs(self._paginate(f"{C.API_PREFIX}/background-jobs", params))

    async def wait_job(
        self,
        id: str,
        *,
        timeout: float = C.DEFAULT_JOB_TIMEOUT,
        expected_duration: float | None = None,
        on_update: JobCallback | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        """Poll a job until its status is terminal and return it.

        Polls adaptively: aims at the end predicted from the progress rate (or from
        ``expected_duration``, seconds from now), so the end is noticed quickly with few
        requests. Unknown statuses are reported to ``on_update`` and waited through.

        The watch survives what a read-only poll can meet (§4.4): 429s (a long ``Retry-After``
        is not waited out: polls stay at most ``MAX_POLL`` apart), 5xx, odd 2xx bodies, lost
        answers, and a 404 in the first ``JOB_APPEAR_GRACE`` seconds (a job just created may
        not be readable yet).

        Raises
        ------
        JobTimeoutError
            Still not terminal after ``timeout`` seconds (the job may yet finish).
        JobFailedError
            It ended ``failed`` or ``cancelled`` and ``raise_on_failure`` is set.
        NotFoundError
            Still unknown after ``JOB_APPEAR_GRACE`` seconds.
        """
        clock = self._settings.clock
        start = clock.now()
        deadline = start + timeout
        expected_end = start + expected_duration if expected_duration is not None else None
        samples: list[PollSample] = []
        misses = 0
        while True:
            try:
                job = await self._get_job(id, wait_cap=C.MAX_POLL)
            except NotFoundError:
                now = clock.now()
                if now - start >= C.JOB_APPEAR_GRACE or now >= deadline:
                    raise
                log.info("job %s is not visible yet (404); polling again", id)
                wait = backoff_delay(misses, base=C.FIRST_POLL, cap=C.MAX_POLL)
                await clock.sleep(min(wait, deadline - now))
                misses += 1
                continue
            except (RateLimitError, ServerError, TransportError) as exc:
                # Polling is read-only and the job runs on regardless: keep watching until the
                # deadline instead of losing track of a running job over a bad minute.
                if clock.now() >= deadline:
                    raise
                log.info("polling job %s: %s; still watching", id, exc)
                await clock.sleep(min(C.MAX_POLL, max(0.0, deadline - clock.now())))
                continue
            now = clock.now()
            samples.append(PollSample(now, job.status.value, job.progress))
            if on_update is not None:
                on_update(job)
            if job.is_terminal:
                break
            if now >= deadline:
                raise JobTimeoutError(
                    f"job {id} is still {job.status.value} after {timeout:.0f}s", job=job
                )
            delay = next_poll_delay(samples, now=now, expected_end=expected_end)
            await clock.sleep(min(delay, deadline - now))
        if raise_on_failure and job.status.value in ("failed", "cancelled", "error"):
            raise JobFailedError(f"job {id} ended {job.status.value}", job=job)
        return job

    # --- lifecycle ------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> AsyncInstantly:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _transport_error(
    exc: httpx.TransportError, kind: ErrorKind, call: _Call, attempts: int
) -> TransportError:
    what = f"{type(exc).__name__} after {attempts + 1} attempt(s)"
    where = {"method": call.method, "path": call.path}
    if kind is ErrorKind.NOT_SENT:
        return ConnectionFailed(f"could not connect: {what}", **where)
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"timed out: {what}", **where)
    return TransportError(f"connection lost: {what}", **where)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _comma_join(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = value
        else:
            out[key] = ",".join(str(v) for v in value)
    return out


def _account_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(filters) - _ACCOUNT_FILTERS)
    if unknown:
        raise RequestValidationError(
            f"unknown account filter(s) {unknown}; known: {sorted(_ACCOUNT_FILTERS)}"
        )
    query = _comma_join(filters)
    if "filter" in query:
        query["filter"] = check_filter(query["filter"]).value
    return query


async def _jobs(pages: AsyncGenerator[Any, None]) -> AsyncGenerator[Job, None]:
    async with aclosing(pages):
        async for item in pages:
            yield Job.from_api(item)
