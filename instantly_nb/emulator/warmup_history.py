"""Each account's recent warmup, day by day: what warmup analytics reports (§7). Pure: no state.

Instantly's sources give the answer's shape and nothing about the numbers, so all of this is
(guessed), made to be plausible and self-consistent (docs/instantly-api.md §5.6, §7):

- Every account has a trend, drawn from the workspace id (itself drawn from the seed) and its
  email: most inboxes are steady; some recover (more of their warmup lands in the inbox every
  day), some degrade.
- An account whose warmup was paused or in error when the workspace was generated stopped on a
  seeded day: within the last 7 days when its score is above 0, earlier when it is 0 (§5.6: a
  week without warmup resets the score). A change made since (by a job or a test) takes effect
  the next day (§5.6: warmup starts "after 12 AM UTC the next day"), so a paused account sends
  nothing on the days after it was paused.
- ``health_score`` is the account's ``stat_warmup_score``, and when the last 7 days hold warmup,
  their inbox share is that score, to the nearest email.
- The generated part is laid out back from today, so it moves with the clock as a live
  workspace's recent history does, and stays consistent with the scores, which do not move.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .isotime import DAY_MS, iso, parse_iso, to_ms
from .workspace import AccountRecord

__all__ = ["SCORE_DAYS", "WINDOW_DAYS", "Day", "aggregate_view", "daily_history"]

WINDOW_DAYS = 14  # (guessed) §7 "recent history": the days one answer covers, today included
SCORE_DAYS = 7  # §5.6: the health score covers the last 7 days
RAMP_DAYS = 7  # a new inbox works up to its daily warmup limit over its first week
# Share of inboxes per trend, and how fast each one's inbox share moves per day.
TRENDS = ((0.6, 0.0), (0.2, 0.05), (0.2, -0.05))  # steady, recovering, degrading
NOISE = 0.06  # day-to-day wobble of the inbox share, peak to peak
_STOPPED_LONG_AGO = (SCORE_DAYS + 1, 40)  # days back a zero-score account stopped


@dataclass(frozen=True)
class Day:
    """One account's warmup on one day; ``landed_inbox + landed_spam == sent``."""

    sent: int
    received: int
    landed_inbox: int
    landed_spam: int

    def view(self) -> dict[str, int]:
        """As ``email_date_data`` shows it: zero counts left out (§7)."""
        counts = {
            "sent": self.sent,
            "landed_inbox": self.landed_inbox,
            "landed_spam": self.landed_spam,
            "received": self.received,
        }
        return {key: value for key, value in counts.items() if value}


def daily_history(record: AccountRecord, workspace_id: str, now: float) -> dict[str, Day]:
    """The account's warmup on each day of the window ending today (UTC) that it warmed.

    Keys are ``YYYY-MM-DD``, oldest first; days without warmup are left out.
    """
    today = to_ms(now) // DAY_MS
    first = today - WINDOW_DAYS + 1
    draws = _digest(f"{workspace_id}\n{record.email.lower()}")
    score = _score(record.data)
    slope = _slope(draws[0] / 256)
    quality = score / 100 if score > 0 else 0.55 + 0.4 * draws[1] / 255
    warming = _warming_days(record, today, draws[2])
    # Inboxes rarely send their whole limit: each sends its own share of it.
    limit = _warmup_limit(record.data) * (0.7 + 0.3 * draws[3] / 255)
    started = _start_day(record.data)

    sent: dict[int, int] = {}
    received: dict[int, int] = {}
    inbox_share: dict[int, float] = {}
    centre = today - (SCORE_DAYS - 1) / 2  # each trend passes through the score mid-week
    for day in range(first, today + 1):
        if not warming(day):
            continue
        wobble = _digest(f"{workspace_id}\n{record.email.lower()}\n{day}")
        ramp = 1.0 if started is None else min(1.0, (day - started + 1) / RAMP_DAYS)
        sent[day] = max(1, round(limit * ramp) - wobble[0] % 4)
        received[day] = max(0, sent[day] + wobble[1] % 5 - 2)
        share = quality + slope * (day - centre) + NOISE * (wobble[2] / 255 - 0.5)
        inbox_share[day] = min(1.0, max(0.0, share))
    spam = {day: round(sent[day] * (1 - inbox_share[day])) for day in sent}
    recent = [day for day in sent if day > today - SCORE_DAYS]
    if score > 0 and recent:
        spam.update(_calibrated(recent, sent, inbox_share, score))
    return {
        _date(day): Day(sent[day], received[day], sent[day] - spam[day], spam[day])
        for day in sorted(sent)
    }


