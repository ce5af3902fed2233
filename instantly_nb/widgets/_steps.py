"""The panel's steps (load, preview, submit, undo) as tasks on the kernel's loop.

One exclusive step at a time: a second click while a plan is being made or run is refused, not
queued, because its meaning would depend on what the first one finds. Reads that change nothing
(loading tags or the account list) may run alongside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from ._report import spawn

__all__ = ["Steps"]


class Steps:
    """Start coroutines as reported tasks and track whether an exclusive one is running.

    Parameters
    ----------
    output : ipywidgets.Output
        Where a step's unexpected error (a bug) is shown with its traceback.
    on_busy : callable
        Called when ``busy`` changes (to enable or disable buttons).
    """

    def __init__(self, output: Any, on_busy: Callable[[], None]) -> None:
        self._output, self._on_busy = output, on_busy
        self.busy = False
        self.task: asyncio.Task[Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(
        self,
        coro: Coroutine[Any, Any, None],
        on_error: Callable[[BaseException], None],
        exclusive: bool = True,
    ) -> bool:
        """Run ``coro`` as a task; False (and ``coro`` closed) if an exclusive step runs.

        ``on_error`` gets the step's exception, to say it next to the control that started it.
        """
        if exclusive and self.busy:
            coro.close()
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            raise RuntimeError("no running event loop: show the panel in Jupyter") from None
        if exclusive:
            self.busy = True  # before the task starts: a second click must already see it
            self._on_busy()

        async def step() -> None:
            try:
                await coro
            finally:
                if exclusive:
                    self.busy = False
                    self._on_busy()

        self.task = spawn(step(), self._output, self._tasks, on_error)
        return True

    async def idle(self) -> None:
        """Wait until every step started so far (and any it started) has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks)
