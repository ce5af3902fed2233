"""Odd answers a client must survive: garbled bodies, a job without its id, a job that vanishes
once, a 429 with a long Retry-After on a POST, a submit delivered late, cursor cycles and dropped
cursors, and an error that echoes the API key. In process, in virtual time."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from emu_support import AUTH, BASE_URL, KEY, list_all

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator

DISABLE = "/api/v2/accounts/warmup/disable"
ENABLE = "/api/v2/accounts/warmup/enable"
WARMUP_JOB = "update-warmup-accounts"
ACCOUNTS = ("GET", "/api/v2/accounts")


def _active(emu: Emulator, n: int) -> list[str]:
    return [a["email"] for a in emu.accounts() if a["warmup_status"] == 1][:n]


def _pages(
    client: httpx.Client, path: str, max_pages: int = 50, **params: Any
) -> list[dict[str, Any]]:
    """Follow cursors as a naive client would: every page's body, stopping at an empty page, a
    page without a cursor, or ``max_pages``."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while len(pages) < max_pages:
        query = dict(params, **({"starting_after": cursor} if cursor else {}))
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        cursor = page.get("next_starting_after")
        if not page["items"] or cursor is None:
            break
    return pages


def _emails(page: dict[str, Any]) -> list[str]:
    return [item["email"] for item in page["items"]]


# --- garbled -----------------------------------------------------------------------------------


