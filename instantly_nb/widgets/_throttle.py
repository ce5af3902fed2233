"""Coalesce redraws: at most one per interval, however many events arrive; the last is never lost.

A 100-job plan polled every few hundred milliseconds, or a run in virtual time, produces events
far faster than a browser needs frames. Each event only marks the state dirty; a draw happens at
once if the previous one is old enough (leading edge), otherwise one is scheduled on the running
loop for when it is (trailing edge), so the final state is always drawn without a flush call.

When draws happen is a ``Timer``'s business: real time on the running loop by default, a virtual
timer in tests, which then say exactly which draw happens when instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["DEFAULT_INTERVAL", "Cancellable", "LoopTimer", "Throttle", "Timer"]

# Four redraws per second reads as live and stays far below what a comm channel handles.
DEFAULT_INTERVAL = 0.25


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Timer(Protocol):
    """What a ``Throttle`` needs of time: a monotonic clock, and a callback run later."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback`` in ``delay`` seconds; ``RuntimeError`` if nothing can run it."""
        ...


class LoopTimer:
    """Real time: ``clock`` (``time.monotonic``) and the running asyncio loop's ``call_later``.

    Outside a running loop ``call_later`` raises ``RuntimeError``, as
    ``asyncio.get_running_loop()`` does.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_later(delay, callback)


class Throttle:
    """Call ``draw`` at most once per ``interval`` seconds for any number of ``request()``s.

    Parameters
    ----------
    draw : callable
        Draws the current state; errors are passed to ``on_error`` when called from the loop.
    interval : float
        Minimum seconds between two draws (``flush()`` excepted).
    timer : Timer, optional
        When draws happen: ``LoopTimer()`` (real time, the running loop) by default.
    on_error : callable, optional
        Receives an exception raised by a scheduled ``draw`` (which has no caller to raise to).

    Attributes
    ----------
    draws : int
        Draws so far.
    """

    def __init__(
        self,
        draw: Callable[[], None],
        interval: float = DEFAULT_INTERVAL,
        timer: Timer | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if interval < 0:
            raise ValueError("interval cannot be negative")
        self._draw, self.interval, self._on_error = draw, interval, on_error
        self.timer: Timer = timer if timer is not None else LoopTimer()
        self._last: float | None = None
        self._dirty = False
        self._pending: Cancellable | None = None
        self.draws = 0

    def request(self) -> None:
        """The state changed: draw now, or soon, or fold into the draw already scheduled."""
        self._dirty = True
        if self._pending is not None:
            return
        wait = 0.0 if self._last is None else self._last + self.interval - self.timer.now()
        if wait <= 0:
            self._fire()
            return
        try:
            self._pending = self.timer.call_later(wait, self._scheduled)
        except RuntimeError:
            return  # no loop to schedule on: the next request or flush() draws

    def flush(self) -> None:
        """Draw now if anything changed since the last draw (the final state of a run)."""
        self.cancel()
        if self._dirty:
            self._fire()

    def draw_now(self) -> None:
        """Draw now, changed or not (a user's click deserves an answer at once)."""
        self.cancel()
        self._fire()

    def cancel(self) -> None:
        """Drop the scheduled trailing draw, if any."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _scheduled(self) -> None:
        self._pending = None
        try:
            self._fire()
        except Exception as exc:
            if self._on_error is None:
                raise
            self._on_error(exc)

    def _fire(self) -> None:
        self._dirty = False
        self._last = self.timer.now()
        self.draws += 1
        self._draw()
