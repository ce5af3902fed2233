"""The planner: what will change, why, and the exact requests, before anything is sent.

``plan_disable(client, target)`` reads the workspace, decides each targeted account's action
(``change``, ``skip`` when already in the target state, ``not_found``), notes risks, and picks
the fewest requests (``_cover``). The ``Plan`` it returns is a preview; ``execute()`` (run.py)
carries it out and re-checks server-side selections just before sending them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, overload

import pandas as pd

from . import _constants as C
from ._candidates import candidates
from ._confirm import CONFIRM_ABOVE, needs_confirmation
from ._cover import Candidate, Cover, choose_cover, chunk_count
from ._warmup import Action, WarmupRequest, bind_action, goal_of
from .client import AsyncInstantly
from .errors import PermissionDeniedError, RequestValidationError
from .fleet_plan import FleetPlan, aplan_fleet
from .frames import read_pages
from .lookup import current_workspace, find_account, selection_spec
from .models import AccountStatus, WarmupStatus, warmup_word
from .plan import Plan
from .progress_text import ReadCount, ReadListener, read_listener
from .records import PLAN_COLUMNS, PlannedRequest, PlanSummary, row_counts
from .sync_client import Client, async_client, blocking
from .targets import Selection, Target, read_emails, read_exclusions
from .workspaces import Workspaces

__all__ = ["aplan", "aplan_disable", "aplan_enable", "plan_disable", "plan_enable"]

YOUNG_INBOX_DAYS = 14
# Rough timing for the summary; Instantly documents no timing for 100-account jobs.
ESTIMATE_JOB_SECONDS = 2.0
ESTIMATE_ACCOUNT_SECONDS = 0.02

Exclude = Iterable[str] | pd.Series | pd.DataFrame | None


@overload
async def aplan(
    client: Client,
    action: Action,
    target: Target,
    *,
    exclude: Exclude = ...,
    confirm_above: int = ...,
    server_side: bool = ...,
    progress: bool | ReadListener = ...,
    workspaces: str | Iterable[str] | None = ...,
) -> Plan: ...


@overload
async def aplan(
    client: Workspaces,
    action: Action,
    target: Target,
    *,
    exclude: Exclude = ...,
    confirm_above: int = ...,
    server_side: bool = ...,
    progress: bool | ReadListener = ...,
    workspaces: str | Iterable[str] | None = ...,
) -> FleetPlan: ...


async def aplan(
    client: Client | Workspaces,
    action: Action,
    target: Target,
    *,
    exclude: Exclude = None,
    confirm_above: int = CONFIRM_ABOVE,
    server_side: bool = False,
    progress: bool | ReadListener = True,
    workspaces: str | Iterable[str] | None = None,
) -> Plan | FleetPlan:
    if action not in ("disable", "enable"):
        raise RequestValidationError(f"action must be 'disable' or 'enable', not {action!r}")
    if isinstance(confirm_above, bool) or not isinstance(confirm_above, int) or confirm_above < 0:
        raise RequestValidationError(
            f"confirm_above must be a number of accounts, 0 or more, not {confirm_above!r}"
        )
    if isinstance(client, Workspaces):
        return await aplan_fleet(
            client, action, target, plan_one=_plan_member, workspaces=workspaces,
            progress=progress, exclude=exclude, confirm_above=confirm_above,
            server_side=server_side,
        )  # fmt: skip
    if workspaces is not None:
        raise RequestValidationError("workspaces= chooses among Workspaces, not one client")
    plan = await _plan_in(
        client, action, target, exclude=exclude, confirm_above=confirm_above,
        server_side=server_side, progress=progress,
    )  # fmt: skip
    # The workspace's name, for every view of the plan (empty if the key may not read it).
    plan.workspace_name = str((await current_workspace(async_client(client))).get("name") or "")
    return plan


async def _plan_member(
    client: Client, action: Action, target: Target, *, workspace_name: str, **options: Any
) -> Plan:
    """One workspace's plan in a fleet, named as the fleet checked it (no second read)."""
    plan = await _plan_in(client, action, target, **options)
    plan.workspace_name = workspace_name
    return plan


async def _plan_in(
    client: Client,
    action: Action,
    target: Target,
    *,
    exclude: Exclude,
    confirm_above: int,
    server_side: bool,
    progress: bool | ReadListener,
) -> Plan:
    excluded = read_exclusions(exclude) if exclude is not None else set()
    ctx = _Planning(
        client, async_client(client), action, goal_of(action), excluded, confirm_above,
        ReadCount(read_listener(progress, f"planning: {action} warmup")),
    )  # fmt: skip
    if isinstance(target, Selection):
        plan = await _plan_selection(ctx, target)
    else:
        emails = read_emails(target)
        plan = await _plan_emails(ctx, emails, await _read_state(ctx, emails), server_side)
    ctx.count.finish()
    return plan


