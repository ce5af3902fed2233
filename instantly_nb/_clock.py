"""Time, injectable: the real clock, and a virtual one that makes waiting instant in tests.

The emulator and the client share a clock in tests, so a job that "takes" ten minutes finishes
as soon as the client sleeps past it, and every assertion about timing is exact.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock", "VirtualClock", "epoch"]


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
