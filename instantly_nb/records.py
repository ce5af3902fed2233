"""A plan as data: its rows, its requests, its summary, and how it is written to a journal.

The runner executes a ``PlanRecord``; the planner (planner.py) makes them and ``Plan`` (plan.py)
adds the client, the preview and ``execute()``. Keeping the record below both is what lets the
engine run a plan, or resume one from its journal, without importing the planner.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from . import _constants as C
from ._cover import SelectionSpec
from ._warmup import Action, WarmupRequest
from .errors import RequestValidationError

__all__ = [
    "PLAN_COLUMNS",
    "PlanRecord",
    "PlanSummary",
    "PlannedRequest",
    "plain_rows",
    "row_counts",
]

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
    # Changes no undo can reverse: the account's warmup is in an error state now, and no
    # request puts an error state back (undo.py).
    cannot_undo: int = 0


class RowCounts(TypedDict):
    """The ``PlanSummary`` fields counted from a plan's rows."""

    targeted: int
    change: int
    skip: int
    not_found: int
    at_risk: int
    cannot_undo: int


def row_counts(frame: pd.DataFrame) -> RowCounts:
    """The ``PlanSummary`` counts that come from a plan's rows (``PLAN_COLUMNS``)."""
    counts = frame["action"].value_counts()
    return {
        "targeted": len(frame),
        "change": int(counts.get("change", 0)),
        "skip": int(counts.get("skip", 0)),
        "not_found": int(counts.get("not_found", 0)),
        "at_risk": int((frame["risk"].fillna("") != "").sum()),
        "cannot_undo": int(((frame["action"] == "change") & ~frame["before"].isin([0, 1])).sum()),
    }


@dataclass
class PlanRecord:
    """What a plan is, without a client: rows, requests in send order, summary.

    Attributes
    ----------
    frame : DataFrame
        One row per targeted email (``PLAN_COLUMNS``): current state, action, reason, risk.
    planned : tuple of PlannedRequest
    summary : PlanSummary
    description : str
        What was asked for, in words (tags by their label).
    tag_labels : dict
        Tag id -> label, for every tag the plan's requests name: words show the label, the
        id goes only into the request body and the journal.
    workspace_name : str
        The workspace it was planned on (``GET /workspaces/current``); empty when the key may
        not read it.
    """

    action: Action
    frame: pd.DataFrame
    planned: tuple[PlannedRequest, ...]
    summary: PlanSummary
    description: str = ""
    tag_labels: dict[str, str] = field(default_factory=dict)
    workspace_name: str = ""
    created_at: float = field(default_factory=time.time)
    # Two plans of the same requests made in the same second still get their own journals.
    nonce: str = field(default_factory=lambda: secrets.token_hex(3))
    # The journal it ran with: running it again under another one would resend every job.
    journal_path: Path | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The exact JSON bodies ``execute()`` sends, in order."""
        return [p.request.body() for p in self.planned]

    @property
    def path(self) -> str:
        return f"{C.API_PREFIX}/accounts/warmup/{self.action}"

    @property
    def fingerprint(self) -> str:
        """A stable hash of the requests; ``execute(confirm=...)`` takes it for large plans."""
        canonical = json.dumps([self.action, self.requests], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def id(self) -> str:
        """Unique per planning: the journal's name (the same fingerprint can recur later)."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.created_at))
        return f"{stamp}-{self.action}-{self.fingerprint}-{self.nonce}"

    def to_json(self) -> dict[str, Any]:
        """Everything needed to rebuild the record from a journal (``from_json``)."""
        return {
            "plan_id": self.id,
            "fingerprint": self.fingerprint,
            "action": self.action,
            "description": self.description,
            "tag_labels": self.tag_labels,
            "workspace_name": self.workspace_name,
            "created_at": self.created_at,
            "nonce": self.nonce,
            "summary": vars(self.summary),
            "requests": [p.to_json() for p in self.planned],
            "frame": plain_rows(self.frame),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlanRecord:
        action: Action = data["action"]
        record = PlanRecord(
            action=action,
            frame=pd.DataFrame(data["frame"], columns=list(PLAN_COLUMNS)).astype(PLAN_COLUMNS),
            planned=tuple(PlannedRequest.from_json(action, r) for r in data["requests"]),
            summary=PlanSummary(**data["summary"]),
            description=data.get("description", ""),
            tag_labels=dict(data.get("tag_labels") or {}),
            workspace_name=data.get("workspace_name", ""),
            created_at=data["created_at"],
            nonce=data["nonce"],
        )
        if record.fingerprint != data["fingerprint"]:
            raise RequestValidationError("the journal's plan record is inconsistent (fingerprint)")
        return record


def plain_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a dict of plain values, None where one is missing: ready for JSON.

    Column by column rather than ``astype(object).where(...)``, which costs milliseconds per
    frame: a fleet run journals (and later reads) one frame per workspace, before its first job.
    """
    columns = {
        str(name): [None if _missing(v) else v for v in frame[name].tolist()]
        for name in frame.columns
    }
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _missing(value: Any) -> bool:
    # pd.NA first: comparing it answers pd.NA, not a bool. NaN and NaT are unequal to themselves.
    return value is None or value is pd.NA or value != value