def aggregate_view(record: AccountRecord, days: Mapping[str, Day]) -> dict[str, Any]:
    """``aggregate_data`` of one account: the days summed, and its health score (§7)."""
    totals = {"sent": 0, "landed_inbox": 0, "landed_spam": 0, "received": 0}
    for day in days.values():
        for key, value in day.view().items():
            totals[key] += value
    score = round(_score(record.data))
    view: dict[str, Any] = {key: value for key, value in totals.items() if value}
    view["health_score_label"] = f"{score}%"
    view["health_score"] = score
    return view


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=4).digest()


def _score(data: Mapping[str, Any]) -> float:
    value = data.get("stat_warmup_score")
    return min(100.0, max(0.0, float(value))) if isinstance(value, int | float) else 0.0


def _slope(draw: float) -> float:
    for share, slope in TRENDS:
        if draw < share:
            return slope
        draw -= share
    return TRENDS[-1][1]


def _warmup_limit(data: Mapping[str, Any]) -> int:
    warmup = data.get("warmup")
    limit = warmup.get("limit") if isinstance(warmup, Mapping) else None
    return int(limit) if isinstance(limit, int | float) and limit >= 1 else 10


def _start_day(data: Mapping[str, Any]) -> int | None:
    ms = parse_iso(str(data.get("timestamp_warmup_start", "")))
    return None if ms is None else ms // DAY_MS


def _warming_days(record: AccountRecord, today: int, draw: int) -> Callable[[int], bool]:
    """Whether the account warmed on a day: the generated state, then each change since."""
    data = record.data
    changes = record.warmup_changes
    generated = changes[0][1] if changes else data.get("warmup_status")
    started = _start_day(data)
    if started is None and generated == 1:
        created = parse_iso(str(data.get("timestamp_created", "")))
        started = None if created is None else created // DAY_MS
    stopped: float = math.inf
    if generated != 1:
        low, high = (1, SCORE_DAYS - 1) if _score(data) > 0 else _STOPPED_LONG_AGO
        stopped = today - (low + draw % (high - low + 1))
        if _score(data) > 0 and started is not None:
            stopped = max(stopped, started)  # a score needs warmup: it stopped after it began
    changed = [(ms // DAY_MS, after) for ms, _, after in changes]

    def warming(day: int) -> bool:
        state = started is not None and started <= day <= stopped
        for changed_on, after in changed:
            if changed_on < day:
                state = after == 1
        return state

    return warming


def _calibrated(
    days: list[int], sent: Mapping[int, int], share: Mapping[int, float], score: float
) -> dict[int, int]:
    """Spam counts for ``days`` whose inbox share is ``score``, spread as the trend spreads it."""
    total = sum(sent[day] for day in days)
    target = round(total * (1 - score / 100))
    weights = {day: sent[day] * (1 - share[day]) for day in days}
    if sum(weights.values()) <= 0:
        weights = {day: float(sent[day]) for day in days}
    whole = sum(weights.values())
    exact = {day: target * weights[day] / whole for day in days}
    spam = {day: min(sent[day], math.floor(exact[day])) for day in days}
    # Largest remainders first; a day already at its sent count takes no more.
    order = sorted(days, key=lambda day: (exact[day] - spam[day], day), reverse=True)
    left = target - sum(spam.values())
    while left > 0:
        for day in order:
            if left > 0 and spam[day] < sent[day]:
                spam[day] += 1
                left -= 1
    return spam


def _date(day: int) -> str:
    return iso(day * DAY_MS)[:10]
