"""Warmup health: ``warmup_analytics`` (one request) and ``read_warmup_health`` (any target).

Against the emulated workspace in virtual time: chunks of 100 in flight together within the
client's budget, unknown emails kept and flagged, stable dtypes when empty, daily rows, a
``Selection`` listed first, bad input refused before anything is sent, and a health frame that
``plan_disable`` takes as it is.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from helpers import workspace

import instantly_nb as nb
from instantly_nb import aio
from instantly_nb._demo import DEMO_BASE_URL, DemoInstantly
from instantly_nb.errors import InvalidResponseError, PermissionDeniedError
from instantly_nb.health import DAILY_COLUMNS, HEALTH_COLUMNS, MAX_IN_FLIGHT
from instantly_nb.testing import VirtualClock

ANALYTICS = "/api/v2/accounts/warmup-analytics"


def _analytics_posts(client: DemoInstantly) -> list[Any]:
    return [r for r in client.emulator.log if r.path == ANALYTICS]


def _emails(client: DemoInstantly, count: int | None = None) -> list[str]:
    return [a["email"] for a in client.emulator.accounts()][:count]


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


class _InFlight(httpx.AsyncBaseTransport):
    """The emulator's transport with answers that take ``latency`` (virtual) seconds: counts
    the requests in flight at once and when each one left."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: VirtualClock) -> None:
        self.inner, self.clock = inner, clock
        self.now = self.most = 0
        self.sent: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(self.clock.now())
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.clock.sleep(0.05)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


def _busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times)))


def _slow_client(rate: nb.RateLimit | None = None) -> tuple[nb.Instantly, _InFlight, list[str]]:
    demo = workspace(2500)
    transport = _InFlight(demo.emulator.transport(), demo.emulator.clock)  # type: ignore[arg-type]
    client = nb.Instantly(
        demo.emulator.api_key,
        base_url=DEMO_BASE_URL,
        transport=transport,
        clock=demo.emulator.clock,
        rate=rate,
    )
    return client, transport, _emails(demo)


# --- the client method ---------------------------------------------------------------------


def test_warmup_analytics_is_one_request_as_instantly_answers_it() -> None:
    client = workspace(50)
    emails = _emails(client, 3)
    answer = client.warmup_analytics([*emails, "nobody@nowhere.io"])
    assert set(answer["aggregate_data"]) == set(emails)
    assert set(answer["email_date_data"]) == set(emails)
    (post,) = _analytics_posts(client)
    assert post.request_json == {"emails": [*emails, "nobody@nowhere.io"]}


@pytest.mark.parametrize(
    "emails",
    [
        [],
        [f"user{i}@acme.io" for i in range(101)],
        "one@acme.io",
        ["one@acme.io", "ONE@acme.io"],
        ["not an email"],
        ["ok@acme.io", None],
    ],
)
def test_warmup_analytics_refuses_bad_emails_before_sending(emails: Any) -> None:
    client = workspace(10)
    with pytest.raises(nb.RequestValidationError):
        client.warmup_analytics(emails)
    assert client.emulator.log == []


def _mock_client(answers: list[Any]) -> tuple[nb.Instantly, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(answers[len(seen) - 1]).encode())

    client = nb.Instantly(
        "test-key", transport=httpx.MockTransport(handle), clock=VirtualClock(), max_retries=2
    )
    return client, seen


@pytest.mark.parametrize(
    "garbage",
    [
        [],
        {},
        {"aggregate_data": []},
        {"aggregate_data": {"a@acme.io": "87%"}},
        {"aggregate_data": {"a@acme.io": {"sent": "5"}}},
        {"aggregate_data": {"a@acme.io": {"sent": -1}}},
        {"aggregate_data": {"a@acme.io": {"landed_spam": 2.5}}},
        {"aggregate_data": {"a@acme.io": {"health_score": "87"}}},
        {"aggregate_data": {"a@acme.io": {"health_score_label": 87}}},
        {"aggregate_data": {}, "email_date_data": []},
        {"aggregate_data": {}, "email_date_data": {"a@acme.io": [1, 2]}},
        {"aggregate_data": {}, "email_date_data": {"a@acme.io": {"2026-10-01": {"sent": True}}}},
    ],
)
def test_an_answer_that_is_not_warmup_analytics_is_retried_then_refused(garbage: Any) -> None:
    client, seen = _mock_client([garbage] * 3)
    with pytest.raises(InvalidResponseError):
        client.warmup_analytics(["a@acme.io"])
    assert len(seen) == 3  # a read: retried like a GET


def test_an_answer_without_days_reads_as_no_days() -> None:
    answer = {"aggregate_data": {"a@acme.io": {"sent": 3.0, "health_score": 90}}}
    client, _ = _mock_client([answer])
    assert client.warmup_analytics(["a@acme.io"]) == {**answer, "email_date_data": {}}


