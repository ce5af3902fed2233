"""What a run reports while it goes: ``RunEvent``, its kinds, and the listener type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from .models import Job

__all__ = ["EVENT_KINDS", "EventKind", "Listener", "RunEvent", "StopSignal"]

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
    """

    kind: EventKind
    requests: int
    request: int | None = None
    job: Job | None = None
    done: int = 0
    message: str = ""


Listener = Callable[[RunEvent], object]


class StopSignal(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event`` or ``asyncio.Event``."""

    def is_set(self) -> bool: ...
