"""Routing, auth, plan, scopes and the workspace rate limit; the handler never raises."""

from __future__ import annotations

import json

import httpx
import pytest
from emu_support import AUTH, BASE_URL, KEY
from hypothesis import given, settings
from hypothesis import strategies as st

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator


def test_an_unknown_route_is_fastifys_404_message_first(client: httpx.Client) -> None:
    response = client.get("/api/v2/nope", params={"a": "1"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == (
        b'{"message":"Route GET:/api/v2/nope?a=1 not found","error":"Not Found","statusCode":404}'
    )
    wrong_method = client.delete("/api/v2/background-jobs")
    assert wrong_method.json()["message"] == "Route DELETE:/api/v2/background-jobs not found"
    trailing = client.get("/api/v2/accounts/")
    assert trailing.status_code == 404


def test_unknown_routes_are_404_even_without_a_key(emu: Emulator) -> None:
    with httpx.Client(base_url=BASE_URL, transport=emu.transport()) as client:
        assert client.get("/api/v2/cauldron-nope").json()["error"] == "Not Found"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing authorization header"),
        ({"Authorization": "Bearer wrong"}, "Invalid API key"),
        ({"Authorization": f"Basic {KEY}"}, "Invalid API key"),
        ({"Authorization": "Bearer"}, "Invalid API key"),
    ],
)
def test_auth_errors(emu: Emulator, headers: dict[str, str], message: str) -> None:
    with httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=headers) as client:
        response = client.get("/api/v2/accounts")
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "error": "Unauthorized", "message": message}
    assert list(response.json()) == ["statusCode", "error", "message"]


def test_a_revoked_key_and_a_lowercase_scheme(emu: Emulator, client: httpx.Client) -> None:
    lower = client.get("/api/v2/accounts", headers={"authorization": f"bearer {KEY}"})
    assert lower.status_code == 200
    emu.revoke_key()
    refused = client.get("/api/v2/accounts")
    assert (refused.status_code, refused.json()["message"]) == (401, "Invalid API key")


def test_no_plan_is_402_everywhere(emu: Emulator, client: httpx.Client) -> None:
    emu.plan_active = False
    for response in (
        client.get("/api/v2/accounts"),
        client.post("/api/v2/accounts/warmup/disable", json={"emails": ["a@b.co"]}),
        client.get("/api/v2/workspaces/current"),
    ):
        assert response.status_code == 402
        assert response.json()["error"] == "Payment Required"
    emu.plan_active = True
    assert client.get("/api/v2/accounts").status_code == 200


def test_scopes(emu: Emulator, client: httpx.Client) -> None:
    emu.scopes = {"accounts:read"}
    assert client.get("/api/v2/accounts").status_code == 200
    assert client.post("/api/v2/accounts/warmup-analytics", json={"emails": ["a@b.co"]}).is_success
    denied = client.post("/api/v2/accounts/warmup/disable", json={"emails": ["a@b.co"]})
    assert denied.status_code == 403
    assert denied.json()["error"] == "Forbidden"
    assert "accounts:update" in denied.json()["message"]
    assert client.get("/api/v2/background-jobs").status_code == 403
    assert client.get("/api/v2/custom-tags").status_code == 403
    emu.scopes = {"accounts:all", "background-jobs:read"}
    assert client.post("/api/v2/accounts/warmup/disable", json={"emails": []}).status_code == 200
    assert client.get("/api/v2/background-jobs").status_code == 200
    assert client.get("/api/v2/custom-tag-mappings").status_code == 403
    emu.scopes = {"all:read"}
    assert client.get("/api/v2/custom-tag-mappings").status_code == 200
    assert client.post("/api/v2/accounts/warmup/enable", json={}).status_code == 403
    emu.scopes = None
    assert client.post("/api/v2/accounts/warmup/enable", json={}).status_code == 409


def _burst(client: httpx.Client, n: int) -> list[httpx.Response]:
    return [client.get("/api/v2/workspaces/current") for _ in range(n)]


