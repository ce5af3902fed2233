"""Generated workspaces: deterministic, realistic, fast at 100,000; tags, mappings, helpers."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest
from emu_support import AUTH, BASE_URL, list_all

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator


def _emu(accounts: int, seed: int = 0, start: float = 1_780_000_000.0) -> Emulator:
    return Emulator(accounts, seed, clock=VirtualClock(start), rate_limit=None)


def test_same_seed_same_workspace_and_a_different_seed_differs() -> None:
    one, two = _emu(300, seed=4), _emu(300, seed=4)
    assert one.accounts() == two.accounts()
    assert one.tags() == two.tags()
    assert one.workspace_id == two.workspace_id
    assert one.jobs() == two.jobs()
    other = _emu(300, seed=5)
    assert other.accounts() != one.accounts()
    assert other.workspace_id != one.workspace_id


def test_timestamps_follow_the_clock_at_construction() -> None:
    early, late = _emu(50, start=1_780_000_000.0), _emu(50, start=1_780_086_400.0)
    assert [a["email"] for a in early.accounts()] == [a["email"] for a in late.accounts()]
    first, later = early.accounts()[0], late.accounts()[0]
    assert first["timestamp_created"] != later["timestamp_created"]
    assert all(a["timestamp_created"] <= "2026-05-28T20:26:40.000Z" for a in early.accounts())


def test_the_mix_is_realistic() -> None:
    accounts = _emu(5000, seed=11).accounts()
    providers = Counter(a["provider_code"] for a in accounts)
    assert 0.40 < providers[2] / 5000 < 0.50
    assert 0.25 < providers[3] / 5000 < 0.35
    assert 0.14 < providers[1] / 5000 < 0.22
    assert providers[4] and providers[8] and providers[11]
    statuses = Counter(a["status"] for a in accounts)
    assert statuses[1] / 5000 > 0.75 and statuses[2] and statuses[3]
    assert all(statuses[code] for code in (-1, -2, -3))
    errors = [a for a in accounts if a["status"] < 0]
    assert all({"code", "response", "e_message"} <= set(a["status_message"]) for a in errors)
    assert any("535 5.7.8" in a["status_message"]["response"] for a in errors)
    assert any("550 5.4.1" in a["status_message"]["response"] for a in errors)
    assert not any("status_message" in a for a in accounts if a["status"] > 0)
    warmup = Counter(a["warmup_status"] for a in accounts)
    assert warmup[1] / 5000 > 0.7 and warmup[0] / 5000 > 0.1
    assert all(0 < warmup[code] < 200 for code in (-1, -2, -3))
    young = [a for a in accounts if a.get("timestamp_warmup_start", "") >= "2026-05-14"]
    assert 0.03 < len(young) / 5000 < 0.15
    assert 0.25 < sum("tracking_domain_name" in a for a in accounts) / 5000 < 0.45
    assert 0 < sum(a["is_managed_account"] for a in accounts) < 300
    assert 0 < sum(a["setup_pending"] for a in accounts) < 100
    domains = Counter(a["email"].split("@")[1].lower() for a in accounts)
    assert domains["gmail.com"] and domains["outlook.com"] and len(domains) > 50
    mixed = [a["email"] for a in accounts if a["email"] != a["email"].lower()]
    assert 0.005 < len(mixed) / 5000 < 0.05
    assert len({a["email"].lower() for a in accounts}) == 5000
    assert all(0 <= a["stat_warmup_score"] <= 100 for a in accounts)
    shared = Counter(a["timestamp_created"] for a in accounts)
    assert max(shared.values()) >= 5  # bulk imports share a timestamp


def test_tags_and_mappings_agree(client: httpx.Client, emu: Emulator) -> None:
    tags, _ = list_all(client, "/api/v2/custom-tags", limit=2)
    assert [t["label"] for t in tags] == [t["label"] for t in emu.tags()]
    assert sorted(t["label"] for t in tags) == [
        "Agency", "Client A", "Client B", "Client C", "Warmup pool",
    ]  # fmt: skip
    assert [t["id"] for t in tags] == sorted(t["id"] for t in tags)
    assert all(t["organization_id"] == emu.workspace_id for t in tags)
    mappings, _ = list_all(client, "/api/v2/custom-tag-mappings", limit=7)
    stamps = [m["timestamp_created"] for m in mappings]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert {m["resource_type"] for m in mappings} == {1}
    accounts, _ = list_all(client, "/api/v2/accounts", limit=100, include_tags="true")
    from_accounts = {(a["email"], t["id"]) for a in accounts for t in a["tags"]}
    assert {(m["resource_id"], m["tag_id"]) for m in mappings} == from_accounts

    one = accounts[0]["email"]
    own = client.get("/api/v2/custom-tags", params={"resource_ids": one}).json()["items"]
    assert {t["id"] for t in own} == {t["id"] for t in accounts[0]["tags"]}
    mine = client.get("/api/v2/custom-tag-mappings", params={"resource_ids": one}).json()
    assert {m["tag_id"] for m in mine["items"]} == {t["id"] for t in accounts[0]["tags"]}
    found = client.get("/api/v2/custom-tags", params={"search": "client"}).json()["items"]
    assert sorted(t["label"] for t in found) == ["Client A", "Client B", "Client C"]
    first = tags[0]
    assert client.get(f"/api/v2/custom-tags/{first['id']}").json() == first
    assert client.get("/api/v2/custom-tags/nope").status_code == 404


def test_the_workspace(client: httpx.Client, emu: Emulator) -> None:
    body = client.get("/api/v2/workspaces/current").json()
    assert body["id"] == emu.workspace_id and body["name"] == "Demo workspace"


def test_helpers_change_the_workspace_behind_a_clients_back(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    email = emu.accounts()[5]["email"]
    clock.advance(3)
    emu.set_warmup_status(email, 0)
    account = client.get(f"/api/v2/accounts/{email}").json()
    assert account["warmup_status"] == 0
    assert account["timestamp_updated"] == "2026-05-28T20:26:43.000Z"
    emu.set_status(email, -1, {"code": "EAUTH", "response": "535 5.7.8 no"})
    assert emu.account(email)["status_message"]["code"] == "EAUTH"  # type: ignore[index]
    emu.set_status(email, 1, {"code": "ignored"})
    assert "status_message" not in emu.account(email)  # type: ignore[operator]

    added = emu.add_account("New.Person@Fresh-Domain.io", tags=["Client C"], provider_code=3)
    assert added["provider_code"] == 3
    newest = client.get("/api/v2/accounts", params={"limit": 1, "include_tags": "true"}).json()
    assert newest["items"][0]["email"] == "New.Person@Fresh-Domain.io"
    assert [t["label"] for t in newest["items"][0]["tags"]] == ["Client C"]
    with pytest.raises(ValueError, match="already exists"):
        emu.add_account("new.person@fresh-domain.io")
    emu.untag_account("New.Person@Fresh-Domain.io", "Client C")
    emu.tag_account("New.Person@Fresh-Domain.io", "Agency")
    agency = next(t["id"] for t in emu.tags() if t["label"] == "Agency")
    listed = client.get("/api/v2/accounts", params={"tag_ids": agency, "limit": 1}).json()
    assert listed["items"][0]["email"] == "New.Person@Fresh-Domain.io"
    assert emu.remove_account("new.person@fresh-domain.io") is True
    assert emu.remove_account("new.person@fresh-domain.io") is False
    assert client.get("/api/v2/accounts/New.Person%40Fresh-Domain.io").status_code == 404
    assert len(emu.accounts()) == 120
    with pytest.raises(KeyError):
        emu.set_warmup_status("ghost@x.io", 1)


def test_accessors_hand_out_copies(emu: Emulator) -> None:
    email = emu.accounts()[0]["email"]
    mine = emu.account(email)
    assert mine is not None
    mine["warmup"]["limit"] = -1
    assert emu.account(email)["warmup"]["limit"] != -1  # type: ignore[index]


def test_a_100k_workspace_generates_and_lists_linearly() -> None:
    start = time.perf_counter()
    emu = _emu(100_000, seed=1)
    generated = time.perf_counter() - start
    with httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=AUTH) as client:
        client.headers["Authorization"] = "Bearer demo-key"
        start = time.perf_counter()
        items, pages = list_all(client, "/api/v2/accounts", limit=100)
        listed = time.perf_counter() - start
    assert len(items) == 100_000 == len({a["email"] for a in items})
    assert pages == 1001
    # Generous bounds for a shared 2-core machine; a quadratic listing takes minutes.
    assert generated < 20, generated
    assert listed < 60, listed
