"""Item 1, jobs: what the planner sends for six targets, against the fewest jobs possible.

The minimum is searched over server-side selections as well as chunks of 100, so the list of
emails from a CSV is planned with ``server_side=True``: by default a list is sent as lists of
emails (docs/instantly-api.md §5.4), and only the opt-in lets the planner look for a cheaper
cover. Selections are planned server-side in any case.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from instantly_nb import Instantly, Selection, plan_disable
from instantly_nb.targets import Target

from .baseline import raw_records
from .minimum import minimum_jobs
from .profiles import Profile
from .server import API_KEY, EmulatorProcess


@dataclass(frozen=True)
class PlanRow:
    scenario: str
    change: int  # accounts the plan changes
    jobs: int  # warmup requests the plan sends (one job each)
    minimum: int
    lower_bound: int
    exact: bool  # the minimum is exact over the family of selections searched
    witness: str
    chunked: int  # what chunks of 100 alone would need
    reads: int  # GET requests the planner spent reading the workspace
    seconds: float


def run_planning(profile: Profile, say: Any = print) -> list[PlanRow]:
    """Plan each target of item 1 against a fresh workspace; nothing is executed."""
    rng = random.Random(profile.seed)
    with (
        EmulatorProcess(profile.plan_workspace, profile.seed, profile.timing) as emu,
        Instantly(API_KEY, base_url=emu.url) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        accounts = raw_records(emu.url, include_tags="true")
        time.sleep(1.1)  # let the workspace's one-second rate window forget the snapshot
        rows = []
        for name, target, exclude in _scenarios(profile, accounts, rng, Path(tmp)):
            say(f"  planning: {name}")
            before = emu.log_size()
            start = time.perf_counter()
            covers = not isinstance(target, Selection)  # a list: covers are an opt-in
            plan = plan_disable(client, target, exclude=exclude, server_side=covers, progress=False)
            seconds = time.perf_counter() - start
            frame = plan.frame
            change = frame.loc[frame["action"] == "change", "email"].tolist()
            best = minimum_jobs(accounts, change, goal=0)
            rows.append(
                PlanRow(
                    name, len(change), plan.summary.jobs, best.jobs, best.lower_bound,
                    best.exact, " + ".join(best.witness), plan.summary.chunked_jobs,
                    emu.log_size() - before, seconds,
                )
            )  # fmt: skip
    return rows


def _scenarios(
    profile: Profile, accounts: list[dict[str, Any]], rng: random.Random, tmp: Path
) -> list[tuple[str, Target, list[str] | None]]:
    emails = sorted(str(a["email"]) for a in accounts)
    client_a = sorted(
        str(a["email"]) for a in accounts
        if a.get("warmup_status") == 1 and any(t["label"] == "Client A" for t in a["tags"])
    )  # fmt: skip
    csv = tmp / "targets.csv"
    pd.DataFrame({"email": rng.sample(emails, profile.csv_emails)}).to_csv(csv, index=False)
    keep = tmp / "keep.csv"
    pd.DataFrame({"email": rng.sample(emails, profile.keep_emails)}).to_csv(keep, index=False)
    return [
        ("all with warmup errors", Selection(filter="ACC_FILTER_W_ERROR"), None),
        ("all of one tag", Selection(tag="Client A"), None),
        (f"one tag except {profile.tag_exceptions}", Selection(tag="Client A"),
         rng.sample(client_a, profile.tag_exceptions)),
        ("domain search 'gmail.com'", Selection(search="gmail.com"), None),
        (f"{profile.csv_emails:,} emails from a CSV (server_side=True)", csv, None),
        (f"all except {profile.keep_emails} listed", Selection.all_accounts(),
         pd.read_csv(keep)["email"].tolist()),
    ]  # fmt: skip
