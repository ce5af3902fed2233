"""How a warmup job reads ``search``, ``filter.tag_id`` and ``filter.filter`` (``WarmupReading``),
and when it resolves its selection (at its start, after the queue delay).

Expected selections are computed through the list endpoint (the "list" reading's reference) and
the accounts' own fields, never through the emulator's selection code.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emu_support import AUTH, BASE_URL, KEY, list_all

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator, JobTiming, WarmupReading

DISABLE = "/api/v2/accounts/warmup/disable"
READINGS = ("list", "drop", "broaden")
PROVIDERS = {1: "Custom IMAP/SMTP", 2: "Google", 3: "Microsoft", 4: "AWS", 8: "AirMail"}
PROVIDERS[11] = "Airmail Instant"


@pytest.fixture
def emu(clock: VirtualClock) -> Emulator:
    # No rate limit: the expectations below list the workspace many times in one instant.
    return Emulator(
        accounts=120,
        seed=7,
        api_key=KEY,
        clock=clock,
        timing=JobTiming(queue_delay=0.5, per_account=0.1),
        rate_limit=None,
    )


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=AUTH) as http:
        yield http


def _listed(client: httpx.Client, **params: Any) -> set[str]:
    items, _ = list_all(client, "/api/v2/accounts", limit=100, **params)
    return {a["email"] for a in items}


def _everyone(client: httpx.Client) -> list[dict[str, Any]]:
    items, _ = list_all(client, "/api/v2/accounts", limit=100, include_tags="true")
    return items


def _tag(emu: Emulator, label: str) -> str:
    return next(t["id"] for t in emu.tags() if t["label"] == label)


class Expect:
    """What each reading of each field selects, from the list endpoint and account fields."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.accounts = _everyone(client)
        self.all = {a["email"] for a in self.accounts}

    def search(self, reading: str, needle: str) -> set[str]:
        if reading == "drop":
            return set(self.all)
        listed = _listed(self.client, search=needle)
        if reading == "list":
            return listed
        broad = set(listed)
        for a in self.accounts:
            texts = [
                a["email"],
                a.get("first_name"),
                a.get("last_name"),
                a.get("tracking_domain_name"),
                PROVIDERS[a["provider_code"]],
            ]
            if any(t and needle.lower() in t.lower() for t in texts):
                broad.add(a["email"])
        return broad

    def tag(self, reading: str, tag_id: str) -> set[str]:
        if reading == "drop":
            return set(self.all)
        if reading == "list":
            return _listed(self.client, tag_ids=tag_id)
        return {a["email"] for a in self.accounts if a["tags"]}  # any tag at all

    def filter(self, reading: str, name: str) -> set[str]:
        if reading == "drop":
            return set(self.all)
        listed = _listed(self.client, filter=name)
        if reading == "list":
            return listed

        def also(*names: str) -> set[str]:
            return set().union(*(_listed(self.client, filter=n) for n in names))

        def where(rule: Any) -> set[str]:
            return {a["email"] for a in self.accounts if rule(a)}

        extra = {
            "ACC_FILTER_W_ACTIVE": lambda: also("ACC_FILTER_W_PAUSED"),
            "ACC_FILTER_W_PAUSED": lambda: also("ACC_FILTER_W_ERROR"),
            "ACC_FILTER_W_ERROR": lambda: also("ACC_FILTER_ERROR"),
            "ACC_FILTER_ERROR": lambda: also("ACC_FILTER_W_ERROR"),
            "ACC_FILTER_PAUSED": lambda: (
                also("ACC_FILTER_W_PAUSED") | where(lambda a: a.get("status") == 3)
            ),
            "ACC_FILTER_NO_CTD": lambda: where(
                lambda a: a.get("tracking_domain_status") != "active"
            ),
            "ACC_FILTER_DFY_SETUP_PENDING": lambda: also("ACC_FILTER_DFY"),
            "ACC_FILTER_DFY": lambda: also(
                "ACC_FILTER_DFY_SETUP_PENDING", "ACC_FILTER_PW_ACCOUNTS"
            ),
            "ACC_FILTER_PW_ACCOUNTS": lambda: also("ACC_FILTER_DFY"),
        }[name]()
        return listed | extra


