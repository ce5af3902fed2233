"""``WarmupPanel``: choose accounts, preview, confirm, run with live progress, then resume, retry
or undo, one step after another.

A Box with named parts (``panel.filter``, ``panel.preview_button``...), so a test drives it with
``.value`` and ``Button.click()`` exactly as a person does with the mouse. Every step that talks
to Instantly runs as a task on the kernel's loop through the plan/run layer; widgets hold no HTTP.
Each step says what happened in the note beside the control that started it, and starting a
preview or a run clears what an earlier one showed (results, links, messages): nothing on screen
belongs to another step.

Given ``Workspaces``, the panel acts on the workspaces chosen in ``Workspaces`` (``_fleet.py``):
one plan, one confirmation, a progress row per workspace (``_fleet_progress.py``), results with a
``workspace`` column. The health filters (``_health.py``) narrow the chosen accounts by their
warmup health, read on the client side, for one workspace or several.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any

import ipywidgets as w
import pandas as pd

from .._confirm import CONFIRM_ABOVE, confirm_count
from .._demo import demo
from ..errors import PlanStaleError, RequestValidationError
from ..fleet_frames import WORKSPACE_COLUMN
from ..fleet_plan import FleetPlan
from ..frames import aread_accounts, aread_tags
from ..journal import Journal
from ..plan import Plan
from ..planner import aplan
from ..progress_text import ReadListener
from ..sync_client import Client, async_client
from ..targets import Selection, Target
from ..undo import aundo
from ..workspaces import Workspaces
from ._fleet import (
    WorkspaceChooser,
    check_tag,
    fleet_banner,
    fleet_words,
    read_fleet,
    workspaces_in,
)
from ._gate import may_submit, submit_label
from ._health import HealthFilter, health_of, narrow, with_health
from ._note import Note
from ._outcome import retry_rows
from ._preview import PreviewBox
from ._report import guarded, with_full_text
from ._results import ResultsBox
from ._runs import execute, new_progress, restart, resume, set_clock, shown_progress
from ._steps import Steps
from ._target_picker import TargetPicker
from ._views import nothing_to_change, panel_text
from ._workspace import KeyBox, workspace_html

__all__ = ["WarmupPanel"]

CHOOSE = "Choose the accounts, then Preview."


class WarmupPanel(w.VBox):  # type: ignore[misc]
    """Pause or resume warmup for many accounts, with a preview, live progress, resume and undo.

    Parameters
    ----------
    client : Instantly, AsyncInstantly or Workspaces, optional
        The workspace to act on; ``instantly_nb.demo()`` (emulated, nothing real) by default.
        ``WarmupPanel.from_key()`` asks for an API key in a password field instead. With
        ``Workspaces`` (e.g. ``demo(workspaces=3)``), a chooser picks the workspaces a change
        acts on, and ``panel.progress`` is a ``FleetProgress``, one row per workspace.
    confirm_above : int
        Plans changing more accounts than this, or every account, need the count typed.
    journal_dir : path, optional
        Where run journals go (``instantly_nb_runs/`` by default).

    Notes
    -----
    Steps run as asyncio tasks: ``panel.task`` is the latest, ``await panel.idle()`` waits for
    all. Each step's message (or error, in plain words) is in the note beside its control:
    ``panel.status`` (Preview), ``panel.submit_note`` (Submit), ``panel.results_box.status``
    and ``.note`` (the run's end; Resume, Retry failed, Undo); a bad health threshold is said
    beside its field, a tag some chosen workspace lacks beside Tag. ``panel.output`` shows only
    errors this panel does not expect, with their traceback.
    """

    def __init__(
        self,
        client: Client | Workspaces | None = None,
        *,
        confirm_above: int = CONFIRM_ABOVE,
        journal_dir: str | os.PathLike[str] | None = None,
        _key_options: dict[str, Any] | None = None,
    ) -> None:
        self.confirm_above = confirm_above
        self.journal_dir = journal_dir
        self.fleet = client if isinstance(client, Workspaces) else None
        self.client: Client | Workspaces | None = None
        self.plan: Plan | FleetPlan | None = None
        self.results: pd.DataFrame | None = None
        self._unreachable: dict[str, str] = {}  # workspaces of the fleet that could not be read
        self._choice = 0  # bumped whenever the target or action changes
        self._quiet = False  # set while the panel itself changes the choice (undo)
        self._undo_from: str | None = None  # the action chosen before an undo plan took over
        self._key_options = _key_options
        self._last_run = ""  # "disable warmup, <description>" of the latest run
        self._workspace_name = ""  # as the API names it, once read
        super().__init__(self._build())
        self.steps = Steps(self.output, self._update_buttons)
        self._wire()
        if _key_options is None:
            self._use(client if client is not None else demo())
        else:
            self.key_box.layout.display = ""
            self.status.say("Type the workspace's API key and click Connect.", "info")
        self._update_buttons()

    @classmethod
    def from_key(cls, **client_options: Any) -> WarmupPanel:
        """A panel for a real workspace whose API key is typed into a password field.

        ``client_options`` go to ``instantly_nb.Instantly`` (``base_url``, ``rate``...).
        """
        return cls(_key_options=client_options)

    # --- parts -------------------------------------------------------------------------------

    def _build(self) -> list[w.Widget]:
        self.workspace_label = w.HTML()
        self.chooser = WorkspaceChooser()  # shown for several workspaces only
        self.workspaces = self.chooser.select
        self.key_box = KeyBox()
        self.key, self.connect_button = self.key_box.key, self.key_box.connect_button
        self.key_box.layout.display = "none"
        self.action = w.ToggleButtons(
            options=[("Disable warmup", "disable"), ("Enable warmup", "enable")],
            value="disable",
            description="Action",
            style={"description_width": "110px"},
        )
        self.targets = t = TargetPicker()
        self.target_kind, self.everything = t.kind, t.everything
        self.filter, self.tag, self.search, self.emails = t.filter, t.tag, t.search, t.emails
        self.upload, self.pick, self.exclude, self.load_button = (
            t.upload, t.pick, t.exclude, t.load_button
        )  # fmt: skip
        if self.fleet is not None:
            self.everything.description = (
                "Every account of the chosen workspaces (needs the count typed to submit)"
            )
        self.health = HealthFilter()
        self.spam_above, self.score_below = self.health.spam, self.health.score
        self.preview_button = w.Button(description="Preview", icon="eye", button_style="info")
        self.status = Note()
        self.preview = PreviewBox()
        self.plan_view, self.confirm = self.preview.summary, self.preview.confirm
        self.preview_table = self.preview.rows
        self.submit_button = w.Button(
            description="Submit", icon="play", button_style="danger",
            layout=w.Layout(width="auto"),  # sized to its label: the count is never cut
        )  # fmt: skip
        self.submit_note = Note()
        self.progress = new_progress(several=self.fleet is not None)
        self.progress.layout.display = "none"
        self.results_box = r = ResultsBox()
        self.results_view, self.results_table, self.download = r.summary, r.rows, r.download
        self.resume_button, self.retry_button, self.undo_button = (
            r.resume_button, r.retry_button, r.undo_button
        )  # fmt: skip
        self.output = w.Output()
        return [
            self.workspace_label, self.key_box, self.chooser, self.action, self.targets,
            self.health, w.HBox([self.preview_button, self.status]), self.preview,
            w.HBox([self.submit_button, self.submit_note]), self.progress, self.results_box,
            self.output,
        ]  # fmt: skip

    def _wire(self) -> None:
        notes = self.results_box.note
        self.targets.on_change(self._invalidate)
        self.chooser.on_change(self._invalidate)
        self.chooser.on_change(self.targets.tag_note.clear)
        self.health.on_change(self._invalidate)
        self.action.observe(lambda _: self._action_changed(), "value")
        self.confirm.observe(lambda _: self._update_buttons(), "value")
        self.upload.observe(
            self._guarded(self.targets.upload_note, lambda: self.targets.read_upload()), "value"
        )
        self.connect_button.on_click(self._guarded(self.key_box.note, self._connect))
        self.submit_button.on_click(self._guarded(self.submit_note, self._submit_clicked))
        steps: list[tuple[w.Button, Callable[[], Coroutine[Any, Any, None]], Note, bool]] = [
            (self.load_button, self._load_accounts, self.targets.load_note, False),
            (self.preview_button, self._preview, self.status, True),
            (self.resume_button, self._resume, notes, True),
            (self.retry_button, self._retry, notes, True),
            (self.undo_button, self._prepare_undo, notes, True),
        ]
        for button, step, note, exclusive in steps:
            start = self._starter(step, note, exclusive)
            button.on_click(self._guarded(note, start))

    def _starter(
        self, step: Callable[[], Coroutine[Any, Any, None]], note: Note, exclusive: bool
    ) -> Callable[[], None]:
        return lambda: self._start(step(), note, exclusive)

    def _guarded(self, note: Note, action: Callable[[], None]) -> Callable[[Any], None]:
        """A callback whose errors are said in ``note`` (bugs also in ``output``)."""
        return guarded(self.output, self._said(note))(lambda _: action())

    @staticmethod
    def _said(note: Note) -> Callable[[BaseException], None]:
        return lambda exc: note.say(fleet_words(exc), "error")

    # --- the workspace -----------------------------------------------------------------------

    def _use(self, client: Client | Workspaces) -> None:
        self.client = client
        set_clock(self.progress, client)
        self._show_workspace(None)
        note = self.key_box.note if self._key_options is not None else self.status
        try:
            self._start(self._load_workspace(), note, exclusive=False)
        except RuntimeError:
            self.status.say("No event loop running: show the panel in Jupyter to use it.", "warn")

    def _connect(self) -> None:
        self.key_box.note.clear()
        self._use(self.key_box.build_client(self._key_options or {}))
        self._update_buttons()

    async def _load_workspace(self) -> None:
        if self.fleet is not None:
            await self._load_fleet(self.fleet)
            self.status.say(CHOOSE, "info")
            return
        aclient = async_client(self._one())
        try:
            workspace = await aclient.get_workspace()
        except Exception:
            if self._key_options is not None:  # a typed key that does not work: ask again
                self.client = None
                self.key_box.layout.display = ""
                self._update_buttons()
            raise
        self.key_box.layout.display = "none"
        self._workspace_name = str(workspace.get("name") or "")
        self._show_workspace(self._workspace_name)
        self.targets.set_tags(await aread_tags(aclient))
        self.status.say(CHOOSE, "info")

    async def _load_fleet(self, fleet: Workspaces) -> None:
        """One workspace that cannot be read is left unchosen, with why in the banner; the
        others can be used."""
        tags, self._unreachable = await read_fleet(fleet)
        self._show_workspace(None)
        self.chooser.set_names(fleet.names, [n for n in fleet.names if n not in self._unreachable])
        if tags is None:
            raise RequestValidationError("No workspace of the set could be reached (see above)")
        self.targets.set_tags(tags)

    def _show_workspace(self, name: str | None) -> None:
        if self.fleet is not None:
            self.workspace_label.value = fleet_banner(self.fleet, self._unreachable)
        else:
            self.workspace_label.value = workspace_html(self._one(), name)

    async def _load_accounts(self) -> None:
        note = self.targets.load_note
        limits = self.health.limits()
        note.say("Loading the account list…", "info")
        where = self._where()
        reading = self._reading("Loading the account list", note)
        accounts = await aread_accounts(where, progress=reading)
        add = None
        if limits.on and len(accounts):  # the health columns beside each account
            reading = self._reading("Reading warmup health", note, "request(s)")
            health = await health_of(where, accounts, reading)
            add = lambda frame: with_health(frame, health)  # noqa: E731
        self.targets.set_accounts(accounts, add)
        note.say(
            f"{len(self.targets.pick.frame)} accounts listed: select rows to pick them "
            "(the table's search narrows the list).",
            "info",
        )

    # --- preview and submit ------------------------------------------------------------------

    async def _preview(self) -> None:
        choice = self._choice
        self._clear_steps()
        self._undo_from = None  # previewed with the action shown: that is the choice now
        target, exclude = self.targets.target(), self.targets.excluded()
        limits = self.health.limits()
        names = self.chooser.chosen() if self.fleet is not None else None
        if self.fleet is not None and isinstance(target, Selection) and target.tag:
            await check_tag(self.fleet, names or [], target.tag, self.targets.tag_note)
        described, lead, health = self.targets.describe(target), "", None
        if limits.on:
            self.status.say("Reading warmup health…", "info")
            reading = self._reading("Reading warmup health", unit="request(s)")
            found = await narrow(self._where(), target, limits, reading)
            if found.target is None:
                self.status.say(found.words(limits), "warn")
                return
            target, health, lead = found.target, found.health, found.words(limits)
        self.status.say("Planning: reading the workspace…", "info")
        plan = await aplan(
            self._client(), self.action.value, target, exclude=exclude,
            confirm_above=self.confirm_above, progress=self._reading("Planning: reading"),
            workspaces=names,
        )  # fmt: skip
        if choice != self._choice:
            self.status.say("The choice changed while planning: Preview again.", "warn")
            return
        if limits.on:
            plan.description = f"{described}, {limits.words()}"
        elif plan.description == "emails" and not isinstance(target, Selection):
            plan.description = described
        self._show_plan(plan, lead, health)

    def _show_plan(
        self, plan: Plan | FleetPlan, lead: str = "", health: pd.DataFrame | None = None
    ) -> None:
        self.plan = plan
        need = self.confirm_count()
        self.preview.show(plan, need, health)
        s = plan.summary
        if s.change == 0:
            self.status.say(lead + nothing_to_change(plan), "warn")
        else:
            what = f"{s.change} account(s) will change in {s.jobs} job(s)"
            if isinstance(plan, FleetPlan):
                what += f" across {plan.summary.workspaces} workspace(s)"
            if need is not None:
                self.status.say(f"{lead}{what}. Type {need} in Confirm, then Submit.", "warn")
            else:
                self.status.say(f"{lead}{what}: check them below, then Submit.", "info")
        self._update_buttons()

    def confirm_count(self) -> int | None:
        """The number to type before Submit, or None when one click is enough (or no plan)."""
        return None if self.plan is None else confirm_count(self.plan.summary)

    def _submit_clicked(self) -> None:
        self.submit_note.clear()
        need = self.confirm_count()
        if self.plan is None:
            self.submit_note.say("Preview first: Submit runs exactly the plan shown.", "warn")
        elif self.plan.summary.change == 0:
            self.submit_note.say("Nothing to submit: this plan changes no account.", "warn")
        elif not self.preview.typed_ok():
            self.submit_note.say(f"Not submitted: type {need} in Confirm first.", "error")
        else:
            self._start(self._run(self.plan, need), self.submit_note)

    async def _run(self, plan: Plan | FleetPlan, need: int | None) -> None:
        self.plan = None  # a plan runs once; the next run gets its own preview
        self._last_run = f"{plan.summary.action} warmup, {plan.description}"
        self.preview.submitted(plan)
        self.status.clear()
        journal = Journal.for_plan(plan.id, self.journal_dir) if self.journal_dir else None
        restore, self._undo_from = self._undo_from, None
        try:
            names = plan.names if isinstance(plan, FleetPlan) else []
            run = execute(plan, self.progress, need, journal)
            results = await self._watch(run, names=names)
            self._show_results(results, str(plan.journal_path or ""))
        finally:
            if restore is not None:  # the undo plan is spent: the toggle shows the choice again
                self._set_action(restore)

    async def _watch(
        self,
        run: Coroutine[Any, Any, pd.DataFrame],
        resumed: bool = False,
        names: list[str] | None = None,
    ) -> pd.DataFrame:
        """Show a run's progress from a clean slate; its results are the caller's to show."""
        self._clear_results()
        action, _, description = self._last_run.partition(", ")
        restart(self.progress, f"{action.capitalize()}: {description}", names or [], resumed)
        self.progress.layout.display = ""
        self.submit_note.say("Running: other cells keep working meanwhile.", "info")
        try:
            return await run
        except PlanStaleError as exc:
            self.progress.fail(exc)
            if not isinstance(exc.results, pd.DataFrame):
                raise
            return exc.results  # what ran, verified; its end ("stale") says to plan again
        except BaseException as exc:
            self.submit_note.clear()
            self.progress.fail(exc)
            raise

    def _show_results(self, results: pd.DataFrame, journal: str) -> None:
        self.results = results
        self.submit_note.clear()
        plan_id = results.attrs.get("instantly_nb", {}).get("plan_id", "run")
        fleet = self.fleet is not None
        where = ", ".join(workspaces_in(results)) if fleet else self._workspace_name
        self.results_box.show(
            f"Results: {self._last_run}", results, journal or None, f"warmup-{plan_id}.csv", where
        )
        self.targets.refresh_warmup(results)
        self._update_buttons()

    # --- what a run allows next --------------------------------------------------------------

    async def _resume(self) -> None:
        outcome = self.results_box.outcome
        if outcome is None or not outcome.resumable or outcome.journal is None:
            raise RequestValidationError("Nothing to resume: the last run sent all it planned")
        journal = outcome.journal
        self.status.clear()
        run = resume(self._client(), self.progress, journal)
        names = workspaces_in(self._last_results())
        self._show_results(await self._watch(run, resumed=True, names=names), journal)

    async def _retry(self) -> None:
        results = self._last_results()
        chosen = self.results_box.selected_rows()
        rows = retry_rows(results, chosen)
        if rows.empty:
            raise RequestValidationError(
                "None of the selected rows failed: select failed rows, or none to retry them all"
                if chosen is not None else "No failed row to retry"
            )  # fmt: skip
        note = self.results_box.note
        note.say(f"Planning a retry of {len(rows)} account(s)…", "info")
        action = results.attrs.get("instantly_nb", {}).get("action", self.action.value)
        # Over several workspaces each row stays in its own workspace.
        fleet = self.fleet is not None
        again: Target = rows[[WORKSPACE_COLUMN, "email"]] if fleet else list(rows["email"])
        plan = await aplan(
            self._client(), action, again, confirm_above=self.confirm_above,
            progress=self._reading("Planning the retry: reading", note),
        )  # fmt: skip
        plan.description = f"retry of {len(rows)} failed account(s) of {self._last_run}"
        if plan.summary.change and confirm_count(plan.summary) is None:
            await self._run(plan, None)  # the failed rows were confirmed once: run them again
            return
        self._clear_steps()
        self._show_plan(plan, "Retry plan ready: ")

    async def _prepare_undo(self) -> None:
        results = self._last_results()
        self.results_box.note.say("Preparing the undo plan…", "info")
        plan = await aundo(self._client(), results)
        left = plan.description.partition("; ")[2]  # accounts undo cannot put back, if any
        plan.description = f"undo of {self._last_run}" + (f"; {left}" if left else "")
        self._clear_steps()
        self._undo_from = self.action.value
        self._set_action(plan.summary.action)
        self._show_plan(plan, "Undo plan ready: ")

    def _last_results(self) -> pd.DataFrame:
        if self.results is None:
            raise RequestValidationError("Nothing has run yet: Preview, then Submit")
        return self.results

    # --- plumbing ----------------------------------------------------------------------------

    def _client(self) -> Client | Workspaces:
        if self.client is None:
            raise RequestValidationError("Connect to a workspace first (type the API key)")
        return self.client

    def _one(self) -> Client:
        """The one workspace's client (never called for several workspaces)."""
        client = self._client()
        assert not isinstance(client, Workspaces)
        return client

    def _where(self) -> Client | Workspaces:
        """Where reads go: the workspace, or the workspaces chosen."""
        if self.fleet is None:
            return self._client()
        return self.fleet.subset(self.chooser.chosen())

    def _start(self, coro: Coroutine[Any, Any, None], note: Note, exclusive: bool = True) -> None:
        if not self.steps.start(coro, self._said(note), exclusive):
            note.say("Still working on the previous step…", "warn")

    @property
    def task(self) -> asyncio.Task[Any] | None:
        """The step started last (an asyncio task); ``await panel.idle()`` waits for all."""
        return self.steps.task

    async def idle(self) -> None:
        """Wait until every step started so far (and any it started) has finished."""
        await self.steps.idle()

    def _clear_steps(self) -> None:
        """A new preview: no plan, no progress, no results, no message of an earlier step."""
        self.plan = None
        self.preview.clear()
        self.progress.layout.display = "none"
        self._clear_results()
        for note in (self.status, self.submit_note):
            note.clear()
        self._update_buttons()

    def _clear_results(self) -> None:
        self.results = None
        self.results_box.clear()

    def _action_changed(self) -> None:
        if not self._quiet:
            self._undo_from = None  # the person chose an action: theirs from now on
        self._invalidate()

    def _set_action(self, action: str) -> None:
        """Switch the Action toggle without it counting as a new choice."""
        self._quiet = True
        try:
            self.action.value = action
        finally:
            self._quiet = False

    def _invalidate(self) -> None:
        self._choice += 1
        if self._quiet:
            return
        if self.status.tone == "error":  # an error about the old choice no longer applies
            self.status.say(CHOOSE, "info")
        if self.plan is None:
            return
        self.plan = None
        if self._undo_from is not None:  # the undo plan is withdrawn: back to the choice
            restore, self._undo_from = self._undo_from, None
            self._set_action(restore)
        self.preview.withdraw("The choice changed: Preview again.")
        self.status.say("The choice changed: Preview again.", "warn")
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.client is not None and not self.steps.busy
        summary = None if self.plan is None else self.plan.summary
        allowed = may_submit(summary, self.confirm.value)
        with self.submit_button.hold_sync():
            self.submit_button.disabled = not (ready and allowed)
            self.submit_button.description = submit_label(summary)
        self.preview_button.disabled = not ready
        outcome = self.results_box.outcome
        self.resume_button.disabled = not (ready and outcome is not None and outcome.resumable)
        self.retry_button.disabled = not (ready and outcome is not None and outcome.retryable)
        self.undo_button.disabled = not (ready and outcome is not None and outcome.restorable)
        self.load_button.disabled = self.client is None

    def _reading(self, what: str, note: Note | None = None, unit: str = "page(s)") -> ReadListener:
        """A read's progress in a note (the status line by default), as it goes."""
        shown = note if note is not None else self.status

        def show(pages: int, accounts: int, finished: bool) -> None:
            if not finished:
                shown.say(f"{what}… {pages} {unit}, {accounts:,} account(s)", "info")

        return show

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return with_full_text(super()._repr_mimebundle_(**kwargs), repr(self))

    def __repr__(self) -> str:
        if isinstance(self.client, Workspaces):
            name = f"{len(self.client)} workspaces ({', '.join(self.client.names)})"
        else:
            name = self.client.name if self.client is not None else "(not connected)"
        progress = shown_progress(self.progress)
        notes = [self.status.value, self.submit_note.value, self.results_box.status.value,
                 self.results_box.note.value]  # fmt: skip
        return panel_text(name, notes, self.plan, progress, self.results)
