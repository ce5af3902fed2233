"""An agency's workspaces in the emulator: the admin key, ``x-as-workspace``, the member listing,
per-workspace locks and rate limits, the OpenAPI shapes, and ``--workspaces`` on the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from emu_support import BASE_URL, list_all
from test_emu_contract import Tour, check
from test_emu_server import ROOT, URL_LINE, _env

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator, JobTiming, WorkspaceGroup
from instantly_nb.emulator.__main__ import main

ADMIN = "agency-key"
MEMBERS = "/api/v2/workspace-group-members"
CURRENT = "/api/v2/workspaces/current"


@pytest.fixture
def group(clock: VirtualClock) -> WorkspaceGroup:
    return WorkspaceGroup(
        ["Acme", "Globex", "Initech"], accounts=[30, 20, 10], seed=4, api_key=ADMIN, clock=clock,
        timing=JobTiming(queue_delay=0.5, per_account=0.1),
    )  # fmt: skip


@pytest.fixture
def http(group: WorkspaceGroup) -> Iterator[httpx.Client]:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=BASE_URL, transport=group.transport(), headers=auth) as client:
        yield client


def as_(group: WorkspaceGroup, name: str) -> dict[str, str]:
    return {"x-as-workspace": group.member(name).workspace_id}


def test_the_member_listing_and_delegated_answers_validate_against_the_openapi_document(
    group: WorkspaceGroup, http: httpx.Client
) -> None:
    tour = Tour(http)
    members = tour.pages(MEMBERS, limit=2)
    assert sorted(m["sub_workspace_name"] for m in members) == ["Acme", "Globex", "Initech"]
    assert {m["admin_workspace_id"] for m in members} == {group.admin.workspace_id}
    assert {m["status"] for m in members} == {"accepted"}
    for member in members:
        http.headers["x-as-workspace"] = member["sub_workspace_id"]
        here = tour.call("get", CURRENT)
        assert (here["id"], here["name"]) == (
            member["sub_workspace_id"], member["sub_workspace_name"]
        )  # fmt: skip
        accounts = tour.pages("/api/v2/accounts", limit=100)
        size = len(group.member(member["sub_workspace_name"]).accounts())
        assert len(accounts) == size
    assert tour.checked == {f"GET {MEMBERS}": 3, f"GET {CURRENT}": 3, "GET /api/v2/accounts": 6}


def test_a_pending_member_with_no_name_still_validates(group: WorkspaceGroup) -> None:
    group.admin.set_group_member("5e3c1a9e-0000-4000-8000-000000000001", None, "pending")
    listed = group.admin.group_members()
    check("get", MEMBERS, {"items": listed})
    assert [m["status"] for m in listed].count("pending") == 1


def test_the_member_listing_pages_by_id_and_refuses_bad_limits(
    group: WorkspaceGroup, http: httpx.Client
) -> None:
    items, pages = list_all(http, MEMBERS, limit=1)
    assert pages == 4  # three members, then the empty page
    ids = [m["id"] for m in items]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert http.get(MEMBERS).json()["next_starting_after"] == ids[-1]  # default page holds all
    for bad in ("0", "101", "x"):
        answer = http.get(MEMBERS, params={"limit": bad})
        assert answer.status_code == 400, bad
        assert answer.json()["message"].startswith("querystring/limit must be")
    alone = Emulator(accounts=5, clock=VirtualClock())
    with httpx.Client(
        base_url=BASE_URL, transport=alone.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        assert client.get(MEMBERS).json() == {"items": []}


@pytest.mark.parametrize(
    ("key", "header", "status", "answered_by"),
    [
        (ADMIN, None, 200, "Agency (admin)"),
        (ADMIN, "Globex", 200, "Globex"),
        (f"{ADMIN}-1", None, 200, "Acme"),  # a member's own key
        (f"{ADMIN}-1", "Globex", 403, None),  # only the admin's key acts as another
        (ADMIN, "unknown", 403, None),
        (ADMIN, "admin", 200, "Agency (admin)"),
        ("wrong-key", "Globex", 401, None),
    ],
)
def test_requests_go_where_the_key_and_the_header_say(
    group: WorkspaceGroup, key: str, header: str | None, status: int, answered_by: str | None
) -> None:
    ids = {"admin": group.admin.workspace_id, "unknown": "0d9c7c1e-0000-4000-8000-000000000000"}
    headers = {"Authorization": f"Bearer {key}"}
    if header is not None:
        headers["x-as-workspace"] = ids.get(header) or group.member(header).workspace_id
    with httpx.Client(base_url=BASE_URL, transport=group.transport(), headers=headers) as client:
        answer = client.get(CURRENT)
    assert answer.status_code == status, answer.text
    if answered_by is not None:
        assert answer.json()["name"] == answered_by
    else:
        assert set(answer.json()) == {"statusCode", "error", "message"}


def test_an_unknown_route_is_404_even_when_acting_as_a_member(
    group: WorkspaceGroup, http: httpx.Client
) -> None:
    answer = http.get("/api/v2/nope", headers=as_(group, "Acme"))
    assert answer.status_code == 404
    assert answer.json()["message"] == "Route GET:/api/v2/nope not found"


def test_only_accepted_members_can_be_acted_on(group: WorkspaceGroup, http: httpx.Client) -> None:
    group.set_status("Globex", "pending")
    assert http.get(CURRENT, headers=as_(group, "Globex")).status_code == 403
    assert http.get(CURRENT, headers=as_(group, "Acme")).status_code == 200
    statuses = {m["sub_workspace_name"]: m["status"] for m in http.get(MEMBERS).json()["items"]}
    assert statuses == {"Acme": "accepted", "Globex": "pending", "Initech": "accepted"}
    with pytest.raises(ValueError, match="status must be one of"):
        group.set_status("Acme", "left")


def test_each_workspace_has_its_own_warmup_lock(group: WorkspaceGroup, http: httpx.Client) -> None:
    def disable(name: str) -> httpx.Response:
        email = group.member(name).accounts()[0]["email"]
        return http.post(
            "/api/v2/accounts/warmup/disable", json={"emails": [email]}, headers=as_(group, name)
        )

    assert disable("Acme").status_code == 200
    assert disable("Globex").status_code == 200  # another workspace: no lock shared
    locked = disable("Acme")
    assert locked.status_code == 409
    assert "job in progress" in locked.json()["message"]
    assert len(group.member("Acme").jobs("update-warmup-accounts")) == 1
    assert len(group.admin.jobs("update-warmup-accounts")) == 0


@pytest.mark.parametrize(
    ("reading", "own_key_after", "other_member_after"),
    [("member", 429, 200), ("admin", 200, 429), ("both", 429, 429)],
)
def test_which_limit_a_delegated_request_counts_against(
    clock: VirtualClock, reading: str, own_key_after: int, other_member_after: int
) -> None:
    group = WorkspaceGroup(
        ["Acme", "Globex"], accounts=5, api_key=ADMIN, clock=clock, rate_limit=(3, 1000),
        delegated_rate=reading,
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=BASE_URL, transport=group.transport(), headers=auth) as http:
        assert [http.get(CURRENT, headers=as_(group, "Acme")).status_code for _ in range(3)] == [
            200, 200, 200,
        ]  # fmt: skip
        own = http.get(CURRENT, headers={"Authorization": f"Bearer {ADMIN}-1"})
        other = http.get(CURRENT, headers=as_(group, "Globex"))
    assert (own.status_code, other.status_code) == (own_key_after, other_member_after)
    clock.advance(1.1)
    with httpx.Client(base_url=BASE_URL, transport=group.transport(), headers=auth) as http:
        assert http.get(CURRENT, headers=as_(group, "Globex")).status_code == 200


def test_an_unpaid_workspace_answers_402_alone(group: WorkspaceGroup, http: httpx.Client) -> None:
    group.member("Globex").plan_active = False
    unpaid = http.get(CURRENT, headers=as_(group, "Globex"))
    assert unpaid.status_code == 402
    assert http.get(CURRENT, headers=as_(group, "Acme")).status_code == 200
    assert http.get(MEMBERS).status_code == 200


def test_an_unpaid_admin_workspace_refuses_every_delegated_request(
    group: WorkspaceGroup, http: httpx.Client
) -> None:
    group.admin.plan_active = False
    assert http.get(CURRENT, headers=as_(group, "Acme")).status_code == 402
    assert group.member("Acme").counts().routes == {}  # refused at the admin's gate


def test_the_admin_keys_scopes_apply_to_delegated_requests(
    group: WorkspaceGroup, http: httpx.Client
) -> None:
    group.admin.scopes = {"workspaces:read"}
    assert http.get(CURRENT, headers=as_(group, "Acme")).status_code == 200
    refused = http.get("/api/v2/accounts", headers=as_(group, "Acme"))
    assert refused.status_code == 403
    assert "accounts:read" in refused.json()["message"]


def test_group_settings_are_checked(clock: VirtualClock) -> None:
    with pytest.raises(ValueError, match="at least one"):
        WorkspaceGroup(0, clock=clock)
    with pytest.raises(ValueError, match="must differ"):
        WorkspaceGroup(["Acme", "ACME"], clock=clock)
    with pytest.raises(ValueError, match="2 account counts for 3 workspaces"):
        WorkspaceGroup(3, accounts=[1, 2], clock=clock)
    with pytest.raises(ValueError, match="delegated_rate"):
        WorkspaceGroup(2, clock=clock, delegated_rate="shared")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="set per workspace"):
        WorkspaceGroup(2, clock=clock, workspace_name="x")
    with pytest.raises(KeyError, match="the group has"):
        WorkspaceGroup(2, accounts=1, clock=clock).member("Nope")
    named = WorkspaceGroup(22, accounts=0, clock=clock)
    assert list(named.members)[:2] == ["Acme", "Globex"]
    assert list(named.members)[-1] == "Client 22"
    assert len({m.workspace_id for m in named.members.values()}) == 22


def test_the_same_arguments_give_the_same_group() -> None:
    def fingerprint(group: WorkspaceGroup) -> list[object]:
        return [(n, m.workspace_id, m.accounts()) for n, m in group.members.items()]

    a = WorkspaceGroup(2, accounts=15, seed=9, clock=VirtualClock())
    b = WorkspaceGroup(2, accounts=15, seed=9, clock=VirtualClock())
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(
        WorkspaceGroup(2, accounts=15, seed=8, clock=VirtualClock())
    )


def test_the_cli_serves_a_group_of_workspaces_over_real_http() -> None:
    command = [
        sys.executable, "-m", "instantly_nb.emulator", "--port", "0", "--workspaces", "2",
        "--accounts", "12", "--api-key", "cli-admin",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        match = URL_LINE.match(process.stdout.readline().strip())
        assert match
        lines = [process.stdout.readline().strip() for _ in range(2)]
        named = [
            re.match(r"workspace (\d): (\w+) \(id ([0-9a-f-]{36}), key <api-key>-\1\)", x)
            for x in lines
        ]
        assert all(named), lines
        auth = {"Authorization": "Bearer cli-admin"}
        with httpx.Client(base_url=match.group(1), headers=auth, timeout=10) as http:
            members = http.get(MEMBERS).json()["items"]
            assert sorted(m["sub_workspace_id"] for m in members) == sorted(
                n.group(3) for n in named if n
            )
            acme = http.get(CURRENT, headers={"x-as-workspace": named[0].group(3)})  # type: ignore[union-attr]
            assert acme.json()["name"] == "Acme"
            own = http.get("/api/v2/accounts", headers={"Authorization": "Bearer cli-admin-2"})
            assert len(own.json()["items"]) == 10  # Globex's first page, by its own key
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_cli_refuses_bad_group_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--workspaces", "-1"]) == 2
    assert main(["--workspaces", "2", "--workspace-id", "x"]) == 2
    assert "not with --workspaces" in capsys.readouterr().err
