"""The redraw throttle: leading draw, coalesced middle, trailing draw; never more often."""

from __future__ import annotations

import asyncio

import pytest

from instantly_nb.widgets._throttle import Throttle


class Clock:
    t = 100.0

    def __call__(self) -> float:
        return self.t


def test_without_a_loop_draws_at_most_once_per_interval_and_flush_draws_the_rest() -> None:
    clock, drawn = Clock(), []
    throttle = Throttle(lambda: drawn.append(clock.t), interval=0.25, clock=clock)
    for _ in range(1000):
        throttle.request()
        clock.t += 0.001  # a thousand events within one second
    assert drawn == pytest.approx([100.0, 100.25, 100.5, 100.75])
    throttle.flush()
    assert len(drawn) == 5  # the final state
    throttle.flush()
    assert len(drawn) == 5  # nothing new: nothing drawn


def test_on_a_loop_the_trailing_draw_shows_the_last_state_without_a_flush() -> None:
    state = {"value": 0}
    drawn: list[int] = []
    throttle = Throttle(lambda: drawn.append(state["value"]), interval=0.05)

    async def burst() -> None:
        for value in range(1, 501):
            state["value"] = value
            throttle.request()
        await asyncio.sleep(0.12)

    asyncio.run(burst())
    assert drawn == [1, 500]
    assert throttle.draws == 2


def test_an_error_in_a_scheduled_draw_is_handed_over() -> None:
    errors: list[BaseException] = []
    calls = []

    def draw() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")

    throttle = Throttle(draw, interval=0.02, on_error=errors.append)

    async def burst() -> None:
        throttle.request()
        throttle.request()
        await asyncio.sleep(0.06)

    asyncio.run(burst())
    assert [str(e) for e in errors] == ["boom"]


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Throttle(lambda: None, interval=-1)