def test_a_server_error_is_retried_like_a_get() -> None:
    client = workspace(20)
    client.emulator.faults.server_error(("POST", ANALYTICS), times=2, status=503)
    answer = client.warmup_analytics(_emails(client, 2))
    assert len(answer["aggregate_data"]) == 2
    assert [r.status for r in _analytics_posts(client)] == [503, 503, 200]


# --- read_warmup_health --------------------------------------------------------------------


def test_250_emails_go_as_three_requests_of_at_most_100() -> None:
    client = workspace(300)
    emails = _emails(client, 250)
    health = nb.read_warmup_health(client, emails, progress=False)
    bodies = [r.request_json["emails"] for r in _analytics_posts(client)]
    assert [len(b) for b in bodies] == [100, 100, 50]
    assert [e for body in bodies for e in body] == emails
    assert list(health["email"]) == emails and health["found"].all()


def test_requests_run_together_within_the_clients_budget() -> None:
    client, transport, emails = _slow_client()
    nb.read_warmup_health(client, emails, progress=False)
    assert len(transport.sent) == 25
    assert 1 < transport.most <= MAX_IN_FLIGHT

    client, transport, emails = _slow_client(nb.RateLimit(per_second=3, per_minute=120))
    health = nb.read_warmup_health(client, emails, progress=False)
    assert len(health) == 2500 and health["found"].all()
    assert 1 < transport.most <= 3
    assert _busiest_second(transport.sent) <= 3


def test_an_error_in_one_request_is_raised_as_itself() -> None:
    client = workspace(500)
    client.emulator.faults.respond(("POST", ANALYTICS), 403, times=1)
    with pytest.raises(PermissionDeniedError):
        nb.read_warmup_health(client, _emails(client), progress=False)


def test_unknown_emails_keep_their_row_flagged_without_numbers() -> None:
    client = workspace(50)
    known = _emails(client, 2)
    health = nb.read_warmup_health(client, [known[0], "ghost@nowhere.io", known[1]], progress=False)
    assert list(health["email"]) == [known[0], "ghost@nowhere.io", known[1]]
    assert list(health["found"]) == [True, False, True]
    ghost = health.iloc[1]
    assert pd.isna(ghost["sent"]) and pd.isna(ghost["spam_rate"]) and pd.isna(ghost["health_score"])
    accounts = {a["email"]: a for a in client.emulator.accounts()}
    for row in health[health["found"]].itertuples():
        assert row.health_score == accounts[row.email]["stat_warmup_score"]
        assert row.landed_inbox + row.landed_spam == row.sent
        if row.sent:
            assert row.spam_rate == pytest.approx(row.landed_spam / row.sent)
            assert row.inbox_rate == pytest.approx(row.landed_inbox / row.sent)


def test_rates_are_nan_when_nothing_was_sent() -> None:
    client = workspace(300)
    idle = [a["email"] for a in client.emulator.accounts() if a["warmup_status"] != 1]
    health = nb.read_warmup_health(client, idle, progress=False)
    silent = health[health["sent"] == 0]
    assert len(silent) > 0 and silent["found"].all()
    assert silent["spam_rate"].isna().all() and silent["inbox_rate"].isna().all()
    assert health[health["sent"] > 0]["spam_rate"].notna().all()


@pytest.mark.parametrize("daily", [False, True])
def test_an_empty_target_gives_an_empty_frame_with_the_same_dtypes(daily: bool) -> None:
    client = workspace(50)
    full = nb.read_warmup_health(client, _emails(client, 5), daily=daily, progress=False)
    sent_before = len(client.emulator.log)
    for empty in ([], pd.DataFrame({"email": pd.Series([], dtype="string")})):
        frame = nb.read_warmup_health(client, empty, daily=daily, progress=False)
        assert frame.empty
        assert _dtypes(frame) == _dtypes(full) == (DAILY_COLUMNS if daily else HEALTH_COLUMNS)
    assert len(client.emulator.log) == sent_before


def test_daily_rows_add_up_to_the_totals() -> None:
    client = workspace(50)
    emails = [*_emails(client, 4), "ghost@nowhere.io"]
    health = nb.read_warmup_health(client, emails, progress=False).set_index("email")
    daily = nb.read_warmup_health(client, emails, daily=True, progress=False)
    assert _dtypes(daily) == DAILY_COLUMNS
    assert "ghost@nowhere.io" not in set(daily["email"])
    assert list(dict.fromkeys(daily["email"])) == [e for e in emails[:4] if health.at[e, "sent"]]
    for email, days in daily.groupby("email", sort=False):
        assert days["date"].is_monotonic_increasing and days["date"].is_unique
        for column in ("sent", "received", "landed_inbox", "landed_spam"):
            assert days[column].sum() == health.at[email, column], (email, column)
    assert (daily["spam_rate"] == daily["landed_spam"] / daily["sent"]).all()


def test_emails_are_de_duplicated_ignoring_case_keeping_the_first_spelling() -> None:
    client = workspace(50)
    email = _emails(client, 1)[0]
    health = nb.read_warmup_health(client, [email.upper(), email.lower()], progress=False)
    assert list(health["email"]) == [email.upper()]
    assert bool(health["found"].iloc[0])


