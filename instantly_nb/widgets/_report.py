"""Errors from callbacks and background tasks go to an ``Output`` widget, never into the void.

An exception in a Button callback is otherwise printed to wherever the comm message's output
goes (JupyterLab's log console at best), and one in a task that nobody awaits is only logged
when the task is garbage-collected. ``Output.capture()`` routes them only when IPython is running;
appending the error ourselves works in a kernel and in headless tests alike.
"""

from __future__ import annotations

import asyncio
import functools
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from ..errors import InstantlyError

__all__ = ["error_text", "guarded", "show_error", "spawn", "with_full_text"]

P = ParamSpec("P")
T = TypeVar("T")


def error_text(exc: BaseException) -> str:
    """Our own errors in one readable message; anything else with its traceback (a bug)."""
    if isinstance(exc, InstantlyError):
        return f"{type(exc).__name__}: {exc}\n"
    return "".join(traceback.format_exception(exc))


def show_error(output: Any, exc: BaseException, context: str = "") -> None:
    """Append ``exc`` to ``output`` (an ``ipywidgets.Output``) as stderr."""
    output.append_stderr((f"{context}: " if context else "") + error_text(exc))


def guarded(
    output: Any, on_error: Callable[[BaseException], None] | None = None
) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorate a widget callback so its exceptions land in ``output`` (and ``on_error``)."""

    def decorate(func: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                func(*args, **kwargs)
            except Exception as exc:
                show_error(output, exc)
                if on_error is not None:
                    on_error(exc)

        return inner

    return decorate


def spawn(
    coro: Coroutine[Any, Any, T],
    output: Any,
    keep: set[asyncio.Task[Any]],
    on_error: Callable[[BaseException], None] | None = None,
) -> asyncio.Task[T | None]:
    """Run ``coro`` as a task on the running loop (the kernel's); report instead of raising.

    The task is kept in ``keep`` until done: the loop holds only weak references to tasks, and
    a collected task would stop mid-run. It finishes with ``None`` if ``coro`` raised.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        coro.close()
        raise RuntimeError(
            "no running event loop: use the widgets in Jupyter (or inside async code)"
        ) from None

    async def reporting() -> T | None:
        try:
            return await coro
        except Exception as exc:
            show_error(output, exc)
            if on_error is not None:
                on_error(exc)
            return None

    task = loop.create_task(reporting())
    keep.add(task)
    task.add_done_callback(keep.discard)
    return task


def with_full_text(bundle: dict[str, Any] | None, text: str) -> dict[str, Any] | None:
    """A widget's mime bundle with the whole text repr (ipywidgets cuts it at 110 characters).

    Front ends without widgets (nbconvert to text, a terminal, a saved notebook viewed on a
    site that cannot run widgets) show ``text/plain``: they get the whole state.
    """
    if bundle is not None:
        bundle["text/plain"] = text
    return bundle
