"""Errors from callbacks and background tasks go to an ``Output`` widget, never into the void.

An exception in a Button callback is otherwise printed to wherever the comm message's output
goes (JupyterLab's log console at best), and one in a task that nobody awaits is only logged
when the task is garbage-collected. ``Output.capture()`` routes them only when IPython is running;
appending the error ourselves works in a kernel and in headless tests alike.

What a person reads is ``plain_words``: our own errors by their message, never a class name.
Only an error we do not expect (a bug) also gets its traceback, for the bug report.
"""

from __future__ import annotations

import asyncio
import functools
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from ..errors import InstantlyError

__all__ = [
    "error_text", "guarded", "is_bug", "plain_words", "report", "show_error", "spawn",
    "with_full_text",
]  # fmt: skip

P = ParamSpec("P")
T = TypeVar("T")


def is_bug(exc: BaseException) -> bool:
    """Not one of our errors (which all say what to do): something this code did not expect."""
    return not isinstance(exc, InstantlyError)


def plain_words(exc: BaseException) -> str:
    """What went wrong, for the person at the panel: the message, never an exception class."""
    message = str(exc).strip()
    if not is_bug(exc):
        return message[:1].upper() + message[1:]
    return (
        f"Something went wrong that this panel does not expect ({message or 'no message'}); "
        "the details below are for a bug report."
    )


def error_text(exc: BaseException) -> str:
    """Our own errors in plain words; anything else with its traceback (a bug)."""
    if not is_bug(exc):
        return plain_words(exc) + "\n"
    return "".join(traceback.format_exception(exc))


def show_error(output: Any, exc: BaseException, context: str = "") -> None:
    """Append ``exc`` to ``output`` (an ``ipywidgets.Output``) as stderr."""
    output.append_stderr((f"{context}: " if context else "") + error_text(exc))


def report(
    output: Any, exc: BaseException, on_error: Callable[[BaseException], None] | None
) -> None:
    """``on_error`` says it where it happened; ``output`` gets bugs, and everything nobody says."""
    if on_error is None or is_bug(exc):
        show_error(output, exc)
    if on_error is not None:
        on_error(exc)


def guarded(
    output: Any, on_error: Callable[[BaseException], None] | None = None
) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorate a widget callback so its exceptions are reported (``report``), never lost."""

    def decorate(func: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                func(*args, **kwargs)
            except Exception as exc:
                report(output, exc, on_error)

        return inner

    return decorate


def spawn(
    coro: Coroutine[Any, Any, T],
    output: Any,
    keep: set[asyncio.Task[Any]],
    on_error: Callable[[BaseException], None] | None = None,
) -> asyncio.Task[T | None]:
    """Run ``coro`` as a task on the running loop (the kernel's); ``report`` instead of raising.

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
            report(output, exc, on_error)
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
