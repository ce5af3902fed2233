"""The redraw throttle: leading draw, coalesced middle, trailing draw; never more often.

The tests run on an injected clock, mostly a ``VirtualTimer``: they say exactly when each draw
happens, and fail if a burst is drawn more than twice, a draw comes early, or the last is lost.
"""

from __future__ import annotations

import asyncio

import pytest
from widget_helpers import VirtualTimer

from instantly_nb.widgets._throttle import LoopTimer, Throttle


def _recording(
    timer: VirtualTimer, interval: float
) -> tuple[Throttle, dict[str, int], list[tuple[float, int]]]:
    """A throttle drawing ``state["value"]``; each draw appends ``(time, value)``."""
    state = {"value": 0}
    drawn: list[tuple[float, int]] = []
    throttle = Throttle(
        lambda: drawn.append((timer.now(), state["value"])), interval=interval, timer=timer
    )
    return throttle, state, drawn


def test_a_burst_is_drawn_at_once_then_once_more_with_its_last_state_an_interval_later() -> None:
    timer = VirtualTimer()
    throttle, state, drawn = _recording(timer, 0.05)
    for value in range(1, 501):
        state["value"] = value
        throttle.request()
    assert drawn == [(100.0, 1)]  # the leading draw; the other 499 wait for one trailing draw
    assert timer.pending == 1
    timer.advance(0.049)
    assert drawn == [(100.0, 1)]  # not before the interval is up
    timer.advance(0.001)
    assert drawn == [(100.0, 1), (pytest.approx(100.05), 500)]  # no flush needed
    assert throttle.draws == 2 and timer.pending == 0
    timer.advance(10)
    assert throttle.draws == 2  # nothing changed: nothing drawn


def test_a_steady_stream_is_drawn_once_per_interval_and_its_last_state_at_the_end() -> None:
    timer = VirtualTimer()
    throttle, state, drawn = _recording(timer, 0.25)
    for value in range(1, 1001):  # a thousand events within one second
        state["value"] = value
        throttle.request()
        timer.advance(0.001)
    timer.advance(0.25)
    times = [t for t, _ in drawn]
    assert times == pytest.approx([100.0, 100.25, 100.5, 100.75, 101.0])
    assert drawn[-1][1] == 1000


def test_after_a_quiet_interval_the_next_event_is_drawn_at_once() -> None:
    timer = VirtualTimer()
    throttle, state, drawn = _recording(timer, 0.25)
    throttle.request()
    timer.advance(0.3)
    state["value"] = 7
    throttle.request()
    assert drawn == [(100.0, 0), (pytest.approx(100.3), 7)]
    assert timer.pending == 0


def test_flush_draws_a_pending_change_now_and_drops_the_trailing_draw() -> None:
    timer = VirtualTimer()
    throttle, state, drawn = _recording(timer, 0.25)
    throttle.request()
    state["value"] = 1
    throttle.request()
    throttle.flush()
    assert drawn == [(100.0, 0), (100.0, 1)] and timer.pending == 0
    throttle.flush()
    timer.advance(1)
    assert len(drawn) == 2  # nothing new: nothing drawn, and no trailing draw left over
    throttle.draw_now()
    assert len(drawn) == 3  # a click is answered, changed or not


def test_without_a_loop_draws_at_most_once_per_interval_and_flush_draws_the_rest() -> None:
    # The real timer, outside a loop: nothing can schedule a trailing draw, so only requests
    # (and flush) draw. Its clock is injected: each request "happens" a millisecond later.
    now = [100.0]
    drawn: list[float] = []
    throttle = Throttle(
        lambda: drawn.append(now[0]), interval=0.25, timer=LoopTimer(lambda: now[0])
    )
    for _ in range(1000):
        throttle.request()
        now[0] += 0.001
    assert drawn == pytest.approx([100.0, 100.25, 100.5, 100.75])
    throttle.flush()
    assert len(drawn) == 5  # the final state
    throttle.flush()
    assert len(drawn) == 5


def test_an_error_in_a_scheduled_draw_is_handed_over() -> None:
    timer = VirtualTimer()
    errors: list[BaseException] = []
    calls = []

    def draw() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")

    throttle = Throttle(draw, interval=0.02, timer=timer, on_error=errors.append)
    throttle.request()
    throttle.request()
    assert errors == []
    timer.advance(0.02)
    assert [str(e) for e in errors] == ["boom"]


def test_the_default_timer_calls_back_on_the_running_loop_and_needs_one() -> None:
    assert isinstance(Throttle(lambda: None).timer, LoopTimer)
    called: list[str] = []

    async def main() -> None:
        timer = LoopTimer()
        timer.call_later(0, lambda: called.append("due"))
        timer.call_later(0, lambda: called.append("cancelled")).cancel()
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio.run(main())
    assert called == ["due"]
    with pytest.raises(RuntimeError):
        LoopTimer().call_later(0, lambda: None)


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Throttle(lambda: None, interval=-1)
