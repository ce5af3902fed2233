"""Every 2xx body of a scripted tour validates against the official OpenAPI document.

Also: every request body ``WarmupRequest.body()`` can produce validates against the warmup
operations' request schema.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import httpx
import pytest
from emu_support import openapi
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from instantly_nb._analytics import analytics_emails
from instantly_nb._clock import VirtualClock
from instantly_nb._warmup import WarmupRequest
from instantly_nb.emulator import Emulator
from instantly_nb.errors import RequestValidationError
from instantly_nb.models import AccountFilter

DOC_URI = "urn:instantly:openapi-v2"


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(openapi(), default_specification=DRAFT202012)
    return Registry().with_resource(DOC_URI, resource)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validator(*parts: str) -> Draft202012Validator:
    schema = {"$ref": f"{DOC_URI}#/{_pointer(*parts)}"}
    return Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def response_validator(method: str, path: str) -> Draft202012Validator:
    return _validator(
        "paths", path, method, "responses", "200", "content", "application/json", "schema"
    )


def request_validator(method: str, path: str) -> Draft202012Validator:
    return _validator("paths", path, method, "requestBody", "content", "application/json", "schema")


def check(method: str, template: str, body: Any) -> None:
    """Validate one 200 body; §3.1 quirk: list items' ``tags`` are checked on their own."""
    body = copy.deepcopy(body)
    if template == "/api/v2/accounts" and method == "get":
        tags_schema = _validator(
            "paths", template, "get", "responses", "200", "content", "application/json",
            "schema", "properties", "items", "items", "allOf", "1", "properties", "tags",
        )  # fmt: skip
        for item in body["items"]:
            if "tags" in item:
                tags_schema.validate(item.pop("tags"))
    response_validator(method, template).validate(body)


