"""Live progress without widgets: what ``plan.execute()`` shows when nobody passes ``on_update``.

In a notebook (any kernel: JupyterLab, papermill, Voila) it is one line that updates in place,
redrawn at most twice a second. On a terminal it prints a line per finished job to stderr, so
logs stay readable. It draws the same ``RunProgress`` model as the panel's ``JobProgress``.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import Any

from .events import RunEvent
from .progress import RunProgress

__all__ = ["ReadCount", "ReadLine", "ReadListener", "TextProgress", "read_listener"]

# Kinds that are always drawn, whatever the throttle says: the reader must not miss them.
_MILESTONES = frozenset({"started", "waiting_lock", "job_done", "finished", "stopped", "stale"})


class TextProgress:
    """An ``on_update`` listener that draws a run as one line of text.

    Parameters
    ----------
    title : str
        What the run does, e.g. ``"disable warmup"``.
    show : callable, optional
        Where each line goes; by default a display that updates in place in a notebook, or
        stderr on a terminal (milestones only).
    interval : float
        Least time between two redraws of a non-milestone event.
    now : callable
        Monotonic seconds (tests pass a virtual clock).
    """

    def __init__(
        self,
        title: str,
        show: Callable[[str], None] | None = None,
        interval: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title = title
        self.interval = interval
        self.lines: list[str] = []  # what was drawn, for tests and for the record
        self.model = RunProgress(now=now)
        self._show, self._milestones_only = (show, False) if show else _default_sink()
        self._last = float("-inf")

    def __call__(self, event: RunEvent) -> None:
        self.model.apply(event)
        milestone = event.kind in _MILESTONES
        if self._milestones_only and not milestone:
            return
        now = self.model.now()
        if not milestone and now - self._last < self.interval:
            return
        self._last = now
        line = self._line(event)
        self.lines.append(line)
        self._show(line)

    def _line(self, event: RunEvent) -> str:
        elapsed = self.model.elapsed() or 0.0
        jobs = f"job {min(event.done + 1, event.requests)}/{event.requests}"
        if event.kind in ("finished", "stopped", "stale"):
            jobs = f"{event.done}/{event.requests} job(s) done"
        parts = [f"{self.title}: {jobs}"]
        if event.job is not None and event.kind in ("progress", "job_done", "submitted"):
            parts.append(f"{event.job.status.label.lower()} {event.job.progress:.0f}%")
        processed = self.model.counts()["processed"]
        if processed:
            parts.append(f"{processed} account(s) processed")
        if event.message and event.kind != "submitted":
            parts.append(event.message)
        parts.append(f"{elapsed:.0f}s")
        return " · ".join(parts)


ReadListener = Callable[[int, int, bool], object]  # (pages, accounts, finished)


class ReadCount:
    """Requests made and accounts read so far by one read (of one listing or several), each
    step told to its ``ReadListener``."""

    def __init__(self, report: ReadListener | None) -> None:
        self.report = report
        self.pages = 0
        self.accounts = 0

    def page(self, accounts: int) -> None:
        """One more request answered, with ``accounts`` more accounts."""
        self.pages += 1
        self.accounts += accounts
        if self.report is not None:
            self.report(self.pages, self.accounts, False)

    def finish(self) -> None:
        if self.report is not None:
            self.report(self.pages, self.accounts, True)


class ReadLine:
    """A ``ReadListener`` that draws a long read as one live line: pages, accounts, rate.

    Quiet for reads shorter than ``quiet_for`` seconds (most are); once shown, its last line
    says how the read ended. On a terminal only that last line is printed. When the read knows
    how many accounts it will read (``expected``), the line also says how long is left; a
    listing of the workspace cannot know, as Instantly gives no count.
    """

    def __init__(
        self,
        title: str,
        show: Callable[[str], None] | None = None,
        interval: float = 0.5,
        quiet_for: float = 1.0,
        now: Callable[[], float] = time.monotonic,
        expected: int | None = None,
    ) -> None:
        self.title, self.interval, self.quiet_for, self.now = title, interval, quiet_for, now
        self.expected = expected
        self.lines: list[str] = []
        self._show, self._finals_only = (show, False) if show else _default_sink()
        self._started = now()
        self._last = float("-inf")

    def __call__(self, pages: int, accounts: int, finished: bool) -> None:
        now = self.now()
        elapsed = now - self._started
        if elapsed < self.quiet_for and not (finished and self.lines):
            return
        if not finished and (self._finals_only or now - self._last < self.interval):
            return
        self._last = now
        rate = pages / elapsed if elapsed > 0 else 0.0
        state = "done" if finished else "reading"
        line = (
            f"{self.title}: {state} · {pages} page(s) · {accounts:,} account(s) · "
            f"{rate:.0f} pages/s · {elapsed:.0f}s"
        )
        if not finished and self.expected and 0 < accounts < self.expected:
            left = elapsed * (self.expected - accounts) / accounts  # at the rate so far
            line += f" · about {left:.0f}s left of {self.expected:,}"
        self.lines.append(line)
        self._show(line)


def read_listener(
    progress: bool | ReadListener, title: str, expected: int | None = None
) -> ReadListener | None:
    """What a read reports to: a live line (True), nothing (False), or the caller's listener."""
    if progress is True:
        return ReadLine(title, expected=expected)
    return progress or None


class _Line:
    """Text that shows as itself (no quotes) in a notebook."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(self.text)}</code>"


def _default_sink() -> tuple[Callable[[str], None], bool]:
    shell: Any = sys.modules.get("IPython") and _kernel_shell()
    if shell:
        import IPython.display

        # getattr: IPython's type hints differ between releases; this works with all of them.
        display: Any = getattr(IPython.display, "display")  # noqa: B009
        handle: Any = None

        def show(text: str) -> None:
            nonlocal handle
            if handle is None:
                handle = display(_Line(text), display_id=True)
            else:
                handle.update(_Line(text))

        return show, False

    def print_line(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    return print_line, True


def _kernel_shell() -> Any:
    import IPython

    shell = getattr(IPython, "get_ipython")()  # noqa: B009 (see _default_sink)
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None
