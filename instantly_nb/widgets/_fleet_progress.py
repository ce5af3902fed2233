"""``FleetProgress``: a run over several workspaces, live, one row per workspace.

A fleet run tells its listener ``(workspace name, RunEvent)``; each workspace's events feed a
``RunProgress`` of its own (as ``FleetTextProgress`` does for text), and each is drawn as one
row: its bar, how its run stands, and, for a workspace that failed alone, why. One Stop for the
whole run (the runner takes one stop signal), and an overall bar over every workspace's jobs.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as w

from ..events import RunEvent
from ..progress import RunProgress, Tone
from ._fleet import plain_reason
from ._job_row import BAR_STYLES, COLOURS
from ._report import guarded, plain_words, show_error, with_full_text
from ._throttle import DEFAULT_INTERVAL, Throttle, Timer
from .progress import STOP_NOTE, _holding

__all__ = ["FleetProgress", "WorkspaceRow"]

_FAILED = "failed: "  # how fleet_run's last event for a workspace that failed alone begins
_PHASES = {
    "idle": "Queued", "running": "Running", "verifying": "Verifying", "finished": "Done",
    "stopped": "Stopped", "ended_early": "Ended early", "stale": "Stopped: plan again",
    "failed": "Failed",
}  # fmt: skip


def failed_alone(model: RunProgress) -> bool:
    """Whether this workspace's run failed on its own (its rows say why; the others ran on)."""
    return model.phase == "failed" or model.message.startswith(_FAILED)


def row_tone(model: RunProgress) -> Tone:
    return "failed" if failed_alone(model) else model.tone


class WorkspaceRow(w.HBox):  # type: ignore[misc]
    """One workspace: a bar named after it, how its run stands, its counts or why it failed."""

    def __init__(self, name: str) -> None:
        self.bar = w.FloatProgress(
            value=0, min=0, max=100, description=name, style={"description_width": "120px"}
        )
        self.status = w.HTML()
        self.counts = w.HTML()
        super().__init__([self.bar, self.status, self.counts])
        self.add_class("instantly-nb-workspace-progress")

    def parts(self) -> list[w.Widget]:
        return [self, self.bar, self.status, self.counts]

    def show(self, model: RunProgress) -> None:
        tone = row_tone(model)
        self.bar.value = round(model.percent, 1)
        self.bar.bar_style = BAR_STYLES[tone]
        word = _PHASES.get(model.phase, model.phase)
        message = plain_reason(model.message)
        if failed_alone(model):
            word, message = "Failed", message.removeprefix(_FAILED)
        elif message.startswith(model.phase):  # "stopped: 2 job(s) not submitted"
            message = message.split(": ", 1)[-1]
        said = f" - {html.escape(message)}" if message else ""
        self.status.value = f"<span style='color:{COLOURS[tone]}'><b>{word}</b>{said}</span>"
        self.counts.value = f"<small>{html.escape(model.summary())}</small>"