def test_the_workspace_limit_per_second_in_virtual_time(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    answers = _burst(client, 101)
    assert [r.status_code for r in answers[:100]] == [200] * 100
    assert answers[100].status_code == 429
    assert answers[100].json() == {
        "statusCode": 429, "error": "Too Many Requests", "message": "Rate limit exceeded",
    }  # fmt: skip
    assert "retry-after" not in answers[100].headers
    clock.advance(1.01)
    assert client.get("/api/v2/workspaces/current").status_code == 200


def test_the_workspace_limit_per_minute_with_retry_after(clock: VirtualClock) -> None:
    emu = Emulator(accounts=5, clock=clock, rate_limit=(10, 30), retry_after=True)
    with httpx.Client(
        base_url=BASE_URL, transport=emu.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        for _ in range(3):
            assert all(r.status_code == 200 for r in _burst(client, 10))
            clock.advance(2)
        refused = client.get("/api/v2/workspaces/current")
        assert refused.status_code == 429
        # The oldest of the 30 left the minute window at 60 s; 6 s have passed.
        assert refused.headers["retry-after"] == "55"
        clock.advance(55)
        assert client.get("/api/v2/workspaces/current").status_code == 200
    assert emu.counts().statuses == {200: 31, 429: 1}


def test_no_rate_limit(clock: VirtualClock) -> None:
    emu = Emulator(accounts=5, clock=clock, rate_limit=None)
    with httpx.Client(
        base_url=BASE_URL, transport=emu.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        assert {r.status_code for r in _burst(client, 300)} == {200}


def test_counts_and_log(emu: Emulator, client: httpx.Client) -> None:
    client.get("/api/v2/accounts", params={"limit": 2})
    client.get("/api/v2/accounts/someone%40x.io")
    client.post("/api/v2/accounts/warmup/enable", json={"emails": ["a@b.co"]})
    counts = emu.counts()
    assert counts["GET /api/v2/accounts"] == 1
    assert counts.by_route["GET /api/v2/accounts/{email}"] == {404: 1}
    assert counts.statuses == {200: 2, 404: 1}
    last = emu.log[-1]
    assert (last.method, last.path, last.status) == ("POST", "/api/v2/accounts/warmup/enable", 200)
    assert last.request_json == {"emails": ["a@b.co"]}
    assert emu.log[1].path == "/api/v2/accounts/someone@x.io"
    assert emu.log[0].query == "limit=2"


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "get", "PATCH", "HEAD", "X"]),
    path=st.one_of(
        st.sampled_from(
            [
                "/api/v2/accounts",
                "/api/v2/accounts/warmup/disable",
                "/api/v2/accounts/warmup/enable",
                "/api/v2/background-jobs",
                "/api/v2/accounts/warmup-analytics",
                "/api/v2/custom-tag-mappings",
            ]
        ),
        _TEXT.map(lambda t: "/api/v2/accounts/" + t),
        _TEXT.map(lambda t: "/api/v2/background-jobs/" + t),
        _TEXT,
    ),
    query=st.one_of(
        _TEXT,
        st.sampled_from(["limit=100000000000000000000000", "limit=1e400", "starting_after=%FF"]),
    ),
    body=st.one_of(
        st.binary(max_size=60),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
            lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
            max_leaves=20,
        ).map(lambda v: repr(v).encode()),
        st.fixed_dictionaries(
            {"emails": st.lists(st.one_of(_TEXT, st.integers(), st.none()), max_size=3)},
            optional={
                "include_all_emails": st.one_of(st.booleans(), _TEXT),
                "filter": st.one_of(st.none(), st.dictionaries(_TEXT, _TEXT, max_size=2)),
                "search": st.one_of(_TEXT, st.integers()),
            },
        ).map(lambda v: json.dumps(v).encode()),
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; x"]),
)
def test_the_handler_never_raises_and_always_answers_an_envelope(
    method: str, path: str, query: str, body: bytes, content_type: str
) -> None:
    emu = _FUZZ
    headers = {"authorization": "Bearer demo-key", "content-type": content_type}
    response = emu.handle(method, path, query, headers, body)
    assert response.status != 500, response.body
    assert response.headers["content-type"].startswith("application/json")
    decoded = response.json()
    assert isinstance(decoded, dict)
    if response.status >= 400:
        assert decoded["statusCode"] == response.status


_FUZZ = Emulator(accounts=20, seed=9, clock=VirtualClock(), rate_limit=None, warmup_lock=False)


def test_handle_can_be_called_directly(emu: Emulator) -> None:
    response = emu.handle("GET", "/api/v2/accounts", "", AUTH, b"")
    assert response.status == 200
    assert emu.handle("GET", "/api/v2/accounts", "", {}, b"").status == 401
