"""The emulated workspace's state: accounts, tags, tag mappings and jobs. No I/O, no clock.

Accounts are kept in a list of sort keys ``(timestamp_created ms, email)`` in ascending order, so a
page of ``GET /accounts`` is a bisect on the cursor plus a walk of ``limit`` matches: listing a
100,000-account workspace page by page stays linear (docs/instantly-api.md §2.3, §3.1).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ..models import TERMINAL_JOB_STATUSES
from .isotime import iso, to_ms
from .jobs import Job, WarmupJob

__all__ = [
    "ACCOUNT_KEYS",
    "AccountRecord",
    "Arrival",
    "GroupMember",
    "NegativeWarmup",
    "Tag",
    "TagMapping",
    "Workspace",
]

# §3.3: a real account answer lists email, timestamp_created, timestamp_updated, first_name,
# last_name, organization, warmup_status, provider_code, setup_pending, is_managed_account, status,
# stat_warmup_score in this order. Where the other keys go was never captured: (guessed) they are
# slotted in around that spine.
ACCOUNT_KEYS = (
    "email",
    "timestamp_created",
    "timestamp_updated",
    "first_name",
    "last_name",
    "warmup",
    "added_by",
    "modified_by",
    "daily_limit",
    "daily_limit_max",
    "warmup_limit_max",
    "sending_gap",
    "tracking_domain_name",
    "tracking_domain_status",
    "enable_slow_ramp",
    "inbox_placement_test_limit",
    "signature",
    "reply_to",
    "organization",
    "warmup_status",
    "provider_code",
    "setup_pending",
    "is_managed_account",
    "status",
    "status_message",
    "autofix_failed",
    "timestamp_warmup_start",
    "stat_warmup_score",
)

# §5.6 (guessed): whether a job may change an account whose warmup is banned or suspended (< 0).
NegativeWarmup = Literal["fail", "change"]
NEGATIVE_WARMUP_ERROR = "Warmup is banned or suspended for this account"
NOT_FOUND_ERROR = "Account not found"

# Something that happens to the workspace at a given time: a request delivered late (a
# ``late_submit`` fault), called with that time once the jobs have been advanced to it.
Arrival = Callable[[float], None]


def ordered(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` in Instantly's key order, null fields dropped (§3.3: nulls are omitted)."""
    out = {key: data[key] for key in ACCOUNT_KEYS if data.get(key) is not None}
    out.update((k, v) for k, v in data.items() if k not in out and v is not None)
    return out


@dataclass(eq=False, slots=True)
class AccountRecord:
    """One account: its API fields (``data``, in answer order) and what the API does not show."""

    data: dict[str, Any]
    created_ms: int
    tags: set[str] = field(default_factory=set)
    prewarmed: bool = False  # ACC_FILTER_PW_ACCOUNTS: not an Account field, so kept aside
    # (ms, before, after) of every warmup_status change since generation: warmup analytics
    # replays them (warmup_history.py). A tuple: no allocation for the accounts never changed.
    warmup_changes: tuple[tuple[int, int, int], ...] = ()

    @property
    def email(self) -> str:
        return str(self.data["email"])

    def set_warmup(self, status: int, ms: int) -> None:
        """Set ``warmup_status`` at ``ms``, remembering the change."""
        before = self.data.get("warmup_status")
        if before != status:
            was = before if isinstance(before, int) else 0
            self.warmup_changes = (*self.warmup_changes, (ms, was, status))
        self.data["warmup_status"] = status

    @property
    def key(self) -> tuple[int, str]:
        return (self.created_ms, self.email)


@dataclass(slots=True)
class Tag:
    id: str
    label: str
    description: str | None
    created_ms: int
    updated_ms: int


@dataclass(slots=True)
class TagMapping:
    id: str
    tag_id: str
    resource_id: str  # the account email (§6.2)
    created_ms: int
    resource_type: int = 1  # 1 = account (§6.2: the spec contradicts itself; 1 is what is used)


@dataclass(slots=True)
class GroupMember:
    """A sub-workspace in this (admin) workspace's group: ``GET /workspace-group-members``."""

    id: str
    sub_workspace_id: str
    sub_workspace_name: str | None
    status: str  # pending / accepted / rejected
    created_ms: int
    updated_ms: int


