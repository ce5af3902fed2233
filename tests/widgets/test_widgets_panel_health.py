"""WarmupPanel's health filters (issue 16): "Spam rate above" and "Health score below", read on
the client side after the server-side filter narrowed the accounts, for one workspace and for
several; the health columns beside every account of the preview and of the pick list."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from helpers import posts, workspace
from widget_helpers import click, drive

import instantly_nb as nb
from instantly_nb.emulator import JobTiming
from instantly_nb.errors import RequestValidationError
from instantly_nb.testing import ConcurrentClock, DemoWorkspaces, demo
from instantly_nb.widgets import WarmupPanel
from instantly_nb.widgets._health import HEALTH_SHOWN, parse_rate, parse_score

ACTIVE = nb.Selection(filter="ACC_FILTER_W_ACTIVE")


def analytics(log: list[Any]) -> list[Any]:
    return [r for r in log if r.path.endswith("/accounts/warmup-analytics")]


def agency(accounts: int) -> DemoWorkspaces:
    return demo(
        accounts, 5, workspaces=3, clock=ConcurrentClock(),
        timing=JobTiming(queue_delay=2.0, per_account=0.05),
    )  # fmt: skip


def pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """Each row's (workspace, email)."""
    return set(zip(frame["workspace"], frame["email"], strict=True))


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%".replace(".0%", "%")


def test_a_spam_threshold_pauses_exactly_the_accounts_read_warmup_health_names() -> None:
    client = workspace(300)
    health = nb.read_warmup_health(client, ACTIVE, progress=False)
    spammy = health[health["spam_rate"] > 0.2]
    assert 0 < len(spammy) < len(health)  # the threshold does narrow
    read_before = len(analytics(client.emulator.log))
    seen: dict[str, Any] = {}
    statuses: list[str] = []

    async def steps(panel: WarmupPanel) -> None:
        panel.status.observe(lambda c: statuses.append(c["new"]), "value")
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        panel.spam_above.value = "20%"
        await click(panel, panel.preview_button)
        assert panel.plan is not None
        seen["planned"] = set(panel.plan.frame["email"])
        seen["table"] = panel.preview_table.frame
        seen["status"] = panel.status.text
        seen["description"] = panel.plan.description
        await click(panel, panel.submit_button)

    panel = drive(client, steps)
    assert seen["planned"] == set(spammy["email"])
    assert seen["status"].startswith(
        f"Warmup health: {len(spammy)} of {len(health)} account(s) have spam rate above 20%. "
    )
    assert seen["description"] == "filter 'Warmup active', spam rate above 20%"
    assert any("Reading warmup health… " in s for s in statuses)  # the read's progress shown
    table = seen["table"].set_index("email")
    assert list(table.columns[-4:]) == list(HEALTH_SHOWN)  # beside every account
    expected = spammy.set_index("email")
    for email in expected.index:
        assert table.loc[email, "spam_rate"] == percent(expected.loc[email, "spam_rate"])
        assert table.loc[email, "inbox_rate"] == percent(expected.loc[email, "inbox_rate"])
        assert table.loc[email, "health_score"] == f"{expected.loc[email, 'health_score']:.0f}"
        assert table.loc[email, "sent"] == str(expected.loc[email, "sent"])
    results = panel.results
    assert results is not None and set(results["email"]) == set(spammy["email"])
    assert (results["outcome"] == "changed").all()
    now = {a["email"]: a["warmup_status"] for a in client.emulator.accounts()}
    assert sum(now[e] == 0 for e in health["email"]) == len(spammy)  # the others still warm up
    # One analytics request per 100 accounts listed by the filter, and no more.
    assert len(analytics(client.emulator.log)) - read_before == -(-len(health) // 100)


def test_a_health_score_threshold_works_across_the_chosen_workspaces() -> None:
    fleet = agency(80)
    chosen = ["Acme", "Initech"]
    health = nb.read_warmup_health(fleet.subset(chosen), ACTIVE, progress=False)
    weak = health[health["health_score"] < 90]
    assert 0 < len(weak) < len(health) and set(weak["workspace"]) == set(chosen)

    async def steps(panel: WarmupPanel) -> None:
        panel.workspaces.value = tuple(chosen)
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        panel.score_below.value = "90"
        await click(panel, panel.preview_button)

    panel = drive(fleet, steps)
    assert panel.plan is not None and pairs(panel.plan.frame) == pairs(weak)
    table = panel.preview_table.frame
    assert list(table.columns[:2]) == ["workspace", "email"]
    assert set(HEALTH_SHOWN) <= set(table.columns)
    assert (table["health_score"].astype(float) < 90).all()
    assert "Globex" not in panel.plan_view.value  # not chosen: not read, not planned
    assert analytics(fleet.group.member("Globex").log) == []


def test_empty_thresholds_are_off_and_no_health_is_read() -> None:
    client = workspace(200)

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        panel.spam_above.value = "  "
        await click(panel, panel.preview_button)

    panel = drive(client, steps)
    plain = nb.plan_disable(client, ACTIVE, progress=False)
    assert panel.plan is not None
    assert set(panel.plan.frame["email"]) == set(plain.frame["email"])
    assert not set(HEALTH_SHOWN) & set(panel.preview_table.frame.columns)
    assert analytics(client.emulator.log) == []
    assert panel.health.spam_note.text == ""


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("spam_above", "lots", "Spam rate above takes a number, e.g. 0.2 or 20%, not 'lots'"),
        ("spam_above", "20", "type 20% if a percentage is meant"),
        ("spam_above", "-5%", "Spam rate above must be between 0 and 100%"),
        ("score_below", "150", "Health score below takes a score from 0 to 100, not '150'"),
        ("score_below", "high", "Health score below takes a number, e.g. 50, not 'high'"),
    ],
)
def test_a_bad_threshold_is_said_beside_its_field_and_sends_nothing(
    field: str, typed: str, words: str
) -> None:
    client = workspace(120)
    seen: dict[str, Any] = {}

    async def steps(panel: WarmupPanel) -> None:
        panel.filter.value = "ACC_FILTER_W_ACTIVE"
        getattr(panel, field).value = typed
        note = panel.health.spam_note if field == "spam_above" else panel.health.score_note
        seen["note"] = (note.text, note.tone)  # at once, before any click
        sent = len(client.emulator.log)
        await click(panel, panel.preview_button)
        seen["sent"] = len(client.emulator.log) - sent
        seen["status"] = (panel.status.text, panel.status.tone)
        getattr(panel, field).value = ""
        seen["cleared"] = note.text

    panel = drive(client, steps)
    assert words in seen["note"][0] and seen["note"][1] == "error"
    assert seen["sent"] == 0  # not a request of any kind
    assert seen["status"] == (
        "Not planned: a warmup health threshold is not a number (see beside it)",
        "error",
    )
    assert panel.plan is None and posts(client) == []
    assert seen["cleared"] == ""


