"""Warmup enable/disable, the job lifecycle in virtual time, the 409 lock, the jobs endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from emu_support import BASE_URL, list_all

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator, JobTiming

DISABLE = "/api/v2/accounts/warmup/disable"
ENABLE = "/api/v2/accounts/warmup/enable"


def _job(client: httpx.Client, job_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v2/background-jobs/{job_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _active(emu: Emulator, n: int) -> list[str]:
    return [a["email"] for a in emu.accounts() if a["warmup_status"] == 1][:n]


def test_the_post_answer_matches_the_recorded_exchange(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    response = client.post(DISABLE, json={"emails": ["nango-test-warmup@example.com"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    job = response.json()
    assert list(job) == [
        "id", "workspace_id", "type", "progress", "status", "created_at", "updated_at",
        "user_id", "entity_id", "entity_type", "data",
    ]  # fmt: skip
    assert job["type"] == "update-warmup-accounts"
    assert job["status"] == "pending" and job["progress"] == 0 and job["user_id"] is None
    assert job["workspace_id"] == job["entity_id"] == emu.workspace_id
    assert job["entity_type"] == "workspace"
    assert job["created_at"] == job["updated_at"] == "2026-05-28T20:26:40.000Z"
    assert job["data"] == {
        "filters": {
            "emails": ["nango-test-warmup@example.com"],
            "includeAllEmails": None,
            "excludedEmails": None,
            "filter": None,
            "search": None,
        },
        "warmup_status": 0,
    }
    assert len(job["id"]) == 24 and int(job["id"], 16)
    assert int(job["id"][:8], 16) == int(clock.now())


def test_a_job_runs_in_virtual_time_and_changes_accounts_one_by_one(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    targets = _active(emu, 4)
    before = {e: emu.account(e)["timestamp_updated"] for e in targets}  # type: ignore[index]
    job_id = client.post(DISABLE, json={"emails": targets}).json()["id"]
    get = _job(client, job_id)
    assert get["status"] == "pending" and "user_id" not in get
    assert set(get["data"]) == {"filters", "warmup_status"}

    clock.advance(0.5)  # queue_delay: processing starts, nothing done yet
    started = _job(client, job_id)
    assert started["status"] == "in-progress" and started["progress"] == 0
    assert started["data"]["step"] == "UPDATE_STATUS"
    assert started["data"]["pending_emails"] == targets
    assert started["data"]["processed_emails"] == []

    clock.advance(0.2)  # per_account 0.1: two done
    mid = _job(client, job_id)
    assert mid["status"] == "in-progress" and mid["progress"] == 50
    assert mid["data"]["pending_emails"] == targets[2:]
    assert mid["data"]["processed_emails"] == [
        {"email": targets[0], "status": "success"},
        {"email": targets[1], "status": "success"},
    ]
    assert (mid["data"]["success_count"], mid["data"]["failed_count"]) == (2, 0)
    assert mid["updated_at"] == "2026-05-28T20:26:40.700Z"
    assert [emu.account(e)["warmup_status"] for e in targets] == [0, 0, 1, 1]  # type: ignore[index]
    changed = emu.account(targets[0])
    assert changed is not None
    assert changed["timestamp_updated"] == "2026-05-28T20:26:40.600Z" != before[targets[0]]

    clock.advance(10)
    done = _job(client, job_id)
    assert done["status"] == "success" and done["progress"] == 100
    assert done["updated_at"] == "2026-05-28T20:26:40.900Z"
    data = done["data"]
    assert list(data) == [
        "filters", "warmup_status", "step", "pending_emails", "processed_emails",
        "transition_emails", "domains_to_check", "valid_mx_domains", "mx_check_offset",
        "update_status_offset", "total_to_process", "success_count", "failed_count",
        "verification_offset",
    ]  # fmt: skip
    assert data["step"] == "DONE" and data["pending_emails"] == []
    assert (data["total_to_process"], data["success_count"], data["failed_count"]) == (4, 4, 0)
    assert all(emu.account(e)["warmup_status"] == 0 for e in targets)  # type: ignore[index]


def test_unknown_emails_fail_one_by_one_in_a_successful_job(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    known = _active(emu, 1)[0]
    job_id = client.post(
        ENABLE, json={"emails": ["ghost@nowhere.io", known.upper(), known]}
    ).json()["id"]
    clock.advance(5)
    job = _job(client, job_id)
    assert job["status"] == "success"
    assert job["data"]["warmup_status"] == 1
    assert job["data"]["processed_emails"] == [
        {"email": "ghost@nowhere.io", "status": "failed", "error": "Account not found"},
        {"email": known.upper(), "status": "success"},
    ]
    assert (job["data"]["total_to_process"], job["data"]["failed_count"]) == (2, 1)
    projected = _job(client, job_id, data_fields="success_count,failed_count,nope")
    assert projected["data"] == {"success_count": 1, "failed_count": 1}


def test_include_all_resolves_filter_tag_search_minus_excluded(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    tag = next(t["id"] for t in emu.tags() if t["label"] == "Client A")
    tagged, _ = list_all(client, "/api/v2/accounts", limit=100, tag_ids=tag, include_tags="true")
    expected = [a["email"] for a in tagged if a["warmup_status"] == 1 and ".com" in a["email"]]
    excluded = expected[:2]
    body = {
        "include_all_emails": True,
        "emails": ["ignored@x.io"],
        "excluded_emails": [e.upper() for e in excluded],
        "filter": {"tag_id": tag, "filter": "ACC_FILTER_W_ACTIVE"},
        "search": ".COM",
    }
    job = client.post(DISABLE, json=body).json()
    assert job["data"]["filters"]["includeAllEmails"] is True
    assert job["data"]["filters"]["filter"] == {"tag_id": tag, "filter": "ACC_FILTER_W_ACTIVE"}
    clock.advance(60)
    done = _job(client, job["id"])
    processed = [p["email"] for p in done["data"]["processed_emails"]]
    assert processed == expected[2:]
    assert len(processed) > 3
    assert all(emu.account(e)["warmup_status"] == 0 for e in processed)  # type: ignore[index]
    assert all(emu.account(e)["warmup_status"] == 1 for e in excluded)  # type: ignore[index]


def test_include_all_of_an_unknown_tag_and_an_empty_list_make_empty_jobs(
    client: httpx.Client, clock: VirtualClock
) -> None:
    for body in (
        {"include_all_emails": True, "filter": {"tag_id": "00000000-0000-4000-8000-000000000000"}},
        {"emails": []},
        {},
        {"emails": [], "include_all_emails": False, "search": "gmail"},
    ):
        job_id = client.post(DISABLE, json=body).json()["id"]
        clock.advance(1)
        job = _job(client, job_id)
        assert job["status"] == "success" and job["progress"] == 100
        assert job["data"]["total_to_process"] == 0
        assert job["data"]["processed_emails"] == []


def test_the_lock_refuses_a_second_warmup_job_until_the_first_is_terminal(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    targets = _active(emu, 10)
    assert client.post(DISABLE, json={"emails": targets}).status_code == 200
    for path in (DISABLE, ENABLE):
        refused = client.post(path, json={"emails": targets[:1]})
        assert refused.status_code == 409
        assert refused.content == (
            b'{"statusCode":409,"error":"Conflict",'
            b'"message":"update-warmup-accounts job in progress"}'
        )
    clock.advance(0.5 + 10 * 0.1 - 0.01)
    assert client.post(ENABLE, json={"emails": targets[:1]}).status_code == 409
    clock.advance(0.02)
    assert client.post(ENABLE, json={"emails": targets[:1]}).status_code == 200
    assert emu.counts().by_route["POST /api/v2/accounts/warmup/enable"] == {409: 2, 200: 1}


def test_without_the_lock_jobs_overlap_and_the_later_step_wins(clock: VirtualClock) -> None:
    emu = Emulator(
        accounts=20, seed=5, clock=clock, warmup_lock=False,
        timing=JobTiming(queue_delay=1.0, per_account=1.0),
    )  # fmt: skip
    email = _active(emu, 1)[0]
    with httpx.Client(
        base_url=BASE_URL, transport=emu.transport(), headers={"Authorization": "Bearer demo-key"}
    ) as client:
        assert client.post(DISABLE, json={"emails": [email]}).status_code == 200
        clock.advance(0.5)
        assert client.post(ENABLE, json={"emails": [email]}).status_code == 200
        clock.advance(2.1)  # disable handled at 2.0, enable at 2.5: applied in that order
        assert emu.account(email)["warmup_status"] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"emails": [f"u{i}@x.io" for i in range(101)]}, "body/emails must NOT have more than 100 items"),
        (
            {"include_all_emails": True, "excluded_emails": [f"u{i}@x.io" for i in range(101)]},
            "body/excluded_emails must NOT have more than 100 items",
        ),
        ({"include_all_emails": True, "filter": {"filter": "ACC_FILTER_SOON"}},
         "body/filter/filter must be equal to one of the allowed values"),
        ({"emails": {"a": 1}}, "body/emails must be array"),
        ({"emails": [["a@b.co"]]}, "body/emails/0 must be string"),
        ({"include_all_emails": "maybe"}, "body/include_all_emails must be boolean"),
        ({"filter": "ACC_FILTER_PAUSED"}, "body/filter must be object,null"),
        ({"search": {"q": 1}}, "body/search must be string"),
        (["a@b.co"], "body must be object"),
    ],
)  # fmt: skip
def test_bodies_are_validated_fastify_style(client: httpx.Client, body: Any, message: str) -> None:
    response = client.post(DISABLE, json=body)
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400, "code": "FST_ERR_VALIDATION", "error": "Bad Request", "message": message,
    }  # fmt: skip


def test_malformed_bodies(client: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    broken = client.post(DISABLE, content=b'{"emails": [', headers=headers)
    assert broken.status_code == 400
    assert broken.json()["code"] == "FST_ERR_CTP_INVALID_JSON_BODY"
    empty = client.post(DISABLE, content=b"", headers=headers)
    assert (empty.status_code, empty.json()["code"]) == (400, "FST_ERR_CTP_EMPTY_JSON_BODY")
    text = client.post(DISABLE, content=b"emails=a@b.co", headers={"content-type": "text/plain"})
    assert (text.status_code, text.json()["code"]) == (415, "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    huge = client.post(DISABLE, content=b'{"search":"' + b"x" * 2_000_000 + b'"}', headers=headers)
    assert huge.status_code == 413
    nothing = client.post(DISABLE)
    assert nothing.json()["message"] == "body must be object"


def test_ajv_style_coercion_of_scalars(client: httpx.Client, clock: VirtualClock) -> None:
    job = client.post(DISABLE, json={"emails": "solo@x.io", "include_all_emails": "false"}).json()
    assert job["data"]["filters"]["emails"] == ["solo@x.io"]
    assert job["data"]["filters"]["includeAllEmails"] is False


def test_job_ids_sort_by_creation_and_carry_the_second(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    ids = []
    for _ in range(3):
        ids.append(client.post(ENABLE, json={"emails": ["a@x.io"]}).json()["id"])
        clock.advance(2)
    assert ids == sorted(ids) and len(set(ids)) == 3
    for job_id in ids:
        job = _job(client, job_id)
        created = datetime.fromisoformat(job["created_at"].replace("Z", "+00:00"))
        assert int(job_id[:8], 16) == int(created.replace(tzinfo=UTC).timestamp())


def test_unknown_job_is_404(client: httpx.Client) -> None:
    response = client.get("/api/v2/background-jobs/000000000000000000000000")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404, "error": "Not Found", "message": "Background job not found",
    }  # fmt: skip


def test_job_listing_filters_sorts_and_pages(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    made = []
    for index in range(5):
        made.append(client.post(ENABLE, json={"emails": [f"n{index}@x.io"]}).json()["id"])
        clock.advance(0.55 if index == 4 else 5)  # the last one is still in progress
    history = [j["id"] for j in emu.jobs() if j["type"] != "update-warmup-accounts"]
    assert len(history) == 1

    items, pages = list_all(client, "/api/v2/background-jobs", limit=2)
    assert [j["id"] for j in items] == [*reversed(made), *history]
    assert pages == 4 and all("user_id" not in j for j in items)
    last_page = client.get(
        "/api/v2/background-jobs", params={"limit": 2, "starting_after": made[1]}
    ).json()
    assert [j["id"] for j in last_page["items"]] == [made[0], history[0]]
    assert last_page["next_starting_after"] == history[0]

    warm, _ = list_all(client, "/api/v2/background-jobs", type="update-warmup-accounts")
    assert [j["id"] for j in warm] == list(reversed(made))
    running, _ = list_all(client, "/api/v2/background-jobs", status="pending,in-progress")
    assert [j["id"] for j in running] == [made[4]]
    done, _ = list_all(client, "/api/v2/background-jobs", status="success", sort_order="asc")
    assert [j["id"] for j in done] == [*history, *made[:4]]
    chosen, _ = list_all(
        client,
        "/api/v2/background-jobs",
        ids=f"{made[0]},{made[2]},{made[3]}",
        excluded_ids=made[2],
    )
    assert [j["id"] for j in chosen] == [made[3], made[0]]
    by_entity, _ = list_all(
        client, "/api/v2/background-jobs", entity_type="workspace", entity_id=emu.workspace_id
    )
    assert len(by_entity) == 5
    updated, _ = list_all(client, "/api/v2/background-jobs", sort_column="updated_at", limit=1)
    stamps = [j["updated_at"] for j in updated]
    assert stamps == sorted(stamps, reverse=True) and len(updated) == 6
    bad = client.get("/api/v2/background-jobs", params={"type": "warmup"})
    assert bad.json()["message"] == "querystring/type must be equal to one of the allowed values"


def test_removing_an_account_during_a_job_fails_its_step(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    targets = _active(emu, 3)
    job_id = client.post(DISABLE, json={"emails": targets}).json()["id"]
    assert emu.remove_account(targets[2]) is True
    clock.advance(5)
    entries = _job(client, job_id)["data"]["processed_emails"]
    assert entries[2] == {"email": targets[2], "status": "failed", "error": "Account not found"}


def test_banned_warmup_is_left_alone_unless_configured(clock: VirtualClock) -> None:
    for policy, expected in (("fail", -1), ("change", 0)):
        emu = Emulator(accounts=10, seed=1, clock=clock, negative_warmup=policy)  # type: ignore[arg-type]
        email = emu.accounts()[0]["email"]
        emu.set_warmup_status(email, -1)
        with httpx.Client(
            base_url=BASE_URL,
            transport=emu.transport(),
            headers={"Authorization": "Bearer demo-key"},
        ) as client:
            job_id = client.post(DISABLE, json={"emails": [email]}).json()["id"]
            clock.advance(5)
            entry = _job(client, job_id)["data"]["processed_emails"][0]
        assert emu.account(email)["warmup_status"] == expected  # type: ignore[index]
        assert (entry["status"] == "failed") is (policy == "fail")
