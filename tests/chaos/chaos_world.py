"""The chaos world: an emulated workspace and a budgeted client in virtual time, run to the end.

The client and the emulator share one ``VirtualClock``, so a job that "takes" minutes, a 30 s
``Retry-After`` or a lock held for a minute cost nothing real. ``World.run`` executes a plan
through the drawn crashes (each followed by a resume from the journal), errors and drifts.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from chaos_draws import TIMEOUT, Crash, EmailsTarget, Exclusion, Scenario, SelectionTarget
from helpers import Crash as Crashed
from helpers import CrashingJournal, model_refs

from instantly_nb import Instantly, InstantlyError, Journal, PlanStaleError, RateLimit, Selection
from instantly_nb.emulator import Emulator, JobTiming
from instantly_nb.events import RunEvent
from instantly_nb.frames import read_accounts
from instantly_nb.plan import Plan
from instantly_nb.planner import plan_disable, plan_enable
from instantly_nb.run import execute
from instantly_nb.testing import VirtualClock
from instantly_nb.undo import resume, undo

# Imported here, not inside an example: importing IPython (through ipywidgets) raises the
# recursion limit, which Hypothesis reports when it happens during a test.
try:
    from instantly_nb.widgets import JobProgress
except ImportError:  # the widgets are optional: invariant 5 then skips widget state
    JobProgress = None

BASE_URL = "https://api.instantly.ai"
# Small on purpose, so that the budget bites: polling, listing and retries all queue behind it.
BUDGET = RateLimit(per_second=5, per_minute=100)
RESTART_GAP = 61.0  # a kernel restart takes at least a minute: a new client, a new budget


# --- building the world ----------------------------------------------------------------------


class Listener:
    """``on_update``: records events, feeds a progress widget, crashes or stops when told to."""

    def __init__(self, crash: Crash | None, widget: Any, world: World) -> None:
        self.crash, self.widget, self.world = crash, widget, world
        self.left = crash.nth if crash is not None else 0
        self.stop = threading.Event()

    def __call__(self, event: RunEvent) -> None:
        self.world.events.append(event)
        self.world.drift(event)
        if self.widget is not None:
            self.widget.on_update(event)
        if self.crash is not None and event.kind == self.crash.kind:
            self.left -= 1
            if self.left == 0:
                if self.crash.where == "stop":
                    self.stop.set()
                else:
                    raise Crashed(f"on_update {event.kind}")


class LeakWatch(logging.Handler):
    """Every log record of the run, as text (message and traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(text)


@contextmanager
def watching_logs() -> Iterator[LeakWatch]:
    watch = LeakWatch()
    root = logging.getLogger()
    noisy = [logging.getLogger(n) for n in ("instantly_nb", "httpx", "httpcore")]
    levels = [logger.level for logger in noisy]
    root.addHandler(watch)
    for logger in noisy:
        logger.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        for logger, level in zip(noisy, levels, strict=True):
            logger.setLevel(level)


def progress_widget(clock: VirtualClock) -> Any:
    """A ``JobProgress`` fed every event, when the widgets are installed."""
    return None if JobProgress is None else JobProgress("chaos", now=clock.now)


def widget_state(widget: Any) -> str:
    """The synced state of the widget and everything it references, as JSON text."""
    from ipywidgets.widgets.widget import _instances

    seen: set[str] = set()
    stack = [widget]
    parts = []
    while stack:
        current = stack.pop()
        if current.model_id in seen:
            continue
        seen.add(current.model_id)
        state = current.get_state()
        parts.append(json.dumps(state, default=str))
        for value in model_refs(state):
            found = _instances.get(value)
            if found is not None:
                stack.append(found)
    outputs = getattr(widget, "output", None)
    if outputs is not None:
        parts.append(json.dumps(outputs.outputs, default=str))
    return "\n".join(parts)


class World:
    """One emulated workspace, the budgeted client(s) talking to it, and what was seen."""

    def __init__(self, scenario: Scenario, tmp: Path) -> None:
        ws = scenario.workspace
        self.scenario = scenario
        self.tmp = tmp
        self.clock = VirtualClock()
        self.emu = Emulator(
            ws.accounts,
            ws.seed,
            api_key=scenario.key,
            clock=self.clock,
            timing=JobTiming(queue_delay=0.4, per_account=ws.per_account),
            negative_warmup=ws.negative_warmup,  # type: ignore[arg-type]
            retry_after=ws.retry_after,
        )
        listed = self.emu.accounts()
        self.emails = [str(a["email"]) for a in listed]
        self.before = {str(a["email"]).lower(): a["warmup_status"] for a in listed}
        self.clients: list[Instantly] = []
        self.client = self.new_client(BUDGET)
        self.errors: list[BaseException] = []
        self.events: list[RunEvent] = []
        self.log_start = 0
        self.crashed = 0
        self.seen: Counter[str] = Counter()
        self.drifted: set[str] = set()  # accounts whose warmup someone else set
        self.stale: PlanStaleError | None = None
        self.added: set[str] = set()
        self.old_jobs: set[str] = set()

    def drift(self, event: RunEvent) -> None:
        """Apply the drifts due at this event."""
        self.seen[event.kind] += 1
        for d in self.scenario.drifts:
            if d.kind != event.kind or d.nth != self.seen[event.kind]:
                continue
            if d.edit == "add":
                email = f"drift{len(self.added)}@late-arrival.example"
                goal = 0 if self.scenario.action == "disable" else 1
                self.emu.add_account(email, tags=[d.tag], warmup_status=1 - goal)
                self.added.add(email)
            elif self.emails:
                email = self.emails[d.index % len(self.emails)]
                if d.edit == "tag":
                    self.emu.tag_account(email, d.tag)
                else:
                    self.emu.set_warmup_status(email, d.state)
                    self.drifted.add(email.lower())

    def new_client(self, rate: RateLimit | None = BUDGET) -> Instantly:
        client = Instantly(
            self.scenario.key,
            base_url=BASE_URL,
            transport=self.emu.transport(),
            clock=self.clock,
            rate=rate,
            timeout=TIMEOUT,
        )
        self.clients.append(client)
        return client

    def restart(self) -> None:
        """A kernel restart: the old client is gone; a new one starts a minute later."""
        self.client.close()
        self.clock.advance(RESTART_GAP)
        self.client = self.new_client()

    def close(self) -> None:
        for client in self.clients:
            client.close()

    # --- targets -------------------------------------------------------------------------

    def selection_members(self, target: SelectionTarget) -> set[str]:
        """What the selection selects, asked of the workspace by a separate, unbudgeted client."""
        oracle = self.new_client(rate=None)
        try:
            frame = read_accounts(oracle, **self._criteria(target))
        finally:
            oracle.close()
        return {e.lower() for e in frame["email"]}

    def _criteria(self, target: SelectionTarget) -> dict[str, Any]:
        if target.everything:
            return {}
        search = None
        if target.search is not None:
            search = target.search.resolve(self.emails).rsplit("@", 1)[-1].lower()
        return {"filter": target.filter, "tag": target.tag, "search": search}

    def selection(self, target: SelectionTarget) -> Selection:
        if target.everything:
            return Selection.all_accounts()
        return Selection(**self._criteria(target))

    def emails_of(self, target: EmailsTarget) -> list[str]:
        start = target.start % len(self.emails) if self.emails else 0
        spanned = (self.emails[start:] + self.emails[:start])[: target.span]  # wraps around
        return spanned + [p.resolve(self.emails) for p in target.picks]

    def materialise(self, target: EmailsTarget, values: list[str]) -> Any:
        form = target.form
        if form == "list":
            return values
        if form == "tuple":
            return tuple(values)
        if form == "iterator":
            return iter(values)
        if form == "series":
            return pd.Series(values, name="whatever")
        if form == "frame":
            return pd.DataFrame({"name": range(len(values)), target.column: values})
        if form == "frame_index":
            return pd.DataFrame({"n": range(len(values))}, index=pd.Index(values, name="email"))
        path = self.tmp / "targets.csv"
        if form == "csv":
            pd.DataFrame({target.column: values, "note": "x"}).to_csv(path, index=False)
        else:
            path.write_text("\n".join(v.strip() for v in values) + "\n", encoding="utf-8")
        return path

    @staticmethod
    def materialise_exclusion(exclusion: Exclusion, values: list[str]) -> Any:
        if exclusion.form == "series":
            return pd.Series(values)
        if exclusion.form == "frame":
            return pd.DataFrame({"Email": values})
        return values

    # --- running ---------------------------------------------------------------------------

    def plan(self) -> tuple[Plan, set[str]]:
        """The plan of the scenario, and the distinct (lower-cased) emails it was given.

        With ``history``, the same plan is first run and undone without faults, as a user trying
        it out would: recent jobs with the same bodies exist, and the workspace is as before
        (up to warmup errors, which no API call can put back).
        """
        s = self.scenario
        if s.history:
            first, _ = self._plan(mark=False)
            results = first.execute(confirm=first.fingerprint, journal=self.tmp / "first.jsonl")
            restorable = results["outcome"].eq("changed") & results["before"].isin([0, 1])
            if restorable.any():
                back = undo(self.client, results)
                back.execute(confirm=back.fingerprint, journal=self.tmp / "undo.jsonl")
            now = {str(a["email"]).lower(): a["warmup_status"] for a in self.emu.accounts()}
            kept = {k: v for k, v in self.before.items() if v in (0, 1)}
            assert {k: now[k] for k in kept} == kept, "undo did not restore the workspace"
            self.before = now
        self.old_jobs = {j["id"] for j in self.emu.jobs("update-warmup-accounts")}
        # The budget is checked over the run itself; the history had its own minute.
        self.clock.advance(RESTART_GAP)
        return self._plan(mark=True)

    def _plan(self, *, mark: bool) -> tuple[Plan, set[str]]:
        s = self.scenario
        make = plan_disable if s.action == "disable" else plan_enable
        pool = self.emails
        if isinstance(s.target, SelectionTarget):
            inputs = self.selection_members(s.target)  # before the mark: another client's
            target: Any = self.selection(s.target)
        else:
            values = self.emails_of(s.target)
            inputs = {v.strip().lower() for v in values}
            known = [v.strip() for v in values if v.strip().lower() in self.before]
            pool = known or pool
            target = self.materialise(s.target, values)
        exclude = None
        if s.exclude is not None:
            excluded = [p.resolve(pool) for p in s.exclude.picks]
            exclude = self.materialise_exclusion(s.exclude, excluded)
        if mark:
            self.log_start = len(self.emu.log)
        wide = isinstance(s.target, EmailsTarget) and s.target.server_side
        return make(self.client, target, exclude=exclude, server_side=wide), inputs

    def run(self, plan: Plan, journal: Path, widget: Any) -> pd.DataFrame:
        """Execute with faults and crashes, resuming until the journal says the run is done."""
        s = self.scenario
        crashes = list(s.crashes)
        options: dict[str, Any] = {}
        if s.job_timeout is not None:
            options["job_timeout"] = s.job_timeout
        failures = attempts = 0
        while True:
            attempts += 1
            assert attempts < 60, "the run never finished"
            crash = crashes.pop(0) if crashes else None
            if crash is not None and crash.restart:
                self.restart()
            log = (
                CrashingJournal(journal, crash.kind, crash.nth)
                if crash is not None and crash.where == "journal"
                else Journal(journal)
            )
            listener = Listener(
                crash if crash is not None and crash.where != "journal" else None, widget, self
            )
            try:
                if log.records():
                    results = resume(
                        self.client, log, on_update=listener, stop=listener.stop, **options
                    )
                else:
                    results = self.client._run(
                        execute(self.client, plan, confirm=plan.fingerprint, journal=log,
                                on_update=listener, stop=listener.stop, **options),
                    )  # fmt: skip
            except Crashed:
                self.crashed += 1
                continue
            except PlanStaleError as exc:
                # Someone changed the workspace: the run ends; a new plan is the way on.
                self.errors.append(exc)
                self.stale = exc
                break
            except InstantlyError as exc:
                # A clear error the user can act on (retries ran out...): they run it again.
                self.errors.append(exc)
                if widget is not None:
                    widget.fail(exc)
                failures += 1
                if failures >= 4:
                    self.emu.faults.clear()
                continue
            if Journal(journal).finished:
                return results
            # The run ended early with every row accounted for (an odd answer, a verification
            # cut short): the user reads why and resumes it.
            failures += 1
            if failures >= 4:
                self.emu.faults.clear()
        assert s.drifts, f"stale without any drift: {self.stale}"
        # What ran must not be lost: the error carries the results so far.
        results = getattr(self.stale, "results", None)
        assert results is not None, "a stale plan lost the results of what ran"
        return results  # type: ignore[no-any-return]
