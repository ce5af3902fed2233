"""``JobProgress``: warmup jobs live, one bar per job and one for the plan, drawn from a model.

The state lives in ``RunProgress`` (plain Python); this widget only draws it, at most a few
times per second (``Throttle``), each redraw batched per widget with ``hold_sync()``.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import ipywidgets as w

from ..client import AsyncInstantly
from ..errors import JobTimeoutError
from ..events import RunEvent
from ..models import Job
from ..progress import JobState, RunProgress
from ..sync_client import Client, async_client
from ._job_row import BAR_STYLES, COLOURS, JobRow
from ._report import guarded, plain_words, show_error, spawn, with_full_text
from ._throttle import DEFAULT_INTERVAL, Throttle, Timer

__all__ = ["STOP_NOTE", "JobProgress"]

STOP_NOTE = (
    "Stop submits no further jobs of this plan; a job already running finishes, because "
    "Instantly has no endpoint to cancel it."
)


class JobProgress(w.VBox):  # type: ignore[misc]
    """Warmup jobs, live: a bar per job, an overall bar, counts, elapsed and ETA.

    Give ``on_update`` and ``stop_event`` to a run, or re-attach to running jobs with
    ``JobProgress.watch(client, job_ids)``. Colours: blue running, green success, red failed or
    cancelled (and it stays red), orange for paused, partly failed or unknown statuses.

    Parameters
    ----------
    title : str
        A heading, e.g. what the plan does.
    now : callable, optional
        The clock for elapsed times (``client.clock.now``); ``time.time`` by default.
    max_rows : int
        Jobs shown at most besides those that need attention: failed jobs always stay visible.
    interval : float
        Minimum seconds between redraws (four per second by default).
    timer : Timer, optional
        When redraws happen: real time on the running loop by default; a virtual timer in tests.

    Attributes
    ----------
    model : RunProgress
        The state drawn; plain Python.
    redraws : int
        Redraws so far (each sends at most one message per changed widget).
    stop_event : threading.Event
        Pass as ``stop=``: once set, the run submits no further job.
    task : asyncio.Future or None
        While watching: completes when every watched job is terminal.

    Examples
    --------
    >>> progress = JobProgress("Disable warmup")
    >>> display(progress)
    >>> results = await plan.aexecute(on_update=progress.on_update, stop=progress.stop_event)
    """

    def __init__(
        self,
        title: str = "",
        *,
        now: Callable[[], float] | None = None,
        max_rows: int = 8,
        interval: float = DEFAULT_INTERVAL,
        timer: Timer | None = None,
    ) -> None:
        self.model = RunProgress(now)
        self.model.title = title
        self.max_rows = max_rows
        self.stop_event = threading.Event()
        self.task: asyncio.Future[Any] | None = None
        self.heading = w.HTML()
        self.overall = w.FloatProgress(
            value=0, min=0, max=100, description="Overall", style={"description_width": "90px"}
        )
        self.summary = w.HTML()
        self.rows = w.VBox()
        self.more = w.HTML()
        self.stop_button = w.Button(description="Stop", icon="stop", tooltip=STOP_NOTE)
        self.unwatch_button = w.Button(description="Stop watching", icon="eye-slash")
        self.stop_note = w.HTML()
        self.output = w.Output()
        super().__init__(
            [
                self.heading,
                w.HBox([self.overall, self.summary]),
                self.rows,
                self.more,
                w.HBox([self.stop_button, self.unwatch_button, self.stop_note]),
                self.output,
            ]
        )
        self._rows: dict[str, JobRow] = {}  # job key -> the row showing it
        self._spare: list[JobRow] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watching: list[asyncio.Task[Any]] = []
        self._throttle = Throttle(self._draw, interval, timer, on_error=self._report)
        self.stop_button.on_click(guarded(self.output)(lambda _: self.stop()))
        self.unwatch_button.on_click(guarded(self.output)(lambda _: self.stop_watching()))
        self._draw()

    @property
    def redraws(self) -> int:
        """Redraws so far (each sends at most one message per changed widget)."""
        return self._throttle.draws

    # --- feeding -------------------------------------------------------------------------------

    def on_update(self, event: RunEvent) -> None:
        """Pass as ``on_update=`` to ``plan.execute``/``aexecute``; never raises into the run."""
        try:
            self.model.apply(event)
            self._throttle.request()
            if self.model.final:
                self._throttle.flush()  # the end of a run is drawn at once, whatever the rate
        except Exception as exc:
            self._report(exc)

    def on_job(self, job: Job) -> None:
        """Pass as ``on_update=`` to ``client.wait_job``: one polled job."""
        try:
            self.model.apply_job(job)
            self._throttle.request()
        except Exception as exc:
            self._report(exc)

    def reset(self, title: str = "", *, keep_finished: bool = False) -> None:
        """Forget the previous run (a panel reuses one JobProgress for each run).

        ``keep_finished`` keeps the jobs that ended: a resumed run does not send them again,
        and they are still part of its plan.
        """
        self.stop_watching()
        self.task = None
        kept = {k: r for k, r in self.model.jobs.items() if r.terminal} if keep_finished else {}
        self.model.reset(title)
        self.model.jobs.update(kept)
        self.stop_event.clear()
        self.output.outputs = ()  # clear_output() would print escape codes outside a kernel
        self.redraw()

    def fail(self, exc: BaseException) -> None:
        """The run broke: red overall state with the message, in plain words."""
        self.model.fail(plain_words(exc))
        self.redraw()

    def redraw(self) -> None:
        """Draw the current state now (the final state of a run is drawn without this)."""
        self._throttle.draw_now()

    def stop(self) -> None:
        """Submit no further job of the plan; the running job finishes (no cancel endpoint)."""
        self.stop_event.set()
        self.model.request_stop()
        self.redraw()

    # --- watching jobs that already run ----------------------------------------------------------

    @classmethod
    def watch(cls, client: Client, job_ids: Iterable[str], **options: Any) -> JobProgress:
        """A ``JobProgress`` following jobs already running (after a kernel restart, or elsewhere).

        Polls each job as an asyncio task on the running loop, so the notebook stays free.
        ``options`` go to the constructor; ``now`` defaults to the client's clock.
        """
        options.setdefault("now", client.clock.now)
        progress = cls(options.pop("title", "Watching warmup jobs"), **options)
        progress.follow(client, job_ids)
        return progress

    def follow(self, client: Client, job_ids: Iterable[str]) -> asyncio.Future[Any]:
        """Start polling ``job_ids`` as tasks; returns a future done when all are terminal."""
        ids = list(dict.fromkeys(job_ids))
        aclient = async_client(client)
        self.model.start_watch(ids)
        self._watching = [
            spawn(self._follow_one(aclient, job_id), self.output, self._tasks) for job_id in ids
        ]
        task = self.task = asyncio.gather(*self._watching, return_exceptions=True)
        task.add_done_callback(lambda _: self._watch_ended(task))
        self.redraw()
        return self.task

    async def _follow_one(self, aclient: AsyncInstantly, job_id: str) -> None:
        def seen(job: Job) -> None:
            self.model.apply_job(job, key=job_id)
            self._throttle.request()

        while True:
            try:
                await aclient.wait_job(job_id, on_update=seen, raise_on_failure=False)
                return
            except JobTimeoutError:
                continue  # still running: a watcher keeps watching until told to stop
            except Exception as exc:
                self.model.mark_error(job_id, plain_words(exc))
                self._throttle.request()
                raise

    def stop_watching(self) -> None:
        """Cancel the polling tasks; the jobs themselves run on at Instantly."""
        for task in self._watching:
            task.cancel()

    def _watch_ended(self, task: asyncio.Future[Any]) -> None:
        if task is not self.task:
            return  # reset() for another run since: this watch's end is old news
        cancelled = any(t.cancelled() for t in self._watching)
        self.model.finish("stopped watching" if cancelled else "", stopped=cancelled)
        self._watching = []
        self.redraw()

    # --- drawing -------------------------------------------------------------------------------

    def _report(self, exc: BaseException) -> None:
        show_error(self.output, exc, "while drawing progress")

    def _visible(self) -> list[JobState]:
        states = list(self.model.jobs.values())
        recent = {s.key for s in states[-self.max_rows :]} if self.max_rows > 0 else set()
        return [
            s for s in states if s.key in recent or s.tone in ("failed", "partial", "attention")
        ]

    def _rows_for(self, keys: list[str]) -> list[JobRow]:
        """A row widget per shown job, recycling those of jobs scrolled out of view.

        A 100-job plan then creates about ``max_rows`` rows instead of 100 (each a handful of
        widgets to open over the comm), and a redraw updates only the rows whose job moved.
        """
        wanted = set(keys)
        for key in [k for k in self._rows if k not in wanted]:
            self._spare.append(self._rows.pop(key))
        for key in keys:
            if key not in self._rows:
                self._rows[key] = self._spare.pop() if self._spare else JobRow()
        return [self._rows[key] for key in keys]

    def _draw(self) -> None:
        model, now = self.model, self.model.now()
        shown = self._visible()
        rows = self._rows_for([s.key for s in shown])
        with _holding([self.heading, self.overall, self.summary, self.rows, self.more,
                       self.stop_button, self.stop_button.layout, self.unwatch_button,
                       self.unwatch_button.layout, self.stop_note,
                       *(part for row in rows for part in row.parts())]):  # fmt: skip
            tone = model.tone
            title = html.escape(model.title or "Warmup jobs")
            said = model.phase
            if model.message:  # "stopped: 4 job(s) not submitted" says its phase already
                said = model.message if model.message.startswith(said) else (
                    f"{said} - {model.message}"
                )  # fmt: skip
            self.heading.value = (
                f"<b>{title}</b> <span style='color:{COLOURS[tone]}'>{html.escape(said)}</span>"
            )
            self.overall.value = round(model.percent, 1)
            self.overall.bar_style = BAR_STYLES[tone]
            self.summary.value = f"<small>{html.escape(model.summary())}</small>"
            for state, row in zip(shown, rows, strict=True):
                row.show(state, now)
            self.rows.children = tuple(rows)
            hidden = len(model.jobs) - len(shown)
            self.more.value = (
                f"<small>{hidden} more job(s) finished or running, not shown; "
                "the overall bar counts them</small>" if hidden else ""
            )  # fmt: skip
            running_plan = model.phase in ("running", "verifying") and model.requests > 0
            self.stop_button.layout.display = "" if running_plan else "none"
            self.stop_button.disabled = model.stop_requested
            self.stop_button.description = "Stopping…" if model.stop_requested else "Stop"
            self.stop_note.value = f"<small>{STOP_NOTE}</small>" if running_plan else ""
            self.unwatch_button.layout.display = "" if model.phase == "watching" else "none"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return with_full_text(super()._repr_mimebundle_(**kwargs), repr(self))

    def __repr__(self) -> str:
        return self.model.text()


@contextmanager
def _holding(widgets: Iterable[w.Widget]) -> Iterator[None]:
    """``hold_sync()`` on every widget: one message per changed widget for the whole redraw."""
    with ExitStack() as stack:
        for widget in widgets:
            stack.enter_context(widget.hold_sync())
        yield