class FleetProgress(w.VBox):  # type: ignore[misc]
    """Warmup jobs of several workspaces, live: one row per workspace, an overall bar, Stop.

    Pass ``on_update`` (it takes ``(workspace name, RunEvent)``) and ``stop_event`` to
    ``FleetPlan.aexecute``. ``models`` holds each workspace's ``RunProgress``.

    Parameters
    ----------
    now : callable, optional
        The clock for elapsed times (a member client's ``clock.now``); ``time.time`` by default.
    interval : float
        Minimum seconds between redraws.
    timer : Timer, optional
        When redraws happen: real time on the running loop by default.
    """

    def __init__(
        self,
        *,
        now: Callable[[], float] | None = None,
        interval: float = DEFAULT_INTERVAL,
        timer: Timer | None = None,
    ) -> None:
        self.now = now or time.time
        self.title = ""
        self.models: dict[str, RunProgress] = {}
        self.stop_event = threading.Event()
        self.stop_requested = False
        self.broken = ""  # the run itself raised (not one workspace): why
        self.heading = w.HTML()
        self.overall = w.FloatProgress(
            value=0, min=0, max=100, description="Overall", style={"description_width": "120px"}
        )
        self.summary = w.HTML()
        self.rows = w.VBox()
        self.stop_button = w.Button(description="Stop", icon="stop", tooltip=STOP_NOTE)
        self.stop_note = w.HTML()
        self.output = w.Output()
        super().__init__(
            [self.heading, w.HBox([self.overall, self.summary]), self.rows,
             w.HBox([self.stop_button, self.stop_note]), self.output]
        )  # fmt: skip
        self._rows: dict[str, WorkspaceRow] = {}
        self._throttle = Throttle(self._draw, interval, timer, on_error=self._report)
        self.stop_button.on_click(guarded(self.output)(lambda _: self.stop()))
        self._draw()

    # --- feeding -------------------------------------------------------------------------------

    def reset(
        self, title: str = "", *, names: Iterable[str] = (), keep_finished: bool = False
    ) -> None:
        """A new run of the workspaces ``names``.

        ``keep_finished`` (a resumed run): a workspace whose run finished keeps its row as it
        is, since the resume sends it nothing; the others keep the jobs that ended.
        """
        old = self.models
        self.title, self.models, self.broken = title, {}, ""
        for name in [*names, *(old if keep_finished else ())]:
            if name in self.models:
                continue
            before = old.get(name) if keep_finished else None
            if before is not None and before.phase == "finished":
                self.models[name] = before
                continue
            model = self.models[name] = RunProgress(self.now)
            model.reset(name)
            if before is not None:
                model.jobs.update({k: r for k, r in before.jobs.items() if r.terminal})
        self.stop_event.clear()
        self.stop_requested = False
        self.output.outputs = ()
        self.redraw()

    def on_update(self, name: str, event: RunEvent) -> None:
        """Pass as ``on_update=`` to a fleet run; never raises into the run."""
        try:
            model = self.models.get(name)
            if model is None:
                model = self.models[name] = RunProgress(self.now)
                model.reset(name)
            model.apply(event)
            if self.stop_requested:
                model.stop_requested = True
            self._throttle.request()
            if model.final:
                self._throttle.flush()  # a workspace's end (or failure) is drawn at once
        except Exception as exc:
            self._report(exc)

    def stop(self) -> None:
        """No workspace submits a further job; jobs already running finish (no cancel endpoint)."""
        self.stop_event.set()
        self.stop_requested = True
        for model in self.models.values():
            model.request_stop()
        self.redraw()

    def fail(self, exc: BaseException) -> None:
        """The run itself broke (not one workspace): said in red, over every row."""
        self.broken = plain_words(exc)
        self.redraw()

    def redraw(self) -> None:
        self._throttle.draw_now()

    # --- reading -------------------------------------------------------------------------------

    @property
    def final(self) -> bool:
        return bool(self.models) and all(m.final for m in self.models.values())

    @property
    def percent(self) -> float:
        """Over every workspace's jobs: a workspace with more jobs weighs more."""
        weights = {n: max(m.requests, len(m.jobs), 1) for n, m in self.models.items()}
        total = sum(weights.values())
        if not total:
            return 0.0
        return sum(m.percent * weights[n] for n, m in self.models.items()) / total

    @property
    def tone(self) -> Tone:
        tones = {row_tone(m) for m in self.models.values()}
        if self.broken or "failed" in tones:
            return "failed"
        if not self.models or tones == {"idle"}:
            return "idle"
        if tones & {"partial", "attention"}:
            return "partial" if self.final else "attention"
        return "success" if self.final else "running"

    def phase(self) -> str:
        if self.broken:
            return "failed"
        if not self.final:
            return "running" if any(m.phase != "idle" for m in self.models.values()) else "idle"
        phases = {m.phase for m in self.models.values()}
        failed = [n for n, m in self.models.items() if failed_alone(m)]
        if failed:
            return f"ended: {', '.join(failed)} failed, the others ran"
        for phase, said in (("stale", "stopped: a workspace changed since the preview"),
                            ("stopped", "stopped"), ("ended_early", "ended early")):  # fmt: skip
            if phase in phases:
                return said
        return "finished"

    def text(self) -> str:
        """Every workspace's run as text (the repr for front ends without widgets)."""
        head = f"{self.title or 'Warmup jobs'}: {self.phase()}, {self.percent:.0f}%"
        return "\n".join([head, *(m.text() for m in self.models.values())])

    # --- drawing -------------------------------------------------------------------------------

    def _report(self, exc: BaseException) -> None:
        show_error(self.output, exc, "while drawing progress")

    def _draw(self) -> None:
        for name in self.models:
            if name not in self._rows:
                self._rows[name] = WorkspaceRow(name)
        rows = [self._rows[name] for name in self.models]
        parts = [part for row in rows for part in row.parts()]
        holding = [self.heading, self.overall, self.summary, self.rows, self.stop_button,
                   self.stop_button.layout, self.stop_note, *parts]  # fmt: skip
        with _holding(holding):
            tone = self.tone
            said = self.broken or self.phase()
            self.heading.value = (
                f"<b>{html.escape(self.title or 'Warmup jobs')}</b> "
                f"<span style='color:{COLOURS[tone]}'>{html.escape(said)}</span>"
            )
            self.overall.value = round(self.percent, 1)
            self.overall.bar_style = BAR_STYLES[tone]
            done = sum(m.final for m in self.models.values())
            self.summary.value = f"<small>{done}/{len(self.models)} workspace(s) done</small>"
            for name, row in zip(self.models, rows, strict=True):
                row.show(self.models[name])
            self.rows.children = tuple(rows)
            running = not self.final and not self.broken and any(
                m.phase in ("running", "verifying") for m in self.models.values()
            )  # fmt: skip
            self.stop_button.layout.display = "" if running else "none"
            self.stop_button.disabled = self.stop_requested
            self.stop_button.description = "Stopping…" if self.stop_requested else "Stop"
            self.stop_note.value = (
                f"<small>Stop halts every workspace. {STOP_NOTE}</small>" if running else ""
            )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return with_full_text(super()._repr_mimebundle_(**kwargs), repr(self))

    def __repr__(self) -> str:
        return self.text()
