"""Count the comm messages widgets send: how a test or a benchmark measures redraw traffic.

    with MessageCounter() as sent:
        results = await plan.aexecute(on_update=progress.on_update)
    sent.total, sent.max_per_second()

Every state update of every widget passes through ``Widget._send`` (``hold_sync`` included), and
every new widget through ``Widget.open`` (a ``comm_open`` carrying its whole state): counting both
is what a kernel would put on the wire, with or without a front end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ipywidgets as w

__all__ = ["MessageCounter"]


class MessageCounter:
    """While active, record ``(monotonic time, widget class, kind)`` for each message.

    ``kind`` is ``"update"`` (a state change) or ``"open"`` (a widget created).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.sent: list[tuple[float, str, str]] = []
        self._originals: tuple[Any, Any] | None = None

    def __enter__(self) -> MessageCounter:
        send, open_ = w.Widget._send, w.Widget.open
        self._originals = (send, open_)
        record, clock = self.sent, self._clock

        def counting_send(widget: Any, msg: Any, buffers: Any = None) -> None:
            record.append((clock(), type(widget).__name__, "update"))
            send(widget, msg, buffers=buffers)

        def counting_open(widget: Any) -> None:
            if widget.comm is None:
                record.append((clock(), type(widget).__name__, "open"))
            open_(widget)

        w.Widget._send, w.Widget.open = counting_send, counting_open
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._originals is not None
        w.Widget._send, w.Widget.open = self._originals

    @property
    def total(self) -> int:
        return len(self.sent)

    def count(self, kind: str, widget: str | None = None) -> int:
        """Messages of ``kind``, of the widget class named ``widget`` only if given."""
        return sum(1 for _, name, k in self.sent if k == kind and widget in (None, name))

    def max_per_second(self, window: float = 1.0) -> int:
        """The most messages sent within any ``window`` seconds."""
        times = [t for t, _, _ in self.sent]
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] > window:
                start += 1
            best = max(best, end - start + 1)
        return best
