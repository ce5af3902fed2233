"""``Instantly``: the blocking facade over ``AsyncInstantly``, for scripts and notebook cells.

It runs the async core on an event loop of its own. Inside Jupyter, where the kernel's loop is
already running, that needs the nested-loop patch (nest-asyncio2), applied only then.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import httpx

from . import _constants as C
from ._budget import RateLimit
from ._clock import Clock
from ._errors import InstantlyError
from ._warmup import WarmupRequest
from .client import AsyncInstantly, ClientIdentity, JobCallback, _settings
from .models import AccountFilter, Job

__all__ = ["Instantly", "resolve_async", "run_blocking"]

T = TypeVar("T")


class Instantly(ClientIdentity):
    """Sync client: the same methods as ``AsyncInstantly``, blocking.

    Works in scripts, papermill runs and Jupyter cells alike. Parameters are those of
    ``AsyncInstantly``. Use it from one thread at a time.
    """

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
    ) -> None:
        self._settings = _settings(
            api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
            rate=rate, transport=transport, clock=clock, name=name,
        )  # fmt: skip
        self._async = AsyncInstantly._from_settings(self._settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._twins: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncInstantly] = (
            weakref.WeakKeyDictionary()
        )

    # --- running the async core -----------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            weakref.finalize(self, self._loop.close)
        if self._loop.is_closed():
            coro.close()
            raise InstantlyError("this client is closed")
        if asyncio._get_running_loop() is not None:
            _allow_nested(self._loop)
        return self._loop.run_until_complete(coro)

    def _iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        async def step() -> T:
            return await anext(items)

        try:
            while True:
                try:
                    item = self._run(step())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            closer = getattr(items, "aclose", None)
            if closer is not None and self._loop is not None and not self._loop.is_closed():
                self._run(closer())

    def _async_for_running_loop(self) -> AsyncInstantly:
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return self._async
        # An httpx.AsyncClient belongs to the loop it first ran on; a widget task on the
        # kernel's loop gets its own twin, sharing key, transport, clock and rate budget.
        twin = self._twins.get(loop)
        if twin is None:
            twin = self._twins[loop] = AsyncInstantly._from_settings(self._settings)
        return twin

    # --- the same methods, blocking ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        return self._run(
            self._async.request(method, path, params=params, json=json, idempotent=idempotent)
        )

    def list_accounts(self, **filters: Any) -> Iterator[dict[str, Any]]:
        return self._iterate(self._async.list_accounts(**filters))

    def list_account_pages(self, **filters: Any) -> Iterator[list[dict[str, Any]]]:
        return self._iterate(self._async.list_account_pages(**filters))

    def get_account(self, email: str) -> dict[str, Any]:
        return self._run(self._async.get_account(email))

    def list_tags(self, **params: Any) -> Iterator[dict[str, Any]]:
        return self._iterate(self._async.list_tags(**params))

    def list_tag_mappings(self, **params: Any) -> Iterator[dict[str, Any]]:
        return self._iterate(self._async.list_tag_mappings(**params))

    def get_workspace(self) -> dict[str, Any]:
        return self._run(self._async.get_workspace())

    def submit_warmup(self, request: WarmupRequest) -> Job:
        return self._run(self._async.submit_warmup(request))

    def disable_warmup(
        self,
        emails: Iterable[str] | None = None,
        *,
        include_all_emails: bool = False,
        excluded_emails: Iterable[str] | None = None,
        filter: AccountFilter | str | None = None,
        tag_id: str | None = None,
        search: str | None = None,
    ) -> Job:
        return self._run(
            self._async.disable_warmup(
                emails, include_all_emails=include_all_emails, excluded_emails=excluded_emails,
                filter=filter, tag_id=tag_id, search=search,
            )
        )  # fmt: skip

    def enable_warmup(
        self,
        emails: Iterable[str] | None = None,
        *,
        include_all_emails: bool = False,
        excluded_emails: Iterable[str] | None = None,
        filter: AccountFilter | str | None = None,
        tag_id: str | None = None,
        search: str | None = None,
    ) -> Job:
        return self._run(
            self._async.enable_warmup(
                emails, include_all_emails=include_all_emails, excluded_emails=excluded_emails,
                filter=filter, tag_id=tag_id, search=search,
            )
        )  # fmt: skip

    def get_job(self, id: str, data_fields: Iterable[str] | None = None) -> Job:
        return self._run(self._async.get_job(id, data_fields))

    def list_jobs(
        self,
        *,
        ids: Iterable[str] | None = None,
        type: str | None = None,
        status: str | Iterable[str] | None = None,
        sort_column: str | None = None,
        sort_order: str | None = None,
        limit: int = C.PAGE_LIMIT,
    ) -> Iterator[Job]:
        return self._iterate(
            self._async.list_jobs(
                ids=ids, type=type, status=status, sort_column=sort_column,
                sort_order=sort_order, limit=limit,
            )
        )  # fmt: skip

    def wait_job(
        self,
        id: str,
        *,
        timeout: float = C.DEFAULT_JOB_TIMEOUT,
        expected_duration: float | None = None,
        on_update: JobCallback | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        return self._run(
            self._async.wait_job(
                id, timeout=timeout, expected_duration=expected_duration,
                on_update=on_update, raise_on_failure=raise_on_failure,
            )
        )  # fmt: skip

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._run(self._async.aclose())
            self._loop.close()

    def __enter__(self) -> Instantly:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def resolve_async(client: Instantly | AsyncInstantly) -> AsyncInstantly:
    """The async client to use on the running loop, for layers written once, async."""
    if isinstance(client, AsyncInstantly):
        return client
    if isinstance(client, Instantly):
        return client._async_for_running_loop()
    raise TypeError(f"expected an Instantly or AsyncInstantly client, got {type(client).__name__}")


def run_blocking(client: Instantly, coro: Coroutine[Any, Any, T]) -> T:
    """Run an async operation of the layers above on ``client``'s own loop."""
    return client._run(coro)


_nested: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _allow_nested(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop`` run while another loop (Jupyter's) is running in this thread."""
    if loop in _nested:
        return
    import nest_asyncio2

    nest_asyncio2.apply(loop)
    _nested.add(loop)