def _run(
    emu: Emulator, client: httpx.Client, clock: VirtualClock, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    """Send a disable, let it finish; the job and warmup_status of every account before/after."""
    before = {a["email"]: a["warmup_status"] for a in emu.accounts()}
    response = client.post(DISABLE, json=body)
    assert response.status_code == 200, response.text
    clock.advance(60)
    job = client.get(f"/api/v2/background-jobs/{response.json()['id']}").json()
    assert job["status"] == "success"
    after = {a["email"]: a["warmup_status"] for a in emu.accounts()}
    return job, before, after


def _check_job(
    emu: Emulator,
    job: dict[str, Any],
    before: dict[str, int],
    after: dict[str, int],
    expected: set[str],
) -> None:
    """The job processed exactly ``expected`` (newest first), its counters agree, and exactly
    its successful entries changed."""
    data = job["data"]
    processed = [p["email"] for p in data["processed_emails"]]
    order = [a["email"] for a in emu.accounts()]
    assert processed == [e for e in order if e in expected]
    assert data["total_to_process"] == len(expected)
    succeeded = {p["email"] for p in data["processed_emails"] if p["status"] == "success"}
    failed = [p for p in data["processed_emails"] if p["status"] == "failed"]
    assert (data["success_count"], data["failed_count"]) == (len(succeeded), len(failed))
    assert data["success_count"] + data["failed_count"] == len(expected)
    # Only banned/suspended warmup fails (negative_warmup="fail"), and stays as it was.
    assert all(before[p["email"]] < 0 for p in failed)
    for email, status in after.items():
        assert status == (0 if email in succeeded else before[email]), email


def test_the_default_reading_is_the_list_endpoints(emu: Emulator) -> None:
    assert emu.warmup_selection == WarmupReading() == WarmupReading("list", "list", "list")
    assert Emulator(3, warmup_selection=None).warmup_selection == WarmupReading()


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("needle", ["smith", "soft", ".COM"])
def test_each_reading_of_search(
    emu: Emulator, client: httpx.Client, clock: VirtualClock, reading: str, needle: str
) -> None:
    emu.warmup_selection = {"search": reading}
    expected = Expect(client).search(reading, needle)
    job, before, after = _run(emu, client, clock, {"include_all_emails": True, "search": needle})
    _check_job(emu, job, before, after, expected)


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("label", ["Client A", "Warmup pool", None])
def test_each_reading_of_tag_id(
    emu: Emulator, client: httpx.Client, clock: VirtualClock, reading: str, label: str | None
) -> None:
    emu.warmup_selection = WarmupReading(tag_id=reading)  # type: ignore[arg-type]
    tag_id = _tag(emu, label) if label else "00000000-0000-4000-8000-000000000000"
    expected = Expect(client).tag(reading, tag_id)
    body = {"include_all_emails": True, "filter": {"tag_id": tag_id}}
    job, before, after = _run(emu, client, clock, body)
    _check_job(emu, job, before, after, expected)


FILTER_NAMES = (
    "ACC_FILTER_W_ACTIVE",
    "ACC_FILTER_W_PAUSED",
    "ACC_FILTER_W_ERROR",
    "ACC_FILTER_PAUSED",
    "ACC_FILTER_ERROR",
    "ACC_FILTER_NO_CTD",
    "ACC_FILTER_DFY",
    "ACC_FILTER_DFY_SETUP_PENDING",
    "ACC_FILTER_PW_ACCOUNTS",
)


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("name", FILTER_NAMES)
def test_each_reading_of_filter(clock: VirtualClock, reading: str, name: str) -> None:
    # 600 accounts, so the rarer filters (managed, pre-warmed) select someone.
    emu = Emulator(
        600, 11, clock=clock, rate_limit=None, warmup_selection={"filter": reading},
        timing=JobTiming(queue_delay=0.5, per_account=0.01),
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=auth) as client:
        expect = Expect(client)
        expected = expect.filter(reading, name)
        listed = expect.filter("list", name)
        assert listed, name
        job, before, after = _run(
            emu, client, clock, {"include_all_emails": True, "filter": {"filter": name}}
        )
    _check_job(emu, job, before, after, expected)
    assert expected >= listed


def test_broadened_and_dropped_readings_select_more_than_the_list(
    emu: Emulator, client: httpx.Client
) -> None:
    expect = Expect(client)
    client_a = _tag(emu, "Client A")
    looser = ("list", "broaden", "drop")
    for listed, broad, dropped in (
        (expect.search(r, "smith") for r in looser),
        (expect.search(r, "soft") for r in looser),
        (expect.tag(r, client_a) for r in looser),
        (expect.filter(r, "ACC_FILTER_W_ACTIVE") for r in looser),
        (expect.filter(r, "ACC_FILTER_W_ERROR") for r in looser),
    ):
        assert listed < broad < dropped == expect.all
    # "soft": no email has it, every Microsoft account does (the provider's name).
    assert expect.search("list", "soft") == set()
    microsoft = {a["email"] for a in expect.accounts if a["provider_code"] == 3}
    assert expect.search("broaden", "soft") == microsoft


@pytest.mark.parametrize(
    ("search", "tag_id", "filter_"), list(itertools.product(READINGS, repeat=3))
)
def test_every_combination_ands_the_fields_and_keeps_exclusions(
    emu: Emulator,
    client: httpx.Client,
    clock: VirtualClock,
    search: str,
    tag_id: str,
    filter_: str,
) -> None:
    reading = WarmupReading(search, tag_id, filter_)  # type: ignore[arg-type]
    emu.warmup_selection = reading
    expect = Expect(client)
    tag = _tag(emu, "Client C")
    chosen = (
        expect.search(search, "an")
        & expect.tag(tag_id, tag)
        & expect.filter(filter_, "ACC_FILTER_W_ACTIVE")
    )
    # Two accounts the job would pause were they not excluded.
    excluded = [
        a["email"] for a in emu.accounts() if a["email"] in chosen and a["warmup_status"] == 1
    ]
    excluded = excluded[:2]
    assert len(excluded) == 2, reading
    body = {
        "include_all_emails": True,
        "excluded_emails": [e.upper() for e in excluded],
        "filter": {"tag_id": tag, "filter": "ACC_FILTER_W_ACTIVE"},
        "search": "an",
    }
    job, before, after = _run(emu, client, clock, body)
    _check_job(emu, job, before, after, chosen - set(excluded))
    assert all(after[e] == before[e] == 1 for e in excluded)
    assert job["data"]["filters"]["excludedEmails"] == [e.upper() for e in excluded]


def test_readings_leave_explicit_emails_alone(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    emu.warmup_selection = WarmupReading("broaden", "drop", "broaden")
    targets = [a["email"] for a in emu.accounts() if a["warmup_status"] == 1][:3]
    job, before, after = _run(emu, client, clock, {"emails": targets, "search": "zzz"})
    _check_job(emu, job, before, after, set(targets))


def test_the_reading_is_taken_when_the_job_is_created(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    expect = Expect(client)
    emu.warmup_selection = {"search": "drop"}
    before = {a["email"]: a["warmup_status"] for a in emu.accounts()}
    job_id = client.post(DISABLE, json={"include_all_emails": True, "search": "smith"}).json()["id"]
    emu.warmup_selection = None  # too late for that job
    assert emu.warmup_selection == WarmupReading()
    clock.advance(60)
    job = client.get(f"/api/v2/background-jobs/{job_id}").json()
    after = {a["email"]: a["warmup_status"] for a in emu.accounts()}
    _check_job(emu, job, before, after, expect.all)
    # ... and the next job reads it the list's way again.
    job, before, after = _run(emu, client, clock, {"include_all_emails": True, "search": "smith"})
    _check_job(emu, job, before, after, expect.search("list", "smith"))


def test_readings_are_checked() -> None:
    with pytest.raises(ValueError, match="search must be one of list, drop, broaden"):
        WarmupReading(search="wide")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown field"):
        Emulator(3, warmup_selection={"tags": "drop"})
    with pytest.raises(ValueError, match="filter must be"):
        Emulator(3, warmup_selection={"filter": "all"})
    emu = Emulator(3)
    with pytest.raises(TypeError):
        emu.warmup_selection = "drop"  # type: ignore[assignment]
    assert emu.warmup_selection == WarmupReading()


# --- when the selection is resolved ------------------------------------------------------------


def test_the_selection_is_resolved_when_the_job_starts_not_when_it_is_sent(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    active = [a["email"] for a in emu.accounts() if a["warmup_status"] == 1]
    body = {"include_all_emails": True, "filter": {"filter": "ACC_FILTER_W_ACTIVE"}}
    job_id = client.post(DISABLE, json=body).json()["id"]
    pending = client.get(f"/api/v2/background-jobs/{job_id}").json()
    assert pending["status"] == "pending" and "total_to_process" not in pending["data"]
    # During the queue delay (0.5 s) the workspace changes.
    clock.advance(0.25)
    emu.set_warmup_status(active[0], 0)
    emu.remove_account(active[1])
    emu.add_account("newcomer@late.example")
    clock.advance(0.25)  # the job starts now and resolves its selection
    emu.add_account("too-late@late.example")
    clock.advance(60)
    job = client.get(f"/api/v2/background-jobs/{job_id}").json()
    processed = [p["email"] for p in job["data"]["processed_emails"]]
    assert processed[0] == "newcomer@late.example"
    assert set(processed) == {"newcomer@late.example", *active[2:]}
    assert job["data"]["total_to_process"] == len(active) - 1
    assert job["data"]["success_count"] == len(active) - 1
    assert emu.account("too-late@late.example")["warmup_status"] == 1  # type: ignore[index]
    assert emu.account(active[0])["warmup_status"] == 0  # type: ignore[index]


def test_explicit_emails_are_looked_up_when_the_job_starts(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    gone = next(a["email"] for a in emu.accounts() if a["warmup_status"] == 1)
    job_id = client.post(DISABLE, json={"emails": ["soon@late.example", gone]}).json()["id"]
    emu.add_account("soon@late.example")
    emu.remove_account(gone)
    clock.advance(60)
    job = client.get(f"/api/v2/background-jobs/{job_id}").json()
    assert job["data"]["processed_emails"] == [
        {"email": "soon@late.example", "status": "success"},
        {"email": gone, "status": "failed", "error": "Account not found"},
    ]
    assert emu.account("soon@late.example")["warmup_status"] == 0  # type: ignore[index]


def test_a_job_started_without_any_request_is_resolved_for_the_accessors(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    job_id = client.post(DISABLE, json={"include_all_emails": True, "search": "smith"}).json()["id"]
    clock.advance(0.5)
    emu.add_account("jane.smith@after.example")  # after the start: not selected
    clock.advance(60)
    job = emu.job(job_id)
    assert job is not None and job["status"] == "success"
    assert "jane.smith@after.example" not in {p["email"] for p in job["data"]["processed_emails"]}
    assert job["data"]["total_to_process"] == 2


def test_jobs_under_every_reading_and_fault_still_validate_against_the_openapi_document(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    from test_emu_contract import check  # the contract tests' validator

    emu.warmup_selection = WarmupReading("broaden", "broaden", "broaden")
    emu.faults.vanishing_job()
    tag = _tag(emu, "Client A")
    body = {
        "include_all_emails": True,
        "search": "an",
        "filter": {"tag_id": tag, "filter": "ACC_FILTER_W_ERROR"},
    }
    posted = client.post(DISABLE, json=body).json()
    check("post", "/api/v2/accounts/warmup/disable", posted)
    path = f"/api/v2/background-jobs/{posted['id']}"
    assert client.get(path).status_code == 404  # vanished once
    for _ in range(12):
        check("get", "/api/v2/background-jobs/{id}", client.get(path).json())
        clock.advance(0.25)
    clock.advance(60)
    done = client.get(path).json()
    check("get", "/api/v2/background-jobs/{id}", done)
    assert done["status"] == "success" and done["data"]["total_to_process"] > 0
    emu.faults.late_submit(seconds=3)
    with pytest.raises(httpx.ReadError):
        client.post(DISABLE, json={"include_all_emails": True, "search": "an"})
    clock.advance(3)
    listed = client.get("/api/v2/background-jobs", params={"limit": 5}).json()
    check("get", "/api/v2/background-jobs", listed)
    assert len(listed["items"]) == 3  # the import job, the first job, the late one
    emu.faults.drop_cursor(("GET", "/api/v2/accounts"))
    check("get", "/api/v2/accounts", client.get("/api/v2/accounts").json())
    check("get", "/api/v2/workspaces/current", client.get("/api/v2/workspaces/current").json())