@dataclass
class _Planning:
    """One planning: its inputs, and the reads it made so far (shown as they go)."""

    client: Client
    aclient: AsyncInstantly
    action: Action
    goal: int
    excluded: set[str]
    confirm_above: int
    count: ReadCount  # every page read, shown as the planning goes
    tag_labels: dict[str, str] = field(default_factory=dict)  # id -> label of the plan's tags

    async def listing(self, **filters: Any) -> list[dict[str, Any]]:
        """Every account ``filters`` select, each page counted in the planning's progress."""
        return await read_pages(self.aclient, self.count, **filters)


async def _read_state(ctx: _Planning, emails: Sequence[str]) -> _Workspace:
    if len(emails) <= C.SMALL_TARGET:
        found: dict[str, dict[str, Any]] = {}
        for email in emails:
            account = await find_account(ctx.aclient, email)
            if account is not None:
                found[str(account["email"]).lower()] = account
        return _Workspace(found, complete=False)
    accounts = await ctx.listing(include_tags=True)
    return _Workspace({str(a["email"]).lower(): a for a in accounts}, complete=True)


@dataclass
class _Workspace:
    accounts: dict[str, dict[str, Any]]  # lower-cased email -> account
    complete: bool  # the whole workspace (so selections can be considered)


async def _plan_emails(
    ctx: _Planning, emails: Sequence[str], state: _Workspace, server_side: bool
) -> Plan:
    now = ctx.aclient.clock.now()
    rows = [_row(e, state.accounts.get(e.lower()), ctx.goal, ctx.excluded, now) for e in emails]
    change = [r["key"] for r in rows if r["action"] == "change"]
    if state.complete:
        # Chunks follow the workspace's listing order, so verification can read each page of
        # accounts as soon as the jobs it holds have ended (verify.py), not all at the end.
        listed = {key: i for i, key in enumerate(state.accounts)}
        change.sort(key=listed.__getitem__)
    # What the user listed is what is sent, unless they opt in to server-side covers: how the
    # warmup endpoint reads search and filter is a guess (docs/instantly-api.md §5.4).
    worth_it = server_side and state.complete and chunk_count(len(change)) > 1
    pool = candidates(state.accounts) if worth_it else []
    cover = await _verified_cover(ctx, change, pool, state)
    planned = await _requests(ctx, cover, state.accounts)
    # A list naming every account is a whole-workspace plan, like Selection.all_accounts(),
    # even when some of them are already in the goal state.
    named = {r["key"] for r in rows if r["action"] != "not_found"}
    touches_all = state.complete and len(change) > 0 and len(named) == len(state.accounts)
    return _finish(ctx, rows, planned, touches_all, "emails")


async def _plan_selection(ctx: _Planning, selection: Selection) -> Plan:
    spec, label = await selection_spec(ctx.aclient, selection)
    if spec.tag_id is not None and label is not None:
        ctx.tag_labels[spec.tag_id] = label
    members = await ctx.listing(include_tags=True, **spec.list_params())
    found = {str(a["email"]).lower(): a for a in members}
    now = ctx.aclient.clock.now()
    rows = [_row(str(a["email"]), a, ctx.goal, ctx.excluded, now) for a in members]
    change = [r["key"] for r in rows if r["action"] == "change"]
    own = Candidate(spec, frozenset(found), verified=True)
    cover = choose_cover(change, [own], _would_change(found, ctx.goal))
    if cover.remaining and chunk_count(len(change)) > 1:
        # The selection alone needs too many exclusions: look for a better cover workspace-wide.
        state = _Workspace(found, True)
        if not spec.everything:  # else the members already are the whole workspace
            everyone = await ctx.listing(include_tags=True)
            state = _Workspace({str(a["email"]).lower(): a for a in everyone}, True)
            state.accounts.update(found)
        cover = await _verified_cover(ctx, change, [own, *candidates(state.accounts)], state)
        found = state.accounts
    planned = await _requests(ctx, cover, found)
    touches_all = spec.everything and len(change) > 0
    return _finish(ctx, rows, planned, touches_all, selection.describe(label))


