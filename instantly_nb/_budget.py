"""The client-side request budget: at most N requests in any 1 s and M in any 60 s.

Instantly's limit (100/s and 6,000/min, §2.4) is shared by every integration of the workspace,
so the client keeps well under it on its own. Sliding windows rather than token buckets: a bucket
of rate r and burst r admits 2r requests in some one-second window, and "never above the budget"
must hold for every window a server might count.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from . import _constants as C
from .errors import ConfigurationError

__all__ = ["RateBudget", "RateLimit"]

# Float time stamps: a window is treated as 1 ms longer than nominal so that rounding can never
# let N+1 requests land inside one nominal window.
_EPSILON = 1e-3


@dataclass(frozen=True)
class RateLimit:
    """How many requests the client may send: ``per_second`` and ``per_minute``."""

    per_second: int = C.DEFAULT_RATE_PER_SECOND
    per_minute: int = C.DEFAULT_RATE_PER_MINUTE

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.per_minute < 1:
            raise ConfigurationError("rate limits must be at least 1 request per window")
        if self.per_second > self.per_minute:
            raise ConfigurationError("per_second cannot exceed per_minute")


class RateBudget:
    """Sliding-window admission. ``reserve(now)`` returns 0 and records the request, or the wait.

    ``margin`` lengthens each window by that fraction: a client leaves room for the jitter
    between sending a request and the server counting it; a server (the emulator) uses none.
    """

    def __init__(self, limit: RateLimit | None = None, *, margin: float = 0.0) -> None:
        self.limit = limit or RateLimit()
        stretch = 1.0 + margin
        self._windows = (
            (stretch + _EPSILON, deque[float](maxlen=self.limit.per_second)),
            (60.0 * stretch + _EPSILON, deque[float](maxlen=self.limit.per_minute)),
        )

    def reserve(self, now: float) -> float:
        wait = 0.0
        for length, stamps in self._windows:
            if len(stamps) == stamps.maxlen:
                wait = max(wait, stamps[0] + length - now)
        if wait > 0:
            return wait
        for _, stamps in self._windows:
            stamps.append(now)
        return 0.0

    def __repr__(self) -> str:
        return f"RateBudget({self.limit.per_second}/s, {self.limit.per_minute}/min)"