def test_answers_are_matched_to_the_emails_asked_ignoring_case() -> None:
    """(guessed) Instantly may key its answer by the account's own spelling."""
    answer = {"aggregate_data": {"ann@acme.io": {"sent": 4, "landed_inbox": 3, "landed_spam": 1}}}
    client, _ = _mock_client([answer])
    health = nb.read_warmup_health(client, ["Ann@Acme.io"], progress=False)
    assert health.iloc[0]["email"] == "Ann@Acme.io" and bool(health.iloc[0]["found"])
    assert health.iloc[0]["spam_rate"] == 0.25


def test_an_empty_entry_reads_as_an_unknown_email() -> None:
    """(guessed) §7 gives unknown emails as absent; an empty object means the same."""
    answer = {"aggregate_data": {"a@acme.io": {}, "b@acme.io": {"health_score": 0}}}
    client, _ = _mock_client([answer])
    health = nb.read_warmup_health(client, ["a@acme.io", "b@acme.io"], progress=False)
    assert list(health["found"]) == [False, True]
    assert health.iloc[1]["sent"] == 0 and pd.isna(health.iloc[1]["spam_rate"])


def test_a_selection_is_listed_then_read() -> None:
    client = workspace(600)
    tagged = nb.read_accounts(client, tag="Client A", progress=False)
    health = nb.read_warmup_health(client, nb.Selection(tag="Client A"), progress=False)
    assert sorted(health["email"]) == sorted(tagged["email"])
    assert health["found"].all() and len(health) > 100


@pytest.mark.parametrize(
    "bad",
    [
        ["fine@acme.io", "not-an-email"],
        pd.DataFrame({"name": ["a", "b"]}),
        "no/such/file.csv",
        {"email": "a@acme.io"},
    ],
)
def test_bad_targets_are_refused_before_any_request(bad: Any) -> None:
    client = workspace(20)
    with pytest.raises(nb.RequestValidationError):
        nb.read_warmup_health(client, bad, progress=False)
    with pytest.raises(nb.RequestValidationError):
        nb.read_warmup_health(client, _emails(client, 2), daily="yes", progress=False)  # type: ignore[arg-type]
    assert client.emulator.log == []


def test_a_csv_of_emails_is_a_target(tmp_path: Path) -> None:
    client = workspace(50)
    emails = _emails(client, 7)
    path = tmp_path / "inboxes.csv"
    pd.DataFrame({"Email": emails}).to_csv(path, index=False)
    assert list(nb.read_warmup_health(client, path, progress=False)["email"]) == emails


def test_the_health_frame_joins_accounts_and_feeds_the_planner() -> None:
    client = workspace(800)
    accounts = nb.read_accounts(client, progress=False)
    health = nb.read_warmup_health(client, accounts, progress=False)
    joined = accounts.merge(health, on="email", validate="one_to_one")
    assert len(joined) == len(accounts) and joined["found"].all()
    assert (joined["health_score"] == joined["warmup_score"].astype(float)).all()

    unhealthy = health[health.spam_rate > 0.2]
    assert 0 < len(unhealthy) < len(health)
    plan = nb.plan_disable(client, unhealthy, progress=False)
    assert sorted(plan.frame["email"]) == sorted(unhealthy["email"])
    changing = set(plan.frame.loc[plan.frame["action"] == "change", "email"])
    paused = set(joined.loc[joined["warmup_status"] == 0, "email"])
    assert changing == set(unhealthy["email"]) - paused


def test_progress_is_told_after_every_request_and_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = workspace(300)
    calls: list[tuple[int, int, bool]] = []
    nb.read_warmup_health(client, _emails(client, 250), progress=lambda *call: calls.append(call))
    assert calls[-1] == (3, 250, True)
    assert [c[0] for c in calls[:-1]] == [1, 2, 3] and not any(c[2] for c in calls[:-1])
    assert sorted(c[1] for c in calls[:-1])[-1] == 250
    nb.read_warmup_health(client, _emails(client), progress=False)
    assert capsys.readouterr() == ("", "")


def test_the_async_twin_reads_the_same_frame() -> None:
    client = workspace(300)
    emails = _emails(client, 230)
    blocking = nb.read_warmup_health(client, emails, progress=False)

    async def read() -> pd.DataFrame:
        async with nb.AsyncInstantly(
            client.emulator.api_key,
            base_url=DEMO_BASE_URL,
            transport=client.emulator.transport(),
            clock=client.emulator.clock,
        ) as aclient:
            return await aio.read_warmup_health(aclient, emails, progress=False)

    pd.testing.assert_frame_equal(asyncio.run(read()), blocking)
    elsewhere = nb.AsyncInstantly(client.emulator.api_key, base_url=DEMO_BASE_URL)
    with pytest.raises(TypeError, match=r"aio\.read_warmup_health"):
        nb.read_warmup_health(elsewhere, emails)  # type: ignore[arg-type]
