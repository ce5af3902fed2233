"""What a run reports while it goes: ``RunEvent``, its kinds, and the listener type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from .models import Job

__all__ = [
    "EVENT_KINDS", "RUN_ENDS", "EventKind", "FleetListener", "Listener", "RunEnd", "RunEvent",
    "StopSignal",
]  # fmt: skip

EventKind = Literal[
    "started",  # the run begins; message: how many jobs
    "submitting",  # request ``request`` is about to be sent
    "waiting_lock",  # Instantly answered 409: another warmup job runs; trying again
    "submitted",  # the job exists; message: its id
    "progress",  # a poll of the running job
    "job_done",  # the job reached a terminal status
    "verifying",  # re-reading the accounts
    "finished",  # the run is over; message says why when it ended early
    "stopped",  # a stop was asked for: request ``request`` and later ones are not sent
    "stale",  # a selection changed since the preview: nothing further is sent
]
EVENT_KINDS: tuple[EventKind, ...] = EventKind.__args__  # type: ignore[attr-defined]

# How a run ended: the ``finished`` event's ``end`` and the results frame's
# ``attrs["instantly_nb"]["end"]`` say the same.
RunEnd = Literal[
    "finished",  # every request was sent, its job ended and its accounts were re-read
    "stopped",  # a stop left requests not submitted; resume(client, journal) sends them
    "ended_early",  # something else ended it (an error, a lost answer, an unplanned change,
    # a job past its deadline, an incomplete verification); resume finishes what is left
    "stale",  # a selection changed since the preview; nothing further is sent: plan again
]
RUN_ENDS: tuple[RunEnd, ...] = RunEnd.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RunEvent:
    """What ``on_update`` receives while a plan runs.

    Attributes
    ----------
    kind : EventKind
    requests : int
        How many jobs the plan sends in all.
    request : int, optional
        The index of the request the event is about.
    job : Job, optional
        The job as last polled.
    done : int
        Jobs ended so far.
    message : str
    end : RunEnd, optional
        On ``finished``: how the run ended. A run stopped after its last job was submitted
        sent everything: it ends ``finished``.
    """

    kind: EventKind
    requests: int
    request: int | None = None
    job: Job | None = None
    done: int = 0
    message: str = ""
    end: RunEnd | None = None


Listener = Callable[[RunEvent], object]
# A run over several workspaces tells its listener which workspace each event comes from.
FleetListener = Callable[[str, RunEvent], object]


class StopSignal(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event`` or ``asyncio.Event``."""

    def is_set(self) -> bool: ...
