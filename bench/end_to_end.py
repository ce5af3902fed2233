"""Item 2, end to end: disabling N arbitrary emails, ours against the SDK-style baseline.

Each run gets fresh emulators (same seed, same emails), so both start from the same workspace.
Ours is timed as ``plan_disable`` (reading the workspace) and ``execute`` (submit, wait, verify)
apart; the lower bound is the emulator's own processing time of the jobs, summed.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instantly_nb import Instantly, RunEvent, plan_disable
from instantly_nb.results import OUTCOMES

from .baseline import naive_disable, raw_records
from .measure import lower_bound, max_in_window, notice_delays
from .profiles import Profile
from .server import API_KEY, EmulatorProcess, JobRecord, Request, SendTimes


@dataclass
class Outcome:
    """One side of one run."""

    who: str  # "ours" or "baseline"
    emails: int
    wall: float  # ours: execute(); the baseline: first submit to last notice
    jobs: list[JobRecord]
    requests: list[Request]  # while executing (ours) or in all (the baseline)
    delays: list[float]  # job end -> noticed, seconds
    plan_seconds: float = 0.0
    plan_requests: list[Request] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)  # when our client sent each request
    jobs_phase: float = 0.0  # from the start to noticing the last job's end (no verification)
    results_complete: bool = True

    @property
    def lower_bound(self) -> float:
        return lower_bound(self.jobs)

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.startswith(prefix))

    @property
    def job_requests(self) -> int:
        """Submits (409s included) and polls."""
        return self.count("POST", "/api/v2/accounts/warmup/") + self.count(
            "GET", "/api/v2/background-jobs"
        )

    @property
    def verify_requests(self) -> int:
        return self.count("GET", "/api/v2/accounts")

    def busiest(self, window: float) -> int:
        """Most of this client's requests the emulator saw in any ``window`` seconds."""
        return max_in_window((r.at for r in self.plan_requests + self.requests), window)

    def busiest_sent(self, window: float) -> int:
        """Most requests our client sent in any ``window`` seconds (its own clock)."""
        return max_in_window(self.sent, window)


def run_end_to_end(profile: Profile, say: Any = print) -> dict[tuple[int, int], list[Outcome]]:
    """Every (workspace, emails) size of the profile, ``profile.runs`` times, ours and baseline."""
    out: dict[tuple[int, int], list[Outcome]] = {}
    for workspace, count in profile.end_to_end:
        outcomes = out.setdefault((workspace, count), [])
        for run in range(profile.runs):
            sides = [_ours, _baseline] if run % 2 == 0 else [_baseline, _ours]
            for side in sides:
                say(f"  end to end, {count:,} of {workspace:,}, run {run + 1}: {side.__name__[1:]}")
                outcomes.append(side(profile, workspace, count, run))
    return out


def _emails(emu: EmulatorProcess, count: int, run: int) -> list[str]:
    emails = sorted(str(a["email"]) for a in raw_records(emu.url))
    time.sleep(1.1)  # let the workspace's one-second rate window forget the snapshot
    return random.Random(run).sample(emails, count)


def _ours(profile: Profile, workspace: int, count: int, run: int) -> Outcome:
    noticed: dict[str, float] = {}

    def on_update(event: RunEvent) -> None:
        if event.job is not None and event.job.is_terminal:
            noticed.setdefault(event.job.id, time.time())

    sent = SendTimes()
    with (
        EmulatorProcess(workspace, profile.seed, profile.timing) as emu,
        Instantly(API_KEY, base_url=emu.url, transport=sent) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        emails = _emails(emu, count, run)
        start_log = emu.log_size()
        start = time.perf_counter()
        plan = plan_disable(client, emails, progress=False)
        plan_seconds = time.perf_counter() - start
        exec_log = emu.log_size()
        started, start = time.time(), time.perf_counter()
        results = plan.execute(
            confirm=plan.fingerprint, journal=Path(tmp) / "run.jsonl", on_update=on_update
        )
        wall = time.perf_counter() - start
        log, jobs = emu.log(), emu.jobs()
    complete = (
        len(results) == count
        and set(results["outcome"]) <= set(OUTCOMES)
        and Counter(results["email"].str.lower()) == Counter(e.lower() for e in emails)
    )
    return Outcome(
        "ours", count, wall, jobs, log[exec_log:], notice_delays(jobs, noticed), plan_seconds,
        log[start_log:exec_log], sent.times, max(noticed.values()) - started, complete,
    )  # fmt: skip


def _baseline(profile: Profile, workspace: int, count: int, run: int) -> Outcome:
    with EmulatorProcess(workspace, profile.seed, profile.timing) as emu:
        emails = _emails(emu, count, run)
        start_log = emu.log_size()
        naive = naive_disable(emu.url, emails, profile.baseline_poll)
        log, jobs = emu.log(), emu.jobs()
    return Outcome(
        "baseline",
        count,
        naive.wall,
        jobs,
        log[start_log:],
        notice_delays(jobs, naive.noticed),
        jobs_phase=naive.wall,
    )
