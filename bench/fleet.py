"""Item 8, many workspaces: one plan over a fleet of workspaces, run in parallel (issue 15).

20 client workspaces of 1,000 accounts, served over HTTP on 127.0.0.1 in two ways:

* ``keys``: one emulator process per workspace, one key each (``Workspaces({name: client})``);
* ``admin``: one process serving a ``WorkspaceGroup`` (``--workspaces 20``), reached with its
  admin key and the ``x-as-workspace`` header (``Workspaces.from_admin_key``), each workspace with
  a budget of its own (``shared_budget=False``), as the emulator counts such requests against the
  client workspace (``--delegated-rate member``);
* ``admin-shared`` (with ``--full``): the same with the library's default, one budget for the key.

Both serve the same accounts: client workspace n of the group is the lone emulator of seed
``seed * 1000 + n`` under the same name, and the run checks that the workload is the same.

The workload is one plan: every account with warmup errors (``read_accounts(fleet,
filter="ACC_FILTER_W_ERROR")``) plus a CSV of 2,000 ``workspace,email`` rows sampled over the
fleet, disabled with ``plan_disable(fleet, ...)`` and ``execute``. Timed: planning (reading the
errors, the CSV and planning every workspace) and execution (submit, wait, verify), apart from
connecting (the name checks, shown but not counted). Each run does it twice on fresh emulators:
with every workspace at once (``concurrency`` = the number of workspaces) and one after another
(``concurrency=1``). The bound is the emulator's own job time of the busiest workspace: its jobs
run one at a time, so nothing finishes sooner.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import os
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from instantly_nb import Instantly, RunEvent, Workspaces, plan_disable, read_accounts
from instantly_nb.emulator.group import AS_WORKSPACE_HEADER, MEMBER_NAMES
from instantly_nb.fleet_plan import FleetPlan
from instantly_nb.results import OUTCOMES

from .measure import lower_bound, max_in_window
from .profiles import Profile
from .server import API_KEY, EmulatorProcess, JobRecord, Request

ADMIN = "(admin)"  # requests of the admin key for itself (listing its group)


@dataclass(frozen=True)
class Mode:
    """How the fleet is served and reached (see the module docstring)."""

    name: str
    admin_key: bool
    shared_budget: bool = False


MODES = {
    "keys": Mode("keys", admin_key=False),  # a process and a key per workspace
    "admin": Mode("admin", admin_key=True),  # one process, x-as-workspace, a budget each
    "admin-shared": Mode("admin-shared", admin_key=True, shared_budget=True),  # one budget
}


@dataclass
class FleetRun:
    """One plan + execute over the fleet, at one concurrency, on fresh emulators."""

    mode: str
    concurrency: int
    workspaces: int
    accounts: int  # in each workspace
    per_second: int  # each workspace's budget (the key's, when shared)
    per_minute: int
    shared_budget: bool
    workload: str = ""  # a digest of the target: the same in every mode and run
    targeted: int = 0
    connect: float = 0.0  # name checks (GET /workspaces/current), not counted in the wall
    plan: float = 0.0  # read the errors and the CSV, plan every workspace
    execute: float = 0.0  # submit, wait, verify
    planned_jobs: int = 0
    planned_changes: int = 0
    jobs: dict[str, list[JobRecord]] = field(default_factory=dict)  # by workspace
    sent: dict[str, list[float]] = field(default_factory=dict)  # our clock, by workspace
    arrived: dict[str, list[float]] = field(default_factory=dict)  # the emulator's log
    started: float = 0.0  # when execute began (seconds since the epoch, the emulators' clock)
    finished: dict[str, float] = field(default_factory=dict)  # s after execute began
    # CPU seconds used while planning and while executing: this process's (the client's: one
    # thread does nearly all of it), and the emulator process(es)'
    client_cpu: tuple[float, float] = (0.0, 0.0)
    server_cpu: tuple[float, float] = (0.0, 0.0)
    rate_limited: int = 0  # 429 answers the emulators gave
    outcomes: dict[str, int] = field(default_factory=dict)
    exactly_once: bool = False  # every targeted (workspace, email) once, and nothing else
    named: bool = False  # every row names its workspace

    @property
    def wall(self) -> float:
        return self.plan + self.execute

    def job_time(self, name: str) -> float:
        return lower_bound(self.jobs.get(name, []))

    @property
    def largest(self) -> float:
        """The busiest workspace's own job time (the emulator's records), seconds."""
        return max((self.job_time(n) for n in self.jobs), default=0.0)

    @property
    def all_jobs(self) -> float:
        """Every workspace's job time summed: the bound of running them one after another."""
        return sum(self.job_time(n) for n in self.jobs)

    @property
    def start_lag(self) -> float:
        """From execute's start to the last workspace's first job (the emulators' records);
        NaN one workspace at a time, where the last one starts when the others are done."""
        if self.concurrency < self.workspaces:
            return math.nan
        return max((j[0].created - self.started for j in self.jobs.values() if j), default=0.0)

    @property
    def handover(self) -> float:
        """Median time from one job's end to the next job of its workspace."""
        gaps = [
            b.created - a.updated
            for jobs in self.jobs.values()
            for a, b in itertools.pairwise(jobs)
        ]
        return statistics.median(gaps) if gaps else math.nan

    @property
    def tail(self) -> float:
        """Median time from a workspace's last job end to its run's end (verification left)."""
        ends = [
            self.finished[n] - (jobs[-1].updated - self.started)
            for n, jobs in self.jobs.items()
            if jobs and n in self.finished
        ]
        return statistics.median(ends) if ends else math.nan

    @property
    def peak_at_once(self) -> int:
        """The most jobs running at the same moment, over every workspace (the emulators'
        records; a workspace runs one at a time, so this counts workspaces)."""
        edges = sorted(
            (t, step)
            for jobs in self.jobs.values()
            for j in jobs
            for t, step in ((j.created, 1), (j.updated, -1))
        )  # an end sorts before a start at the same instant: touching jobs do not overlap
        peak = running = 0
        for _, step in edges:
            running += step
            peak = max(peak, running)
        return peak

    @property
    def cpu_share(self) -> float:
        """CPU used during plan + execute over what the machine's cores could give."""
        used = sum(self.client_cpu) + sum(self.server_cpu)
        return used / ((os.cpu_count() or 1) * self.wall)

    @property
    def job_count(self) -> int:
        return sum(len(j) for j in self.jobs.values())

    def busiest(self, window: float, arrived: bool = False) -> tuple[int, str]:
        """The most requests of one workspace in any ``window`` seconds, and which workspace."""
        times = self.arrived if arrived else self.sent
        counts = [(max_in_window(t, window), n) for n, t in times.items() if n != ADMIN]
        return max(counts, default=(0, ""))

    def busiest_key(self, window: float) -> int:
        """The most requests the client(s) sent in any ``window`` seconds, all workspaces."""
        return max_in_window([t for ts in self.sent.values() for t in ts], window)

    @property
    def within_budget(self) -> bool:
        if self.shared_budget:
            return (
                self.busiest_key(1.0) <= self.per_second
                and self.busiest_key(60.0) <= self.per_minute
            )
        return self.busiest(1.0)[0] <= self.per_second and self.busiest(60.0)[0] <= self.per_minute


def member_names(count: int) -> list[str]:
    """The names ``WorkspaceGroup(count)`` gives its client workspaces (group.py)."""
    return [MEMBER_NAMES[i] if i < len(MEMBER_NAMES) else f"Client {i + 1}" for i in range(count)]


def run_fleet(profile: Profile, say: Any = print) -> list[FleetRun]:
    """Every mode of the profile, ``profile.fleet_runs`` times, all at once and one by one."""
    out: list[FleetRun] = []
    size = f"{profile.fleet_workspaces} x {profile.fleet_accounts:,}"
    for run in range(profile.fleet_runs):
        for mode in profile.fleet_modes:
            order = [profile.fleet_workspaces, 1]
            for concurrency in order if run % 2 == 0 else order[::-1]:
                say(f"  fleet {size}, {mode}, concurrency {concurrency}, run {run + 1}")
                out.append(_run(profile, MODES[mode], concurrency))
    return out


# --- the servers ---------------------------------------------------------------------------


class Servers:
    """The fleet's emulators: one process per workspace, or one serving the group."""

    def __init__(self, profile: Profile, mode: Mode, stack: contextlib.ExitStack) -> None:
        self.names = member_names(profile.fleet_workspaces)
        self.group: EmulatorProcess | None = None
        self.each: dict[str, EmulatorProcess] = {}
        if mode.admin_key:
            self.group = EmulatorProcess(
                profile.fleet_accounts, profile.seed, profile.timing,
                workspaces=profile.fleet_workspaces, delegated_rate="member",
            )  # fmt: skip
            started = [self.group]
        else:
            self.each = {
                name: EmulatorProcess(
                    profile.fleet_accounts,
                    profile.seed * 1000 + n,
                    profile.timing,
                    workspace_name=name,
                )
                for n, name in enumerate(self.names, start=1)
            }
            started = list(self.each.values())
        for process in started:  # all start at once: 20 imports on 2 cores take a while
            stack.callback(process.stop)
            process.spawn()
        for process in started:
            process.wait_ready()
        self.ids = self.group.members() if self.group is not None else {}
        if self.group is not None and list(self.ids) != self.names:
            raise RuntimeError(f"the group serves {list(self.ids)}, expected {self.names}")

    def _where(self, name: str) -> tuple[EmulatorProcess, str | None]:
        if self.group is not None:
            return self.group, name
        return self.each[name], None

    def url(self, name: str) -> str:
        return self._where(name)[0].url

    def headers(self, name: str) -> dict[str, str]:
        extra = {AS_WORKSPACE_HEADER: self.ids[name]} if self.group is not None else {}
        return {"Authorization": f"Bearer {API_KEY}", **extra}

    def log_size(self, name: str) -> int:
        process, member = self._where(name)
        return process.log_size(member)

    def log(self, name: str, since: int) -> list[Request]:
        process, member = self._where(name)
        return process.log(since, member)

    def jobs(self, name: str) -> list[JobRecord]:
        process, member = self._where(name)
        return process.jobs(member)

    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds() for p in (self.each.values() if self.group is None else
                                              [self.group]))  # fmt: skip


