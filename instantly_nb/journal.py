"""The run journal: an append-only JSON Lines file, one record per step, written before acting.

Why JSON Lines and not SQLite: the journal is an audit trail first. A line per event is readable
with any text tool, diffs cleanly, survives being copied or mailed, and an append with fsync is
atomic enough: a crash can tear only the last line, which ``records()`` ignores. Nothing in it is
secret: request bodies and job results only, never headers or keys.

Record kinds (``RecordKind``), in the order a run writes them: ``plan``, ``fence`` (the newest
warmup job before the first submit, once per plan), then per request ``sending`` ->
``submitted`` (or ``refused`` on a 409, ``uncertain`` -> ``reconciled``) -> ``job`` (or
``timeout``); then ``results`` and ``done``. ``workspace`` follows ``plan`` and names the
workspace the run acts on; ``snapshot`` (every account's warmup state) comes before each
server-side request, and ``others`` (what other warmup jobs of the workspace left, if any ran
between that snapshot and the job) after it ends. ``stopped``, ``stale`` and ``error`` end a
run early.
Each kind is written by the method named after it and read back by ``replay`` (``Replay.take``)
and ``export_csv``: the format lives in this module only.

A run over several workspaces keeps one journal too: a ``fleet`` record first (every
workspace's plan), then each workspace's records as above, each carrying ``member`` (the
workspace's name) and read back through ``Journal.member(name)``, then a ``done`` of its own.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import RequestValidationError
from .models import Job
from .records import PlanRecord

__all__ = ["DEFAULT_DIRECTORY", "Journal", "RecordKind", "Replay"]

RecordKind = Literal[
    "fleet", "plan", "workspace", "fence", "snapshot", "sending", "refused", "uncertain",
    "reconciled", "submitted", "job", "others", "timeout", "stale", "stopped", "error",
    "results", "done",
]  # fmt: skip

DEFAULT_DIRECTORY = "instantly_nb_runs"


class Journal:
    """An append-only run log at ``path`` (created on first write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def for_plan(
        cls, plan_id: str, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY
    ) -> Journal:
        return cls(Path(directory) / f"{plan_id}.jsonl")

    @classmethod
    def choose(
        cls,
        journal: Journal | str | os.PathLike[str] | None,
        plan_id: str,
        ran_with: Path | None = None,
    ) -> Journal:
        """The journal a run of plan ``plan_id`` writes: ``journal``, or the plan's default.

        Refused when the plan already ran under another one (``ran_with``, or the default):
        the same plan run again under a new journal would send every job a second time.
        """
        default = cls.for_plan(plan_id)
        chosen = journal if isinstance(journal, Journal) else (
            cls(journal) if journal is not None else default
        )  # fmt: skip
        for other in {ran_with, default.path.resolve()} - {None, chosen.path.resolve()}:
            if Journal(other).records():  # type: ignore[arg-type]
                raise RequestValidationError(
                    f"this plan already ran with the journal {other}; run it with that journal "
                    "again (it resumes), or make a new plan"
                )
        return chosen

    def append(self, kind: RecordKind, **fields: Any) -> dict[str, Any]:
        record = {"kind": kind, "at": time.time(), **fields}
        line = json.dumps(record, separators=(",", ":"), default=str)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every complete record; a torn last line (a crash mid-write) is ignored."""
        return self._parsed(lambda line: True)

    def _parsed(self, wanted: Callable[[str], bool]) -> list[dict[str, Any]]:
        """The records of the lines ``wanted`` keeps, parsed (the others are never parsed)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        out = []
        for number, line in enumerate(lines):
            if not line.strip() or not wanted(line):
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines) - 1:
                    break
                raise ValueError(f"{self.path}: line {number + 1} is corrupt") from None
        return out

    # --- one writer per record kind: their fields are named here and read back in Replay ------

    def member(self, name: str) -> Journal:
        """The records of workspace ``name`` in a run over several workspaces (``fleet``).

        The view writes each record with ``member: name`` into this same file and reads back
        only those: each workspace's run replays its own steps, and the file stays one journal.
        """
        return _MemberJournal(self.path, name)

    def fleet(self, record: Mapping[str, Any]) -> None:
        """The first record of a run over several workspaces: its plan, every workspace's."""
        self.append("fleet", **record)

    def fleet_record(self) -> dict[str, Any]:
        """The ``fleet`` record this journal starts with (for ``resume``)."""
        records = self.records()
        if not records or records[0].get("kind") != "fleet":
            raise RequestValidationError(
                f"{self.path} records a run in one workspace: resume(client, journal) with that "
                "workspace's client"
            )
        return records[0]

    def workspace(self, identity: dict[str, Any]) -> None:
        """Which workspace the run acts on (id, name, base URL): a resume must act on it too."""
        self.append("workspace", **identity)

    def fence(self, job_id: str | None) -> None:
        self.append("fence", job_id=job_id)

    def snapshot(self, states: dict[str, int | None]) -> None:
        """Every account's warmup state just before a server-side job (lower email -> status)."""
        self.append("snapshot", states=states)

    def sending(self, request: int, body: dict[str, Any], sent_at: float) -> None:
        self.append("sending", request=request, body=body, sent_at=sent_at)

    def refused(self, request: int, message: str) -> None:
        self.append("refused", request=request, message=message)

    def uncertain(self, request: int, message: str) -> None:
        self.append("uncertain", request=request, message=message)

    def reconciled(self, request: int, job_id: str | None) -> None:
        self.append("reconciled", request=request, job_id=job_id)

    def submitted(self, request: int, job_id: str) -> None:
        self.append("submitted", request=request, job_id=job_id)

    def job(self, request: int, job: Job) -> None:
        """A job as it ended: what ``replay`` turns back into the same ``Job``."""
        self.append(
            "job", request=request, job_id=job.id, status=job.status.value, progress=job.progress,
            total=job.total_to_process, success_count=job.success_count,
            failed_count=job.failed_count, processed=job.processed_emails,
            created_at=job.created_at, updated_at=job.updated_at,
        )  # fmt: skip

    def others(self, request: int, left: Mapping[str, tuple[int | None, str]]) -> None:
        """What other jobs left accounts in before request ``request``'s job ran (lower email ->
        warmup status and the id of the job that set it; audit.left_by)."""
        self.append("others", request=request, left={e: list(v) for e, v in left.items()})

    def timeout(self, request: int, job: Job) -> None:
        self.append("timeout", request=request, job_id=job.id, status=job.status.value)

    def stale(self, request: int, message: str) -> None:
        self.append("stale", request=request, message=message)

    def stopped(self, request: int, message: str) -> None:
        """A stop left request ``request`` and the later ones unsent (``message`` says so)."""
        self.append("stopped", request=request, message=message)

    def error(self, message: str) -> None:
        self.append("error", message=message)

    def results(self, rows: list[dict[str, Any]], complete: bool) -> None:
        self.append("results", rows=rows, complete=complete)

    def done(self) -> None:
        self.append("done")

    def replay(self, plan: PlanRecord) -> Replay:
        """What this journal says already happened to ``plan``; starts the journal if empty."""
        records = self.records()
        if not records:
            self._start(plan)
        elif records[0].get("plan_id") != plan.id:
            raise RequestValidationError(
                f"{self.path} records another plan ({records[0].get('plan_id')}); "
                "give this run its own journal"
            )
        replay = Replay()
        for r in records:
            replay.take(r)
        return replay

    def _start(self, plan: PlanRecord) -> None:
        self.append("plan", **plan.to_json())

    def plan_record(self) -> PlanRecord:
        """The plan this journal runs (for ``resume``)."""
        records = self.records()
        if records and records[0].get("kind") == "fleet":
            raise RequestValidationError(
                f"{self.path} records a run over several workspaces: resume(workspaces, journal)"
            )
        if not records or records[0].get("kind") != "plan":
            raise RequestValidationError(f"{self.path} holds no plan to resume")
        return PlanRecord.from_json(records[0])

    @property
    def finished(self) -> bool:
        # In a run over several workspaces, each one's "done" is not the run's.
        return any(r["kind"] == "done" and "member" not in r for r in self.records())

    def export_csv(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Flatten the journal to CSV for audit: one row per event and per processed email."""
        target = Path(path) if path is not None else self.path.with_suffix(".csv")
        fields = [
            "at",
            "kind",
            "request",
            "job_id",
            "status",
            "email",
            "outcome",
            "error",
            "detail",
            "workspace",
        ]
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            for row in self._flat_rows():
                writer.writerow(row)
        return target

    def _flat_rows(self) -> Iterator[dict[str, Any]]:
        for record in self.records():
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record["at"]))
            base = {"at": when, "kind": record["kind"], "request": record.get("request"),
                    "job_id": record.get("job_id"), "status": record.get("status"),
                    "detail": record.get("message"), "workspace": record.get("member")}  # fmt: skip
            if record["kind"] == "job":
                yield base
                for entry in record.get("processed") or []:
                    yield {**base, "kind": "processed", "email": entry.get("email"),
                           "status": entry.get("status"), "error": entry.get("error")}  # fmt: skip
            elif record["kind"] == "results":
                for row in record.get("rows") or []:
                    yield {**base, **{k: row.get(k) for k in ("email", "job_id", "outcome",
                                                               "error", "detail")}}  # fmt: skip
            elif record["kind"] == "sending":
                body = record.get("body") or {}
                yield {**base, "detail": f"{len(body.get('emails') or [])} emails"
                       if "emails" in body else "server-side selection"}  # fmt: skip
            else:
                yield base

    @staticmethod
    def unfinished(directory: str | os.PathLike[str] = DEFAULT_DIRECTORY) -> list[Path]:
        """Journals in ``directory`` whose run has not finished (resume them with ``resume``)."""
        folder = Path(directory)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.jsonl") if not Journal(p).finished)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"


class _MemberJournal(Journal):
    """One workspace's records in the journal of a run over several workspaces."""

    def __init__(self, path: str | os.PathLike[str], name: str) -> None:
        super().__init__(path)
        self.name = name

    def append(self, kind: RecordKind, **fields: Any) -> dict[str, Any]:
        return super().append(kind, member=self.name, **fields)

    def _start(self, plan: PlanRecord) -> None:
        # The plan is in the run's ``fleet`` record already: naming it is enough to tie these
        # records to it, and saves serialising every workspace's plan a second time.
        self.append("plan", plan_id=plan.id)

    def records(self) -> list[dict[str, Any]]:
        # Every workspace of a fleet replays from the one shared file, which holds every
        # workspace's plan: parsing only lines that can be this member's keeps that linear.
        # Inside a JSON string a quote is escaped, so the marker only matches a real key.
        marker = '"member":' + json.dumps(self.name)
        return [
            r for r in self._parsed(lambda line: marker in line) if r.get("member") == self.name
        ]

    @property
    def finished(self) -> bool:
        return any(r["kind"] == "done" for r in self.records())

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}).member({self.name!r})"


