"""Pure helpers: request rates in sliding windows, medians, delays from a job end to its notice."""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Mapping, Sequence

from .server import JobRecord


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most timestamps inside any half-open interval ``[t, t + window)``."""
    stamps = sorted(times)
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, bisect.bisect_left(stamps, start + window, lo=i) - i)
    return best


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def notice_delays(jobs: Sequence[JobRecord], noticed: Mapping[str, float]) -> list[float]:
    """Seconds from each job's end (the emulator's record) to the moment the client saw it."""
    return [noticed[j.id] - j.updated for j in jobs if j.id in noticed]


def lower_bound(jobs: Sequence[JobRecord]) -> float:
    """The emulator's own processing time of every job, summed: nothing can finish sooner."""
    return sum(j.duration for j in jobs)
