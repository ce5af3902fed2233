"""Instantly's timestamp format: ISO 8601, milliseconds and a ``Z`` (docs/instantly-api.md §3.3).

Kept exact to the millisecond because the accounts cursor embeds ``timestamp_created`` (§2.3):
a cursor must round-trip to the same sort key it came from.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = ["DAY_MS", "iso", "parse_iso", "to_ms"]

DAY_MS = 86_400_000  # one day in milliseconds, Instantly's time unit


def to_ms(seconds: float) -> int:
    """Whole milliseconds since the epoch, the resolution Instantly stores."""
    # A hair of slack: 1780000000.697 * 1000 is 1780000000696.9999 in binary floating point.
    return math.floor(seconds * 1000 + 1e-3)


def iso(ms: int) -> str:
    """``2026-06-30T21:15:43.697Z`` for ``ms`` milliseconds since the epoch."""
    days, rest = divmod(ms, 86_400_000)
    date = _DATES.get(days)
    if date is None:
        date = _DATES[days] = datetime.fromtimestamp(days * 86_400, tz=UTC).strftime("%Y-%m-%dT")
    seconds, millis = divmod(rest, 1000)
    if not _CLOCK:
        _CLOCK.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400))
        _MILLIS.extend(f"{m:03d}Z" for m in range(1000))
    return date + _CLOCK[seconds] + _MILLIS[millis]


# Formatting is the slow part of generating 100,000 accounts (three stamps each), so dates, times
# of day and milliseconds are looked up, built once on first use.
_DATES: dict[int, str] = {}
_CLOCK: list[str] = []
_MILLIS: list[str] = []


def parse_iso(text: str) -> int | None:
    """Milliseconds since the epoch for an ISO date-time, or None when it is not one.

    Lenient about the fraction and the offset (``...Z``, ``+00:00``, no fraction) because a legacy
    cursor (§2.3) may be any ISO timestamp a client kept.
    """
    value = text.strip()
    if not value or len(value) > 40:
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return round(when.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return None
