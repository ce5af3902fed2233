"""Many workspaces, up to the plan: ``as_workspace``, ``Workspaces`` (names checked against the
API, ``from_admin_key``), the verbs' frames with a ``workspace`` column, and one plan for all."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pandas as pd
import pytest

import instantly_nb as nb
from instantly_nb import aio
from instantly_nb.emulator import WorkspaceGroup
from instantly_nb.errors import ConfigurationError, ConfirmationRequired, RequestValidationError
from instantly_nb.fleet_plan import FleetPlan
from instantly_nb.frames import ACCOUNT_COLUMNS
from instantly_nb.testing import DEMO_BASE_URL, ConcurrentClock, DemoWorkspaces, VirtualClock, demo

NAMES = ["Acme", "Globex", "Initech"]


def agency(accounts: int | list[int] = 60, **options: Any) -> DemoWorkspaces:
    options.setdefault("clock", ConcurrentClock())
    return demo(accounts, 3, workspaces=NAMES, **options)


def keyed(group: WorkspaceGroup, names: dict[str, int]) -> nb.Workspaces:
    """One key per workspace: member ``n`` of the group answers to ``<admin key>-n``."""
    return nb.Workspaces({
        name: nb.Instantly(f"{group.api_key}-{n}", base_url=DEMO_BASE_URL,
                           transport=group.transport(), clock=group.clock)
        for name, n in names.items()
    })  # fmt: skip


# --- the client ---------------------------------------------------------------------------------


def test_as_workspace_sends_the_header_and_never_shows_the_key() -> None:
    seen: list[httpx.Headers] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json={"id": "w-1", "name": "Acme"})

    transport = httpx.MockTransport(answer)
    acting = nb.Instantly("secret-admin-key", as_workspace="w-1", transport=transport)
    acting.get_workspace()
    nb.Instantly("secret-admin-key", transport=transport).get_workspace()
    assert seen[0]["x-as-workspace"] == "w-1"
    assert "x-as-workspace" not in seen[1]
    assert "w-1" in repr(acting) and "secret" not in repr(acting)
    assert acting.as_workspace == "w-1"


@pytest.mark.parametrize("bad", ["", "  ", "a b", "w\r\nx-evil: 1", 7, "x" * 201])
def test_a_workspace_id_that_could_break_the_header_is_refused(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="as_workspace must be a workspace id"):
        nb.Instantly("k", as_workspace=bad)  # type: ignore[arg-type]


def test_clients_acting_for_one_key_share_its_budget_unless_told_not_to() -> None:
    clock = VirtualClock()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": request.headers["x-as-workspace"], "name": "x"})

    admin = nb.Instantly("k", transport=httpx.MockTransport(answer), clock=clock,
                         rate=nb.RateLimit(per_second=2, per_minute=100))  # fmt: skip
    a, b = admin.acting_as("a"), admin.acting_as("b")
    own = admin.acting_as("c", shared_budget=False)
    start = clock.now()
    a.get_workspace()
    b.get_workspace()
    assert clock.now() == start  # two requests: within the shared 2/s
    own.get_workspace()
    own.get_workspace()
    assert clock.now() == start  # a budget of its own, untouched
    b.get_workspace()
    assert clock.now() - start >= 1.0  # the third on the shared budget waited for the window
    assert a.rate == own.rate == admin.rate  # the same limit, counted apart or together


# --- the set ------------------------------------------------------------------------------------


def test_a_set_is_checked_when_it_is_made() -> None:
    client = nb.Instantly("k", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    aclient = nb.AsyncInstantly("k", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(ConfigurationError, match="dict of workspace name"):
        nb.Workspaces({})
    with pytest.raises(ConfigurationError, match="got str"):
        nb.Workspaces({"Acme": "key"})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="two workspaces named"):
        nb.Workspaces({"Acme": client, "ACME ": client})
    with pytest.raises(ConfigurationError, match="mix of Instantly and AsyncInstantly"):
        nb.Workspaces({"Acme": client, "Globex": aclient})
    with pytest.raises(ConfigurationError, match="concurrency"):
        nb.Workspaces({"Acme": client}, concurrency=0)
    fleet = nb.Workspaces({"Acme": client, "Globex": client})
    assert fleet.names == ["Acme", "Globex"] and "Acme" in fleet and len(fleet) == 2
    with pytest.raises(KeyError, match="the set has"):
        fleet["Nope"]
    with pytest.raises(RequestValidationError, match="no workspace named"):
        fleet.subset(["Nope"])
    assert fleet.without("acme").names == ["Globex"]


def test_a_key_filed_under_the_wrong_name_is_refused_before_any_read() -> None:
    group = WorkspaceGroup(NAMES, accounts=10, clock=VirtualClock())
    swapped = keyed(group, {"Acme": 2, "Globex": 1})
    with pytest.raises(ConfigurationError, match="named 'Acme' acts on the workspace 'Globex'"):
        nb.read_accounts(swapped, progress=False)
    assert all(m.counts()["GET /api/v2/accounts"] == 0 for m in group.members.values())
    spelled = keyed(group, {"acme": 1, " GLOBEX ": 2})  # case and spacing aside
    frame = nb.read_accounts(spelled, progress=False)
    assert frame.groupby("workspace").size().to_dict() == {"GLOBEX": 10, "acme": 10}


def test_one_workspace_under_two_names_is_refused() -> None:
    fleet = agency(accounts=5)
    acme = fleet["Acme"]
    twice = nb.Workspaces({"Acme": acme, f"Acme ({acme.as_workspace[:8]})": acme})  # type: ignore[index]
    with pytest.raises(ConfigurationError, match="are the same workspace"):
        nb.read_accounts(twice, progress=False)


def test_from_admin_key_reaches_the_accepted_workspaces_each_checked() -> None:
    clock = VirtualClock()
    group = WorkspaceGroup(["Umbrella", "Acme", "Globex", "Initech"], accounts=4, clock=clock)
    group.set_status("Initech", "pending")
    group.member("Umbrella").plan_active = False
    fleet = nb.Workspaces.from_admin_key(
        group.api_key, base_url=DEMO_BASE_URL, transport=group.transport(), clock=clock,
        include_admin=True,
    )  # fmt: skip
    assert fleet.names == ["Agency (admin)", "Acme", "Globex"]
    assert fleet.skipped["Initech"] == "membership pending"
    assert "Workspace does not have an active paid plan" in fleet.skipped["Umbrella"]
    identity = fleet.identity("Acme")
    assert identity is not None and identity.id == group.member("Acme").workspace_id
    shown = repr(fleet)
    assert "skipped Initech: membership pending" in shown and group.api_key not in shown
    assert "<b>Globex</b>" in fleet._repr_html_()
    fleet.close()


def test_an_admin_key_that_reaches_nothing_says_why() -> None:
    group = WorkspaceGroup(["Acme"], accounts=1, clock=VirtualClock())
    group.set_status("Acme", "rejected")
    with pytest.raises(ConfigurationError, match=r"reaches no client workspace.*rejected"):
        nb.Workspaces.from_admin_key(
            group.api_key, base_url=DEMO_BASE_URL, transport=group.transport()
        )


def test_two_workspaces_of_one_name_are_told_apart_by_their_id() -> None:
    group = WorkspaceGroup(["Acme", "Globex"], accounts=2, clock=VirtualClock())
    group.set_status("Globex", "accepted")
    globex = group.member("Globex")
    group.admin.set_group_member(globex.workspace_id, "Acme")  # the listing's name is stale
    fleet = nb.Workspaces.from_admin_key(
        group.api_key, base_url=DEMO_BASE_URL, transport=group.transport()
    )
    assert fleet.names == ["Acme", "Globex"]  # named by GET /workspaces/current, not the list


def test_the_async_set_works_with_the_async_verbs() -> None:
    group = WorkspaceGroup(NAMES, accounts=7, clock=ConcurrentClock())

    async def main() -> tuple[pd.DataFrame, pd.DataFrame]:
        fleet = await nb.Workspaces.afrom_admin_key(
            group.api_key, base_url=DEMO_BASE_URL, transport=group.transport(), clock=group.clock
        )
        try:
            accounts = await aio.read_accounts(fleet, progress=False)
            plan = await aio.plan_disable(fleet, accounts.head(6), progress=False)
            return accounts, await plan.aexecute()
        finally:
            await fleet.aclose()

    accounts, results = asyncio.run(main())
    assert len(accounts) == 21
    assert sorted(results["email"]) == sorted(accounts.head(6)["email"])
    fleet = nb.Workspaces({"Acme": nb.AsyncInstantly("k", transport=group.transport())})
    with pytest.raises(TypeError, match=r"use the verbs of instantly_nb\.aio"):
        nb.read_accounts(fleet)


# --- reading ------------------------------------------------------------------------------------


def test_read_accounts_of_a_set_is_one_frame_with_the_workspace_first() -> None:
    fleet = agency(accounts=[30, 20, 10])
    frame = nb.read_accounts(fleet, progress=False)
    assert list(frame.columns) == ["workspace", *ACCOUNT_COLUMNS]
    assert frame.groupby("workspace").size().to_dict() == {"Acme": 30, "Globex": 20, "Initech": 10}
    for name, member in fleet.group.members.items():
        assert set(frame.loc[frame.workspace == name, "email"]) == {
            a["email"] for a in member.accounts()
        }
    empty = nb.read_accounts(fleet, search="no-such-domain.example", progress=False)
    assert empty.empty and list(empty.columns) == list(frame.columns)
    assert (empty.dtypes == frame.dtypes).all()


def test_reads_of_a_set_show_one_progress_line_for_all_workspaces() -> None:
    fleet = agency(accounts=[250, 120, 5])
    reports: list[tuple[int, int, bool]] = []
    nb.read_accounts(fleet, progress=lambda *r: reports.append(r))
    alone: list[tuple[int, int, bool]] = []
    for name in NAMES:
        nb.read_accounts(fleet.subset(name), progress=lambda *r: alone.append(r))
    finals = [r for r in alone if r[2]]
    summed = (sum(r[0] for r in finals), sum(r[1] for r in finals), True)
    assert reports[-1] == summed and summed[1] == 375  # pages and accounts summed, then done
    assert not any(done for *_, done in reports[:-1])


def test_jobs_tags_and_health_of_a_set() -> None:
    fleet = agency(accounts=12)
    assert nb.read_tags(fleet).groupby("workspace").size().to_dict() == dict.fromkeys(NAMES, 5)
    assert nb.read_jobs(fleet).columns[0] == "workspace"
    with pytest.raises(RequestValidationError, match=r"fleet\[name\]"):
        nb.read_jobs(fleet, ids=["x"])
    health = nb.read_warmup_health(
        fleet, nb.Selection(filter="ACC_FILTER_W_ACTIVE"), progress=False
    )
    accounts = nb.read_accounts(fleet, filter="ACC_FILTER_W_ACTIVE", progress=False)
    assert sorted(zip(health.workspace, health.email, strict=True)) == sorted(
        zip(accounts.workspace, accounts.email, strict=True)
    )
    with pytest.raises(RequestValidationError, match="'workspace' and 'email' columns"):
        nb.read_warmup_health(fleet, list(accounts.email[:3]))


# --- planning -----------------------------------------------------------------------------------


def test_a_frame_with_workspace_and_email_is_planned_where_each_row_says() -> None:
    fleet = agency()
    accounts = nb.read_accounts(fleet, progress=False)
    picked = accounts[accounts.warmup_status == 1].groupby("workspace").head(4)
    plan = nb.plan_disable(fleet, picked, progress=False)
    assert isinstance(plan, FleetPlan)
    assert sorted(zip(plan.frame.workspace, plan.frame.email, strict=True)) == sorted(
        zip(picked.workspace, picked.email, strict=True)
    )
    for name, member in plan.plans.items():
        sent = {e for body in member.requests for e in body["emails"]}
        assert sent == set(picked.loc[picked.workspace == name, "email"])
    assert plan.summary.change == 12 and plan.summary.workspaces == 3
    assert plan.by_workspace.set_index("workspace")["change"].to_dict() == dict.fromkeys(NAMES, 4)
    assert all(m.counts().routes.get("POST /api/v2/accounts/warmup/disable") is None
               for m in fleet.group.members.values())  # fmt: skip


def test_a_csv_file_with_a_workspace_column_is_split_by_it(tmp_path: Any) -> None:
    fleet = agency(accounts=10)
    rows = [("Initech", a["email"]) for a in fleet.group.member("Initech").accounts()[:3]]
    rows += [("globex", a["email"]) for a in fleet.group.member("Globex").accounts()[:2]]
    path = tmp_path / "pause.csv"
    pd.DataFrame(rows, columns=["Workspace", "Email"]).to_csv(path, index=False)
    plan = nb.plan_disable(fleet, str(path), progress=False)
    assert plan.frame.groupby("workspace").size().to_dict() == {"Globex": 2, "Initech": 3}


def test_a_frame_naming_an_unknown_or_missing_workspace_is_refused() -> None:
    fleet = agency(accounts=5)
    emails = [a["email"] for a in fleet.group.member("Acme").accounts()[:2]]
    with pytest.raises(RequestValidationError, match="names workspace 'Hooli', not in this set"):
        nb.plan_disable(fleet, pd.DataFrame({"workspace": ["Acme", "Hooli"], "email": emails}))
    with pytest.raises(RequestValidationError, match=r"1 row\(s\) name no workspace") as caught:
        nb.plan_disable(fleet, pd.DataFrame({"Workspace": ["Acme", None], "email": emails}))
    assert caught.value.problems == ["row 1"]
    with pytest.raises(RequestValidationError, match="left out by workspaces="):
        nb.plan_disable(
            fleet, pd.DataFrame({"workspace": ["Acme", "Globex"], "email": emails}),
            workspaces=["Globex"],
        )  # fmt: skip


def test_bare_emails_are_looked_up_in_every_workspace() -> None:
    fleet = agency(accounts=20)
    acme = fleet.group.member("Acme").accounts()[0]["email"]
    initech = fleet.group.member("Initech").accounts()[3]["email"]
    plan = nb.plan_enable(fleet, [acme, "nobody@nowhere.example", initech], progress=False)
    where = dict(zip(plan.frame.email, plan.frame.workspace, strict=True))
    assert where[acme] == "Acme" and where[initech] == "Initech"
    assert pd.isna(where["nobody@nowhere.example"])
    nowhere = plan.frame[plan.frame.email == "nobody@nowhere.example"].iloc[0]
    assert (nowhere.action, nowhere.reason) == ("not_found", "not in any of the 3 workspace(s)")
    assert set(plan.plans) == {"Acme", "Initech"}  # Globex has none of them
    assert plan.summary.targeted == 3 and plan.summary.not_found == 1
    for name in ("Acme", "Initech"):  # each counts only the one email it has
        own = plan.plans[name].summary
        assert (own.targeted, own.not_found, own.change + own.skip) == (1, 0, 1), name
    assert "in no workspace: change 0, skip 0, not found 1" in repr(plan)
    results = plan.execute(progress=False)
    assert sorted(results.email) == sorted([acme, "nobody@nowhere.example", initech])
    last = results.iloc[-1]  # the rows found nowhere come after every workspace's
    assert last.email == "nobody@nowhere.example" and pd.isna(last.workspace)
    assert (last.outcome, last.detail) == ("not_found", "not in any of the 3 workspace(s)")
    assert results.workspace.dtype == "string"


def test_an_email_in_two_workspaces_needs_the_workspace_column() -> None:
    fleet = agency(accounts=10)
    shared = "twin@shared-domain.example"
    for name in ("Acme", "Initech"):
        fleet.group.member(name).add_account(shared)
    with pytest.raises(RequestValidationError, match="in more than one workspace") as caught:
        nb.plan_disable(fleet, [shared], progress=False)
    assert caught.value.problems == [f"{shared}: in Acme, Initech"]
    assert "'workspace' and 'email' columns" in str(caught.value)
    explicit = pd.DataFrame({"workspace": ["Initech"], "email": [shared]})
    plan = nb.plan_disable(fleet, explicit, progress=False)
    assert list(plan.plans) == ["Initech"] and plan.summary.change == 1


def test_a_selection_applies_in_every_workspace_or_in_those_named() -> None:
    fleet = agency(accounts=40)
    errors = nb.Selection(filter="ACC_FILTER_W_ERROR")
    everywhere = nb.plan_disable(fleet, errors, progress=False)
    assert set(everywhere.plans) == set(NAMES)
    counts = nb.read_accounts(fleet, filter="ACC_FILTER_W_ERROR", progress=False)
    assert everywhere.summary.change == len(counts)
    one = nb.plan_disable(fleet, errors, workspaces=["globex"], progress=False)
    assert list(one.plans) == ["Globex"]
    assert set(one.frame.workspace) == {"Globex"}
    with pytest.raises(RequestValidationError, match="not one client"):
        nb.plan_disable(fleet["Acme"], errors, workspaces=["Acme"])  # type: ignore[arg-type]


def test_one_confirmation_covers_the_whole_change() -> None:
    fleet = agency(accounts=40)
    plan = nb.plan_disable(fleet, nb.Selection(filter="ACC_FILTER_W_ACTIVE"), confirm_above=50,
                           progress=False)  # fmt: skip
    total = plan.summary.change
    assert total > 50 and all(p.summary.change <= 50 for p in plan.plans.values())
    assert plan.summary.needs_confirmation
    with pytest.raises(ConfirmationRequired) as caught:
        plan.execute(progress=False)
    assert caught.value.fingerprint == plan.fingerprint and caught.value.count == total
    assert all(m.counts().routes.get("POST /api/v2/accounts/warmup/disable") is None
               for m in fleet.group.members.values())  # fmt: skip
    results = plan.execute(confirm=total, progress=False)
    assert (results.outcome == "changed").sum() == total


def test_the_preview_shows_every_workspace_and_one_fingerprint() -> None:
    fleet = agency(accounts=30)
    plan = nb.plan_disable(fleet, nb.Selection(filter="ACC_FILTER_W_ERROR"), progress=False)
    text, page = repr(plan), plan._repr_html_()
    for name in NAMES:
        assert f"  {name}: change" in text and f"<td>{name}</td>" in page
    assert plan.fingerprint in text and plan.fingerprint in page
    assert text.count("fingerprint") == 1
    frame = plan.by_workspace
    assert int(frame["change"].sum()) == plan.summary.change
    assert int(frame["jobs"].sum()) == plan.summary.jobs
    assert frame["risks"].str.contains("warmup in error: ").all()
    # Warmup in error cannot be put back by an undo: the fleet's preview says so, as one
    # workspace's does, in its counts, per workspace, and in words.
    lost = sum(p.summary.cannot_undo for p in plan.plans.values())
    assert lost == plan.summary.change > 0 and plan.summary.cannot_undo == lost
    assert frame.set_index("workspace")["cannot_undo"].to_dict() == {
        name: p.summary.cannot_undo for name, p in plan.plans.items()
    }
    assert f"{lost} account(s) cannot be undone" in text
    assert f"{lost} account(s) cannot be undone" in page and "No undo for part of it" in page
    other = nb.plan_disable(fleet, nb.Selection(filter="ACC_FILTER_W_ERROR"), progress=False)
    assert other.fingerprint == plan.fingerprint and other.id != plan.id
    first = next(iter(plan.plans.values()))
    first.planned = first.planned[:-1] if len(first.planned) > 1 else ()
    assert plan.fingerprint != other.fingerprint  # it hashes what is sent
