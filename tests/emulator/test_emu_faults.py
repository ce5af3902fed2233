"""Every fault kind, as a client sees it, in process and in virtual time."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from emu_support import AUTH, BASE_URL

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator

DISABLE = "/api/v2/accounts/warmup/disable"
ACCOUNTS = ("GET", "/api/v2/accounts")


def _job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v2/background-jobs/{job_id}").json()
    return body


def _active(emu: Emulator, n: int) -> list[str]:
    return [a["email"] for a in emu.accounts() if a["warmup_status"] == 1][:n]


def test_a_burst_of_429s_then_normal_answers(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.rate_limited("GET /api/v2/accounts", times=2)
    emu.faults.rate_limited(("GET", "/api/v2/custom-tags"), times=1, retry_after=2.5)
    first, second, third = (client.get("/api/v2/accounts") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.json() == {
        "statusCode": 429, "error": "Too Many Requests", "message": "Rate limit exceeded",
    }  # fmt: skip
    assert "retry-after" not in first.headers
    tags = client.get("/api/v2/custom-tags")
    assert (tags.status_code, tags.headers["retry-after"]) == (429, "3")
    assert client.get("/api/v2/custom-tags").status_code == 200
    assert emu.counts().statuses[429] == 3
    assert [r.fault for r in emu.log[-2:]] == ["status", None]


def test_server_errors_json_and_html(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.server_error("GET /api/v2/background-jobs/*", times=1)
    emu.faults.server_error("*", status=503)
    plain = client.get("/api/v2/background-jobs/000000000000000000000000")
    assert plain.status_code == 500
    assert plain.json()["statusCode"] == 500
    edge = client.get("/api/v2/workspaces/current")
    assert edge.status_code == 503
    assert edge.headers["content-type"].startswith("text/html")
    assert b"503 Service Unavailable" in edge.content
    assert client.get("/api/v2/workspaces/current").status_code == 200


def test_a_status_fault_does_not_process_the_request(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.respond(("POST", DISABLE), 502)
    assert client.post(DISABLE, json={"emails": ["a@x.io"]}).status_code == 502
    assert emu.jobs("update-warmup-accounts") == []


def test_a_lock_for_n_answers(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.lock(times=2)
    answers = [client.post(DISABLE, json={"emails": ["a@x.io"]}) for _ in range(3)]
    assert [a.status_code for a in answers] == [409, 409, 200]
    assert answers[0].json()["message"] == "update-warmup-accounts job in progress"


def test_a_lock_for_s_seconds_on_both_warmup_routes(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.lock(seconds=30)
    for _ in range(5):
        assert client.post("/api/v2/accounts/warmup/enable", json={}).status_code == 409
        assert client.post(DISABLE, json={}).status_code == 409
        clock.advance(5)
    assert client.get("/api/v2/accounts").status_code == 200
    clock.advance(5)
    assert client.post(DISABLE, json={}).status_code == 200


def test_a_slow_answer_arrives_late_on_the_clock(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.delay(ACCOUNTS, seconds=4)
    start = clock.now()
    response = client.get("/api/v2/accounts", timeout=10)
    assert response.status_code == 200
    assert clock.now() - start == pytest.approx(4)


def test_a_slower_answer_than_the_read_timeout_is_a_read_timeout(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.delay(("POST", DISABLE), seconds=60)
    start = clock.now()
    with pytest.raises(httpx.ReadTimeout):
        client.post(DISABLE, json={"emails": ["a@x.io"]}, timeout=5)
    assert clock.now() - start == pytest.approx(5)
    # A slow answer is still an answer given: the job exists.
    assert len(emu.jobs("update-warmup-accounts")) == 1


def test_a_dropped_answer_after_processing_is_an_uncertain_submit(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.faults.drop(("POST", DISABLE))
    with pytest.raises(httpx.ReadError):
        client.post(DISABLE, json={"emails": ["a@x.io"]})
    jobs = emu.jobs("update-warmup-accounts")
    assert len(jobs) == 1 and jobs[0]["data"]["filters"]["emails"] == ["a@x.io"]
    assert emu.log[-1].fault == "drop" and emu.log[-1].status == 200


def test_a_request_dropped_before_processing_changes_nothing(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.faults.drop(("POST", "/api/v2/accounts/warmup/*"), times=2, after_processing=False)
    for _ in range(2):
        with pytest.raises(httpx.ConnectError):
            client.post(DISABLE, json={"emails": ["a@x.io"]})
    assert emu.jobs("update-warmup-accounts") == []
    assert emu.log[-1].status == 0
    assert client.post(DISABLE, json={"emails": ["a@x.io"]}).status_code == 200


def test_faults_reach_async_clients_too(emu: Emulator, clock: VirtualClock) -> None:
    emu.faults.delay(ACCOUNTS, seconds=3, times=2)
    emu.faults.drop(("GET", "/api/v2/custom-tags"))

    async def run() -> tuple[int, float]:
        async with httpx.AsyncClient(
            base_url=BASE_URL, transport=emu.transport(), headers=AUTH
        ) as client:
            start = clock.now()
            ok = await client.get("/api/v2/accounts", timeout=10)
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/api/v2/accounts", timeout=1)
            with pytest.raises(httpx.ReadError):
                await client.get("/api/v2/custom-tags")
            return ok.status_code, clock.now() - start

    status, waited = asyncio.run(run())
    assert status == 200
    assert waited == pytest.approx(4)


def test_a_job_that_fails_midway_leaves_the_rest_untouched(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    targets = _active(emu, 10)
    emu.faults.fail_job(at=0.3)
    job_id = client.post(DISABLE, json={"emails": targets}).json()["id"]
    clock.advance(60)
    job = _job(client, job_id)
    assert job["status"] == "failed" and job["progress"] == 30
    assert job["data"]["success_count"] == 3
    assert job["data"]["pending_emails"] == targets[3:]
    assert [emu.account(e)["warmup_status"] for e in targets] == [0] * 3 + [1] * 7  # type: ignore[index]
    # Terminal, so the lock is free; and the fault was for one job only.
    second = client.post(DISABLE, json={"emails": targets}).json()["id"]
    clock.advance(60)
    assert _job(client, second)["status"] == "success"


def test_a_cancelled_job(emu: Emulator, client: httpx.Client, clock: VirtualClock) -> None:
    emu.faults.cancel_job(at=0.5)
    targets = _active(emu, 4)
    job_id = client.post(DISABLE, json={"emails": targets}).json()["id"]
    clock.advance(60)
    job = _job(client, job_id)
    assert (job["status"], job["progress"], job["data"]["success_count"]) == ("cancelled", 50, 2)


def test_a_paused_job_resumes(emu: Emulator, client: httpx.Client, clock: VirtualClock) -> None:
    emu.faults.pause_job(seconds=10, at=0.5)
    targets = _active(emu, 4)
    job_id = client.post(DISABLE, json={"emails": targets}).json()["id"]
    clock.advance(0.5 + 0.2 + 1)  # two done, then paused
    paused = _job(client, job_id)
    assert (paused["status"], paused["progress"]) == ("paused", 50)
    assert client.post(DISABLE, json={"emails": targets}).status_code == 409
    clock.advance(9)
    assert _job(client, job_id)["status"] == "in-progress"
    clock.advance(1)
    done = _job(client, job_id)
    assert (done["status"], done["data"]["success_count"]) == ("success", 4)


def test_an_unknown_status_before_success(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.job_status("verifying", seconds=20)
    job_id = client.post(DISABLE, json={"emails": _active(emu, 2)}).json()["id"]
    clock.advance(1)
    shown = _job(client, job_id)
    assert shown["status"] == "verifying" and shown["progress"] == 100
    listed = client.get("/api/v2/background-jobs", params={"status": "verifying"}).json()
    assert [j["id"] for j in listed["items"]] == [job_id]
    assert client.post(DISABLE, json={}).status_code == 409
    clock.advance(20)
    assert _job(client, job_id)["status"] == "success"


def test_per_email_failures_listed_and_by_fraction(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    targets = _active(emu, 40)
    emu.faults.fail_emails(emails=[targets[1].upper()], error="Account is disconnected")
    job_id = client.post(DISABLE, json={"emails": targets[:3]}).json()["id"]
    clock.advance(60)
    entries = _job(client, job_id)["data"]["processed_emails"]
    assert entries[1] == {
        "email": targets[1],
        "status": "failed",
        "error": "Account is disconnected",
    }
    assert emu.account(targets[1])["warmup_status"] == 1  # type: ignore[index]

    emu.faults.fail_emails(fraction=0.5)
    job_id = client.post(DISABLE, json={"emails": targets[3:]}).json()["id"]
    clock.advance(60)
    job = _job(client, job_id)
    failed = [p["email"] for p in job["data"]["processed_emails"] if p["status"] == "failed"]
    assert 5 <= len(failed) <= 32 and job["status"] == "success"
    assert job["data"]["failed_count"] == len(failed)
    assert all(emu.account(e)["warmup_status"] == 1 for e in failed)  # type: ignore[index]


def test_clear_removes_every_fault(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.rate_limited("*", times=5)
    emu.faults.fail_job()
    emu.faults.clear()
    assert client.get("/api/v2/accounts").status_code == 200
    assert emu.faults.next_job() == (None, None)


def test_fault_arguments_are_checked(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="times"):
        emu.faults.rate_limited(times=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        emu.faults.fail_job(at=1.5)
    with pytest.raises(ValueError, match="METHOD"):
        emu.faults.delay("/api/v2/accounts", seconds=1)
    with pytest.raises(ValueError, match="4xx or 5xx"):
        emu.faults.respond("*", 200)
