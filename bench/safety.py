"""Item 6, safety: what a server-side job changes beyond its preview, and whether it is reported.

How the warmup endpoint reads ``search``, ``filter.tag_id`` and ``filter.filter`` is a guess
(docs/instantly-api.md §5.4). Each case serves a fresh emulator whose warmup jobs read one of
them another way than the list endpoint does (``drop``: ignored; ``broaden``: a looser match;
``list``: the same, the control), plans a disable that relies on that field, runs it and then
undoes it. The counts come from the emulator's accounts read before and after over HTTP, never
from the results being checked: every account that changed outside the preview must be an
``unplanned`` row, and undo must put it back.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instantly_nb import Instantly, Selection, plan_disable, undo
from instantly_nb.targets import Target

from .baseline import raw_records
from .profiles import Profile
from .server import API_KEY, EmulatorProcess

# (field the emulator reads its own way, how, what the plan targets)
CASES: tuple[tuple[str, str, str], ...] = (
    ("search", "list", "domain"),
    ("search", "drop", "domain"),
    ("search", "broaden", "letter"),
    ("tag_id", "list", "tag"),
    ("tag_id", "drop", "tag"),
    ("tag_id", "broaden", "tag"),
    ("filter", "list", "paused"),
    ("filter", "drop", "paused"),
    ("filter", "broaden", "paused"),
    ("search", "drop", "listed"),  # issue 13's finding: a list covered server-side by opt-in
)
KEEP = 150  # "every active account but 150", given as a list of emails
WORDS = {"list": "as listed (control)", "drop": "dropped", "broaden": "broadened"}


@dataclass(frozen=True)
class SafetyRow:
    reading: str  # e.g. "search dropped"
    target: str  # what was planned
    jobs_planned: int
    jobs_sent: int  # warmup jobs the run sent (it stops after one that overreached)
    previewed: int  # accounts the preview says will change
    changed: int  # accounts whose warmup changed, read from the emulator
    outside: int  # of those, not previewed as changing
    unplanned: int  # rows of the results with outcome "unplanned"
    unplanned_restored: int  # of the unplanned accounts, back to their state after undo
    restored: int  # of every account the run changed, back to its state after undo
    stopped: bool  # the run reported that it stopped on an unplanned change

    @property
    def reported(self) -> bool:
        return self.outside == self.unplanned and self.unplanned_restored == self.unplanned


def run_safety(profile: Profile, say: Any = print) -> list[SafetyRow]:
    return [_case(profile, *case, say=say) for case in CASES]


def _states(url: str) -> dict[str, int]:
    return {str(a["email"]).lower(): int(a["warmup_status"]) for a in raw_records(url)}


def _target(kind: str, accounts: list[dict[str, Any]]) -> tuple[Target, str, bool]:
    """What to plan on this workspace: the target, its words, and whether it is a list."""
    active = sorted(str(a["email"]) for a in accounts if a["warmup_status"] == 1)
    if kind == "domain":
        domain = Counter(e.split("@")[1].lower() for e in active).most_common(1)[0][0]
        return Selection(search=domain), f"search {domain!r}", False
    if kind == "letter":  # most emails hold an "e"; a looser search also reads names
        return Selection(search="e"), "search 'e'", False
    if kind == "tag":
        return Selection(tag="Client A"), "tag 'Client A'", False
    if kind == "paused":  # sending paused (status 2); a looser filter adds maintenance
        return Selection(filter="ACC_FILTER_PAUSED"), "ACC_FILTER_PAUSED", False
    # Every KEEP-th active account is kept: spread over the listing, like a hand-made list.
    step = max(1, len(active) // KEEP)
    kept = set(active[::step][:KEEP])
    listed = [e for e in active if e not in kept]
    return listed, f"{len(listed):,} listed emails, server_side=True", True


def _case(profile: Profile, field: str, reading: str, kind: str, say: Any) -> SafetyRow:
    label = f"{'tag' if field == 'tag_id' else field} {WORDS[reading]}"
    with (
        EmulatorProcess(
            profile.safety_workspace, profile.seed, profile.timing, {field: reading}
        ) as emu,
        Instantly(API_KEY, base_url=emu.url) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        target, words, listed = _target(kind, raw_records(emu.url))
        say(f"  safety: {label}, {words}")
        before = _states(emu.url)
        plan = plan_disable(client, target, server_side=listed, progress=False)
        frame = plan.frame
        previewed = set(frame.loc[frame["action"] == "change", "email"].str.lower())
        results = plan.execute(
            confirm=plan.fingerprint, journal=Path(tmp) / "run.jsonl", progress=False
        )
        sent = len(emu.jobs())
        after = _states(emu.url)
        changed = {e for e, s in before.items() if after.get(e) != s}
        unplanned = set(results.loc[results["outcome"] == "unplanned", "email"].str.lower())
        if results["outcome"].isin(["changed", "unplanned"]).any():  # else nothing to undo
            back = undo(client, results)
            journal = Path(tmp) / "undo.jsonl"
            back.execute(confirm=back.fingerprint, journal=journal, progress=False)
        final = _states(emu.url)
    ended = str(results.attrs.get("instantly_nb", {}).get("ended", ""))
    return SafetyRow(
        label, words, plan.summary.jobs, sent, len(previewed), len(changed),
        len(changed - previewed), len(unplanned),
        sum(final.get(e) == before[e] for e in unplanned),
        sum(final.get(e) == before[e] for e in changed), "outside the preview" in ended,
    )  # fmt: skip