class Tour:
    """A client that validates every 2xx answer against the operation it hit."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.checked: dict[str, int] = {}

    def call(self, method: str, template: str, path: str | None = None, **kw: Any) -> Any:
        response = self.client.request(method.upper(), path or template, **kw)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        body = response.json()
        check(method, template, body)
        key = f"{method.upper()} {template}"
        self.checked[key] = self.checked.get(key, 0) + 1
        return body

    def pages(self, template: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = dict(params, **({"starting_after": cursor} if cursor else {}))
            page = self.call("get", template, params=query)
            if not page["items"]:
                return items
            items.extend(page["items"])
            cursor = page["next_starting_after"]


def test_the_scripted_tour_validates_against_the_openapi_document(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    tour = Tour(client)
    tag_ids = {t["label"]: t["id"] for t in emu.tags()}
    everyone = tour.pages("/api/v2/accounts", limit=100)
    assert len(everyone) == 120
    for value in AccountFilter:
        tour.pages("/api/v2/accounts", limit=50, filter=value.value)
    for extra in (
        {"include_tags": "true"},
        {"status": -1},
        {"provider_code": 2},
        {"search": "gmail.com"},
        {"tag_ids": f"{tag_ids['Client A']},{tag_ids['Agency']}"},
        {"tag_ids_all": f"{tag_ids['Client A']},{tag_ids['Agency']}", "include_tags": "true"},
    ):
        tour.pages("/api/v2/accounts", limit=25, **extra)
    sorted_page = {"sort_by": "stat_warmup_score", "sort_order": "asc", "skip": 5, "limit": 25}
    assert len(tour.call("get", "/api/v2/accounts", params=sorted_page)["items"]) == 25
    full = tour.call("get", "/api/v2/accounts", params={"limit": 100, "include_tags": "true"})
    assert any(item["tags"] for item in full["items"])

    one = everyone[3]["email"]
    tour.call("get", "/api/v2/accounts/{email}", f"/api/v2/accounts/{one}")

    job = tour.call("post", "/api/v2/accounts/warmup/disable", json={"emails": [one, "no@x.io"]})
    assert job["user_id"] is None
    seen_statuses = set()
    for _ in range(20):
        polled = tour.call(
            "get", "/api/v2/background-jobs/{id}", f"/api/v2/background-jobs/{job['id']}"
        )
        seen_statuses.add(polled["status"])
        clock.advance(0.2)
    assert {"pending", "in-progress", "success"} <= seen_statuses
    tour.call(
        "get", "/api/v2/background-jobs/{id}", f"/api/v2/background-jobs/{job['id']}",
        params={"data_fields": "success_count,failed_count,total_to_process"},
    )  # fmt: skip
    bodies = [
        {"include_all_emails": True, "filter": {"tag_id": tag_ids["Client B"]}},
        {"include_all_emails": True, "filter": {"filter": "ACC_FILTER_W_PAUSED"}, "search": ".com"},
        {"include_all_emails": True, "excluded_emails": [one], "filter": None},
    ]
    for body in bodies:
        tour.call("post", "/api/v2/accounts/warmup/enable", json=body)
        clock.advance(60)
    tour.pages("/api/v2/background-jobs", limit=2)
    tour.pages("/api/v2/background-jobs", type="update-warmup-accounts", status="success,failed")
    tour.pages("/api/v2/background-jobs", sort_column="updated_at", sort_order="asc", limit=3)
    tour.pages("/api/v2/custom-tags", limit=2)
    tag = emu.tags()[0]["id"]
    tour.call("get", "/api/v2/custom-tags/{id}", f"/api/v2/custom-tags/{tag}")
    tour.pages("/api/v2/custom-tag-mappings", limit=100)
    tour.call("get", "/api/v2/workspaces/current")
    analytics = tour.call(
        "post",
        "/api/v2/accounts/warmup-analytics",
        json={"emails": [e["email"] for e in everyone[:50]]},
    )
    assert analytics["aggregate_data"]
    assert len(tour.checked) == 11, tour.checked


def test_the_schema_check_can_fail() -> None:
    """The validators are real: a body with a wrong type or an extra key is rejected."""
    validator = response_validator("get", "/api/v2/background-jobs/{id}")
    good = {
        "id": "6a4431ffe7344abb7a05b177", "workspace_id": "w", "type": "update-warmup-accounts",
        "progress": 0, "status": "pending", "created_at": "x", "updated_at": "x",
    }  # fmt: skip
    validator.validate(good)
    assert not validator.is_valid({**good, "progress": "0"})
    assert not validator.is_valid({**good, "unexpected": 1})
    account = response_validator("get", "/api/v2/accounts/{email}")
    assert not account.is_valid({"email": "a@b.co"})


def test_full_warmup_objects_in_list_items_validate_too(clock: VirtualClock) -> None:
    emu = Emulator(accounts=30, seed=3, clock=clock, list_warmup="full")
    with httpx.Client(
        base_url="https://x",
        transport=emu.transport(),
        headers={"Authorization": "Bearer demo-key"},
    ) as client:
        body = client.get("/api/v2/accounts", params={"limit": 30}).json()
    assert any("advanced" in item["warmup"] for item in body["items"])
    check("get", "/api/v2/accounts", body)


_EMAIL = st.from_regex(r"\A[a-z][a-z0-9._-]{0,12}@[a-z]{1,10}\.(com|io|net)\Z")


@st.composite
def warmup_requests(draw: st.DrawFn) -> WarmupRequest:
    action = draw(st.sampled_from(["disable", "enable"]))
    if draw(st.booleans()):
        emails = draw(st.lists(_EMAIL, min_size=1, max_size=100, unique_by=str.lower))
        return WarmupRequest(action, emails=tuple(emails))
    return WarmupRequest(
        action,
        include_all_emails=True,
        excluded_emails=tuple(draw(st.lists(_EMAIL, max_size=100, unique_by=str.lower))),
        filter=draw(st.none() | st.sampled_from(list(AccountFilter))),
        tag_id=draw(st.none() | st.uuids().map(str)),
        search=draw(st.none() | st.sampled_from(["gmail.com", "acme", "Smith"])),
    )


@settings(max_examples=150, deadline=None)
@given(warmup_requests())
def test_every_warmup_request_body_validates_against_the_request_schema(
    warmup: WarmupRequest,
) -> None:
    body = warmup.body()
    request_validator("post", warmup.path).validate(body)
    other = "enable" if warmup.action == "disable" else "disable"
    request_validator("post", f"/api/v2/accounts/warmup/{other}").validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"emails": ["a@b.co"] * 101},
        {"filter": {"filter": "ACC_FILTER_NOPE"}},
        {"include_all_emails": "yes please"},
    ],
)
def test_the_request_schema_rejects_what_the_emulator_rejects(
    body: dict[str, Any], emu: Emulator, client: httpx.Client
) -> None:
    assert not request_validator("post", "/api/v2/accounts/warmup/disable").is_valid(body)
    assert client.post("/api/v2/accounts/warmup/disable", json=body).status_code == 400


def test_declared_error_answers_validate_against_their_schemas(
    emu: Emulator, client: httpx.Client
) -> None:
    """401, 402, 404 and 429 are declared on every operation; the bodies must fit them."""
    path = "/api/v2/accounts/{email}"

    def fits(status: int, response: httpx.Response) -> None:
        assert response.status_code == status
        _validator(
            "paths", path, "get", "responses", str(status), "content", "application/json", "schema"
        ).validate(response.json())

    fits(404, client.get("/api/v2/accounts/ghost%40x.io"))
    emu.faults.rate_limited(times=1)
    fits(429, client.get("/api/v2/accounts/ghost%40x.io"))
    fits(401, client.get("/api/v2/accounts/ghost%40x.io", headers={"Authorization": "Bearer no"}))
    emu.plan_active = False
    fits(402, client.get("/api/v2/accounts/ghost%40x.io"))


def test_every_warmup_analytics_answer_validates(emu: Emulator, client: httpx.Client) -> None:
    """Every account of the workspace (warming, paused, in error, one paused just now) and
    unknown emails, in one answer shape the OpenAPI document accepts."""
    validator = response_validator("post", "/api/v2/accounts/warmup-analytics")
    emails = [a["email"] for a in emu.accounts()]
    emu.set_warmup_status(emails[0], 0)
    emails += ["nobody@nowhere.io", emails[1].upper()]
    for start in range(0, len(emails), 100):
        response = client.post(
            "/api/v2/accounts/warmup-analytics", json={"emails": emails[start : start + 100]}
        )
        assert response.status_code == 200
        validator.validate(response.json())
    assert not validator.is_valid({"email_date_data": {"a@b.co": {"2026-10-01": {"sent": "5"}}}})


@settings(max_examples=60, deadline=None)
@given(st.lists(_EMAIL, min_size=1, max_size=100, unique_by=str.lower))
def test_every_warmup_analytics_request_validates(emails: list[str]) -> None:
    body = {"emails": list(analytics_emails(emails))}
    request_validator("post", "/api/v2/accounts/warmup-analytics").validate(body)


@pytest.mark.parametrize("emails", [[], [f"a{i}@b.co" for i in range(101)]])
def test_the_analytics_schema_rejects_what_the_client_and_emulator_refuse(
    emails: list[str], client: httpx.Client
) -> None:
    assert not request_validator("post", "/api/v2/accounts/warmup-analytics").is_valid(
        {"emails": emails}
    )
    with pytest.raises(RequestValidationError):
        analytics_emails(emails)
    response = client.post("/api/v2/accounts/warmup-analytics", json={"emails": emails})
    assert response.status_code == 400
