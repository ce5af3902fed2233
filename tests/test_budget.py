from __future__ import annotations

import random

import pytest

from instantly_nb._budget import RateBudget, RateLimit
from instantly_nb.errors import ConfigurationError


def _max_in_window(stamps: list[float], length: float) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= length:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_no_window_ever_holds_more_than_the_budget() -> None:
    budget = RateBudget(RateLimit(per_second=7, per_minute=50))
    rng = random.Random(3)
    now, sent = 1000.0, []
    while len(sent) < 400:
        wait = budget.reserve(now)
        if wait == 0:
            sent.append(now)
            now += rng.choice([0.0, 0.0, 0.001, 0.05, 0.3])
        else:
            assert wait > 0
            now += wait
    assert _max_in_window(sent, 1.0) == 7
    assert _max_in_window(sent, 60.0) == 50


def test_reserve_records_only_admitted_requests() -> None:
    budget = RateBudget(RateLimit(per_second=2, per_minute=100))
    assert budget.reserve(0.0) == 0
    assert budget.reserve(0.0) == 0
    wait = budget.reserve(0.5)
    assert wait == pytest.approx(0.501)
    assert budget.reserve(0.5) == pytest.approx(0.501)  # refusals do not use up the budget
    assert budget.reserve(1.002) == 0


def test_limits_must_make_sense() -> None:
    with pytest.raises(ConfigurationError):
        RateLimit(per_second=0)
    with pytest.raises(ConfigurationError):
        RateLimit(per_second=200, per_minute=100)
    assert RateLimit().per_second < 100 and RateLimit().per_minute < 6000


def test_a_margin_lengthens_every_window() -> None:
    plain = RateBudget(RateLimit(per_second=1, per_minute=10))
    wide = RateBudget(RateLimit(per_second=1, per_minute=10), margin=0.5)
    assert plain.reserve(0.0) == wide.reserve(0.0) == 0
    assert plain.reserve(1.01) == 0
    assert wide.reserve(1.01) == pytest.approx(0.491)