@dataclass
class Replay:
    """What a journal says already happened to a plan, request by request."""

    sending: dict[int, dict[str, Any]] = field(default_factory=dict)
    submitted: dict[int, str] = field(default_factory=dict)
    finished: dict[int, Job] = field(default_factory=dict)
    results: list[dict[str, Any]] | None = None
    done: bool = False
    fence: str | None = None
    fenced: bool = False
    workspace: dict[str, Any] | None = None
    snapshots: list[dict[str, int | None]] = field(default_factory=list)
    others: dict[int, dict[str, tuple[int | None, str]]] = field(default_factory=dict)

    def take(self, r: Mapping[str, Any]) -> None:
        kind, i = r["kind"], int(r.get("request", -1))
        if kind == "sending":
            self.sending[i] = dict(r)
        elif kind == "refused":
            self.sending.pop(i, None)
        elif kind in ("submitted", "reconciled") and r.get("job_id"):
            self.submitted[i] = r["job_id"]
        # A "reconciled" without a job leaves the request sending: its POST may still arrive,
        # so a resume looks for its job again (until the grace has passed) before resending.
        elif kind == "job":
            self.finished[i] = _job_from_record(r)
        elif kind == "results" and r.get("complete"):
            self.results = r["rows"]
        elif kind == "done":
            self.done = True
        elif kind == "others":
            left = r.get("left") or {}
            self.others[i] = {e: (v[0], str(v[1])) for e, v in left.items()}
        elif kind == "snapshot":
            self.snapshots.append(dict(r.get("states") or {}))
        elif kind == "workspace" and self.workspace is None:
            self.workspace = {k: r.get(k) for k in ("id", "name", "base_url")}
        elif kind == "fence" and not self.fenced:
            self.fence, self.fenced = r.get("job_id"), True


def _job_from_record(r: Mapping[str, Any]) -> Job:
    return Job.from_api(
        {"id": r["job_id"], "status": r["status"], "progress": r.get("progress", 0),
         "type": "update-warmup-accounts", "created_at": r.get("created_at", ""),
         "updated_at": r.get("updated_at", ""),
         "data": {"total_to_process": r.get("total"), "success_count": r.get("success_count"),
                  "failed_count": r.get("failed_count"),
                  "processed_emails": r.get("processed") or []}}
    )  # fmt: skip
