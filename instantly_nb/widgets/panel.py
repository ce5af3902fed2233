"""``WarmupPanel``: choose accounts, preview, confirm, run with live progress, download, undo.

A Box with named parts (``panel.filter``, ``panel.preview_button``...), so a test drives it with
``.value`` and ``Button.click()`` exactly as a person does with the mouse. Every step that talks
to Instantly runs as a task on the kernel's loop through the plan/run layer; widgets hold no HTTP.
"""

from __future__ import annotations

import asyncio
import html
import os
from collections.abc import Coroutine
from typing import Any

import ipywidgets as w
import pandas as pd

from .._confirm import CONFIRM_ABOVE, confirm_count
from .._demo import demo
from ..errors import RequestValidationError
from ..frames import aread_accounts, aread_tags
from ..journal import Journal
from ..plan import Plan
from ..planner import aplan
from ..progress_text import ReadListener
from ..sync_client import Client, async_client
from ..undo import aundo
from ._gate import may_submit, submit_label
from ._report import guarded, with_full_text
from ._steps import Steps
from ._target_picker import TargetPicker
from ._views import csv_link, panel_text, plan_preview_html, results_html, submitted_html
from ._workspace import KeyBox, workspace_html
from .progress import JobProgress

__all__ = ["WarmupPanel"]

_TONES = {"info": "#1d4ed8", "ok": "#15803d", "warn": "#b45309", "error": "#b91c1c"}


