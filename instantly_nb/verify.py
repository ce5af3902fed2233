"""Verification: re-read every planned account after its job, mostly while later jobs run.

A job's ``success`` is not each account's (docs/instantly-api.md §5.2), so the runner re-reads the
accounts. It lists them by warmup state (a page holds 100 accounts) rather than one GET per
account. Listing the goal state after the last job would put dozens of pages, seconds at the
client's budget, after it; instead a *sweep* lists it alongside the jobs, asking for each page
only once the jobs of the accounts it can hold have ended. Chunks follow the workspace's listing
order (planner.py), so the sweep trails the jobs a page or two behind. What is left at the end is
mostly the accounts whose warmup is in error, a far smaller listing, read after the last job.

An account counts as verified only when it was read by a request sent after every job that
touches it had ended. The listing order is a guess (§3.1), so a wrong guess costs pages, never
correctness: what the sweep could not verify is read again at the end.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from typing import Any

import pandas as pd

from . import _constants as C
from ._warmup import goal_of
from .client import AsyncInstantly
from .lookup import find_account
from .records import PlanRecord

__all__ = ["Verifier"]

log = logging.getLogger("instantly_nb")

# §3.1: the account filters that partition the workspace by warmup status (0, 1, negative).
_STATE_FILTERS = {0: "ACC_FILTER_W_PAUSED", 1: "ACC_FILTER_W_ACTIVE", -1: "ACC_FILTER_W_ERROR"}


class Verifier:
    """Collects each planned account's warmup status after its job; ``finish()`` returns them.

    The runner calls ``start()`` before its first job, ``job_ended(i)`` for each job ended (or
    found ended in the journal) once the next job is sent, so that job starts first, and
    ``finish()`` once no job will run any more.

    Attributes
    ----------
    paced : bool
        True: the sweep asks for a page only once the jobs it can hold have ended. False lists
        every page at once, which shows that reads sent too early never count.
    """

    # A class attribute, not a parameter: the runner builds its verifier, and a test that turns
    # pacing off must reach the one built inside a whole run.
    paced = True

    def __init__(self, plan: PlanRecord, client: AsyncInstantly) -> None:
        self.client = client
        self.goal = goal_of(plan.action)
        frame = plan.frame
        present = frame.loc[frame["action"] != "not_found"]
        self.spelled = {str(e).lower(): str(e) for e in present["email"]}
        self.before = dict(zip(present["email"].str.lower(), present["before"], strict=True))
        self.jobs_of: dict[str, set[int]] = {}
        for i, planned in enumerate(plan.planned):
            for email in planned.accounts:
                self.jobs_of.setdefault(email.lower(), set()).add(i)
        # The chunks' accounts, in the order a listing is expected to return them. Selections
        # hold accounts anywhere in the listing: a sweep starts after they have run.
        self.order = [e.lower() for p in plan.planned if p.spec is None for e in p.accounts]
        self.position = {key: i for i, key in enumerate(self.order)}
        self.selections = {i for i, p in enumerate(plan.planned) if p.spec is not None}
        self.ended: set[int] = set()
        self.over = False
        self.after: dict[str, int | None] = {}
        self._wake = asyncio.Event()
        self._sweep_task: asyncio.Task[None] | None = None
        self._swept = False  # the sweep listed the goal state to its end

    @property
    def swept(self) -> bool:
        """The sweep has listed the goal state to its last page (``finish()`` reads the rest)."""
        return self._swept

    @property
    def sweep(self) -> asyncio.Task[None] | None:
        """The sweep's task from ``start()`` until ``aclose()``; None without a sweep."""
        return self._sweep_task

    def start(self) -> None:
        """Begin the sweep (only for targets too big for one GET per account)."""
        if len(self.spelled) > C.SMALL_TARGET:
            self._sweep_task = asyncio.create_task(self._sweep())

    def also_read(self, emails: list[str]) -> None:
        """Verify these accounts too (outside the plan: a job changed them unplanned)."""
        for email in emails:
            self.spelled.setdefault(email.lower(), email)

    def job_ended(self, i: int) -> None:
        self.ended.add(i)
        self._wake.set()

    async def finish(self) -> dict[str, int | None]:
        """Each planned account's warmup status now (None: no longer in the workspace)."""
        self.over = True
        self._wake.set()
        if self._sweep_task is not None:
            (outcome,) = await asyncio.gather(self._sweep_task, return_exceptions=True)
            if isinstance(outcome, Exception):
                # What the sweep could not read is read again below, which raises if it must.
                log.info("verification sweep failed (%s); re-reading at the end", outcome)
        await self._read_rest()
        return {key: self.after.get(key) for key in self.spelled}

    async def aclose(self) -> None:
        """Stop the sweep, if ``finish()`` was never reached (the run raised)."""
        task, self._sweep_task = self._sweep_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _sweep(self) -> None:
        frontier = -1  # the furthest chunk account (in self.order) a page has shown
        state = _STATE_FILTERS[self.goal]
        pages = self.client.list_account_pages(filter=state, limit=C.PAGE_LIMIT)
        async with aclosing(pages):
            while True:
                if self.paced:
                    await self._pace(frontier)
                ended, over = frozenset(self.ended), self.over  # before the request is sent
                page = await anext(pages, None)
                if page is None:
                    self._swept = True
                    return
                for account in page:
                    key = str(account.get("email", "")).lower()
                    if key not in self.spelled:
                        continue
                    frontier = max(frontier, self.position.get(key, -1))
                    if key not in self.after and (over or self.jobs_of.get(key, set()) <= ended):
                        self.after[key] = account.get("warmup_status")

    async def _pace(self, frontier: int) -> None:
        """Wait until the jobs of every target the next page can hold have ended.

        A page holds 100 accounts in the goal state after the last one shown; targets whose
        job has not run are not in it, so it holds at most the next 100 chunk accounts.
        """
        upcoming = self.order[frontier + 1 : frontier + 1 + C.PAGE_LIMIT]
        needed = set(self.selections)
        for key in upcoming:
            needed |= self.jobs_of[key]
        while not self.over and not needed <= self.ended:
            self._wake.clear()
            await self._wake.wait()

    async def _read_rest(self) -> None:
        """Read what the sweep did not verify: by state while many are left, then one by one."""
        if len(self._missing()) > C.SMALL_TARGET:
            # After a sweep, most of what is left is in error. The goal state is read again
            # only if many are still missing then: the listing order was not the one guessed.
            first = (-1, self.goal) if self._swept else (self.goal, -1)
            for state in (*first, 1 - self.goal):
                missing = self._missing()
                if len(missing) <= C.SMALL_TARGET:
                    break
                if state != self.goal and not any(
                    _state(self.before.get(k)) == state for k in missing
                ):
                    continue
                # Each account keeps the status it is listed with, so a filter meaning something
                # else than §3.1 guesses costs pages, never correctness.
                await self._collect(missing, filter=_STATE_FILTERS[state])
        if len(self._missing()) > C.SMALL_TARGET:
            await self._collect(self._missing())
        for key in self._missing():
            # As when planning: a 404 is double-checked with a search before "no longer there".
            account = await find_account(self.client, self.spelled[key])
            self.after[key] = account.get("warmup_status") if account is not None else None

    def _missing(self) -> set[str]:
        return set(self.spelled) - set(self.after)

    async def _collect(self, wanted: set[str], **query: Any) -> None:
        async with aclosing(self.client.list_accounts(**query)) as listing:
            async for account in listing:
                key = str(account["email"]).lower()
                if key in wanted and key not in self.after:
                    self.after[key] = account.get("warmup_status")


def _state(code: Any) -> int | None:
    """The ``_STATE_FILTERS`` key of a warmup status (-1 for every error code)."""
    if code is None or code is pd.NA:
        return None
    return -1 if int(code) < 0 else int(code)
