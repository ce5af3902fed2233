"""A tiny run of every benchmark item (``python -m bench``), so the benchmarks cannot rot.

A few hundred accounts and fast jobs, served over real HTTP by an emulator subprocess like the
full run; the assertions are the structural facts the benchmark reports on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ sits beside the package

from bench.end_to_end import run_end_to_end
from bench.fleet import member_names, run_fleet
from bench.health import run_health
from bench.measure import max_in_window
from bench.minimum import minimum_jobs
from bench.planning import run_planning
from bench.profiles import PROFILES, Profile
from bench.reading import run_reading
from bench.report import Results, render
from bench.safety import CASES, run_safety
from bench.widgets import run_widgets
from instantly_nb import _constants as C

SMOKE = PROFILES["smoke"]


def _quiet(text: str) -> None:
    pass


def test_the_planner_sends_the_fewest_jobs_in_every_scenario() -> None:
    rows = run_planning(SMOKE, say=_quiet)
    assert len(rows) == 6
    for row in rows:
        assert row.exact, row
        assert row.jobs == row.minimum, row
        assert row.jobs <= row.chunked
    assert "| all except 150 listed |" in render(Results(SMOKE, "smoke", planning=rows))


def test_end_to_end_finishes_every_email_within_the_budget() -> None:
    outcomes = run_end_to_end(SMOKE, say=_quiet)[SMOKE.end_to_end[0]]
    ours = next(o for o in outcomes if o.who == "ours")
    baseline = next(o for o in outcomes if o.who == "baseline")
    assert ours.results_complete
    assert 0 < len(ours.jobs) <= len(baseline.jobs)
    assert {j.status for j in ours.jobs} == {"success"}
    assert len(ours.delays) == len(ours.jobs) and min(ours.delays) >= 0
    assert ours.jobs_phase >= ours.lower_bound  # jobs run one at a time: nothing ends sooner
    assert ours.verify_requests > 0
    assert ours.busiest_sent(1.0) <= C.DEFAULT_RATE_PER_SECOND
    assert ours.busiest_sent(60.0) <= C.DEFAULT_RATE_PER_MINUTE
    report = render(Results(SMOKE, "smoke", end_to_end={SMOKE.end_to_end[0]: outcomes}))
    assert "speed-up over the baseline" in report
    assert SMOKE.end_to_end[0] in SMOKE.plan_in_bound
    assert f"{SMOKE.end_to_end[0][1]:,} emails of {SMOKE.end_to_end[0][0]:,}: plan + execute" in (
        report
    )


def test_reading_returns_every_account_within_the_budget() -> None:
    reading = run_reading(SMOKE, say=_quiet)
    assert reading.rows_equal
    assert reading.pages == SMOKE.read_accounts // 100 + 1
    assert len(reading.default_requests) == reading.pages
    assert max_in_window(reading.default_sent, 1.0) <= C.DEFAULT_RATE_PER_SECOND
    assert reading.raw_peak > 0 and reading.ours_peak > 0
    assert "### 3. Reading" in render(Results(SMOKE, "smoke", reading=reading))


def test_safety_reports_and_undoes_every_account_a_wider_reading_changes() -> None:
    rows = run_safety(SMOKE, say=_quiet)
    assert len(rows) == len(CASES)
    for row in rows:
        assert row.outside == row.unplanned, row
        assert row.unplanned_restored == row.unplanned, row
        assert row.stopped == (row.outside > 0), row  # an overreach ends the run, loudly
        assert row.jobs_sent <= row.jobs_planned, row
        if "control" in row.reading:
            assert row.outside == 0 and row.restored == row.changed, row
    assert sum(row.outside > 0 for row in rows) >= 2  # some readings do overreach here
    report = render(Results(SMOKE, "smoke", safety=rows))
    assert "### 6. Safety" in report
    assert "- met: every account changed outside the preview" in report


def test_warmup_health_reads_every_account_in_chunks_of_100() -> None:
    health = run_health(SMOKE, say=_quiet)
    assert health.rows_equal
    chunks = -(-SMOKE.health_accounts // C.MAX_EMAILS_PER_REQUEST)
    assert health.raw_requests == chunks
    assert health.ours_requests == [chunks] * (2 * SMOKE.read_runs)  # matched and unbound
    assert min(health.matched_rates) > 0 and len(health.matched) == SMOKE.read_runs
    report = render(Results(SMOKE, "smoke", health=health))
    assert "### 7. Warmup health" in report and "read_warmup_health" in report


def test_fleet_runs_one_plan_in_every_workspace_at_once_and_one_by_one() -> None:
    runs = run_fleet(SMOKE, say=_quiet)
    wide = SMOKE.fleet_workspaces
    assert [(r.mode, r.concurrency) for r in runs] == [
        (mode, concurrency) for mode in SMOKE.fleet_modes for concurrency in (wide, 1)
    ]
    assert len({r.workload for r in runs}) == 1  # both ways of serving hold the same accounts
    for r in runs:
        assert r.exactly_once and r.named, r.mode
        assert r.targeted > SMOKE.fleet_csv  # the CSV's rows, plus the accounts in warmup error
        assert set(r.jobs) == set(member_names(wide))
        assert r.job_count == r.planned_jobs > 0
        assert {j.status for jobs in r.jobs.values() for j in jobs} == {"success"}
        assert r.within_budget and r.rate_limited == 0
        assert r.busiest(1.0)[0] > 0 and r.busiest_key(1.0) >= r.busiest(1.0)[0]
        # A workspace's jobs run one at a time, inside execute: nothing finishes sooner.
        assert r.execute >= r.largest > 0 and r.all_jobs >= r.largest
        assert set(r.finished) == set(member_names(wide))
        # One by one, no two workspaces ever have a job running at once; all at once, they do.
        if r.concurrency == 1:
            assert r.peak_at_once == 1, r.mode
        else:
            assert r.peak_at_once > 1, r.mode
    report = render(Results(SMOKE, "smoke", fleet=runs))
    assert f"### 8. Many workspaces: one plan over {wide} workspaces" in report
    assert "every targeted email in the results exactly once" in report
    assert "- met: no workspace's requests above its budget" in report
    for mode in SMOKE.fleet_modes:  # the run is held to the bound; planning is shown beside it
        assert f"{wide} workspaces, {mode}: execute " in report
        assert f"- shown, not held: {wide} workspaces, {mode}: plan + execute " in report


def test_job_progress_redraws_a_few_times_a_second_however_many_events() -> None:
    run = run_widgets(SMOKE)
    assert run.available, run.reason
    assert run.events > 10 * run.redraws
    # One draw when built, then at most one per 0.25 s (leading and trailing edges included).
    assert run.redraws <= 3 + run.seconds / 0.25


def _account(email: str, warmup: int, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"email": email, "warmup_status": warmup, "status": 1,
            "tags": [{"id": t, "label": t} for t in tags]}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "jobs"),
    [
        ([], 0),
        ([f"a{i}@x.io" for i in range(60)], 1),  # one chunk
        ([f"a{i}@x.io" for i in range(150)], 1),  # the tag "A", exactly
        ([f"a{i}@x.io" for i in range(75)] + [f"b{i}@y.co" for i in range(75)], 2),  # two tags
        ([f"a{i}@x.io" for i in range(75)] + [f"b{i}@y.co" for i in range(150)], 1),  # all but 75
        ([f"a{i}@x.io" for i in range(40)] + [f"b{i}@y.co" for i in range(110)], 2),  # chunk + tag
    ],
)
def test_minimum_jobs_on_small_workspaces(change: list[str], jobs: int) -> None:
    accounts = [_account(f"a{i}@x.io", 1, ("A",)) for i in range(150)]
    accounts += [_account(f"b{i}@y.co", 1, ("B",)) for i in range(150)]
    accounts += [_account(f"c{i}@z.net", 0) for i in range(300)]  # already paused: no exclusion
    found = minimum_jobs(accounts, change, goal=0)
    assert (found.jobs, found.exact) == (jobs, True)


def test_all_but_150_needs_two_selections_when_one_cannot_exclude_them() -> None:
    accounts = [_account(f"a{i}@x.io", 1, ("A",)) for i in range(400)]
    accounts += [_account(f"b{i}@y.co", 1, ("B",)) for i in range(400)]
    keep = {f"a{i}@x.io" for i in range(75)} | {f"b{i}@y.co" for i in range(75)}
    change = [a["email"] for a in accounts if a["email"] not in keep]
    found = minimum_jobs(accounts, change, goal=0)
    assert (found.jobs, found.lower_bound, found.exact) == (2, 2, True)


def test_busiest_window_counts_a_half_open_second() -> None:
    assert max_in_window([0.0, 0.5, 0.999, 1.0, 1.5], 1.0) == 3
    assert max_in_window([], 1.0) == 0


def _profile_names() -> list[str]:
    return sorted(PROFILES)


@pytest.mark.parametrize("name", _profile_names())
def test_every_profile_measures_the_issues_sizes_or_less(name: str) -> None:
    profile: Profile = PROFILES[name]
    assert profile.keep_emails > C.MAX_EMAILS_PER_REQUEST  # "all but 150" must not fit one request
    assert all(count <= workspace for workspace, count in profile.end_to_end)
