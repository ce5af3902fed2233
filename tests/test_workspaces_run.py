"""Running one plan over many workspaces: at once, each one job at a time, every email once with
its workspace; a failing workspace fails alone; one journal, resumed; undo; real HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import pandas as pd
import pytest
from helpers import Crash

import instantly_nb as nb
from instantly_nb._clock import epoch
from instantly_nb.emulator import Emulator, JobTiming, WorkspaceGroup, start_server
from instantly_nb.errors import RequestValidationError
from instantly_nb.events import RunEvent
from instantly_nb.fleet_progress import FleetTextProgress
from instantly_nb.journal import Journal
from instantly_nb.testing import DEMO_BASE_URL, ConcurrentClock, DemoWorkspaces, demo

NAMES = ["Acme", "Globex", "Initech"]
TIMING = JobTiming(queue_delay=2.0, per_account=0.05)


def agency(accounts: int | list[int] = 150, **options: Any) -> DemoWorkspaces:
    options.setdefault("clock", ConcurrentClock())
    options.setdefault("timing", TIMING)
    return demo(accounts, 5, workspaces=options.pop("names", NAMES), **options)


def warming(fleet: nb.Workspaces, per_workspace: int) -> pd.DataFrame:
    accounts = nb.read_accounts(fleet, progress=False)
    active = accounts[accounts.warmup_status == 1]
    return active.groupby("workspace").head(per_workspace)[["workspace", "email"]]


def warmup_posts(member: Emulator) -> list[Any]:
    return [r for r in member.log if r.method == "POST" and "/warmup/" in r.path]


def job_windows(member: Emulator) -> list[tuple[float, float]]:
    jobs = member.jobs("update-warmup-accounts")
    return sorted((epoch(j["created_at"]) or 0.0, epoch(j["updated_at"]) or 0.0) for j in jobs)


def assert_every_email_once_and_true(fleet: DemoWorkspaces, results: pd.DataFrame) -> None:
    pairs = list(zip(results.workspace, results.email.str.lower(), strict=True))
    assert len(pairs) == len(set(pairs))
    for name, member in fleet.group.members.items():
        now = {a["email"]: a["warmup_status"] for a in member.accounts()}
        for row in results[results.workspace == name].itertuples():
            if row.outcome not in ("not_found", "not_submitted") and pd.notna(row.after):
                assert now[row.email] == row.after, row


def test_one_plan_runs_the_workspaces_at_once_each_one_job_at_a_time() -> None:
    fleet = agency()
    target = warming(fleet, 120)  # two jobs of 100 and 20 in each workspace
    plan = nb.plan_disable(fleet, target, progress=False)
    assert plan.summary.jobs == 6
    results = plan.execute(progress=False)
    assert sorted(zip(results.workspace, results.email, strict=True)) == sorted(
        zip(target.workspace, target.email, strict=True)
    )
    assert (results.outcome == "changed").all()
    assert_every_email_once_and_true(fleet, results)
    windows = {name: job_windows(m) for name, m in fleet.group.members.items()}
    for spans in windows.values():
        assert len(spans) == 2 and spans[0][1] <= spans[1][0]  # one job at a time, in order
    starts = [spans[0][0] for spans in windows.values()]
    ends = [spans[0][1] for spans in windows.values()]
    assert max(starts) < min(ends)  # the first jobs of all three ran at the same time
    assert all(r.status != 409 for m in fleet.group.members.values() for r in m.log)
    assert results.attrs["instantly_nb"]["end"] == "finished"
    assert Journal(results.attrs["instantly_nb"]["journal"]).finished


def _timed_run(fleet: DemoWorkspaces, plan_of: Any, **execute: Any) -> float:
    clock = fleet.group.clock
    plan = plan_of(fleet)
    start = clock.now()
    plan.execute(progress=False, **execute)
    return clock.now() - start


def test_the_run_takes_as_long_as_its_longest_workspace_not_the_sum() -> None:
    sizes = [150, 90, 40]

    def plan_of(fleet: DemoWorkspaces) -> Any:
        return nb.plan_disable(fleet, warming(fleet, 150), progress=False)

    together = _timed_run(agency(sizes), plan_of)
    alone = []
    for name in NAMES:  # the same workspaces, each on its own
        fresh = agency(sizes)
        alone.append(_timed_run(fresh, lambda f, n=name: plan_of(f).plans[n]))
    assert min(alone) > 0
    assert together <= max(alone) * 1.1 + 1.0, (together, alone)
    assert together < 0.6 * sum(alone), (together, alone)
    one_at_a_time = _timed_run(agency(sizes), plan_of, concurrency=1)
    assert one_at_a_time >= 0.9 * sum(alone), (one_at_a_time, alone)


def test_requests_of_one_admin_key_share_its_budget_unless_told_not_to() -> None:
    def busiest_second(shared: bool) -> tuple[int, dict[str, int]]:
        group = WorkspaceGroup(NAMES, accounts=40, seed=2, clock=ConcurrentClock(), timing=TIMING)
        fleet = nb.Workspaces.from_admin_key(
            group.api_key, base_url=DEMO_BASE_URL, transport=group.transport(),
            clock=group.clock, rate=nb.RateLimit(per_second=4, per_minute=600),
            shared_budget=shared,
        )  # fmt: skip
        nb.plan_disable(fleet, warming(fleet, 30), progress=False).execute(progress=False)
        stamps = {n: sorted(r.at for r in m.log) for n, m in group.members.items()}
        everyone = sorted(t for ts in stamps.values() for t in ts)
        return _most_in_a_second(everyone), {n: _most_in_a_second(ts) for n, ts in stamps.items()}

    total, each = busiest_second(shared=True)
    assert total <= 4 and max(each.values()) <= 4
    total, each = busiest_second(shared=False)
    assert max(each.values()) <= 4 and total > 4  # each its own 4/s: more than 4 in all


def _most_in_a_second(stamps: list[float]) -> int:
    return max((sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps), default=0)


@pytest.mark.parametrize("trouble", ["unpaid", "revoked key", "network"])
def test_a_failing_workspace_fails_alone_and_its_rows_say_why(trouble: str) -> None:
    fleet = agency(accounts=60)
    if trouble == "revoked key":  # one key per workspace, as an agency may also hold them
        group = fleet.group
        fleet = nb.Workspaces({  # type: ignore[assignment]
            name: nb.Instantly(f"{group.api_key}-{n}", base_url=DEMO_BASE_URL,
                               transport=group.transport(), clock=group.clock)
            for n, name in enumerate(NAMES, start=1)
        })  # fmt: skip
        fleet.group = group  # type: ignore[attr-defined]
    target = warming(fleet, 10)
    plan = nb.plan_disable(fleet, target, progress=False)
    globex = fleet.group.member("Globex")  # type: ignore[attr-defined]
    if trouble == "unpaid":
        globex.plan_active = False
    elif trouble == "revoked key":
        globex.revoke_key()
    else:
        globex.faults.drop("*", times=1000, after_processing=False)
    said: list[tuple[str, RunEvent]] = []
    results = plan.execute(on_update=lambda name, event: said.append((name, event)))
    assert len(results) == 30 and results.groupby("workspace").size().to_dict() == {
        "Acme": 10, "Globex": 10, "Initech": 10,
    }  # fmt: skip
    others = results[results.workspace != "Globex"]
    assert (others.outcome == "changed").all()
    failed = results[results.workspace == "Globex"]
    assert (failed.outcome == "not_submitted").all()
    why = {"unpaid": "PaymentRequiredError", "revoked key": "AuthenticationError",
           "network": "ConnectionFailed"}[trouble]  # fmt: skip
    assert failed.error.str.startswith(f"workspace failed: {why}").all()
    assert warmup_posts(globex) == []
    assert list(results.attrs["instantly_nb"]["failed"]) == ["Globex"]
    assert results.attrs["instantly_nb"]["end"] == "ended_early"
    ends = [e for n, e in said if n == "Globex" and e.kind == "finished"]
    assert len(ends) == 1 and ends[0].end == "ended_early"
    assert not Journal(results.attrs["instantly_nb"]["journal"]).finished


def test_a_failed_workspace_is_finished_by_resume_without_a_job_twice() -> None:
    fleet = agency(accounts=60)
    plan = nb.plan_disable(fleet, warming(fleet, 25), progress=False)
    globex = fleet.group.member("Globex")
    globex.plan_active = False
    first = plan.execute(progress=False)
    path = first.attrs["instantly_nb"]["journal"]
    assert Journal.unfinished() == [Journal(path).path]
    globex.plan_active = True
    again = nb.resume(fleet, path)
    assert (again.outcome == "changed").all() and len(again) == 75
    for member in fleet.group.members.values():
        assert len(warmup_posts(member)) == 1
    assert Journal(path).finished and Journal.unfinished() == []
    assert_every_email_once_and_true(fleet, again)
    replayed = nb.resume(fleet, path)  # finished: the recorded results, nothing sent
    assert (
        replayed.equals(again)
        and sum(len(warmup_posts(m)) for m in fleet.group.members.values()) == 3
    )


def test_a_crash_mid_run_resumes_from_the_one_journal() -> None:
    fleet = agency()
    plan = nb.plan_disable(fleet, warming(fleet, 120), progress=False)

    def crash_after_globex_submits(name: str, event: RunEvent) -> None:
        if name == "Globex" and event.kind == "submitted":
            raise Crash("the kernel died")

    with pytest.raises(Crash):
        plan.execute(on_update=crash_after_globex_submits, journal="fleet.jsonl")
    sent = {n: len(warmup_posts(m)) for n, m in fleet.group.members.items()}
    assert sent["Globex"] == 1 and sum(sent.values()) < 6
    pending = Journal("fleet.jsonl")
    assert not pending.finished
    assert {r.get("member") for r in pending.records()} >= {None, "Globex"}
    results = nb.resume(fleet, "fleet.jsonl")
    assert (results.outcome == "changed").all() and len(results) == len(plan.frame)
    assert {n: len(warmup_posts(m)) for n, m in fleet.group.members.items()} == {
        n: p.summary.jobs for n, p in plan.plans.items()
    }  # every request sent exactly once, the one sent before the crash included
    assert_every_email_once_and_true(fleet, results)
    exported = pd.read_csv(pending.export_csv())
    assert set(exported.workspace.dropna()) == set(NAMES)


def test_a_fleet_journal_is_resumed_with_a_fleet_and_only_that_plan_with_it() -> None:
    fleet = agency(accounts=30)
    plan = nb.plan_disable(fleet, warming(fleet, 3), progress=False)
    results = plan.execute(journal="run.jsonl", progress=False)
    with pytest.raises(RequestValidationError, match=r"resume\(workspaces, journal\)"):
        nb.resume(fleet["Acme"], "run.jsonl")  # type: ignore[arg-type]
    single = nb.plan_disable(fleet["Acme"], list(results.email[:1]), progress=False)  # type: ignore[call-overload]
    single.execute(journal="one.jsonl", progress=False)
    with pytest.raises(RequestValidationError, match=r"resume\(client, journal\)"):
        nb.resume(fleet, "one.jsonl")
    with pytest.raises(RequestValidationError, match="already ran with the journal"):
        plan.execute(journal="elsewhere.jsonl", progress=False)
    other = nb.plan_enable(fleet, warming(fleet, 1), progress=False)
    with pytest.raises(RequestValidationError, match="records another run"):
        other.execute(journal="run.jsonl", progress=False)
    assert plan.execute(journal="run.jsonl", progress=False).equals(results)


def test_a_stop_leaves_every_workspace_unsent_and_resumable() -> None:
    fleet = agency(accounts=40)
    plan = nb.plan_disable(fleet, warming(fleet, 5), progress=False)
    stop = threading.Event()
    stop.set()
    results = plan.execute(stop=stop, progress=False)
    assert (results.outcome == "not_submitted").all() and len(results) == 15
    assert all(warmup_posts(m) == [] for m in fleet.group.members.values())
    assert results.attrs["instantly_nb"]["end"] == "stopped"  # a Stop, not a failure
    again = nb.resume(fleet, results.attrs["instantly_nb"]["journal"])
    assert (again.outcome == "changed").all()
    assert again.attrs["instantly_nb"]["end"] == "finished"


def test_undo_puts_each_workspace_back() -> None:
    fleet = agency(accounts=60)
    before = {n: {a["email"]: a["warmup_status"] for a in m.accounts()}
              for n, m in fleet.group.members.items()}  # fmt: skip
    accounts = nb.read_accounts(fleet, progress=False)
    mixed = accounts[(accounts.warmup_status < 0) | (accounts.warmup_status == 1)]
    results = nb.plan_disable(fleet, mixed, progress=False).execute(confirm=len(mixed),
                                                                     progress=False)  # fmt: skip
    undo = nb.undo(fleet, results)
    warming_before = mixed[mixed.warmup_status == 1]
    assert sorted(zip(undo.frame.workspace, undo.frame.email, strict=True)) == sorted(
        zip(warming_before.workspace, warming_before.email, strict=True)
    )  # accounts in a warmup error before are left alone: no request puts an error back
    undo.execute(confirm=undo.summary.change, progress=False)
    for name, member in fleet.group.members.items():
        now = {a["email"]: a["warmup_status"] for a in member.accounts()}
        for email, status in before[name].items():
            assert now[email] == (0 if status < 0 else status), email
    with pytest.raises(RequestValidationError, match="'workspace' column"):
        nb.undo(fleet, results.drop(columns="workspace"))


def test_each_workspace_shows_its_own_progress_line() -> None:
    fleet = agency(accounts=40)
    plan = nb.plan_disable(fleet, warming(fleet, 5), progress=False)
    lines: list[str] = []
    progress = FleetTextProgress("disable warmup", fleet.names, show=lines.append)
    plan.execute(on_update=progress)
    for name in NAMES:
        own = [line for line in lines if line.startswith(f"{name}: disable warmup")]
        assert own and "1/1 job(s) done" in own[-1]
    assert Counter(m.phase for m in progress.models.values()) == {"finished": 3}
    assert "Globex" in progress.text()


def test_over_real_http_an_admin_key_disables_and_undoes_across_workspaces() -> None:
    group = WorkspaceGroup(
        NAMES, accounts=25, seed=6, timing=JobTiming(queue_delay=0.05, per_account=0.002)
    )
    with (
        start_server(group) as server,
        nb.Workspaces.from_admin_key(group.api_key, base_url=server.url) as fleet,
    ):
        accounts = nb.read_accounts(fleet, progress=False)
        target = accounts[accounts.warmup_status == 1].groupby("workspace").head(6)
        results = nb.plan_disable(fleet, target, progress=False).execute(progress=False)
        assert (results.outcome == "changed").all() and len(results) == 18
        restored = nb.undo(fleet, results).execute(progress=False)
        assert (restored.outcome == "changed").all()
        assert set(restored.workspace) == set(NAMES)
    for name, member in group.members.items():
        mine = target[target.workspace == name]
        assert len(mine) == 6
        assert all(member.account(e)["warmup_status"] == 1 for e in mine.email)  # type: ignore[index]
        assert len(warmup_posts(member)) == 2


def test_the_concurrent_clock_lets_waits_overlap_and_forgets_cancelled_ones() -> None:
    clock = ConcurrentClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, *waits: float) -> None:
        for wait in waits:
            await clock.sleep(wait)
        woke.append((name, clock.now()))

    async def main() -> None:
        doomed = asyncio.ensure_future(sleeper("cancelled", 1.0))
        await asyncio.sleep(0)
        doomed.cancel()
        await asyncio.gather(sleeper("a", 10.0), sleeper("b", 3.0, 3.0), sleeper("c", 0.5))

    asyncio.run(main())
    assert woke == [("c", 0.5), ("b", 6.0), ("a", 10.0)]
    assert clock.now() == 10.0  # the longest wait, not the sum (16.5)


def test_each_workspace_reads_back_only_its_own_journal_records(tmp_path: Any) -> None:
    journal = Journal(tmp_path / "fleet.jsonl")
    journal.fleet({"fleet_id": "f", "members": [{"name": 'Acme "East"'}, {"name": "Café"}]})
    east, cafe = journal.member('Acme "East"'), journal.member("Café")
    east.error('quoted data: "member":"Café"')  # another member's name as text, not as a key
    cafe.done()
    east.done()
    assert [r["kind"] for r in east.records()] == ["error", "done"]
    assert [(r["kind"], r["member"]) for r in cafe.records()] == [("done", "Café")]
    assert journal.member("Acme").records() == []
    assert not journal.finished and east.finished  # a member's done is not the run's


def test_each_workspace_is_read_once_for_its_name_from_plan_to_results() -> None:
    # The set checks each name before use; the plan and the run take that answer instead of
    # asking again (an agency's fleet is dozens of workspaces: dozens of requests saved twice).
    fleet = agency(accounts=60)
    plan = nb.plan_disable(fleet, warming(fleet, 10), progress=False)
    results = plan.execute(progress=False)
    assert (results.outcome == "changed").all()
    for name, member in fleet.group.members.items():
        current = [r for r in member.log if r.path.endswith("/workspaces/current")]
        assert len(current) == 1, name
        assert plan.plans[name].workspace_name == name
    journal = Journal(results.attrs["instantly_nb"]["journal"])
    named = {r["name"] for r in journal.records() if r.get("kind") == "workspace"}
    assert named == set(NAMES)  # each member's journal still names its workspace
