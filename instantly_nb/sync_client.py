"""``Instantly``: the blocking client, generated from ``AsyncInstantly`` method by method.

Each public method here is the async one run to completion on an event loop of the client's own
(``_blocking``), so signatures and docstrings are written once, in client.py. Inside Jupyter,
where the kernel's loop is already running, that needs the nested-loop patch (nest-asyncio2),
applied only then. ``blocking`` does the same for the library's async functions, and
``async_client`` is the one way every layer turns either client into the async one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from .client import AsyncInstantly, ClientBase, _Settings
from .errors import InstantlyError

__all__ = ["Client", "Instantly", "LoopRunner", "async_client", "blocking"]

P = ParamSpec("P")
T = TypeVar("T")


def _blocking(
    method: Callable[Concatenate[AsyncInstantly, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Instantly, P], T]:
    """The async ``method``, run to completion on the sync client's loop."""

    @functools.wraps(method)
    def call(self: Instantly, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(method(self._async, *args, **kwargs))

    return call


def _iterating(
    method: Callable[Concatenate[AsyncInstantly, P], AsyncIterator[T]],
) -> Callable[Concatenate[Instantly, P], Iterator[T]]:
    """The async generator ``method`` as a blocking iterator (one page fetched per need)."""

    @functools.wraps(method)
    def call(self: Instantly, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._iterate(method(self._async, *args, **kwargs))

    signature = inspect.signature(method)
    # help() shows what the blocking method returns: AsyncGenerator[X, None] -> Iterator[X].
    returns = re.sub(
        r"^AsyncGenerator\[(.*), None\]$", r"Iterator[\1]", str(signature.return_annotation)
    )
    call.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    return call


class LoopRunner:
    """What runs coroutines to completion on an event loop of its own: an ``Instantly`` client,
    or a ``Workspaces`` set of them (all on one loop). The blocking verbs take either."""

    _loop: asyncio.AbstractEventLoop | None = None

    def _check_blocking(self) -> None:
        """Raise if blocking calls cannot run here (before any coroutine is made for one)."""

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            weakref.finalize(self, self._loop.close)
        if self._loop.is_closed():
            coro.close()
            raise InstantlyError(f"this {type(self).__name__} is closed")
        if asyncio._get_running_loop() is not None:
            _allow_nested(self._loop)
        return self._loop.run_until_complete(coro)


class Instantly(LoopRunner, ClientBase):
    """Sync client: the same methods as ``AsyncInstantly``, blocking.

    Works in scripts, papermill runs and Jupyter cells alike. Parameters are those of
    ``AsyncInstantly``. Use it from one thread at a time.
    """

    def _init(self, settings: _Settings) -> None:
        self._settings = settings
        self._async = AsyncInstantly._from_settings(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._twins: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncInstantly] = (
            weakref.WeakKeyDictionary()
        )

    request = _blocking(AsyncInstantly.request)
    list_accounts = _iterating(AsyncInstantly.list_accounts)
    list_account_pages = _iterating(AsyncInstantly.list_account_pages)
    get_account = _blocking(AsyncInstantly.get_account)
    list_tags = _iterating(AsyncInstantly.list_tags)
    list_tag_mappings = _iterating(AsyncInstantly.list_tag_mappings)
    get_workspace = _blocking(AsyncInstantly.get_workspace)
    list_workspace_group_members = _iterating(AsyncInstantly.list_workspace_group_members)
    warmup_analytics = _blocking(AsyncInstantly.warmup_analytics)
    submit_warmup = _blocking(AsyncInstantly.submit_warmup)
    disable_warmup = _blocking(AsyncInstantly.disable_warmup)
    enable_warmup = _blocking(AsyncInstantly.enable_warmup)
    get_job = _blocking(AsyncInstantly.get_job)
    list_jobs = _iterating(AsyncInstantly.list_jobs)
    wait_job = _blocking(AsyncInstantly.wait_job)

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._run(self._async.aclose())
            self._loop.close()

    def __enter__(self) -> Instantly:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- running the async core -----------------------------------------------------------

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


Client = Instantly | AsyncInstantly


def async_client(client: Client) -> AsyncInstantly:
    """The async client to use on the running loop: how every layer takes either client."""
    if isinstance(client, AsyncInstantly):
        return client
    if isinstance(client, Instantly):
        return client._async_for_running_loop()
    raise TypeError(
        f"expected an instantly_nb.Instantly or AsyncInstantly client, got {type(client).__name__}"
    )


def blocking(
    func: Callable[Concatenate[Any, P], Awaitable[T]],
) -> Callable[Concatenate[LoopRunner, P], T]:
    """The blocking twin of an async library function whose first argument is the client.

    ``read_accounts = blocking(aread_accounts)``: same signature and docstring; it runs on the
    ``Instantly`` client's own loop (inside Jupyter too), or a ``Workspaces``' loop. An
    ``AsyncInstantly`` is pointed to the async twin in ``instantly_nb.aio``.
    """
    name = func.__name__.removeprefix("a")

    @functools.wraps(func)
    def call(client: LoopRunner, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if not isinstance(client, LoopRunner):
            if isinstance(client, AsyncInstantly):
                raise TypeError(
                    f"{name} blocks; with an AsyncInstantly client use "
                    f"`await instantly_nb.aio.{name}(...)`"
                )
            raise TypeError(
                f"{name} expects an instantly_nb.Instantly client first, got "
                f"{type(client).__name__}"
            )
        client._check_blocking()
        return client._run(_coroutine(func(client, *args, **kwargs)))

    call.__name__ = name
    call.__qualname__ = func.__qualname__.removesuffix(func.__name__) + name
    return call


async def _coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


_nested: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _allow_nested(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop`` run while another loop (Jupyter's) is running in this thread."""
    if loop in _nested:
        return
    import nest_asyncio2

    nest_asyncio2.apply(loop)
    _nested.add(loop)
