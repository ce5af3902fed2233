"""Warmup analytics in the emulator: a seeded daily history consistent with each account (§7).

The totals are the days summed, the health score is the account's ``stat_warmup_score`` and the
last week's inbox share matches it; inboxes recover, degrade or hold steady; a paused account
sends nothing after the day it was paused, and resumes the day after it is enabled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from emu_support import BASE_URL

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator
from instantly_nb.emulator.warmup_history import SCORE_DAYS, WINDOW_DAYS

PATH = "/api/v2/accounts/warmup-analytics"
DAY = 86_400.0


def _analytics(client: httpx.Client, emails: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {"email_date_data": {}, "aggregate_data": {}}
    for start in range(0, len(emails), 100):
        response = client.post(PATH, json={"emails": emails[start : start + 100]})
        assert response.status_code == 200, response.text
        for key in merged:
            merged[key].update(response.json()[key])
    return merged


def _client(emu: Emulator) -> httpx.Client:
    auth = {"Authorization": f"Bearer {emu.api_key}"}
    return httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=auth)


def _date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()


def _week_start(clock: VirtualClock) -> str:
    """The first day of the health score's week (§5.6), today included."""
    return _date(clock.now() - (SCORE_DAYS - 1) * DAY)


def _share(days: list[dict[str, int]]) -> float:
    return sum(d.get("landed_inbox", 0) for d in days) / sum(d["sent"] for d in days)


def _wait_for_jobs(client: httpx.Client, clock: VirtualClock) -> None:
    while any(
        job["status"] not in ("success", "failed")
        for job in client.get("/api/v2/background-jobs", params={"limit": 100}).json()["items"]
    ):
        clock.advance(1.0)


def test_totals_are_the_days_summed_and_the_score_is_the_accounts(
    emu: Emulator, client: httpx.Client
) -> None:
    accounts = emu.accounts()
    answer = _analytics(client, [a["email"] for a in accounts])
    assert set(answer["aggregate_data"]) == {a["email"] for a in accounts}
    for account in accounts:
        email = account["email"]
        total = answer["aggregate_data"][email]
        days = answer["email_date_data"][email]
        assert len(days) <= WINDOW_DAYS
        for key in ("sent", "received", "landed_inbox", "landed_spam"):
            assert total.get(key, 0) == sum(day.get(key, 0) for day in days.values()), key
        for day in days.values():
            assert (
                day["sent"] >= 1
                and day.get("landed_inbox", 0) + day.get("landed_spam", 0) == day["sent"]
            )
            assert all(value > 0 for value in day.values())  # zero counts are left out (§7)
        assert total["health_score"] == account["stat_warmup_score"]
        assert total["health_score_label"] == f"{account['stat_warmup_score']}%"


def test_the_last_week_lands_in_the_inbox_as_the_score_says(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    accounts = {a["email"]: a for a in emu.accounts()}
    answer = _analytics(client, list(accounts))
    checked = 0
    for email, days in answer["email_date_data"].items():
        week = [day for date, day in days.items() if date >= _week_start(clock)]
        score = accounts[email]["stat_warmup_score"]
        if not week or score == 0:
            continue
        sent = sum(day["sent"] for day in week)
        # Whole emails: the share is the score to within half an email of the week's mail.
        assert abs(100 * _share(week) - score) <= 50 / sent + 1e-9, email
        checked += 1
    assert checked > len(accounts) / 2


def test_inboxes_recover_degrade_or_hold_steady(clock: VirtualClock) -> None:
    emu = Emulator(accounts=400, seed=7, clock=clock)
    with _client(emu) as c:
        active = [a["email"] for a in emu.accounts() if a["warmup_status"] == 1]
        answer = _analytics(c, active)
    moves = []
    for days in answer["email_date_data"].values():
        ordered = [day for _, day in sorted(days.items())]
        if len(ordered) == WINDOW_DAYS:
            moves.append(_share(ordered[-3:]) - _share(ordered[:7]))
    recovering = sum(move > 0.1 for move in moves)
    degrading = sum(move < -0.05 for move in moves)
    steady = sum(abs(move) < 0.05 for move in moves)
    assert len(moves) > 200
    assert recovering > len(moves) / 10 and degrading > len(moves) / 20
    assert steady > len(moves) / 2


def test_a_paused_account_sends_nothing_after_the_day_it_was_paused(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    email = next(a["email"] for a in emu.accounts() if a["warmup_status"] == 1)
    before = _analytics(client, [email])["email_date_data"][email]
    assert len(before) >= 2  # it warms every day, today included
    paused = client.post("/api/v2/accounts/warmup/disable", json={"emails": [email]})
    assert paused.status_code == 200
    _wait_for_jobs(client, clock)
    paused_on = _date(clock.now())
    clock.advance(3 * DAY)
    after = _analytics(client, [email])["email_date_data"][email]
    assert max(after) == paused_on  # it warmed on the day it was paused, never after
    assert all(after[date] == before[date] for date in after)  # its past did not change

    client.post("/api/v2/accounts/warmup/enable", json={"emails": [email]})
    _wait_for_jobs(client, clock)
    enabled_on = _date(clock.now())
    assert max(_analytics(client, [email])["email_date_data"][email]) == paused_on
    clock.advance(DAY)
    resumed = _analytics(client, [email])["email_date_data"][email]
    assert max(resumed) == _date(clock.now()) > enabled_on  # back the next day
    assert not [date for date in resumed if paused_on < date <= enabled_on]


def test_a_change_behind_the_apis_back_counts_too(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    email = next(a["email"] for a in emu.accounts() if a["warmup_status"] == 1)
    emu.set_warmup_status(email, 0)
    clock.advance(DAY)
    days = _analytics(client, [email])["email_date_data"][email]
    assert max(days) == _date(clock.now() - DAY)


def test_accounts_generated_idle_warmed_this_week_only_if_they_have_a_score(
    emu: Emulator, client: httpx.Client, clock: VirtualClock
) -> None:
    idle = [a for a in emu.accounts() if a["warmup_status"] != 1]
    answer = _analytics(client, [a["email"] for a in idle])
    for account in idle:
        days = answer["email_date_data"][account["email"]]
        recent = [date for date in days if date >= _week_start(clock)]
        if account["stat_warmup_score"] == 0:
            assert not recent, account  # §5.6: a week without warmup resets the score to 0
        elif "timestamp_warmup_start" in account:
            assert recent, account


def test_the_history_is_seeded(clock: VirtualClock) -> None:
    def answer(seed: int) -> dict[str, Any]:
        emu = Emulator(accounts=60, seed=seed, clock=clock)
        with _client(emu) as c:
            return _analytics(c, [a["email"] for a in emu.accounts()])

    first = answer(3)
    assert answer(3) == first
    other = answer(4)
    assert other != first


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"emails": []}, 400),
        ({"emails": [f"a{i}@x.io" for i in range(101)]}, 400),
        ({"emails": [f"a{i}@x.io" for i in range(100)]}, 200),
        ({"emails": ["nobody@nowhere.io"]}, 200),
    ],
)
def test_one_to_a_hundred_emails_and_unknown_ones_are_left_out(
    body: dict[str, Any], status: int, client: httpx.Client
) -> None:
    response = client.post(PATH, json=body)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"email_date_data": {}, "aggregate_data": {}}