class Workspace:
    """Accounts, tags, mappings and jobs of one workspace, with the few operations the API needs."""

    def __init__(
        self, *, id: str, name: str, owner: str, created_ms: int, negative_warmup: NegativeWarmup
    ) -> None:
        self.id = id
        self.name = name
        self.owner = owner
        self.created_ms = created_ms
        self.negative_warmup: NegativeWarmup = negative_warmup
        self.accounts: dict[str, AccountRecord] = {}
        self._lower: dict[str, str] = {}
        self._order: list[tuple[int, str]] = []
        self.tags: dict[str, Tag] = {}
        self.mappings: list[TagMapping] = []  # ascending, unique timestamp_created (the cursor)
        self.jobs: dict[str, Job] = {}
        self.group_members: list[GroupMember] = []  # by id, the listing's cursor (group_api.py)
        self._arrivals: list[tuple[float, int, Arrival]] = []  # a heap, by time then order
        self._arrival_order = itertools.count()

    # --- accounts ------------------------------------------------------------------------

    def add(self, record: AccountRecord) -> None:
        email = record.email
        if email.lower() in self._lower:
            raise ValueError(f"account {email!r} already exists")
        self.accounts[email] = record
        self._lower[email.lower()] = email
        bisect.insort(self._order, record.key)

    def bulk_load(self, records: list[AccountRecord]) -> None:
        """Add many accounts at once (one sort instead of one insertion each)."""
        for record in records:
            email = record.email
            if email.lower() in self._lower:
                raise ValueError(f"account {email!r} already exists")
            self.accounts[email] = record
            self._lower[email.lower()] = email
        self._order = sorted(r.key for r in self.accounts.values())

    def remove(self, email: str) -> AccountRecord | None:
        record = self.find(email)
        if record is None:
            return None
        del self.accounts[record.email]
        del self._lower[record.email.lower()]
        index = bisect.bisect_left(self._order, record.key)
        del self._order[index]
        self.mappings = [m for m in self.mappings if m.resource_id != record.email]
        return record

    def find(self, email: str) -> AccountRecord | None:
        """Exact spelling first, then case-insensitively (guessed: mailbox lookups usually are)."""
        record = self.accounts.get(email)
        if record is None:
            exact = self._lower.get(email.lower())
            record = self.accounts.get(exact) if exact is not None else None
        return record

    def scan(self, *, descending: bool, after: tuple[int, str] | None) -> Iterator[AccountRecord]:
        """Accounts in ``(timestamp_created, email)`` order, strictly past the cursor key."""
        order = self._order
        if descending:
            start = len(order) if after is None else bisect.bisect_left(order, after)
            indices: Iterator[int] = iter(range(start - 1, -1, -1))
        else:
            start = 0 if after is None else bisect.bisect_right(order, after)
            indices = iter(range(start, len(order)))
        accounts = self.accounts
        for index in indices:
            yield accounts[order[index][1]]

    def page(
        self,
        *,
        descending: bool,
        after: tuple[int, str] | None,
        predicate: Callable[[AccountRecord], bool] | None,
        limit: int,
    ) -> list[AccountRecord]:
        found: list[AccountRecord] = []
        for record in self.scan(descending=descending, after=after):
            if predicate is None or predicate(record):
                found.append(record)
                if len(found) >= limit:
                    break
        return found

    # --- tags ----------------------------------------------------------------------------

    def tag_by_label(self, label: str) -> Tag | None:
        return next((t for t in self.tags.values() if t.label == label), None)

    def assign(self, record: AccountRecord, tag: Tag, mapping_id: str, now_ms: int) -> None:
        if tag.id in record.tags:
            return
        record.tags.add(tag.id)
        # Mapping timestamps stay unique and increasing: the list's cursor is one (§6.2).
        last = self.mappings[-1].created_ms if self.mappings else 0
        self.mappings.append(TagMapping(mapping_id, tag.id, record.email, max(now_ms, last + 1)))

    def unassign(self, record: AccountRecord, tag: Tag) -> None:
        record.tags.discard(tag.id)
        self.mappings = [
            m for m in self.mappings if not (m.resource_id == record.email and m.tag_id == tag.id)
        ]

    # --- jobs ----------------------------------------------------------------------------

    def warmup_jobs(self) -> Iterator[WarmupJob]:
        return (job for job in self.jobs.values() if isinstance(job, WarmupJob))

    def warmup_locked(self, now: float) -> bool:
        """§5.5: a warmup job not yet terminal holds the workspace's warmup lock."""
        return any(job.status(now) not in TERMINAL_JOB_STATUSES for job in self.warmup_jobs())

    def schedule(self, at: float, arrive: Arrival) -> None:
        """Call ``arrive(at)`` when the workspace is first advanced to ``at`` or later."""
        heapq.heappush(self._arrivals, (at, next(self._arrival_order), arrive))

    def advance(self, now: float) -> None:
        """Apply every job step and arrival due by ``now``, in time order across jobs.

        Jobs are a pure function of time (jobs.py); only their effect on accounts is state, and
        it is applied lazily here, before any request or accessor reads the workspace. A job's
        targets are resolved at its start, after every step due before it (jobs.py).
        """
        while self._arrivals and self._arrivals[0][0] <= now:
            at, _, arrive = heapq.heappop(self._arrivals)
            self._run_jobs(at)
            arrive(at)
        self._run_jobs(now)

    def _run_jobs(self, now: float) -> None:
        # Events (time, job seq, kind, index): kind 0 resolves a job's targets at its start,
        # kind 1 applies target `index`. At one instant a job resolves before its own steps.
        events: list[tuple[float, int, int, int, WarmupJob]] = []
        for job in self.warmup_jobs():
            if not job.resolved:
                if job.start <= now:
                    events.append((job.start, job.seq, 0, 0, job))
            elif job.applied < job.stop:
                done = job.done_by(now)
                events.extend(
                    (job.item_time(j), job.seq, 1, j, job) for j in range(job.applied, done)
                )
        heapq.heapify(events)
        while events:
            at, seq, kind, index, job = heapq.heappop(events)
            if kind == 0:
                job.resolve()
                for j in range(job.applied, job.done_by(now)):
                    heapq.heappush(events, (job.item_time(j), seq, 1, j, job))
            else:
                job.record(index, self._apply(job, index, at))

    def _apply(self, job: WarmupJob, index: int, at: float) -> dict[str, Any]:
        target = job.targets[index]
        entry: dict[str, Any] = {"email": target.sent}
        record = self.accounts.get(target.account) if target.account is not None else None
        if target.error is not None:
            return {**entry, "status": "failed", "error": target.error}
        if record is None:
            # §5.2: unknown (or since-removed) accounts fail one by one; the job still succeeds.
            return {**entry, "status": "failed", "error": NOT_FOUND_ERROR}
        if record.data.get("warmup_status", 0) < 0 and self.negative_warmup == "fail":
            return {**entry, "status": "failed", "error": NEGATIVE_WARMUP_ERROR}
        record.set_warmup(job.warmup_status, to_ms(at))
        record.data["timestamp_updated"] = iso(to_ms(at))
        # (guessed) (§4.3): a success entry is {email, status: "success"}.
        return {**entry, "status": "success"}
