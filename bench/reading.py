"""Item 3, reading: ``read_accounts`` over a big workspace against the raw baseline.

Both read the same pages (``limit=100``, ``include_tags=true``). The raw baseline sends as fast as
the emulator answers; ``read_accounts`` keeps its client's budget (20 requests/s by default,
so 2,000 accounts/s at most). It is timed twice: with the default budget, and with a budget equal
to the rate the raw baseline reached in the same run (its pages over the seconds it spent
fetching them, in the first run); and with the workspace's whole limit (100/s), which the
emulator's pace never reaches, so that only our own overhead (the budget's bookkeeping, the async
client, the typed conversion) is left to compare.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from instantly_nb import Instantly, RateLimit, read_accounts
from instantly_nb import _constants as C

from .baseline import raw_read, raw_records
from .profiles import Profile
from .server import API_KEY, EmulatorProcess, Request, SendTimes


@dataclass
class Reading:
    accounts: int
    raw: list[float] = field(default_factory=list)  # seconds per run
    matched: list[float] = field(default_factory=list)  # ours at the baseline's rate
    workspace: list[float] = field(default_factory=list)  # ours at the workspace's whole limit
    default: float = 0.0  # ours with the default budget, once: it is budget-bound
    matched_rate: int = 0  # requests/s given to the matched budget
    pages: int = 0
    raw_peak: int = 0  # bytes, tracemalloc
    ours_peak: int = 0
    default_requests: list[Request] = field(default_factory=list)
    default_sent: list[float] = field(default_factory=list)
    rows_equal: bool = True


# Above the emulator's pace on this machine, so it does not bind: our overhead alone.
WORKSPACE = RateLimit(C.WORKSPACE_RATE_PER_SECOND, C.WORKSPACE_RATE_PER_MINUTE)


def run_reading(profile: Profile, say: Any = print) -> Reading:
    out = Reading(profile.read_accounts)
    with EmulatorProcess(profile.read_accounts, profile.seed, profile.timing) as emu:
        for run in range(profile.read_runs):
            say(f"  reading {profile.read_accounts:,} accounts, run {run + 1}")
            fetched, records = _timed(raw_records, emu.url, include_tags="true")
            framed, raw_frame = _timed(pd.DataFrame, records)
            out.raw.append(fetched + framed)
            del records
            if not out.matched_rate:
                out.pages = math.ceil(len(raw_frame) / 100) + 1
                out.matched_rate = math.ceil(out.pages / fetched)
            rate = RateLimit(out.matched_rate, out.matched_rate * 60)
            for budget, times in ((rate, out.matched), (WORKSPACE, out.workspace)):
                with Instantly(API_KEY, base_url=emu.url, rate=budget) as client:
                    seconds, ours = _timed(read_accounts, client)
                times.append(seconds)
                out.rows_equal = out.rows_equal and len(ours) == len(raw_frame)
                del ours
            del raw_frame
        say("  reading with the default budget")
        start = emu.log_size()
        sent = SendTimes()
        with Instantly(API_KEY, base_url=emu.url, transport=sent) as client:
            out.default, _ = _timed(read_accounts, client)
        out.default_requests, out.default_sent = emu.log(start), sent.times
        say("  reading, peak memory")
        out.raw_peak = _peak(lambda: raw_read(emu.url, include_tags="true"))
        with Instantly(API_KEY, base_url=emu.url, rate=rate) as client:
            out.ours_peak = _peak(lambda: read_accounts(client))
    return out


def _timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - start, result


def _peak(work: Callable[[], Any]) -> int:
    """Peak bytes allocated while ``work`` runs and its result is alive (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = work()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak
