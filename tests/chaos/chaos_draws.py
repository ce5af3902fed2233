"""What the chaos suite draws: workspaces, targets, faults, crashes, drifts -- and the profiles.

The drawn values are small frozen dataclasses whose reprs read as the code that reproduces them
(``faults.drop(route=('POST', ...), after_processing=True)``), so a falsifying example is a
recipe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from instantly_nb.emulator import Emulator

TIMEOUT = 10.0  # the client's read timeout; "slow" answers are drawn on both sides of it


def chaos_settings(ci: int, deep: int) -> settings:
    """The selected profile (``HYPOTHESIS_PROFILE``, ``ci`` by default) with ``max_examples``."""
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if name not in ("ci", "deep"):
        raise ValueError(f"HYPOTHESIS_PROFILE must be 'ci' or 'deep', not {name!r}")
    return settings(settings.get_profile(name), max_examples=ci if name == "ci" else deep)


# --- what is drawn ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    accounts: int
    seed: int
    negative_warmup: str  # "fail" or "change" (docs/instantly-api.md §5.6 (guessed))
    per_account: float  # seconds a job spends per account
    retry_after: bool  # the emulator's own 429s carry Retry-After


@dataclass(frozen=True)
class Pick:
    """One email value: a workspace account (by index) or an unknown address, as typed."""

    index: int
    unknown: bool = False
    case: str = "as"  # as, upper, lower, swap
    pad: bool = False  # surrounding spaces, as pasted from a spreadsheet

    def resolve(self, pool: list[str]) -> str:
        if self.unknown or not pool:
            email = f"ghost{self.index}@nowhere-{self.index % 7}.example"
        else:
            email = pool[self.index % len(pool)]
        email = {
            "as": email,
            "upper": email.upper(),
            "lower": email.lower(),
            "swap": email.swapcase(),
        }[self.case]
        return f"  {email} " if self.pad else email


@dataclass(frozen=True)
class EmailsTarget:
    """``span`` workspace accounts from ``start`` (as listed), then the odd ``picks``."""

    form: str  # list, tuple, iterator, series, frame, frame_index, csv, csv_bare
    column: str
    start: int
    span: int
    picks: tuple[Pick, ...]
    server_side: bool = False  # cover the list with selections (plan_disable(server_side=True))


@dataclass(frozen=True)
class SelectionTarget:
    filter: str | None
    tag: str | None
    search: Pick | None  # searches the domain of the picked account
    everything: bool = False


@dataclass(frozen=True)
class Exclusion:
    form: str  # list, series, frame
    picks: tuple[Pick, ...]  # indices into the target's known emails (or the workspace's)


@dataclass(frozen=True)
class Fault:
    """One call on ``emulator.faults``; ``pick`` (fail_emails) names the first planned changes."""

    method: str
    args: tuple[tuple[str, Any], ...]

    def apply(self, emu: Emulator, changes: list[str]) -> None:
        kwargs = dict(self.args)
        if "pick" in kwargs:
            kwargs["emails"] = changes[: kwargs.pop("pick")]
        route = kwargs.pop("route", None)
        call = getattr(emu.faults, self.method)
        if route is None:
            call(**kwargs)
        else:
            call(route, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.args)
        return f"faults.{self.method}({args})"


@dataclass(frozen=True)
class Crash:
    """The runner dies at the ``nth`` journal append / event of ``kind``; then it is resumed."""

    where: str  # "journal", "event", or "stop" (Stop pressed at that event: no crash)
    kind: str
    nth: int
    restart: bool  # a kernel restart: a new client (and a new rate budget) a minute later


@dataclass(frozen=True)
class Drift:
    """Someone else changes the workspace at the ``nth`` event of ``kind`` (across attempts).

    ``set_warmup`` sets account ``index``'s warmup to ``state`` (another tool, or Instantly
    itself, §5.6); ``tag`` adds ``tag`` to account ``index``; ``add`` creates an account in
    ``tag`` whose warmup the plan would change. Only at events where no freshness check is
    pending a POST the runner could not re-check: the runner is not asked to beat a race.
    """

    kind: str
    nth: int
    edit: str  # set_warmup, tag, add
    index: int
    tag: str
    state: int


@dataclass(frozen=True)
class Scenario:
    workspace: Workspace
    key: str
    action: str
    target: EmailsTarget | SelectionTarget
    exclude: Exclusion | None
    faults: tuple[Fault, ...]
    crashes: tuple[Crash, ...]
    job_timeout: float | None  # None: the default (30 min); small values exercise timeouts
    history: bool = False  # the same plan already ran and was undone minutes ago
    drifts: tuple[Drift, ...] = ()


# --- strategies ------------------------------------------------------------------------------

ROUTES = (
    "*",
    ("POST", "/api/v2/accounts/warmup/*"),
    ("GET", "/api/v2/background-jobs/*"),
    ("GET", "/api/v2/background-jobs"),
    ("GET", "/api/v2/accounts"),
    ("GET", "/api/v2/accounts/*"),
)
JOURNAL_KINDS = (
    "plan", "workspace", "fence", "snapshot", "sending", "refused", "uncertain", "reconciled",
    "submitted", "job", "timeout", "stopped", "error", "results", "done",
)  # fmt: skip
EVENT_KINDS = (
    "started", "submitting", "waiting_lock", "submitted", "progress", "job_done", "verifying",
    "finished",
)  # fmt: skip
FILTERS = (
    "ACC_FILTER_W_ACTIVE", "ACC_FILTER_W_PAUSED", "ACC_FILTER_W_ERROR", "ACC_FILTER_ERROR",
    "ACC_FILTER_PAUSED", "Warmup active", "warmup paused",
)  # fmt: skip
TAGS = ("Client A", "client b", "CLIENT C", "Agency", "Warmup pool")
COLUMNS = ("email", "Email", "EMAIL", "e-mail", "Email Address", "emails")

workspaces = st.builds(
    Workspace,
    # Bimodal: small workspaces shrink well; big ones make plans of several jobs and selections.
    accounts=st.integers(0, 60) | st.integers(150, 450),
    seed=st.integers(0, 2**16),
    negative_warmup=st.sampled_from(("change", "fail")),
    per_account=st.sampled_from((0.0, 0.01, 0.05)),
    retry_after=st.booleans(),
)
picks = st.builds(
    Pick,
    index=st.integers(0, 10_000),
    unknown=st.booleans() | st.just(False),  # mostly known accounts
    case=st.sampled_from(("as", "as", "upper", "lower", "swap")),
    pad=st.booleans(),
)
emails_targets = st.builds(
    EmailsTarget,
    form=st.sampled_from(
        ("list", "tuple", "iterator", "series", "frame", "frame_index", "csv", "csv_bare")
    ),
    column=st.sampled_from(COLUMNS),
    start=st.integers(0, 400),
    span=st.integers(0, 30) | st.integers(100, 400),  # several jobs need over 100 changes
    picks=st.lists(picks, min_size=1, max_size=40).map(tuple),
    server_side=st.booleans(),
)
selection_targets = st.builds(
    SelectionTarget,
    filter=st.none() | st.sampled_from(FILTERS),
    tag=st.none() | st.sampled_from(TAGS),
    search=st.none() | st.builds(Pick, index=st.integers(0, 10_000)),
    everything=st.sampled_from((False, False, False, True)),
).map(
    lambda s: (
        SelectionTarget(None, None, None, everything=True)
        if s.everything or (s.filter is None and s.tag is None and s.search is None)
        else s
    )
)
exclusions = st.builds(
    Exclusion,
    form=st.sampled_from(("list", "series", "frame")),
    picks=st.lists(picks, min_size=1, max_size=30).map(tuple),
)


def _fault(method: str, **args: st.SearchStrategy[Any]) -> st.SearchStrategy[Fault]:
    names = sorted(args)
    return st.tuples(*(args[n] for n in names)).map(
        lambda values: Fault(method, tuple(zip(names, values, strict=True)))
    )


retry_afters = st.none() | st.sampled_from((0, 1, 2.5, 5))
routes = st.sampled_from(ROUTES)
faults = st.one_of(
    _fault("rate_limited", route=routes, times=st.integers(1, 8), retry_after=retry_afters),
    _fault("server_error", route=routes, times=st.integers(1, 4),
           status=st.sampled_from((500, 502, 503, 504))),
    _fault("respond", route=routes, times=st.integers(1, 3),
           status=st.sampled_from((400, 401, 404, 408, 409, 422, 500))),
    _fault("lock", seconds=st.floats(0.5, 90)),
    _fault("lock", times=st.integers(1, 6)),
    _fault("delay", route=routes, times=st.integers(1, 3),
           seconds=st.floats(0.1, 4) | st.floats(TIMEOUT + 0.5, 45)),
    _fault("drop", route=routes, times=st.integers(1, 3), after_processing=st.booleans()),
    _fault("fail_job", at=st.floats(0, 1), times=st.integers(1, 2)),
    _fault("cancel_job", at=st.floats(0, 1), times=st.integers(1, 2)),
    _fault("pause_job", seconds=st.floats(0.5, 40), at=st.floats(0, 1), times=st.integers(1, 2)),
    _fault("job_status", times=st.integers(1, 2), seconds=st.floats(0.5, 20),
           status=st.sampled_from(("draining", "verifying", "queued", "reticulating-splines"))),
    _fault("fail_emails", fraction=st.floats(0, 1), times=st.integers(1, 2)),
    _fault("fail_emails", pick=st.integers(1, 20), error=st.sampled_from(
        ("Account is disconnected", "Failed to update warmup status"))),
)  # fmt: skip
# Kinds every run with a job passes through are drawn more often than the rare ones.
COMMON_JOURNAL_KINDS = ("plan", "sending", "submitted", "job", "results", "done")
COMMON_EVENT_KINDS = ("started", "submitted", "progress", "job_done", "verifying", "finished")
crashes = st.one_of(
    st.builds(Crash, st.just("journal"), st.sampled_from(COMMON_JOURNAL_KINDS), st.integers(1, 3),
              st.booleans()),
    st.builds(Crash, st.just("journal"), st.sampled_from(JOURNAL_KINDS), st.integers(1, 4),
              st.booleans()),
    st.builds(Crash, st.just("event"), st.sampled_from(COMMON_EVENT_KINDS), st.integers(1, 3),
              st.booleans()),
    st.builds(Crash, st.just("event"), st.sampled_from(EVENT_KINDS), st.integers(1, 12),
              st.booleans()),
    st.builds(Crash, st.just("stop"), st.sampled_from(COMMON_EVENT_KINDS), st.integers(1, 3),
              st.booleans()),
)  # fmt: skip
keys = st.text("0123456789abcdef", min_size=24, max_size=40).map(lambda h: f"test-key-{h}")


DRIFT_EVENTS = ("started", "submitted", "progress", "job_done", "waiting_lock")
drifts = st.builds(
    Drift,
    kind=st.sampled_from(DRIFT_EVENTS),
    nth=st.integers(1, 4),
    edit=st.sampled_from(("set_warmup", "tag", "add")),
    index=st.integers(0, 10_000),
    tag=st.sampled_from(("Client A", "Client B", "Client C", "Agency", "Warmup pool")),
    state=st.sampled_from((0, 1, -1)),
)


def scenarios(
    *, faults_at_least: int = 0, crashes_at_least: int = 0, drifting: bool = False
) -> st.SearchStrategy[Scenario]:
    return st.builds(
        Scenario,
        workspace=workspaces,
        key=keys,
        action=st.sampled_from(("disable", "disable", "enable")),
        target=st.one_of(emails_targets, selection_targets),  # half and half
        exclude=st.none() | exclusions,
        faults=st.lists(faults, min_size=faults_at_least, max_size=6).map(tuple),
        crashes=st.lists(crashes, min_size=crashes_at_least, max_size=3).map(tuple),
        job_timeout=st.sampled_from((None, None, None, 6.0)),
        history=st.booleans(),
        drifts=st.lists(drifts, max_size=2).map(tuple) if drifting else st.just(()),
    )
