"""``Plan``: a preview of a bulk warmup change, bound to its client, ready to ``execute()``.

The data lives in ``PlanRecord`` (records.py); this adds the client, the notebook display and
the two ways to run it. The planner (planner.py) makes plans.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd

from . import _constants as C
from .events import Listener, StopSignal
from .journal import Journal
from .plan_view import plan_html, plan_text
from .progress_text import TextProgress
from .records import PlanRecord
from .run import execute
from .sync_client import Client, Instantly

__all__ = ["Plan"]

JournalLike = Journal | str | os.PathLike[str] | None


@dataclass(kw_only=True)
class Plan(PlanRecord):
    """A preview of a bulk warmup change; nothing has been sent.

    Attributes
    ----------
    frame : DataFrame
        One row per targeted email (``PLAN_COLUMNS``): current state, action, reason, risk.
    requests : list of dict
        The exact JSON bodies that ``execute()`` will send, in order.
    summary : PlanSummary
    fingerprint : str
        A stable hash of the requests; pass it to ``execute(confirm=...)`` for large plans.
    """

    client: Client = field(repr=False)

    def execute(
        self,
        *,
        confirm: str | int | None = None,
        journal: JournalLike = None,
        on_update: Listener | None = None,
        stop: StopSignal | None = None,
        progress: bool = True,
        job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
    ) -> pd.DataFrame:
        """Submit the jobs one at a time, wait, verify; one result row per targeted email.

        Parameters
        ----------
        confirm : str or int, optional
            The plan's fingerprint or its number of changes; required when the plan says so.
        journal : Journal or path, optional
            Where to log the run; ``instantly_nb_runs/<plan id>.jsonl`` by default. Running
            the same plan with the same journal again resumes it.
        on_update : callable, optional
            Receives a ``RunEvent`` for every step and job poll. Without it, progress is shown
            as one live line (``progress=False``: quiet).
        stop : object with ``is_set()``, optional
            When set, no further job is submitted (the running one finishes; Instantly
            cannot cancel it). The accounts of the jobs not submitted come back as
            ``not_submitted``, and ``instantly_nb.resume(client, journal)`` sends them later.
            A stop after the last job was submitted holds nothing back: the run is finished.
        job_timeout : float
            Seconds to wait for one job before giving up on watching it.
        """
        if not isinstance(self.client, Instantly):
            raise TypeError("this plan's client is async: use `await plan.aexecute(...)`")
        if on_update is None and progress:
            on_update = TextProgress(f"{self.action} warmup")
        return self.client._run(
            execute(
                self.client, self, confirm=confirm, journal=journal, on_update=on_update,
                stop=stop, job_timeout=job_timeout,
            )
        )  # fmt: skip

    async def aexecute(
        self,
        *,
        confirm: str | int | None = None,
        journal: JournalLike = None,
        on_update: Listener | None = None,
        stop: StopSignal | None = None,
        job_timeout: float = C.DEFAULT_JOB_TIMEOUT,
    ) -> pd.DataFrame:
        """``execute`` for async code (the widgets run it as a task on the kernel's loop)."""
        return await execute(
            self.client, self, confirm=confirm, journal=journal, on_update=on_update,
            stop=stop, job_timeout=job_timeout,
        )  # fmt: skip

    def _repr_html_(self) -> str:
        return plan_html(self)

    def __repr__(self) -> str:
        return plan_text(self)
