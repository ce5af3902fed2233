"""Item 7, warmup health: ``read_warmup_health`` of 10,000 accounts against a raw httpx loop.

The raw baseline (``baseline.raw_analytics``) posts the chunks of 100 emails one after another and
builds ``pd.DataFrame`` from the totals: the shortest script. In each run, ``read_warmup_health``
is timed right after it with a budget equal to the request rate the raw loop reached (its requests
over the seconds it spent sending them, rounded up), so both send at the same rate and what is
left is our own cost (checking the emails and every answer, the typed frame, the budget's
pacing); and once more with the workspace's whole limit (100/s), which this emulator's pace does
not reach. One untimed raw pass first warms the emulator up, for both.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from instantly_nb import Instantly, RateLimit, read_warmup_health
from instantly_nb import _constants as C

from .baseline import raw_analytics, raw_analytics_frame, raw_records
from .profiles import Profile
from .server import API_KEY, EmulatorProcess

ANALYTICS = "/api/v2/accounts/warmup-analytics"
# Above the emulator's pace on this machine, so it does not bind: our overhead alone.
WORKSPACE = RateLimit(C.WORKSPACE_RATE_PER_SECOND, C.WORKSPACE_RATE_PER_MINUTE)


@dataclass
class Health:
    accounts: int
    raw: list[float] = field(default_factory=list)  # seconds per run
    matched: list[float] = field(default_factory=list)  # ours at the raw loop's rate
    workspace: list[float] = field(default_factory=list)  # ours at the workspace's whole limit
    matched_rates: list[int] = field(default_factory=list)  # requests/s of each run's raw loop
    raw_requests: int = 0
    ours_requests: list[int] = field(default_factory=list)  # analytics requests, per timed read
    rows_equal: bool = True


def run_health(profile: Profile, say: Any = print) -> Health:
    out = Health(profile.health_accounts)
    with EmulatorProcess(profile.health_accounts, profile.seed, profile.timing) as emu:
        emails = [str(a["email"]) for a in raw_records(emu.url)]
        raw_analytics(emu.url, emails)
        for run in range(profile.read_runs):
            say(f"  warmup health of {len(emails):,} accounts, run {run + 1}")
            fetched, answers = _timed(raw_analytics, emu.url, emails)
            framed, raw_frame = _timed(raw_analytics_frame, answers)
            out.raw.append(fetched + framed)
            out.raw_requests = len(answers)
            matched = math.ceil(len(answers) / fetched)
            out.matched_rates.append(matched)
            rate = RateLimit(matched, matched * 60)
            for budget, times in ((rate, out.matched), (WORKSPACE, out.workspace)):
                start = emu.log_size()
                with Instantly(API_KEY, base_url=emu.url, rate=budget) as client:
                    seconds, ours = _timed(read_warmup_health, client, emails, progress=False)
                times.append(seconds)
                sent = [r for r in emu.log(start) if r.path == ANALYTICS]
                out.ours_requests.append(len(sent))
                same = len(ours) == len(raw_frame) and bool(ours["found"].all())
                out.rows_equal = out.rows_equal and same
    return out


def _timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - start, result
