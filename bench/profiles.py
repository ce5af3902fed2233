"""How big and how long each run is: ``quick``, ``default``, ``full``, and the CI ``smoke`` test."""

from __future__ import annotations

from dataclasses import dataclass

from .server import Timing

# A warmup job waits in the queue, then handles its accounts one by one (docs/instantly-api.md §5.1
# saw 55-206 ms for 0-1 account; nothing is recorded for 100). Half a second of queue and 5 ms per
# account make a 100-email job take 1 s: realistic in shape, short enough for a default run.
JOB_TIMING = Timing(queue_delay=0.5, per_account=0.005)


@dataclass(frozen=True)
class Profile:
    """Sizes of one benchmark run."""

    name: str
    timing: Timing = JOB_TIMING
    seed: int = 0
    # 1. jobs: the planner's jobs for six targets in one workspace
    plan_workspace: int = 10_000
    csv_emails: int = 2_500
    keep_emails: int = 150
    tag_exceptions: int = 37
    # 2. end to end: (workspace accounts, emails to disable), each run ours and the baseline
    end_to_end: tuple[tuple[int, int], ...] = ((10_000, 2_000), (3_000, 1_000))
    # ... of which these are held to the bound with their planning counted (issue 13)
    plan_in_bound: tuple[tuple[int, int], ...] = ((3_000, 1_000),)
    runs: int = 3
    baseline_poll: float = 2.0  # the official SDK helper's interval
    # 3. reading: read_accounts over this many accounts, against the raw baseline
    read_accounts: int = 100_000
    read_runs: int = 2
    # 5. widgets: jobs updating at once, for this long
    widget_jobs: int = 100
    widget_seconds: float = 3.0
    # 6. safety: the workspace each emulator reading of a warmup selection is tried on
    safety_workspace: int = 3_000
    # 7. warmup health: read_warmup_health of a workspace this big (100 emails a request)
    health_accounts: int = 10_000
    # 8. many workspaces: this many of this size, a CSV of this many (workspace, email) rows
    # over them plus every account in warmup error, in these modes (bench/fleet.py)
    fleet_workspaces: int = 20
    fleet_accounts: int = 1_000
    fleet_csv: int = 2_000
    fleet_modes: tuple[str, ...] = ("keys", "admin")
    fleet_runs: int = 1


PROFILES = {
    "quick": Profile(
        "quick", plan_workspace=4_000, csv_emails=1_000, end_to_end=((3_000, 1_000),), runs=2,
        read_accounts=20_000, read_runs=2, widget_seconds=1.0, fleet_workspaces=6,
        fleet_accounts=500, fleet_csv=300,
    ),
    "default": Profile("default"),
    "full": Profile(
        "full", end_to_end=((10_000, 2_000), (3_000, 1_000), (20_000, 10_000)), read_runs=3,
        fleet_modes=("keys", "admin", "admin-shared"),
    ),
    "smoke": Profile(
        "smoke", timing=Timing(queue_delay=0.05, per_account=0.001), plan_workspace=600,
        csv_emails=250, end_to_end=((600, 250),), plan_in_bound=((600, 250),), runs=1,
        baseline_poll=0.2, read_accounts=600, read_runs=1, widget_jobs=20, widget_seconds=1.0,
        safety_workspace=600, health_accounts=600, fleet_workspaces=3, fleet_accounts=50,
        fleet_csv=30,
    ),
}  # fmt: skip