class WarmupPanel(w.VBox):  # type: ignore[misc]
    """Pause or resume warmup for many accounts, with a preview, live progress and undo.

    Parameters
    ----------
    client : Instantly or AsyncInstantly, optional
        The workspace to act on; ``instantly_nb.demo()`` (emulated, nothing real) by default.
        ``WarmupPanel.from_key()`` asks for an API key in a password field instead.
    confirm_above : int
        Plans changing more accounts than this, or every account, need the count typed.
    journal_dir : path, optional
        Where run journals go (``instantly_nb_runs/`` by default).

    Notes
    -----
    Steps run as asyncio tasks: ``panel.task`` is the latest, ``await panel.idle()`` waits for
    all. Errors appear in ``panel.output``.
    """

    def __init__(
        self,
        client: Client | None = None,
        *,
        confirm_above: int = CONFIRM_ABOVE,
        journal_dir: str | os.PathLike[str] | None = None,
        _key_options: dict[str, Any] | None = None,
    ) -> None:
        self.confirm_above = confirm_above
        self.journal_dir = journal_dir
        self.client: Client | None = None
        self.plan: Plan | None = None
        self.results: pd.DataFrame | None = None
        self._choice = 0  # bumped whenever the target or action changes
        self._quiet = False  # set while the panel itself changes the choice (undo)
        self._key_options = _key_options
        self._last_run = ""
        super().__init__(self._build())
        self.steps = Steps(self.output, self._update_buttons, self._failed)
        self._wire()
        if _key_options is None:
            self._use(client if client is not None else demo())
        else:
            self.key_box.layout.display = ""
            self._say("Type the workspace's API key and click Connect.", "info")
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
        self.key_box = KeyBox()
        self.key, self.connect_button = self.key_box.key, self.key_box.connect_button
        self.key_box.layout.display = "none"
        self.action = w.ToggleButtons(
            options=[("Disable warmup", "disable"), ("Enable warmup", "enable")],
            value="disable",
            description="Action",
            style={"description_width": "110px"},
        )
        self.targets = TargetPicker()
        t = self.targets
        self.target_kind, self.everything = t.kind, t.everything
        self.filter, self.tag, self.search, self.emails = t.filter, t.tag, t.search, t.emails
        self.upload, self.pick, self.exclude, self.load_button = (
            t.upload, t.pick, t.exclude, t.load_button
        )  # fmt: skip
        self.preview_button = w.Button(description="Preview", icon="eye", button_style="info")
        self.plan_view = w.HTML()
        self.confirm = w.Text(description="Confirm", placeholder="type the number of accounts")
        self.confirm.layout.display = "none"
        self.submit_button = w.Button(description="Submit", icon="play", button_style="danger")
        self.progress = JobProgress()
        self.progress.layout.display = "none"
        self.results_view = w.HTML()
        self.download = w.HTML()
        self.undo_button = w.Button(
            description="Undo",
            icon="undo",
            tooltip="Prepare the plan that puts back every changed account; then Submit it",
        )
        self.undo_button.layout.display = "none"
        self.status = w.HTML()
        self.output = w.Output()
        return [
            self.workspace_label, self.key_box, self.action, self.targets,
            w.HBox([self.preview_button, self.status]), self.plan_view, self.confirm,
            self.submit_button, self.progress, self.results_view,
            w.HBox([self.download, self.undo_button]), self.output,
        ]  # fmt: skip

    def _wire(self) -> None:
        on_error = guarded(self.output)
        self.targets.on_change(self._invalidate)
        self.action.observe(lambda _: self._invalidate(), "value")
        self.confirm.observe(lambda _: self._update_buttons(), "value")
        self.upload.observe(on_error(lambda _: self.targets.read_upload()), "value")
        self.connect_button.on_click(on_error(lambda _: self._connect()))
        self.load_button.on_click(on_error(lambda _: self._start(self._load_accounts(), False)))
        self.preview_button.on_click(on_error(lambda _: self._start(self._preview())))
        self.submit_button.on_click(on_error(lambda _: self._submit_clicked()))
        self.undo_button.on_click(on_error(lambda _: self._start(self._prepare_undo())))

    # --- the workspace -----------------------------------------------------------------------

    def _use(self, client: Client) -> None:
        self.client = client
        self.progress.model.now = client.clock.now
        self._show_workspace(None)
        try:
            self._start(self._load_workspace(), exclusive=False)
        except RuntimeError:
            self._say("No event loop running: show the panel in Jupyter to use it.", "warn")

    def _connect(self) -> None:
        self._use(self.key_box.build_client(self._key_options or {}))
        self._update_buttons()

    async def _load_workspace(self) -> None:
        aclient = async_client(self._client())
        try:
            workspace = await aclient.get_workspace()
        except Exception:
            if self._key_options is not None:  # a typed key that does not work: ask again
                self.client = None
                self.key_box.layout.display = ""
                self._update_buttons()
            raise
        self.key_box.layout.display = "none"
        self._show_workspace(str(workspace.get("name") or ""))
        self.targets.set_tags(await aread_tags(aclient))
        self._say("Choose the accounts, then Preview.", "info")

    def _show_workspace(self, name: str | None) -> None:
        self.workspace_label.value = workspace_html(self._client(), name)

    async def _load_accounts(self) -> None:
        self._say("Loading the account list…", "info")
        reading = self._reading("Loading the account list")
        self.targets.set_accounts(await aread_accounts(self._client(), progress=reading))
        self._say(f"{len(self.targets.pick.options)} accounts listed: pick some.", "info")

    # --- preview and submit ------------------------------------------------------------------

    async def _preview(self) -> None:
        choice = self._choice
        target, exclude = self.targets.target(), self.targets.excluded()
        self._say("Planning: reading the workspace…", "info")
        plan = await aplan(
            self._client(), self.action.value, target, exclude=exclude,
            confirm_above=self.confirm_above, progress=self._reading("Planning: reading"),
        )  # fmt: skip
        if choice != self._choice:
            self._say("The choice changed while planning: Preview again.", "warn")
            return
        if plan.description == "emails":
            plan.description = self.targets.describe(target)
        self._show_plan(plan)

    def _show_plan(self, plan: Plan) -> None:
        self.plan = plan
        need = self.confirm_count()
        self.plan_view.value = plan_preview_html(plan, need)
        self.confirm.value = ""
        self.confirm.layout.display = "" if need is not None else "none"
        s = plan.summary
        if s.change == 0:
            self._say("Nothing to change.", "warn")
        elif need is not None:
            self._say(f"Type {need} in Confirm, then Submit.", "warn")
        else:
            self._say(f"{s.change} account(s) will change in {s.jobs} job(s): Submit.", "info")
        self._update_buttons()

    def confirm_count(self) -> int | None:
        """The number to type before Submit, or None when one click is enough (or no plan)."""
        return None if self.plan is None else confirm_count(self.plan.summary)

    def _submit_clicked(self) -> None:
        need = self.confirm_count()
        if self.plan is None:
            self._say("Preview first: Submit runs exactly the plan shown.", "warn")
        elif need is not None and self.confirm.value.strip() != str(need):
            self._say(f"Not submitted: type {need} in Confirm first.", "error")
        else:
            self._start(self._submit(self.plan, need))

    async def _submit(self, plan: Plan, need: int | None) -> None:
        self.plan = None  # a plan runs once; the next run gets its own preview
        self._last_run = f"{plan.summary.action} warmup, {plan.description}"
        self.confirm.value = ""
        self.confirm.layout.display = "none"
        self.plan_view.value = submitted_html(plan)
        self.progress.reset(f"{plan.summary.action.capitalize()} warmup: {plan.description}")
        self.progress.layout.display = ""
        self._say("Running: other cells keep working meanwhile.", "info")
        journal = Journal.for_plan(plan.id, self.journal_dir) if self.journal_dir else None
        try:
            results = await plan.aexecute(
                confirm=need, journal=journal, on_update=self.progress.on_update,
                stop=self.progress.stop_event,
            )  # fmt: skip
        except BaseException as exc:
            self.progress.fail(exc)
            raise
        self._show_results(plan, results)

    def _show_results(self, plan: Plan, results: pd.DataFrame) -> None:
        self.results = results
        counts = results["outcome"].value_counts()
        title = f"Results: {plan.summary.action} warmup, {plan.description}"
        self.results_view.value = results_html(results, title)
        self.download.value = csv_link(results, f"warmup-{plan.id}.csv")
        changed = int(counts.get("changed", 0))
        self.undo_button.layout.display = "" if changed else "none"
        failed = int(counts.get("failed", 0))
        tone = "error" if failed else "ok"
        self._say(f"Done: {changed} changed, {failed} failed of {len(results)}.", tone)

    async def _prepare_undo(self) -> None:
        if self.results is None:
            raise RequestValidationError("nothing to undo yet")
        plan = await aundo(self._client(), self.results)
        plan.description = f"undo of {self._last_run}"
        self._quiet = True  # the panel itself switches the action: not a new choice
        try:
            self.action.value = plan.summary.action
        finally:
            self._quiet = False
        self._show_plan(plan)
        self._say("Undo plan ready: review it, then Submit.", "warn")

    # --- plumbing ----------------------------------------------------------------------------

    def _client(self) -> Client:
        if self.client is None:
            raise RequestValidationError("Connect to a workspace first (type the API key)")
        return self.client

    def _start(self, coro: Coroutine[Any, Any, None], exclusive: bool = True) -> None:
        if not self.steps.start(coro, exclusive):
            self._say("Still working on the previous step…", "warn")

    @property
    def task(self) -> asyncio.Task[Any] | None:
        """The step started last (an asyncio task); ``await panel.idle()`` waits for all."""
        return self.steps.task

    async def idle(self) -> None:
        """Wait until every step started so far (and any it started) has finished."""
        await self.steps.idle()

    def _failed(self, exc: BaseException) -> None:
        self._say(f"{type(exc).__name__}: see the message below.", "error")

    def _invalidate(self) -> None:
        self._choice += 1
        if self._quiet or self.plan is None:
            return
        self.plan = None
        self.plan_view.value = "<p><i>The choice changed: Preview again.</i></p>"
        self.confirm.layout.display = "none"
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.client is not None and not self.steps.busy
        summary = None if self.plan is None else self.plan.summary
        allowed = may_submit(summary, self.confirm.value)
        with self.submit_button.hold_sync():
            self.submit_button.disabled = not (ready and allowed)
            self.submit_button.description = submit_label(summary)
        self.preview_button.disabled = not ready
        self.undo_button.disabled = not ready
        self.load_button.disabled = self.client is None

    def _reading(self, what: str) -> ReadListener:
        """A read's progress in the status line, as it goes."""

        def show(pages: int, accounts: int, finished: bool) -> None:
            if not finished:
                self._say(f"{what}… {pages} page(s), {accounts:,} account(s)", "info")

        return show

    def _say(self, text: str, tone: str) -> None:
        self.status.value = f"<span style='color:{_TONES[tone]}'>{html.escape(text)}</span>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return with_full_text(super()._repr_mimebundle_(**kwargs), repr(self))

    def __repr__(self) -> str:
        name = self.client.name if self.client is not None else "(not connected)"
        progress = self.progress.model if self.progress.model.phase != "idle" else None
        return panel_text(name, self.status.value, self.plan, progress, self.results)