def test_a_truncated_json_200(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.garbled(ACCOUNTS)
    whole = client.get("/api/v2/accounts", params={"limit": 3})
    assert whole.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        whole.json()
    assert whole.headers["content-type"] == "application/json; charset=utf-8"
    assert int(whole.headers["content-length"]) == len(whole.content)
    fine = client.get("/api/v2/accounts", params={"limit": 3})
    assert whole.content == fine.content[: len(fine.content) // 2]
    assert [r.fault for r in emu.log[-2:]] == ["garbled", None]


def test_an_html_200_on_a_warmup_post_still_makes_the_job(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.garbled(("POST", "/api/v2/accounts/warmup/*"), kind="html")
    targets = _active(emu, 2)
    response = client.post(DISABLE, json={"emails": targets})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    jobs = emu.jobs(WARMUP_JOB)
    assert len(jobs) == 1 and jobs[0]["data"]["filters"]["emails"] == targets
    clock.advance(10)
    assert all(emu.account(e)["warmup_status"] == 0 for e in targets)  # type: ignore[index]


def test_garbled_leaves_errors_alone_and_stays_armed(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.garbled("*", times=1)
    refused = client.get("/api/v2/accounts", params={"limit": 500})
    assert refused.status_code == 400 and refused.json()["statusCode"] == 400
    assert client.get("/api/v2/background-jobs/nope").status_code == 404
    bent = client.get("/api/v2/custom-tags")
    with pytest.raises(json.JSONDecodeError):
        bent.json()
    assert client.get("/api/v2/custom-tags").json()["items"]
    with pytest.raises(ValueError, match="kind"):
        emu.faults.garbled("*", kind="xml")  # type: ignore[arg-type]


# --- missing id --------------------------------------------------------------------------------


def test_a_job_answer_without_its_id(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.missing_id()
    targets = _active(emu, 2)
    answer = client.post(ENABLE, json={"emails": targets})
    assert answer.status_code == 200
    body = answer.json()
    assert "id" not in body
    assert body["type"] == WARMUP_JOB and body["status"] == "pending"
    (job,) = emu.jobs(WARMUP_JOB)
    assert {k: v for k, v in job.items() if k != "id"} == {
        k: v for k, v in body.items() if k != "user_id"
    }
    assert emu.log[-1].fault == "missing_id"
    clock.advance(10)
    # Only one answer is bent; the job exists and runs.
    second = client.post(ENABLE, json={"emails": targets}).json()
    assert "id" in second
    assert client.get(f"/api/v2/background-jobs/{job['id']}").json()["status"] == "success"


# --- vanishing job -----------------------------------------------------------------------------


def test_a_new_job_is_not_found_once_then_found(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.vanishing_job()
    job_id = client.post(DISABLE, json={"emails": _active(emu, 1)}).json()["id"]
    first = client.get(f"/api/v2/background-jobs/{job_id}")
    assert first.status_code == 404
    assert first.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Background job not found",
    }
    assert emu.log[-1].fault == "vanishing_job"
    assert client.get(f"/api/v2/background-jobs/{job_id}").status_code == 200
    clock.advance(10)
    # Spent: the next job is found at once.
    other = client.post(DISABLE, json={"emails": _active(emu, 1)}).json()["id"]
    assert client.get(f"/api/v2/background-jobs/{other}").status_code == 200
    assert emu.log[-1].fault is None


def test_vanishing_jobs_count_jobs_not_polls(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.vanishing_job(times=2)
    assert "1 job fault" not in repr(emu.faults) and "2 job fault(s)" in repr(emu.faults)
    first = client.post(DISABLE, json={"emails": _active(emu, 1)}).json()["id"]
    clock.advance(10)
    second = client.post(DISABLE, json={"emails": _active(emu, 1)}).json()["id"]
    # Other GETs (an unknown id, the listing) do not spend it.
    assert client.get("/api/v2/background-jobs/000000000000000000000000").status_code == 404
    listed = client.get("/api/v2/background-jobs", params={"type": WARMUP_JOB}).json()
    assert {j["id"] for j in listed["items"]} == {first, second}
    polls = [client.get(f"/api/v2/background-jobs/{i}") for i in (second, first, first, second)]
    assert [p.status_code for p in polls] == [404, 404, 200, 200]
    emu.faults.vanishing_job()
    emu.faults.clear()
    clock.advance(10)
    third = client.post(DISABLE, json={}).json()["id"]
    assert client.get(f"/api/v2/background-jobs/{third}").status_code == 200


# --- a long Retry-After on a POST --------------------------------------------------------------


def test_a_429_with_retry_after_300_on_a_warmup_post(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.rate_limited(("POST", "/api/v2/accounts/warmup/*"), retry_after=300)
    refused = client.post(DISABLE, json={"emails": _active(emu, 1)})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "300"
    assert refused.json()["message"] == "Rate limit exceeded"
    assert emu.jobs(WARMUP_JOB) == []  # refused, so nothing was created
    assert client.post(DISABLE, json={"emails": _active(emu, 1)}).status_code == 200


# --- late submit -------------------------------------------------------------------------------


def test_a_late_submit_is_lost_then_delivered(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.late_submit(seconds=8)
    targets = _active(emu, 3)
    sent_at = clock.now()
    with pytest.raises(httpx.ReadError):
        client.post(DISABLE, json={"emails": targets})
    listing = {"type": WARMUP_JOB}
    assert client.get("/api/v2/background-jobs", params=listing).json() == {"items": []}
    clock.advance(7.5)
    assert emu.jobs(WARMUP_JOB) == []
    assert client.get("/api/v2/background-jobs", params=listing).json() == {"items": []}
    clock.advance(0.5)
    (job,) = client.get("/api/v2/background-jobs", params=listing).json()["items"]
    assert job["data"]["filters"]["emails"] == targets
    assert job["created_at"] == "2026-05-28T20:26:48.000Z"
    assert int(job["id"][:8], 16) == int(sent_at + 8)
    clock.advance(10)
    done = client.get(f"/api/v2/background-jobs/{job['id']}").json()
    assert done["status"] == "success" and done["data"]["success_count"] == 3
    assert all(emu.account(e)["warmup_status"] == 0 for e in targets)  # type: ignore[index]
    posts = [r for r in emu.log if r.method == "POST"]
    assert [(r.at - sent_at, r.status, r.fault) for r in posts] == [
        (0.0, 0, "late_submit"),
        (8.0, 200, "late_submit"),
    ]


def test_a_late_submit_meets_the_lock_of_the_resubmitted_job(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    # A client that resends at once makes a job that holds the lock when the late one arrives.
    emu.faults.late_submit(seconds=2)
    targets = _active(emu, 40)  # 0.5 s + 40 * 0.1 s: still running at +2 s
    with pytest.raises(httpx.ReadError):
        client.post(DISABLE, json={"emails": targets})
    resent = client.post(DISABLE, json={"emails": targets})
    assert resent.status_code == 200
    clock.advance(60)
    assert [j["id"] for j in emu.jobs(WARMUP_JOB)] == [resent.json()["id"]]
    late = [r for r in emu.log if r.fault == "late_submit"]
    assert [r.status for r in late] == [0, 409]


def test_a_late_submit_without_the_lock_makes_a_second_job(clock: VirtualClock) -> None:
    emu = Emulator(60, 3, clock=clock, warmup_lock=False, api_key=KEY)
    emu.faults.late_submit(seconds=8)
    targets = _active(emu, 2)

    async def run() -> list[str]:
        async with httpx.AsyncClient(
            base_url=BASE_URL, transport=emu.transport(), headers=AUTH
        ) as client:
            with pytest.raises(httpx.ReadError):
                await client.post(DISABLE, json={"emails": targets})
            resent = await client.post(DISABLE, json={"emails": targets})
            await clock.sleep(9)
            listed = await client.get("/api/v2/background-jobs", params={"type": WARMUP_JOB})
            assert resent.status_code == 200
            return [j["id"] for j in listed.json()["items"]]

    ids = asyncio.run(run())
    assert len(ids) == 2  # the retry and the late original: a duplicate
    assert [j["created_at"] for j in emu.jobs(WARMUP_JOB)] == [
        "2026-05-28T20:26:40.000Z",
        "2026-05-28T20:26:48.000Z",
    ]


def test_a_late_submit_is_validated_on_arrival(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.faults.late_submit(seconds=1)
    with pytest.raises(httpx.ReadError):
        client.post(DISABLE, json={"emails": "x" * 3, "include_all_emails": "maybe"})
    clock.advance(1)
    assert emu.jobs(WARMUP_JOB) == []
    assert emu.log[-1].status == 400 and emu.log[-1].fault == "late_submit"
    with pytest.raises(ValueError, match="seconds"):
        emu.faults.late_submit(seconds=-1)


# --- listings: cursor cycles and dropped cursors -----------------------------------------------


def test_page_twos_cursor_leads_back_to_page_one(emu: Emulator, client: httpx.Client) -> None:
    everyone, _ = list_all(client, "/api/v2/accounts", limit=10)
    emails = [a["email"] for a in everyone]
    emu.faults.cursor_cycle(ACCOUNTS)
    pages = _pages(client, "/api/v2/accounts", max_pages=5, limit=10)
    # Page 1, page 2, page 1 again (page 2's cursor), page 2 again, then on to page 3: spent.
    assert [_emails(p) for p in pages] == [emails[i : i + 10] for i in (0, 10, 0, 10, 20)]
    cursors = [p["next_starting_after"] for p in pages]
    assert cursors[0] == cursors[2] and cursors[1] == cursors[3]  # the repeat a client must see
    assert [r.fault for r in emu.log[-5:]] == [None, None, "cursor_cycle", None, None]
    # A fresh walk is whole again.
    again, _ = list_all(client, "/api/v2/accounts", limit=10)
    assert again == everyone


def test_a_cursor_cycle_loops_until_spent(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.cursor_cycle(ACCOUNTS, times=3, page=1)
    pages = _pages(client, "/api/v2/accounts", max_pages=5, limit=50)
    firsts = [_emails(p)[0] for p in pages]
    assert firsts[0] == firsts[1] == firsts[2] == firsts[3] != firsts[4]
    assert emu.counts().statuses == {200: 5}


def test_a_cursor_cycle_on_another_listing(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    mappings, _ = list_all(client, "/api/v2/custom-tag-mappings", limit=7)
    emu.faults.cursor_cycle(("GET", "/api/v2/custom-tag-mappings"))
    pages = _pages(client, "/api/v2/custom-tag-mappings", max_pages=3, limit=7)
    assert [p["items"] for p in pages] == [mappings[0:7], mappings[7:14], mappings[0:7]]


def test_a_full_page_without_a_cursor(emu: Emulator, client: httpx.Client) -> None:
    everyone, _ = list_all(client, "/api/v2/accounts", limit=25)
    assert len(everyone) == 120
    emu.faults.drop_cursor(ACCOUNTS, page=2)
    pages = _pages(client, "/api/v2/accounts", limit=25)
    assert [len(p["items"]) for p in pages] == [25, 25]  # a naive client stops: 50 of 120
    assert "next_starting_after" in pages[0] and "next_starting_after" not in pages[1]
    assert _emails(pages[1]) == [a["email"] for a in everyone[25:50]]
    assert emu.log[-1].fault == "drop_cursor"
    again, _ = list_all(client, "/api/v2/accounts", limit=25)
    assert again == everyone


def test_drop_cursor_defaults_to_page_one_and_any_listing(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    for _ in range(3):
        client.post(DISABLE, json={})
        clock.advance(1)
    emu.faults.drop_cursor(("GET", "/api/v2/background-jobs"), times=2)
    for _ in range(2):
        page = client.get("/api/v2/background-jobs", params={"limit": 2}).json()
        assert len(page["items"]) == 2 and "next_starting_after" not in page
    assert (
        "next_starting_after" in client.get("/api/v2/background-jobs", params={"limit": 2}).json()
    )
    with pytest.raises(ValueError, match="page"):
        emu.faults.drop_cursor(ACCOUNTS, page=0)


# --- an error echoing the key ------------------------------------------------------------------


def test_an_error_that_quotes_the_api_key(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.echo_key(("POST", DISABLE))
    leaked = client.post(DISABLE, json={"emails": _active(emu, 1)})
    assert leaked.status_code == 400
    body = leaked.json()
    assert list(body) == ["statusCode", "error", "message"]
    assert f"Bearer {KEY}" in body["message"]
    assert emu.jobs(WARMUP_JOB) == []  # not processed
    assert emu.log[-1].fault == "echo_key"
    emu.faults.echo_key("*", status=503)
    crashed = client.get("/api/v2/accounts", headers={"Authorization": f"bearer  {KEY}"})
    assert crashed.status_code == 503 and crashed.headers["content-type"].startswith(
        "application/json"
    )
    assert f"bearer  {KEY}" in crashed.json()["message"]
    assert client.get("/api/v2/accounts").status_code == 200
    with pytest.raises(ValueError, match="4xx or 5xx"):
        emu.faults.echo_key("*", status=302)


def test_faults_are_cleared_and_the_default_answers_are_untouched(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    for arm in (
        lambda: emu.faults.garbled("*"),
        lambda: emu.faults.missing_id(),
        lambda: emu.faults.late_submit(),
        lambda: emu.faults.cursor_cycle("*"),
        lambda: emu.faults.drop_cursor("*"),
        lambda: emu.faults.echo_key(),
        lambda: emu.faults.vanishing_job(),
    ):
        arm()
    emu.faults.clear()
    assert repr(emu.faults) == "Faults(0 request fault(s), 0 job fault(s))"
    job = client.post(DISABLE, json={}).json()
    assert "id" in job
    assert client.get(f"/api/v2/background-jobs/{job['id']}").status_code == 200
    pages = _pages(client, "/api/v2/accounts", limit=100)
    assert [len(p["items"]) for p in pages] == [100, 20, 0]
    assert all(r.fault is None for r in emu.log)


def test_odd_answers_over_the_asgi_app_too(emu: Emulator, clock: VirtualClock) -> None:
    emu.faults.garbled(ACCOUNTS, kind="html")
    emu.faults.missing_id()
    emu.faults.echo_key(("GET", "/api/v2/custom-tags"), status=500)
    emu.faults.drop_cursor(ACCOUNTS, page=1)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=emu.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu", headers=AUTH) as c:
            return [
                await c.get("/api/v2/accounts"),
                await c.post(DISABLE, json={}),
                await c.get("/api/v2/custom-tags"),
                await c.get("/api/v2/accounts"),
            ]

    html, no_id, leaked, no_cursor = asyncio.run(run())
    assert (html.status_code, html.headers["content-type"]) == (200, "text/html; charset=UTF-8")
    assert "id" not in no_id.json() and len(emu.jobs(WARMUP_JOB)) == 1
    assert leaked.status_code == 500 and KEY in leaked.json()["message"]
    # A garbled page shows no cursor to bend: drop_cursor waited for the next page 1.
    assert len(no_cursor.json()["items"]) == 10 and "next_starting_after" not in no_cursor.json()