async def _verified_cover(
    ctx: _Planning, change: Sequence[str], candidates: list[Candidate], state: _Workspace
) -> Cover:
    """Choose a cover, listing each estimated selection server-side until all picks are exact.

    Each selection is listed once per plan, however many candidates share it.
    """
    known = {cand.spec: cand.members for cand in candidates if cand.verified}
    while True:
        cover = choose_cover(change, candidates, _would_change(state.accounts, ctx.goal))
        unverified = [cand for cand, _ in cover.selections if not cand.verified]
        if not unverified:
            return cover
        for cand in unverified:
            if cand.spec not in known:
                listed = await ctx.listing(**cand.spec.list_params())
                for account in listed:
                    state.accounts.setdefault(str(account["email"]).lower(), account)
                known[cand.spec] = frozenset(str(a["email"]).lower() for a in listed)
            cand.members, cand.verified = known[cand.spec], True


def _finish(
    ctx: _Planning,
    rows: list[dict[str, Any]],
    planned: list[PlannedRequest],
    touches_all: bool,
    description: str,
) -> Plan:
    action = ctx.action
    index: dict[str, int] = {}
    for i, p in enumerate(planned):
        for account in p.accounts:
            # Selections may overlap: a row belongs to the first job that changes it.
            index.setdefault(account.lower(), i)
    for row in rows:
        if row["action"] == "change":
            row["request"] = index.get(row["key"])
    frame = _typed_rows(rows)
    counts = row_counts(frame)
    change = counts["change"]
    touches_all = touches_all or any(p.spec is not None and p.spec.everything for p in planned)
    summary = PlanSummary(
        action=action,
        **counts,
        jobs=len(planned),
        chunked_jobs=chunk_count(change),
        estimated_seconds=len(planned) * ESTIMATE_JOB_SECONDS + change * ESTIMATE_ACCOUNT_SECONDS,
        needs_confirmation=needs_confirmation(change, touches_all, ctx.confirm_above),
        touches_every_account=touches_all,
    )
    return Plan(action=action, frame=frame, planned=tuple(planned), summary=summary,
                description=description, tag_labels=dict(ctx.tag_labels),
                client=ctx.client)  # fmt: skip


def _row(
    given: str, account: Mapping[str, Any] | None, goal: int, excluded: set[str], now: float
) -> dict[str, Any]:
    if account is None:
        return {"key": given.lower(), "email": given, "before": None, "action": "not_found",
                "reason": "not in this workspace", "risk": "", "request": None}  # fmt: skip
    email = str(account["email"])
    before = account.get("warmup_status")
    risk = _risks(account, goal, now)
    row = {"key": email.lower(), "email": email, "before": before, "risk": risk, "request": None}
    if email.lower() in excluded:
        return {**row, "action": "skip", "reason": "excluded"}
    if before == goal:
        state = "paused" if goal == 0 else "active"
        return {**row, "action": "skip", "reason": f"warmup already {state}"}
    reason = f"warmup {warmup_word(before)} -> {warmup_word(goal)}"
    return {**row, "action": "change", "reason": reason}


def _risks(account: Mapping[str, Any], goal: int, now: float) -> str:
    notes = []
    warmup = account.get("warmup_status")
    if isinstance(warmup, int) and warmup < 0:
        notes.append(f"warmup in error: {WarmupStatus(warmup).label}")
    status = account.get("status")
    if isinstance(status, int) and status < 0:
        notes.append(f"account in error: {AccountStatus(status).label}")
    started = account.get("timestamp_warmup_start")
    if isinstance(started, str) and goal == 0:
        age = (now - pd.Timestamp(started).timestamp()) / 86400
        if 0 <= age < YOUNG_INBOX_DAYS:
            notes.append(f"young inbox: warmup started {age:.0f} days ago")
    return "; ".join(notes)


def _would_change(accounts: Mapping[str, Mapping[str, Any]], goal: int) -> Any:
    def would_change(key: str) -> bool:
        account = accounts.get(key)
        return account is not None and account.get("warmup_status") != goal

    return would_change


