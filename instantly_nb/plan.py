"""The planner: what will change, why, and the exact requests, before anything is sent.

``plan_disable(client, target)`` reads the workspace, decides each targeted account's action
(``change``, ``skip`` when already in the target state, ``not_found``), notes risks, and picks
the fewest requests (``_cover``). The ``Plan`` it returns is a preview; ``execute()`` (run.py)
carries it out and re-checks server-side selections just before sending them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _constants as C
from ._candidates import candidates
from ._cover import Candidate, Cover, SelectionSpec, choose_cover, chunk_count
from ._errors import NotFoundError, RequestValidationError
from ._warmup import Action, WarmupRequest
from .client import AsyncInstantly
from .frames import resolve_tag
from .models import AccountStatus, WarmupStatus
from .plan_view import plan_html, plan_text
from .sync_client import Instantly, resolve_async, run_blocking
from .targets import Selection, Target, read_emails, read_exclusions

__all__ = [
    "PLAN_COLUMNS",
    "Plan",
    "PlanSummary",
    "PlannedRequest",
    "aplan",
    "from_record",
    "plan_disable",
    "plan_enable",
    "to_record",
]

Client = Instantly | AsyncInstantly

# Above this many changes a plan needs execute(confirm=...), as does any plan that would touch
# every account of the workspace.
DEFAULT_CONFIRM_ABOVE = 500
# Individual GETs beat listing the workspace for a handful of emails.
SMALL_TARGET = 20
YOUNG_INBOX_DAYS = 14
# Rough timing for the summary; REFERENCE.md §5.1 has no timing for real 100-account jobs.
ESTIMATE_JOB_SECONDS = 2.0
ESTIMATE_ACCOUNT_SECONDS = 0.02

PLAN_COLUMNS: dict[str, str] = {
    "email": "string",  # the workspace's spelling when found, else as given
    "before": "Int64",  # warmup_status now
    "before_label": "string",
    "action": "string",  # change / skip / not_found
    "reason": "string",
    "risk": "string",  # "; "-joined notes, empty when none
    "request": "Int64",  # index into Plan.requests that carries the change
}


@dataclass(frozen=True)
class PlannedRequest:
    """One request of a plan and what the server will process with it."""

    request: WarmupRequest
    accounts: tuple[str, ...]
    spec: SelectionSpec | None = None
    members: frozenset[str] = frozenset()
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "body": self.request.body(),
            "accounts": list(self.accounts),
            "spec": None if self.spec is None else {
                "tag_id": self.spec.tag_id,
                "filter": None if self.spec.filter is None else self.spec.filter.value,
                "search": self.spec.search,
            },
            "members": sorted(self.members),
            "label": self.label,
        }  # fmt: skip

    @classmethod
    def from_json(cls, action: Action, data: Mapping[str, Any]) -> PlannedRequest:
        body = data["body"]
        narrowing = body.get("filter") or {}
        request = WarmupRequest(
            action,
            emails=tuple(body.get("emails") or ()),
            include_all_emails=bool(body.get("include_all_emails")),
            excluded_emails=tuple(body.get("excluded_emails") or ()),
            filter=narrowing.get("filter"),
            tag_id=narrowing.get("tag_id"),
            search=body.get("search"),
        )
        spec_data = data.get("spec")
        spec = None if spec_data is None else SelectionSpec(
            tag_id=spec_data.get("tag_id"), filter=request.filter, search=spec_data.get("search")
        )  # fmt: skip
        return cls(
            request, tuple(data["accounts"]), spec, frozenset(data["members"]), data["label"]
        )


@dataclass(frozen=True)
class PlanSummary:
    action: Action
    targeted: int
    change: int
    skip: int
    not_found: int
    at_risk: int
    jobs: int
    chunked_jobs: int  # what plain chunks of 100 would have needed
    estimated_seconds: float
    needs_confirmation: bool
    touches_every_account: bool


@dataclass
class Plan:
    """A preview of a bulk warmup change; nothing has been sent.

    Attributes
    ----------
    frame : DataFrame
        One row per targeted email (``PLAN_COLUMNS``): current state, action, reason, risk.
    requests : list of dict
        The exact JSON bodies that ``execute()`` will send, in order.
    summary : PlanSummary
    fingerprint : str
        A stable hash of the requests; pass it to ``execute(confirm=...)`` for large plans.
    """

    client: Client
    action: Action
    frame: pd.DataFrame
    planned: tuple[PlannedRequest, ...]
    summary: PlanSummary
    description: str = ""
    created_at: float = field(default_factory=time.time)
    # Two plans of the same requests made in the same second still get their own journals.
    nonce: str = field(default_factory=lambda: secrets.token_hex(3))

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [p.request.body() for p in self.planned]

    @property
    def path(self) -> str:
        return f"{C.API_PREFIX}/accounts/warmup/{self.action}"

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps([self.action, self.requests], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def id(self) -> str:
        """Unique per planning: the journal's name (the same fingerprint can recur later)."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.created_at))
        return f"{stamp}-{self.action}-{self.fingerprint}-{self.nonce}"

    def execute(
        self,
        *,
        confirm: str | int | None = None,
        journal: Any = None,
        on_update: Any = None,
        stop: Any = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """Submit, wait, verify; one result row per targeted email. See ``run.execute``.

        Without ``on_update``, progress is shown as one live line (``progress=False``: quiet).
        """
        from .run import execute
        from .run_progress import TextProgress

        if not isinstance(self.client, Instantly):
            raise TypeError("this plan's client is async: use `await plan.aexecute(...)`")
        if on_update is None and progress:
            on_update = TextProgress(f"{self.action} warmup")
        return run_blocking(
            self.client,
            execute(self, confirm=confirm, journal=journal, on_update=on_update, stop=stop),
        )

    async def aexecute(
        self,
        *,
        confirm: str | int | None = None,
        journal: Any = None,
        on_update: Any = None,
        stop: Any = None,
    ) -> pd.DataFrame:
        """``execute`` for async code (the widgets run it as a task on the kernel's loop)."""
        from .run import execute

        return await execute(self, confirm=confirm, journal=journal, on_update=on_update, stop=stop)

    def _repr_html_(self) -> str:
        return plan_html(self)

    def __repr__(self) -> str:
        return plan_text(self)


def to_record(plan: Plan) -> dict[str, Any]:
    """Everything needed to rebuild ``plan`` from its journal (``from_record``)."""
    frame = plan.frame.astype(object).where(plan.frame.notna(), None)
    return {
        "plan_id": plan.id,
        "fingerprint": plan.fingerprint,
        "action": plan.action,
        "description": plan.description,
        "created_at": plan.created_at,
        "nonce": plan.nonce,
        "summary": vars(plan.summary),
        "requests": [p.to_json() for p in plan.planned],
        "frame": frame.to_dict(orient="records"),
    }


def from_record(client: Client, record: Mapping[str, Any]) -> Plan:
    """The plan a journal's ``plan`` record describes, bound to ``client``."""
    action: Action = record["action"]
    planned = tuple(PlannedRequest.from_json(action, r) for r in record["requests"])
    frame = pd.DataFrame(record["frame"], columns=list(PLAN_COLUMNS)).astype(PLAN_COLUMNS)
    plan = Plan(client, action, frame, planned, PlanSummary(**record["summary"]),
                record.get("description", ""), record["created_at"], record["nonce"])  # fmt: skip
    if plan.fingerprint != record["fingerprint"]:
        raise RequestValidationError("the journal's plan record is inconsistent (fingerprint)")
    return plan


# --- planning --------------------------------------------------------------------------------


def plan_disable(
    client: Instantly,
    target: Target,
    *,
    exclude: Iterable[str] | pd.Series | pd.DataFrame | None = None,
    confirm_above: int = DEFAULT_CONFIRM_ABOVE,
) -> Plan:
    """Preview pausing warmup for ``target``; nothing is sent until ``Plan.execute()``.

    Parameters
    ----------
    client : Instantly
    target : DataFrame, Series, list of str, CSV path, or Selection
        A DataFrame needs an ``email`` column (any case) or an email index; a ``Selection``
        describes the accounts server-side (filter, tag, search).
    exclude : emails, optional
        Accounts to leave alone even if the target includes them.
    confirm_above : int
        Plans changing more accounts than this need ``execute(confirm=...)``.
    """
    return run_blocking(client, aplan(client, "disable", target, exclude, confirm_above))


def plan_enable(
    client: Instantly,
    target: Target,
    *,
    exclude: Iterable[str] | pd.Series | pd.DataFrame | None = None,
    confirm_above: int = DEFAULT_CONFIRM_ABOVE,
) -> Plan:
    """Preview resuming warmup for ``target``; the mirror of ``plan_disable``."""
    return run_blocking(client, aplan(client, "enable", target, exclude, confirm_above))


async def aplan(
    client: Client,
    action: Action,
    target: Target,
    exclude: Iterable[str] | pd.Series | pd.DataFrame | None = None,
    confirm_above: int = DEFAULT_CONFIRM_ABOVE,
) -> Plan:
    """The planner, async: ``plan_disable``/``plan_enable`` run it on the client's loop."""
    if action not in ("disable", "enable"):
        raise RequestValidationError(f"action must be 'disable' or 'enable', not {action!r}")
    aclient = resolve_async(client)
    goal = 0 if action == "disable" else 1
    excluded = read_exclusions(exclude) if exclude is not None else set()
    if isinstance(target, Selection):
        return await _plan_selection(client, aclient, action, goal, target, excluded, confirm_above)
    emails = read_emails(target)
    state = await _read_state(aclient, emails)
    return await _plan_emails(client, aclient, action, goal, emails, excluded, state, confirm_above)


async def _read_state(aclient: AsyncInstantly, emails: Sequence[str]) -> _Workspace:
    if len(emails) <= SMALL_TARGET:
        found: dict[str, dict[str, Any]] = {}
        for email in emails:
            account = await _find_account(aclient, email)
            if account is not None:
                found[str(account["email"]).lower()] = account
        return _Workspace(found, complete=False)
    accounts = [a async for a in aclient.list_accounts(include_tags=True)]
    return _Workspace({str(a["email"]).lower(): a for a in accounts}, complete=True)


async def _find_account(aclient: AsyncInstantly, email: str) -> dict[str, Any] | None:
    """The account for ``email`` in any letter case, or None.

    Whether ``GET /accounts/{email}`` ignores case is not documented (REFERENCE.md §3.2), so a
    404 is double-checked with a search before the email is called unknown.
    """
    try:
        return await aclient.get_account(email)
    except NotFoundError:
        pass
    async with aclosing(aclient.list_accounts(search=email)) as listing:
        async for account in listing:
            if str(account.get("email", "")).lower() == email.lower():
                return account
    return None


@dataclass
class _Workspace:
    accounts: dict[str, dict[str, Any]]  # lower-cased email -> account
    complete: bool  # the whole workspace (so selections can be considered)


async def _plan_emails(
    client: Client,
    aclient: AsyncInstantly,
    action: Action,
    goal: int,
    emails: Sequence[str],
    excluded: set[str],
    state: _Workspace,
    confirm_above: int,
) -> Plan:
    now = aclient.clock.now()
    rows = [_row(e, state.accounts.get(e.lower()), goal, excluded, now) for e in emails]
    change = [r["key"] for r in rows if r["action"] == "change"]
    if state.complete:
        # Chunks follow the workspace's listing order, so verification can read each page of
        # accounts as soon as the jobs it holds have ended (run_verify.py), not all at the end.
        listed = {key: i for i, key in enumerate(state.accounts)}
        change.sort(key=listed.__getitem__)
    worth_it = state.complete and chunk_count(len(change)) > 1
    pool = candidates(state.accounts) if worth_it else []
    cover = await _verified_cover(aclient, change, pool, state, goal)
    planned = _requests(action, cover, state.accounts)
    touches_all = state.complete and len(change) == len(state.accounts) > 0
    return _finish(client, action, rows, planned, confirm_above, touches_all, "emails")


async def _plan_selection(
    client: Client,
    aclient: AsyncInstantly,
    action: Action,
    goal: int,
    selection: Selection,
    excluded: set[str],
    confirm_above: int,
) -> Plan:
    tag_id = (await resolve_tag(aclient, selection.tag))[0] if selection.tag else None
    spec = SelectionSpec(tag_id=tag_id, filter=selection.account_filter, search=selection.search)
    members = [a async for a in aclient.list_accounts(include_tags=True, **spec.list_params())]
    found = {str(a["email"]).lower(): a for a in members}
    now = aclient.clock.now()
    rows = [_row(str(a["email"]), a, goal, excluded, now) for a in members]
    change = [r["key"] for r in rows if r["action"] == "change"]
    would_change = _would_change(found, goal)
    own = Candidate(spec, frozenset(found), verified=True)
    cover = choose_cover(change, [own], would_change)
    if cover.remaining and chunk_count(len(change)) > 1:
        # The selection alone needs too many exclusions: look for a better cover workspace-wide.
        state = _Workspace(found, True)
        if not spec.everything:  # else the members already are the whole workspace
            listing = aclient.list_accounts(include_tags=True)
            state = _Workspace({str(a["email"]).lower(): a async for a in listing}, True)
            state.accounts.update(found)
        cover = await _verified_cover(
            aclient, change, [own, *candidates(state.accounts)], state, goal
        )
        found = state.accounts
    planned = _requests(action, cover, found)
    touches_all = spec.everything and len(change) > 0
    return _finish(client, action, rows, planned, confirm_above, touches_all, selection.describe())


async def _verified_cover(
    aclient: AsyncInstantly,
    change: Sequence[str],
    candidates: list[Candidate],
    state: _Workspace,
    goal: int,
) -> Cover:
    """Choose a cover, listing each estimated selection server-side until all picks are exact."""
    while True:
        cover = choose_cover(change, candidates, _would_change(state.accounts, goal))
        unverified = [cand for cand, _ in cover.selections if not cand.verified]
        if not unverified:
            return cover
        for cand in unverified:
            listed = [a async for a in aclient.list_accounts(**cand.spec.list_params())]
            for account in listed:
                state.accounts.setdefault(str(account["email"]).lower(), account)
            cand.members = frozenset(str(a["email"]).lower() for a in listed)
            cand.verified = True


def _finish(
    client: Client,
    action: Action,
    rows: list[dict[str, Any]],
    planned: list[PlannedRequest],
    confirm_above: int,
    touches_all: bool,
    description: str,
) -> Plan:
    index: dict[str, int] = {}
    for i, p in enumerate(planned):
        for account in p.accounts:
            # Selections may overlap: a row belongs to the first job that changes it.
            index.setdefault(account.lower(), i)
    for row in rows:
        if row["action"] == "change":
            row["request"] = index.get(row["key"])
    frame = _typed_rows(rows)
    counts = frame["action"].value_counts()
    change = int(counts.get("change", 0))
    touches_all = touches_all or any(p.spec is not None and p.spec.everything for p in planned)
    summary = PlanSummary(
        action=action,
        targeted=len(frame),
        change=change,
        skip=int(counts.get("skip", 0)),
        not_found=int(counts.get("not_found", 0)),
        at_risk=int((frame["risk"].fillna("") != "").sum()),
        jobs=len(planned),
        chunked_jobs=chunk_count(change),
        estimated_seconds=len(planned) * ESTIMATE_JOB_SECONDS + change * ESTIMATE_ACCOUNT_SECONDS,
        needs_confirmation=touches_all or change > confirm_above,
        touches_every_account=touches_all,
    )
    return Plan(client, action, frame, tuple(planned), summary, description)


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
    return {**row, "action": "change", "reason": f"warmup {_label(before)} -> {_label(goal)}"}


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


def _label(code: object) -> str:
    return WarmupStatus(code).label.lower() if isinstance(code, int) else "unknown"


def _would_change(accounts: Mapping[str, Mapping[str, Any]], goal: int) -> Any:
    def would_change(key: str) -> bool:
        account = accounts.get(key)
        return account is not None and account.get("warmup_status") != goal

    return would_change


def _requests(
    action: Action, cover: Cover, accounts: Mapping[str, Mapping[str, Any]]
) -> list[PlannedRequest]:
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
                request, processed, cand.spec, cand.members, _describe(cand.spec, accounts)
            )
        )
    remaining = [str(accounts[k]["email"]) for k in cover.remaining]
    for start in range(0, len(remaining), C.MAX_EMAILS_PER_REQUEST):
        chunk = tuple(remaining[start : start + C.MAX_EMAILS_PER_REQUEST])
        planned.append(PlannedRequest(WarmupRequest(action, emails=chunk), chunk))
    return planned


def _describe(spec: SelectionSpec, accounts: Mapping[str, Mapping[str, Any]]) -> str:
    """Words for a selection: tag labels from the listing instead of ids."""
    if spec.everything:
        return "every account"
    parts = []
    if spec.tag_id is not None:
        labels = {
            str(t.get("id")): str(t.get("label"))
            for a in accounts.values()
            for t in a.get("tags") or []
        }
        parts.append(f"tag {labels.get(spec.tag_id, spec.tag_id)!r}")
    if spec.filter is not None:
        parts.append(spec.filter.label.lower())
    if spec.search is not None:
        parts.append(f"search {spec.search!r}")
    return ", ".join(parts)


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