class SendLog(httpx.AsyncBaseTransport):
    """A transport noting when each request leaves the client, by the workspace it acts on
    (its ``x-as-workspace`` id, else ``label``).

    Each workspace gets a connection pool of its own, as each member client has without a
    ``transport=`` (``acting_as`` passes the admin client's transport on to every member, and
    one pool for 20 busy workspaces costs httpcore time that the library itself does not spend).
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.times: dict[str, list[float]] = defaultdict(list)
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        who = request.headers.get(AS_WORKSPACE_HEADER, self.label)
        pool = self._pools.get(who)
        if pool is None:
            pool = self._pools[who] = httpx.AsyncHTTPTransport()
        self.times[who].append(time.time())
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        # Every member client closes the transport it was given (discovery closes each probe,
        # httpx closes a client's transport): the pools reopen on the next request.
        for pool in list(self._pools.values()):
            await pool.aclose()


# --- one run -------------------------------------------------------------------------------


def _accounts(servers: Servers) -> pd.DataFrame:
    """Every account of the fleet (workspace, email, warmup_status), read raw and untimed."""
    rows: list[tuple[str, str, int]] = []
    for name in servers.names:
        with httpx.Client(
            base_url=servers.url(name), headers=servers.headers(name), timeout=60
        ) as http:
            cursor: str | None = None
            while True:
                params: dict[str, Any] = {"limit": 100}
                if cursor:
                    params["starting_after"] = cursor
                page = http.get("/api/v2/accounts", params=params)
                page.raise_for_status()
                body = page.json()
                rows += [(name, a["email"], a["warmup_status"]) for a in body["items"]]
                cursor = body.get("next_starting_after")
                if not cursor or not body["items"]:
                    break
    return pd.DataFrame(rows, columns=["workspace", "email", "warmup_status"])


def _csv(accounts: pd.DataFrame, count: int, seed: int) -> pd.DataFrame:
    """``count`` (workspace, email) rows sampled over the whole fleet, in a shuffled order."""
    pairs = sorted(zip(accounts["workspace"], accounts["email"], strict=True))
    chosen = random.Random(seed).sample(pairs, min(count, len(pairs)))
    return pd.DataFrame(chosen, columns=["workspace", "email"])


def _connect(servers: Servers, mode: Mode, concurrency: int) -> tuple[Workspaces, list[SendLog]]:
    if mode.admin_key:
        sent = SendLog(ADMIN)
        fleet = Workspaces.from_admin_key(
            API_KEY, base_url=servers.url(servers.names[0]), transport=sent,
            shared_budget=mode.shared_budget, concurrency=concurrency,
        )  # fmt: skip
        return fleet, [sent]
    logs = {name: SendLog(name) for name in servers.names}
    clients = {
        name: Instantly(API_KEY, base_url=servers.url(name), transport=logs[name])
        for name in servers.names
    }
    fleet = Workspaces(clients, concurrency=concurrency)
    fleet.identify()
    return fleet, list(logs.values())


def _run(profile: Profile, mode: Mode, concurrency: int) -> FleetRun:
    with contextlib.ExitStack() as stack:
        servers = Servers(profile, mode, stack)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        accounts = _accounts(servers)
        csv_path = tmp / "emails.csv"
        _csv(accounts, profile.fleet_csv, profile.seed).to_csv(csv_path, index=False)
        time.sleep(1.1)  # let each workspace's one-second rate window forget the raw read
        start_log = {name: servers.log_size(name) for name in servers.names}

        start = time.perf_counter()
        fleet, logs = _connect(servers, mode, concurrency)
        stack.callback(fleet.close)
        connected = time.perf_counter()
        cpu = time.process_time(), servers.cpu_seconds()
        errors = read_accounts(fleet, filter="ACC_FILTER_W_ERROR", progress=False)
        listed = pd.read_csv(csv_path, dtype=str)
        target = pd.concat([errors[["workspace", "email"]], listed], ignore_index=True)
        # An account in warmup error may be in the CSV too; an email may be in two workspaces.
        twice = pd.DataFrame({"w": target["workspace"], "e": target["email"].str.lower()})
        target = target.loc[~twice.duplicated()].reset_index(drop=True)
        plan = plan_disable(fleet, target, progress=False)
        assert isinstance(plan, FleetPlan)
        planned, started = time.perf_counter(), time.time()
        cpu_planned = time.process_time(), servers.cpu_seconds()

        finished: dict[str, float] = {}

        def on_update(name: str, event: RunEvent) -> None:
            if event.kind == "finished":
                finished[name] = time.perf_counter() - planned

        results = plan.execute(
            confirm=plan.fingerprint, journal=tmp / "run.jsonl", on_update=on_update,
            progress=False, concurrency=concurrency,
        )  # fmt: skip
        executed = time.perf_counter()
        cpu_executed = time.process_time(), servers.cpu_seconds()
        client_cpu = (cpu_planned[0] - cpu[0], cpu_executed[0] - cpu_planned[0])
        server_cpu = (cpu_planned[1] - cpu[1], cpu_executed[1] - cpu_planned[1])

        budget = next(iter(fleet.items()))[1].rate
        out = FleetRun(
            mode.name, concurrency, len(servers.names), profile.fleet_accounts,
            budget.per_second, budget.per_minute, mode.shared_budget,
            workload=_digest(target), targeted=len(target), connect=connected - start,
            plan=planned - connected, execute=executed - planned,
            planned_jobs=plan.summary.jobs, planned_changes=plan.summary.change,
            started=started, finished=finished, client_cpu=client_cpu, server_cpu=server_cpu,
        )  # fmt: skip
        for name in servers.names:
            out.jobs[name] = servers.jobs(name)
            arrived = servers.log(name, start_log[name])
            out.arrived[name] = [r.at for r in arrived]
            out.rate_limited += sum(r.status == 429 for r in arrived)
        by_id = {i: n for n, i in servers.ids.items()}
        for sent in logs:
            for who, times in sent.times.items():
                out.sent.setdefault(by_id.get(who, who), []).extend(times)
    out.outcomes = dict(Counter(results["outcome"].astype(str)))
    got = Counter(zip(results["workspace"], results["email"].str.lower(), strict=True))
    want = Counter(zip(target["workspace"], target["email"].str.lower(), strict=True))
    out.exactly_once = got == want and set(out.outcomes) <= set(OUTCOMES)
    out.named = bool(results["workspace"].notna().all())
    return out


def _digest(target: pd.DataFrame) -> str:
    rows = sorted(
        f"{w}\t{e.lower()}" for w, e in zip(target["workspace"], target["email"], strict=True)
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:12]