async def _requests(
    ctx: _Planning, cover: Cover, accounts: Mapping[str, Mapping[str, Any]]
) -> list[PlannedRequest]:
    action = ctx.action
    await _learn_tag_labels(ctx, cover, accounts)
    planned = []
    for cand, excluded in cover.selections:
        spelled = {k: str(accounts[k]["email"]) for k in cand.members if k in accounts}
        request = WarmupRequest(
            action,
            include_all_emails=True,
            excluded_emails=tuple(sorted(spelled.get(k, k) for k in excluded)),
            filter=cand.spec.filter,
            tag_id=cand.spec.tag_id,
            search=cand.spec.search,
        )
        processed = tuple(sorted(spelled[k] for k in cand.members - excluded if k in spelled))
        planned.append(
            PlannedRequest(
                request, processed, cand.spec, cand.members, cand.spec.describe(ctx.tag_labels)
            )
        )
    remaining = [str(accounts[k]["email"]) for k in cover.remaining]
    for start in range(0, len(remaining), C.MAX_EMAILS_PER_REQUEST):
        chunk = tuple(remaining[start : start + C.MAX_EMAILS_PER_REQUEST])
        planned.append(PlannedRequest(WarmupRequest(action, emails=chunk), chunk))
    return planned


async def _learn_tag_labels(
    ctx: _Planning, cover: Cover, accounts: Mapping[str, Mapping[str, Any]]
) -> None:
    """The label of every tag the cover's selections name: from the listing's tags, else
    from the workspace's tag list (one read), so no view of the plan shows a tag's id."""
    wanted = {c.spec.tag_id for c, _ in cover.selections if c.spec.tag_id is not None}
    wanted -= set(ctx.tag_labels)
    if not wanted:
        return
    for account in accounts.values():
        for tag in account.get("tags") or []:
            if str(tag.get("id")) in wanted and tag.get("label") is not None:
                ctx.tag_labels[str(tag["id"])] = str(tag["label"])
    if wanted - set(ctx.tag_labels):
        try:
            async with aclosing(ctx.aclient.list_tags()) as tags:
                async for tag in tags:
                    if str(tag.get("id")) in wanted and tag.get("label") is not None:
                        ctx.tag_labels[str(tag["id"])] = str(tag["label"])
        except PermissionDeniedError:
            pass  # a key that may not read tags: the words name the tag by its id


def _typed_rows(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "email": [r["email"] for r in rows],
            "before": [r["before"] for r in rows],
            "before_label": [
                WarmupStatus(r["before"]).label if isinstance(r["before"], int) else None
                for r in rows
            ],
            "action": [r["action"] for r in rows],
            "reason": [r["reason"] for r in rows],
            "risk": [r["risk"] for r in rows],
            "request": [r["request"] for r in rows],
        }
    )
    return frame.astype(PLAN_COLUMNS)


_PARAMETERS = """

    Parameters
    ----------
    client : Instantly, or Workspaces
        With ``Workspaces``, one ``FleetPlan`` previews the change in every workspace the target
        concerns (one fingerprint, one confirmation for all of it); see ``workspaces``.
    target : DataFrame, Series, list of str, CSV path, or Selection
        A DataFrame needs an ``email`` column (any case) or an email index; a ``Selection``
        describes the accounts server-side (filter, tag, search).
    exclude : emails, optional
        Accounts to leave alone even if the target includes them.
    confirm_above : int
        Plans changing more accounts than this need ``execute(confirm=...)``.
    server_side : bool
        For a list of emails: send fewer jobs by covering the list with server-side selections
        (a tag, a filter, a search, minus exclusions) where they select exactly the listed
        accounts when planned. Off by default: the list is sent as lists of emails, because how
        the warmup endpoint reads a selection is not documented. Every server-side job is
        audited after it ends either way. A ``Selection`` is planned server-side (one of at
        most 100 changes may go as a list of its emails).
    progress : bool or callable
        Long reads of the workspace show a live line (pages, accounts, rate); False is quiet; a
        callable receives ``(pages, accounts, finished)`` after every page.
    workspaces : str or list of str, optional
        With ``Workspaces``: plan in these only (a ``Selection`` applies in each). Without it, a
        ``Selection`` applies in every workspace, a frame with ``workspace`` and ``email``
        columns goes where its rows say, and bare emails are looked up in every workspace (an
        email found in two is an error asking for the ``workspace`` column).
    """
aplan.__doc__ = (
    "Preview ``action`` (``'disable'`` or ``'enable'``) for ``target``; nothing is sent yet."
    + _PARAMETERS
)
_DISABLE_DOC = "Preview pausing warmup for ``target``; nothing is sent until ``execute()``."
_ENABLE_DOC = "Preview resuming warmup for ``target``; the mirror of ``plan_disable``."
aplan_disable = bind_action(aplan, "disable", "aplan_disable", _DISABLE_DOC + _PARAMETERS)
aplan_enable = bind_action(aplan, "enable", "aplan_enable", _ENABLE_DOC + _PARAMETERS)
plan_disable = blocking(aplan_disable)
plan_enable = blocking(aplan_enable)
