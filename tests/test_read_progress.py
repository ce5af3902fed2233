"""Long reads tell how they go: pages, accounts and rate, live; quiet when asked or when short."""

from __future__ import annotations

import pytest
from helpers import workspace

from instantly_nb.frames import read_accounts
from instantly_nb.planner import plan_disable
from instantly_nb.progress_text import ReadLine
from instantly_nb.targets import Selection


def test_read_accounts_reports_every_page_and_the_end() -> None:
    client = workspace(1200)
    calls: list[tuple[int, int, bool]] = []
    frame = read_accounts(client, progress=lambda *call: calls.append(call))
    assert calls[-1] == (len(calls) - 1, len(frame), True)
    assert [c[0] for c in calls[:-1]] == list(range(1, len(calls)))  # one call per page
    assert all(not finished for *_, finished in calls[:-1])
    assert calls[-2][1] == len(frame) == 1200


def test_planning_counts_every_read_of_the_workspace() -> None:
    client = workspace(1200)
    calls: list[tuple[int, int, bool]] = []
    plan_disable(client, Selection(tag="Client A"), progress=lambda *call: calls.append(call))
    pages, accounts, finished = calls[-1]
    assert (
        finished
        and pages >= 1
        and accounts
        >= plan_disable(client, Selection(tag="Client A"), progress=False).summary.targeted
    )


def test_a_read_line_is_quiet_when_short_and_says_how_a_long_one_ended() -> None:
    clock = [0.0]
    shown: list[str] = []
    short = ReadLine("reading accounts", show=shown.append, now=lambda: clock[0])
    short(1, 100, False)
    clock[0] += 0.3
    short(2, 200, True)
    assert shown == []  # under a second: nothing to watch
    line = ReadLine("reading accounts", show=shown.append, interval=0.5, now=lambda: clock[0])
    for page in range(1, 41):
        clock[0] += 0.05  # 20 pages a second, for two seconds
        line(page, page * 100, False)
    line(40, 4000, True)
    assert 1 < len(shown) <= 4  # throttled to one line per half second once past the first
    assert shown[-1] == "reading accounts: done · 40 page(s) · 4,000 account(s) · 20 pages/s · 2s"


def test_progress_false_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    client = workspace(3000)
    read_accounts(client, progress=False)
    plan_disable(client, Selection(filter="ACC_FILTER_W_ACTIVE"), progress=False)
    assert capsys.readouterr() == ("", "")


def test_a_read_that_knows_its_size_says_how_long_is_left() -> None:
    clock = [0.0]
    shown: list[str] = []
    line = ReadLine("reading warmup health", show=shown.append, now=lambda: clock[0], expected=1000)
    clock[0] = 2.0
    line(25, 250, False)  # a quarter in two seconds: six to go
    assert shown[-1].endswith("· 2s · about 6s left of 1,000")
    clock[0] = 8.0
    line(100, 1000, True)
    assert "left" not in shown[-1]
    unknown = ReadLine("reading accounts", show=shown.append, now=lambda: clock[0])
    clock[0] = 10.0
    unknown(10, 1000, False)
    assert "left" not in shown[-1]  # a listing has no count to aim at
