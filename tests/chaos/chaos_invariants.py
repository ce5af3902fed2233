"""The five invariants, checked after every drawn run."""

from __future__ import annotations

import traceback
from collections import Counter

import pandas as pd
from chaos_world import BUDGET, World

from instantly_nb.models import Job
from instantly_nb.plan import Plan
from instantly_nb.results import OUTCOMES, RESULT_COLUMNS


def check_every_email_once(results: pd.DataFrame, inputs: set[str]) -> None:
    """1. Every distinct input email is in the results exactly once, with an outcome."""
    assert dict(results.dtypes.astype(str)) == RESULT_COLUMNS
    keys = results["email"].str.lower()
    duplicated = sorted(keys[keys.duplicated()])
    assert not duplicated, f"emails in several rows: {duplicated}"
    assert set(keys) == inputs, (
        f"missing {sorted(inputs - set(keys))[:5]}, extra {sorted(set(keys) - inputs)[:5]}"
    )
    assert results["outcome"].notna().all()
    assert set(results["outcome"]) <= set(OUTCOMES)


def check_no_duplicate_jobs(world: World, plan: Plan, results: pd.DataFrame) -> None:
    """2. Each planned request produced at most one job, and every job belongs to one request.

    Only jobs this run created count, and the results name no other: an older job with the same
    body (the history) is not this run's submission.
    """
    owners: Counter[int] = Counter()
    new = [j for j in world.emu.jobs("update-warmup-accounts") if j["id"] not in world.old_jobs]
    named = set(results["job_id"].dropna())
    assert named <= {j["id"] for j in new}, f"results name older jobs {named & world.old_jobs}"
    for body in new:
        job = Job.from_api(body)
        matching = [i for i, p in enumerate(plan.planned) if p.request.matches_job(job)]
        assert len(matching) == 1, f"job {job.id} {job.filters} matches requests {matching}"
        owners[matching[0]] += 1
    twice = {i: n for i, n in owners.items() if n > 1}
    assert not twice, f"requests submitted more than once: {twice}"


def check_states(world: World, plan: Plan, results: pd.DataFrame) -> None:
    """3. The results' ``after`` is the workspace's real state; nothing else changed."""
    goal = 0 if plan.action == "disable" else 1
    drifted = world.drifted  # set by someone else: only "after is the real state" holds
    for row in results.itertuples():
        account = world.emu.account(row.email)
        if row.outcome == "not_found":
            assert account is None, row
            continue
        assert account is not None, row
        key = row.email.lower()
        assert row.before == world.before[key], row
        assert pd.notna(row.after) and row.after == account["warmup_status"], (row, account)
        if key in drifted:
            continue
        if row.outcome == "changed":
            assert row.after == goal != row.before, row
        elif row.outcome in ("unchanged", "skipped", "excluded"):
            assert row.after == row.before, row
    change = set(plan.frame.loc[plan.frame["action"] == "change", "email"].str.lower())
    for account in world.emu.accounts():
        key = str(account["email"]).lower()
        now = account["warmup_status"]
        if key in drifted:
            continue
        if key in world.added:
            assert now == 1 - goal, f"{key} joined after the preview, and the run changed it"
        elif key in change:
            assert now in (world.before[key], goal), account
        else:
            assert now == world.before[key], f"{key} was outside the preview but changed"


def check_rate(world: World) -> None:
    """4. The client's requests never exceed its budget in any 1 s or 60 s window."""
    times = sorted(r.at for r in world.emu.log[world.log_start :])
    for window, limit in ((1.0, BUDGET.per_second), (60.0, BUDGET.per_minute)):
        start = 0
        for end, t in enumerate(times):
            while times[start] <= t - window:
                start += 1
            assert end - start + 1 <= limit, (
                f"{end - start + 1} requests within {window:.0f}s ending at {t - times[0]:.3f}s"
            )


def check_no_key(world: World, texts: list[str]) -> None:
    """5. The key is in no exception, log record, journal line, result or widget state."""
    key = world.scenario.key
    for text in texts:
        assert key not in text, f"the API key leaked: {text[:300]!r}"


def error_texts(errors: list[BaseException]) -> list[str]:
    return [repr(e) + "".join(traceback.format_exception(e)) for e in errors]
