"""What an endpoint sees: the emulator's settings and one call's parsed request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .faults import Faults
from .generate import ObjectIds
from .jobs import JobTiming
from .selection import WarmupReading
from .workspace import Workspace

__all__ = ["Call", "ListWarmup", "Settings"]

# §3.1 [3P]: the list may return only {limit} of `warmup`; GET /accounts/{email} returns it all.
ListWarmup = Literal["abbreviated", "full"]


@dataclass
class Settings:
    """The knobs of one emulator; the ``Emulator`` properties read and write these."""

    api_key: str
    timing: JobTiming = field(default_factory=JobTiming)
    key_revoked: bool = False
    plan_active: bool = True
    scopes: frozenset[str] | None = None
    warmup_lock: bool = True
    retry_after: bool = False
    list_warmup: ListWarmup = "abbreviated"
    warmup_reading: WarmupReading = field(default_factory=WarmupReading)


@dataclass
class Call:
    """One request after routing: decoded path parameters, the query as lists, raw body."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    now: float
    ws: Workspace
    settings: Settings
    faults: Faults
    ids: ObjectIds
    next_seq: Callable[[], int]
    request_json: object = None
    fault: str | None = None  # set by an endpoint that applied a job fault (Emulator.log)