def test_the_pick_list_shows_health_when_a_threshold_is_set() -> None:
    client = workspace(150)
    health = nb.read_warmup_health(client, nb.read_accounts(client, progress=False), progress=False)

    async def steps(panel: WarmupPanel) -> None:
        panel.target_kind.value = "emails"
        await click(panel, panel.load_button)
        assert not set(HEALTH_SHOWN) & set(panel.pick.frame.columns)  # off: not read
        panel.score_below.value = "50%"
        await click(panel, panel.load_button)

    panel = drive(client, steps)
    table = panel.pick.frame.set_index("email")
    assert list(table.columns[-4:]) == list(HEALTH_SHOWN)
    expected = health.set_index("email")["spam_rate"]
    assert all(table.loc[e, "spam_rate"] == (percent(r) if pd.notna(r) else "")
               for e, r in expected.items())  # fmt: skip


def test_thresholds_read_as_a_person_types_them() -> None:
    assert parse_rate("0.2") == parse_rate("20%") == parse_rate(" 20 % ") == 0.2
    assert parse_rate("") is None and parse_score(" ") is None
    assert parse_rate("1") == 1.0 and parse_rate("0") == 0.0
    assert parse_score("50") == parse_score("50%") == 50.0
    for bad in ("2", "abc", "nan", "inf", "120%"):
        with pytest.raises(RequestValidationError):
            parse_rate(bad)
    for bad in ("-1", "101", "x"):
        with pytest.raises(RequestValidationError):
            parse_score(bad)


def test_pasted_emails_in_several_workspaces_are_read_everywhere_and_kept_where_found() -> None:
    # Bare emails say no workspace: each is read in every chosen workspace, and the ones past
    # the threshold are planned where the planner finds them.
    fleet = agency(60)
    health = nb.read_warmup_health(fleet, ACTIVE, progress=False)
    pasted = health.groupby("workspace").head(6)
    weak = pasted[pasted["health_score"] < 90]
    assert 0 < len(weak) < len(pasted) and weak["workspace"].nunique() > 1
    reads = {n: len(analytics(m.log)) for n, m in fleet.group.members.items()}
    said: list[str] = []

    async def steps(panel: WarmupPanel) -> None:
        panel.status.observe(lambda c: said.append(c["new"]), "value")
        panel.target_kind.value = "emails"
        panel.emails.value = "\n".join(pasted["email"])
        panel.score_below.value = "90"
        await click(panel, panel.preview_button)

    panel = drive(fleet, steps)
    assert panel.plan is not None and pairs(panel.plan.frame) == pairs(weak)
    for name, member in fleet.group.members.items():  # the pasted list, read in each of them
        assert len(analytics(member.log)) == reads[name] + 1, name
    assert any("Reading warmup health… " in s for s in said)
