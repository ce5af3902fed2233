"""``GET /accounts`` and ``GET /accounts/{email}``: pagination quirks, filters, shapes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from emu_support import BASE_URL, list_all

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator
from instantly_nb.models import AccountFilter


def _key(account: dict[str, Any]) -> tuple[str, str]:
    return (account["timestamp_created"], account["email"])


def test_paging_walks_every_account_once_newest_first(emu: Emulator, client: httpx.Client) -> None:
    items, pages = list_all(client, "/api/v2/accounts", limit=7)
    emails = [a["email"] for a in items]
    assert len(emails) == 120 == len(set(emails))
    assert [_key(a) for a in items] == sorted((_key(a) for a in items), reverse=True)
    assert pages == 120 // 7 + 1 + 1  # 17 full pages, a short one, then the empty one
    assert emails == [a["email"] for a in emu.accounts()]


def test_the_short_last_page_still_carries_a_cursor_then_the_list_is_empty(
    client: httpx.Client,
) -> None:
    first = client.get("/api/v2/accounts", params={"limit": 100}).json()
    assert len(first["items"]) == 100
    last = client.get(
        "/api/v2/accounts", params={"limit": 100, "starting_after": first["next_starting_after"]}
    ).json()
    assert len(last["items"]) == 20
    tail = last["items"][-1]
    assert last["next_starting_after"] == f"{tail['timestamp_created']}&{tail['email']}"
    end = client.get(
        "/api/v2/accounts", params={"limit": 100, "starting_after": last["next_starting_after"]}
    )
    assert end.status_code == 200
    assert end.content == b'{"items":[]}'


def test_the_default_page_holds_ten(client: httpx.Client) -> None:
    assert len(client.get("/api/v2/accounts").json()["items"]) == 10


def test_cursor_ties_on_timestamp_are_broken_by_email(clock: VirtualClock) -> None:
    emu = Emulator(accounts=0, seed=1, clock=clock)
    for name in ("d", "a", "c", "b", "e"):
        emu.add_account(f"{name}@tie.io")  # all created at the same millisecond
    with httpx.Client(
        base_url=BASE_URL, transport=emu.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        items, _ = list_all(client, "/api/v2/accounts", limit=2)
        assert [a["email"] for a in items] == [
            "e@tie.io",
            "d@tie.io",
            "c@tie.io",
            "b@tie.io",
            "a@tie.io",
        ]
        asc, _ = list_all(client, "/api/v2/accounts", limit=2, sort_order="asc")
        assert [a["email"] for a in asc] == [
            "a@tie.io",
            "b@tie.io",
            "c@tie.io",
            "d@tie.io",
            "e@tie.io",
        ]


def test_the_cursor_must_be_url_encoded(client: httpx.Client) -> None:
    """An unencoded ``&`` splits the cursor: what is left is a bare (legacy) timestamp."""
    page = client.get("/api/v2/accounts", params={"limit": 3}).json()
    cursor = page["next_starting_after"]
    assert "&" in cursor
    encoded = client.get(f"/api/v2/accounts?limit=3&starting_after={quote(cursor, safe='')}")
    raw = client.get(f"/api/v2/accounts?limit=3&starting_after={cursor}")
    assert (
        encoded.json()
        == client.get("/api/v2/accounts", params={"limit": 3, "starting_after": cursor}).json()
    )
    stamp = cursor.split("&")[0]
    legacy = client.get("/api/v2/accounts", params={"limit": 3, "starting_after": stamp})
    assert raw.json() == legacy.json()
    assert all(a["timestamp_created"] < stamp for a in legacy.json()["items"])


def test_a_cursor_that_is_not_a_timestamp_is_a_400(client: httpx.Client) -> None:
    response = client.get("/api/v2/accounts", params={"starting_after": "yesterday&x@y.z"})
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("101", "querystring/limit must be <= 100"),
        ("0", "querystring/limit must be >= 1"),
        ("-5", "querystring/limit must be >= 1"),
        ("ten", "querystring/limit must be integer"),
        ("2.5", "querystring/limit must be integer"),
    ],
)
def test_limit_outside_1_to_100_is_a_fastify_400(
    client: httpx.Client, value: str, message: str
) -> None:
    response = client.get(f"/api/v2/accounts?limit={value}")
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "code": "FST_ERR_VALIDATION",
        "error": "Bad Request",
        "message": message,
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("provider_code=5", "querystring/provider_code must be equal to one of the allowed values"),
        ("status=9", "querystring/status must be equal to one of the allowed values"),
        ("status=active", "querystring/status must be number"),
        ("filter=ACC_FILTER_NOPE", "querystring/filter must be equal to one of the allowed values"),
        ("include_tags=yes", "querystring/include_tags must be boolean"),
        ("sort_by=name", "querystring/sort_by must be equal to one of the allowed values"),
        ("skip=-1", "querystring/skip must be >= 0"),
    ],
)
def test_enum_and_type_checks(client: httpx.Client, query: str, message: str) -> None:
    response = client.get(f"/api/v2/accounts?{query}")
    assert response.status_code == 400
    assert response.json()["message"] == message


FILTER_RULES = {
    AccountFilter.W_ACTIVE: lambda a: a["warmup_status"] == 1,
    AccountFilter.W_PAUSED: lambda a: a["warmup_status"] == 0,
    AccountFilter.W_ERROR: lambda a: a["warmup_status"] < 0,
    AccountFilter.PAUSED: lambda a: a.get("status") == 2,
    AccountFilter.ERROR: lambda a: a.get("status", 1) < 0,
    AccountFilter.NO_CTD: lambda a: "tracking_domain_name" not in a,
    AccountFilter.DFY_SETUP_PENDING: lambda a: a["setup_pending"],
    AccountFilter.DFY: lambda a: a["is_managed_account"],
}


@pytest.mark.parametrize("chosen", list(FILTER_RULES), ids=str)
def test_each_filter_selects_what_its_rule_says(
    emu: Emulator, client: httpx.Client, chosen: AccountFilter
) -> None:
    items, _ = list_all(client, "/api/v2/accounts", limit=100, filter=chosen.value)
    expected = [a["email"] for a in emu.accounts() if FILTER_RULES[chosen](a)]
    assert [a["email"] for a in items] == expected
    assert expected, f"the seeded workspace should hold some {chosen}"


def test_prewarmed_accounts_are_managed_ones(clock: VirtualClock) -> None:
    emu = Emulator(accounts=2000, seed=2, clock=clock)
    with httpx.Client(
        base_url=BASE_URL, transport=emu.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        items, _ = list_all(client, "/api/v2/accounts", limit=100, filter="ACC_FILTER_PW_ACCOUNTS")
    assert 0 < len(items) < 60
    assert all(a["is_managed_account"] for a in items)


def test_status_provider_search_and_tags(emu: Emulator, client: httpx.Client) -> None:
    everyone = emu.accounts()
    tags = {t["label"]: t["id"] for t in emu.tags()}
    a, agency = tags["Client A"], tags["Agency"]
    with_tags, _ = list_all(client, "/api/v2/accounts", limit=100, include_tags="true")
    labels = {x["email"]: {t["label"] for t in x["tags"]} for x in with_tags}

    def emails(**params: Any) -> list[str]:
        return [x["email"] for x in list_all(client, "/api/v2/accounts", limit=100, **params)[0]]

    assert emails(status=-1) == [x["email"] for x in everyone if x.get("status") == -1]
    assert emails(provider_code=3) == [x["email"] for x in everyone if x["provider_code"] == 3]
    gmail = emails(search="GMAIL.com")
    assert gmail == [x["email"] for x in everyone if "gmail.com" in x["email"].lower()]
    assert gmail
    anyof = emails(tag_ids=f"{a},{agency}")
    assert anyof == [e for e in labels if labels[e] & {"Client A", "Agency"}]
    allof = emails(tag_ids_all=f"{a},{agency}")
    assert allof == [e for e in labels if {"Client A", "Agency"} <= labels[e]]
    assert 0 < len(allof) < len(anyof)


def test_include_tags_and_the_abbreviated_warmup(emu: Emulator, client: httpx.Client) -> None:
    plain = client.get("/api/v2/accounts", params={"limit": 100}).json()["items"]
    assert all("tags" not in x for x in plain)
    assert all(set(x["warmup"]) == {"limit"} for x in plain)
    tagged = client.get("/api/v2/accounts", params={"limit": 100, "include_tags": "true"}).json()
    pool = next(t for t in emu.tags() if t["label"] == "Warmup pool")
    assert "description" not in pool
    for item in tagged["items"]:
        for tag in item["tags"]:
            assert set(tag) <= {"id", "label", "description"}
            if tag["label"] == "Warmup pool":
                assert "description" not in tag
    assert any(item["tags"] == [] for item in tagged["items"])


def test_get_one_account_with_the_full_warmup_and_key_order(
    emu: Emulator, client: httpx.Client
) -> None:
    email = emu.accounts()[0]["email"]
    body = client.get(f"/api/v2/accounts/{quote(email)}").json()
    assert "advanced" in body["warmup"]
    keys = list(body)
    spine = [
        "email", "timestamp_created", "timestamp_updated", "first_name", "last_name",
        "organization", "warmup_status", "provider_code", "setup_pending", "is_managed_account",
        "status", "stat_warmup_score",
    ]  # fmt: skip
    assert [k for k in keys if k in spine] == spine  # docs/instantly-api.md §3.3's observed order
    assert body["organization"] == emu.workspace_id
    assert None not in body.values()


def test_get_account_matches_case_insensitively_and_decodes_the_path(clock: VirtualClock) -> None:
    emu = Emulator(accounts=0, clock=clock)
    emu.add_account("John.Smith@Acme-Mail.com")
    emu.add_account("o'brien+tag@acme-mail.com")
    with httpx.Client(
        base_url=BASE_URL, transport=emu.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        for asked in (
            "John.Smith@Acme-Mail.com",
            "john.smith@acme-mail.com",
            "JOHN.SMITH@ACME-MAIL.COM",
        ):
            body = client.get(f"/api/v2/accounts/{quote(asked, safe='')}").json()
            assert body["email"] == "John.Smith@Acme-Mail.com"
        plus = client.get("/api/v2/accounts/" + quote("o'brien+tag@acme-mail.com", safe=""))
        assert plus.json()["email"] == "o'brien+tag@acme-mail.com"
        missing = client.get("/api/v2/accounts/nobody%40acme-mail.com")
        assert missing.status_code == 404
        assert list(missing.json()) == ["statusCode", "error", "message"]
        assert missing.json()["error"] == "Not Found"


def test_warmup_analytics(emu: Emulator, client: httpx.Client) -> None:
    active = [a["email"] for a in emu.accounts() if a["warmup_status"] == 1][:3]
    body = {"emails": [*active, "stranger@nowhere.io"]}
    first = client.post("/api/v2/accounts/warmup-analytics", json=body).json()
    assert set(first["aggregate_data"]) == set(active) == set(first["email_date_data"])
    for email in active:
        agg = first["aggregate_data"][email]
        days = first["email_date_data"][email]
        assert agg["sent"] == sum(d["sent"] for d in days.values()) > 0
        assert agg["health_score_label"] == f"{agg['health_score']}%"
        assert 0 <= agg["health_score"] <= 100
    assert client.post("/api/v2/accounts/warmup-analytics", json=body).json() == first
    none = client.post("/api/v2/accounts/warmup-analytics", json={"emails": ["x@nowhere.io"]})
    assert none.json() == {"email_date_data": {}, "aggregate_data": {}}
    for bad, message in (
        ({"emails": []}, "body/emails must NOT have fewer than 1 items"),
        ({"emails": ["a@b.co"] * 101}, "body/emails must NOT have more than 100 items"),
        ({}, "body must have required property 'emails'"),
    ):
        response = client.post("/api/v2/accounts/warmup-analytics", json=bad)
        assert response.status_code == 400
        assert response.json()["message"] == message
