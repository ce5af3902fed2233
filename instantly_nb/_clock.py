"""Time, injectable: the real clock, and a virtual one that makes waiting instant in tests.

The emulator and the client share a clock in tests, so a job that "takes" ten minutes finishes
as soon as the client sleeps past it, and every assertion about timing is exact. Where several
tasks wait at once (many workspaces run together), ``ConcurrentClock`` lets their waits overlap.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import weakref
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "ConcurrentClock", "SystemClock", "VirtualClock", "epoch"]


def epoch(stamp: object) -> float | None:
    """Seconds since the epoch of an ISO 8601 stamp as Instantly writes them; None if not one."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    # Instantly's stamps carry "Z"; one without a zone is read as UTC, never as local time.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """A clock that only moves when someone sleeps on it (or calls ``advance``)."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        # Still yield, so concurrent tasks interleave as they would in real time.
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.3f})"


class ConcurrentClock:
    """Virtual time in which concurrent sleeps overlap, as they do in real time.

    ``VirtualClock`` moves time on by each sleep as it is made, so two tasks each waiting ten
    seconds take twenty virtual seconds. Here a sleep waits for its wake-up time, and time jumps
    to the earliest wake-up only once nothing else on the event loop is ready to run: the two
    take ten. For runs where several workspaces work at once (tests and benchmarks).

    Knowing that nothing is ready reads the loop's queue of ready callbacks, which asyncio keeps
    in the private ``_ready``; on a loop without it, time jumps at once, as in ``VirtualClock``.
    """

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start
        self._order = itertools.count()
        Sleepers = list[tuple[float, int, asyncio.Future[None]]]
        self._sleepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Sleepers] = (
            weakref.WeakKeyDictionary()
        )
        self._watched: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        for loop in list(self._sleepers):
            self._wake(loop)

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = loop.create_future()
        queue = self._sleepers.setdefault(loop, [])
        heapq.heappush(queue, (self._now + seconds, next(self._order), future))
        self._watch(loop)
        await future

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop not in self._watched:
            self._watched.add(loop)
            loop.call_soon(self._check, loop)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        if getattr(loop, "_ready", None):
            loop.call_soon(self._check, loop)  # others can still run now: look again after them
            return
        self._watched.discard(loop)
        queue = self._sleepers.get(loop, [])
        while queue and queue[0][2].done():  # cancelled sleeps
            heapq.heappop(queue)
        if queue:
            self._now = max(self._now, queue[0][0])
            self._wake(loop)
            self._watch(loop)

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._sleepers.get(loop, [])
        while queue and queue[0][0] <= self._now:
            future = heapq.heappop(queue)[2]
            if not future.done() and not loop.is_closed():
                future.set_result(None)

    def __repr__(self) -> str:
        return f"ConcurrentClock(now={self._now:.3f})"
