"""A plan over several workspaces, as data: each workspace's ``PlanRecord``, one fingerprint.

``FleetRecord`` is to ``FleetPlan`` (fleet_plan.py) what ``PlanRecord`` is to ``Plan``: what the
engine runs (fleet_run.py) and what its journal holds, without any client. The confirmation
policy is the one of a single plan (``_confirm``), applied to the whole change: more than
``confirm_above`` changes across the workspaces, or one that touches every account of any of
them, needs the fleet's fingerprint or count.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._confirm import CONFIRM_ABOVE, needs_confirmation
from ._warmup import Action
from .errors import RequestValidationError
from .records import PLAN_COLUMNS, PlanRecord, plain_rows

__all__ = [
    "BY_WORKSPACE_COLUMNS", "WORKSPACE_COLUMN", "FleetRecord", "FleetSummary", "risk_kinds",
    "with_workspace",
]  # fmt: skip

# Where a frame of several workspaces names each row's workspace: its first column.
WORKSPACE_COLUMN = "workspace"

# One row per workspace in a fleet plan's preview (``FleetRecord.by_workspace``).
BY_WORKSPACE_COLUMNS: dict[str, str] = {
    WORKSPACE_COLUMN: "string",
    "targeted": "Int64",
    "change": "Int64",
    "skip": "Int64",
    "not_found": "Int64",
    "at_risk": "Int64",
    "cannot_undo": "Int64",  # changes no undo can reverse (records.PlanSummary)
    "risks": "string",  # the kinds of risk and how many rows carry each
    "jobs": "Int64",
    "estimated_seconds": "Float64",
}


@dataclass(frozen=True)
class FleetSummary:
    """The counts of the whole change, summed over the workspaces."""

    action: Action
    workspaces: int
    targeted: int
    change: int
    skip: int
    not_found: int
    at_risk: int
    jobs: int
    estimated_seconds: float  # the longest workspace's: they run at the same time
    needs_confirmation: bool
    touches_every_account: bool
    cannot_undo: int = 0  # changes no undo can reverse, in all (records.PlanSummary)


@dataclass
class FleetRecord:
    """What a plan over several workspaces is, without clients.

    Attributes
    ----------
    plans : dict of str to PlanRecord
        Each workspace's plan, by the workspace's name.
    unplaced : DataFrame
        ``PLAN_COLUMNS`` rows for emails found in none of the workspaces (``not_found``).
    confirm_above : int
        Changes over this many, across all workspaces, need a confirmation.
    """

    action: Action
    plans: Mapping[str, PlanRecord]
    unplaced: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(PLAN_COLUMNS)).astype(PLAN_COLUMNS)
    )
    description: str = ""
    confirm_above: int = CONFIRM_ABOVE
    created_at: float = field(default_factory=time.time)
    nonce: str = field(default_factory=lambda: secrets.token_hex(3))
    journal_path: Path | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def names(self) -> list[str]:
        return list(self.plans)

    @property
    def summary(self) -> FleetSummary:
        summaries = [p.summary for p in self.plans.values()]
        change = sum(s.change for s in summaries)
        touches_all = any(s.touches_every_account for s in summaries)
        return FleetSummary(
            action=self.action,
            workspaces=len(self.plans),
            targeted=sum(s.targeted for s in summaries) + len(self.unplaced),
            change=change,
            skip=sum(s.skip for s in summaries),
            not_found=sum(s.not_found for s in summaries) + len(self.unplaced),
            at_risk=sum(s.at_risk for s in summaries),
            jobs=sum(s.jobs for s in summaries),
            estimated_seconds=max((s.estimated_seconds for s in summaries), default=0.0),
            needs_confirmation=needs_confirmation(change, touches_all, self.confirm_above),
            touches_every_account=touches_all,
            cannot_undo=sum(s.cannot_undo for s in summaries),
        )

    @property
    def fingerprint(self) -> str:
        """One hash of every workspace's requests: ``execute(confirm=...)`` takes it."""
        members = [[name, self.plans[name].fingerprint] for name in sorted(self.plans)]
        canonical = json.dumps([self.action, members], separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def id(self) -> str:
        """Unique per planning: the journal's name."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.created_at))
        return f"{stamp}-fleet-{self.action}-{self.fingerprint}-{self.nonce}"

    @property
    def requests(self) -> dict[str, list[dict[str, Any]]]:
        """Each workspace's exact JSON bodies, in send order."""
        return {name: plan.requests for name, plan in self.plans.items()}

    @property
    def frame(self) -> pd.DataFrame:
        """One row per targeted email: ``workspace`` (empty when found in none), then the plan
        columns (``PLAN_COLUMNS``)."""
        frames = {name: plan.frame for name, plan in self.plans.items()}
        frame = with_workspace(frames, nowhere=self.unplaced)
        return frame[[WORKSPACE_COLUMN, *PLAN_COLUMNS]].astype(PLAN_COLUMNS)

    @property
    def by_workspace(self) -> pd.DataFrame:
        """One row per workspace: its counts, the kinds of risk it carries, its jobs."""
        rows = []
        for name, plan in self.plans.items():
            s = plan.summary
            rows.append({
                WORKSPACE_COLUMN: name, "targeted": s.targeted, "change": s.change, "skip": s.skip,
                "not_found": s.not_found, "at_risk": s.at_risk, "cannot_undo": s.cannot_undo,
                "risks": risk_kinds(plan.frame["risk"]), "jobs": s.jobs,
                "estimated_seconds": s.estimated_seconds,
            })  # fmt: skip
        if len(self.unplaced):
            n = len(self.unplaced)
            rows.append({
                WORKSPACE_COLUMN: None, "targeted": n, "change": 0, "skip": 0, "not_found": n,
                "at_risk": 0, "cannot_undo": 0, "risks": "", "jobs": 0, "estimated_seconds": 0.0,
            })  # fmt: skip
        return pd.DataFrame(rows, columns=list(BY_WORKSPACE_COLUMNS)).astype(BY_WORKSPACE_COLUMNS)

    def to_json(self) -> dict[str, Any]:
        """Everything needed to rebuild the record from its journal (``from_json``)."""
        return {
            "fleet_id": self.id,
            "fingerprint": self.fingerprint,
            "action": self.action,
            "description": self.description,
            "confirm_above": self.confirm_above,
            "created_at": self.created_at,
            "nonce": self.nonce,
            "members": [{"name": n, "plan": p.to_json()} for n, p in self.plans.items()],
            "unplaced": plain_rows(self.unplaced),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FleetRecord:
        record = FleetRecord(
            action=data["action"],
            plans={m["name"]: PlanRecord.from_json(m["plan"]) for m in data["members"]},
            unplaced=pd.DataFrame(data["unplaced"], columns=list(PLAN_COLUMNS)).astype(
                PLAN_COLUMNS
            ),
            description=data.get("description", ""),
            confirm_above=data["confirm_above"],
            created_at=data["created_at"],
            nonce=data["nonce"],
        )
        if record.fingerprint != data["fingerprint"]:
            raise RequestValidationError("the journal's fleet record is inconsistent (fingerprint)")
        return record


def risk_kinds(risks: pd.Series) -> str:
    """``"warmup in error: 12; young inbox: 3"``: each kind of risk and how many rows have it."""
    kinds: Counter[str] = Counter()
    for text in risks.dropna():
        for note in str(text).split("; "):
            if note.strip():
                kinds[note.split(":")[0].strip()] += 1
    return "; ".join(f"{kind}: {n}" for kind, n in kinds.most_common())


def with_workspace(
    frames: Mapping[str, pd.DataFrame], nowhere: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per-workspace frames as one, the workspace's name first, then the rows of ``nowhere``
    (found in no workspace: their ``workspace`` is missing). Same columns when all are empty."""
    parts = [f.assign(**{WORKSPACE_COLUMN: name}) for name, f in frames.items()]
    if nowhere is not None:
        missing = pd.Series(pd.NA, index=nowhere.index, dtype="string")
        parts.append(nowhere.assign(**{WORKSPACE_COLUMN: missing}))
    filled = [p for p in parts if len(p)] or parts[:1]
    frame = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame()
    if WORKSPACE_COLUMN in frame.columns:
        frame[WORKSPACE_COLUMN] = frame[WORKSPACE_COLUMN].astype("string")
        frame = frame[[WORKSPACE_COLUMN, *(c for c in frame.columns if c != WORKSPACE_COLUMN)]]
    return frame
