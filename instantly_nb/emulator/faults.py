"""Fault injection: make the emulated workspace misbehave the ways the real one can.

Every fault names the requests it hits by a *route*:
``("POST", "/api/v2/accounts/warmup/disable")``, ``("GET", "/api/v2/background-jobs/*")``
(shell-style pattern on the path, ``"*"`` for any method), the same as one string
``"GET /api/v2/background-jobs/*"``, or ``"*"`` for every request. Each fires
``times`` times (then it is spent), or for ``seconds`` of emulator-clock time, and the first live
fault of a kind wins. Unknown routes, and requests refused for auth, plan, scope or the real
rate limit, are answered before any fault.

Answers (the request is not processed)::

    emu.faults.rate_limited("*", times=3, retry_after=2)        # a burst of 429s
    emu.faults.server_error(("GET", "/api/v2/accounts"), status=503)   # 5xx (502-504: an HTML page)
    emu.faults.lock(seconds=30)                                 # 409 on warmup POSTs for 30 s
    emu.faults.respond("*", 418, times=1, message="teapot")     # any status

Timing and loss::

    emu.faults.delay(("GET", "/api/v2/accounts"), seconds=5)    # answered 5 s late; a shorter
                                                                # read timeout: httpx.ReadTimeout
    emu.faults.drop(("POST", "/api/v2/accounts/warmup/*"))      # processed, answer lost: ReadError
    emu.faults.drop("*", after_processing=False)                # never arrived: ConnectError

In process, a delay sleeps on the emulator's clock (instant with a VirtualClock). Over real HTTP
(the ASGI app) a dropped request is never answered: the server holds it until the client gives up
and disconnects, which a client sees as a read timeout.

The next warmup jobs::

    emu.faults.fail_job(at=0.5)            # ends "failed" halfway; the rest stays untouched
    emu.faults.cancel_job(at=0.3)          # ends "cancelled"
    emu.faults.pause_job(seconds=10)       # "paused" for 10 s halfway, then resumes
    emu.faults.job_status("verifying", seconds=5)   # an unknown status before "success"
    emu.faults.fail_emails(fraction=0.1)   # per-email failures, accounts left unchanged
    emu.faults.fail_emails(emails=["a@x.com"], error="Account is disconnected")

``emu.faults.clear()`` removes every fault.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from .jobs import JobScript

__all__ = ["EmailFailures", "Fault", "Faults", "Route"]

Route = tuple[str, str] | str
Kind = Literal["status", "delay", "drop"]

LOCK_MESSAGE = "update-warmup-accounts job in progress"
WARMUP_POSTS = ("POST", "/api/v2/accounts/warmup/[de]*able")
DEFAULT_EMAIL_ERROR = "Failed to update warmup status"


def _route(route: Route) -> tuple[str, str]:
    if isinstance(route, tuple):
        method, pattern = route
    elif route.strip() == "*":
        method, pattern = "*", "*"
    else:
        method, _, pattern = route.strip().partition(" ")
        if not pattern:
            raise ValueError(f"route {route!r}: expected 'METHOD /path/pattern' or '*'")
    return method.upper(), pattern.strip()


@dataclass
class Fault:
    """One registered request fault; see the module docstring."""

    kind: Kind
    method: str = "*"
    pattern: str = "*"
    remaining: int | None = 1
    until: float | None = None
    status: int = 0
    message: str = ""
    retry_after: float | None = None
    seconds: float = 0.0
    after_processing: bool = True
    fired: int = 0

    def matches(self, method: str, path: str, now: float) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.until is not None and now >= self.until:
            return False
        if self.method != "*" and self.method != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.pattern)


@dataclass(frozen=True)
class EmailFailures:
    """Per-email failures for one job: the listed emails and/or a deterministic fraction."""

    emails: frozenset[str] = frozenset()
    fraction: float = 0.0
    error: str = DEFAULT_EMAIL_ERROR

    def fails(self, email: str, job_id: str) -> bool:
        if email.lower() in self.emails:
            return True
        if self.fraction <= 0:
            return False
        digest = hashlib.blake2b(f"{job_id}:{email.lower()}".encode(), digest_size=8).digest()
        return int.from_bytes(digest) / 2**64 < self.fraction


@dataclass
class _Queued:
    value: JobScript | EmailFailures
    remaining: int


class Faults:
    """The faults registered on one emulator (see the module docstring for examples)."""

    def __init__(self, clock_now: Callable[[], float]) -> None:
        self._now = clock_now
        self.faults: list[Fault] = []
        self._scripts: list[_Queued] = []
        self._failures: list[_Queued] = []

    # --- request faults ----------------------------------------------------------------------

    def _add(self, fault: Fault, route: Route, times: int | None, seconds: float | None) -> Fault:
        if times is None and seconds is None:
            times = 1
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        fault.method, fault.pattern = _route(route)
        fault.remaining = times
        fault.until = None if seconds is None else self._now() + seconds
        self.faults.append(fault)
        return fault

    def respond(
        self,
        route: Route,
        status: int,
        *,
        times: int | None = None,
        seconds: float | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer matching requests with ``status`` (Instantly's envelope) without processing them.

        Fires ``times`` times, or every time for ``seconds`` (one time when neither is given).
        ``retry_after`` adds a ``Retry-After`` header (whole seconds, rounded up).
        """
        if not 400 <= status <= 599:
            raise ValueError("a fault status must be 4xx or 5xx")
        fault = Fault("status", status=status, message=message or "", retry_after=retry_after)
        return self._add(fault, route, times, seconds)

    def rate_limited(
        self, route: Route = "*", *, times: int = 1, retry_after: float | None = None
    ) -> Fault:
        """A burst of ``times`` 429 answers, with ``Retry-After`` when ``retry_after`` is given."""
        return self.respond(route, 429, times=times, retry_after=retry_after)

    def server_error(self, route: Route = "*", *, times: int = 1, status: int = 500) -> Fault:
        """``times`` 5xx answers: 500 in Instantly's JSON envelope, 502-504 as an HTML page."""
        if not 500 <= status <= 599:
            raise ValueError("server_error needs a 5xx status")
        return self.respond(route, status, times=times)

    def lock(self, *, times: int | None = None, seconds: float | None = None) -> Fault:
        """409 "update-warmup-accounts job in progress" on warmup POSTs (§5.5), N times or S s."""
        return self.respond(WARMUP_POSTS, 409, times=times, seconds=seconds, message=LOCK_MESSAGE)

    def delay(self, route: Route, seconds: float, *, times: int = 1) -> Fault:
        """Answer matching requests ``seconds`` late (they are processed on arrival)."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        return self._add(Fault("delay", seconds=seconds), route, times, None)

    def drop(self, route: Route, *, times: int = 1, after_processing: bool = True) -> Fault:
        """Lose the answer (``after_processing=True``: the request took effect) or the request."""
        return self._add(Fault("drop", after_processing=after_processing), route, times, None)

    def take(self, kind: Kind, method: str, path: str) -> Fault | None:
        """The first live fault of ``kind`` matching the request, consumed once."""
        now = self._now()
        for fault in self.faults:
            if fault.kind == kind and fault.matches(method, path, now):
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.fired += 1
                return fault
        return None

    # --- job faults ----------------------------------------------------------------------------

    def _script(self, script: JobScript, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        if not 0.0 <= script.at <= 1.0:
            raise ValueError("at is a fraction of the job's targets, between 0 and 1")
        self._scripts.append(_Queued(script, times))

    def fail_job(self, *, at: float = 0.5, times: int = 1) -> None:
        """The next ``times`` warmup jobs end ``failed`` once the fraction ``at`` is done."""
        self._script(JobScript("failed", at=at), times)

    def cancel_job(self, *, at: float = 0.5, times: int = 1) -> None:
        """The next ``times`` warmup jobs end ``cancelled`` once the fraction ``at`` is done."""
        self._script(JobScript("cancelled", at=at), times)

    def pause_job(self, seconds: float, *, at: float = 0.5, times: int = 1) -> None:
        """The next ``times`` warmup jobs are ``paused`` for ``seconds`` at ``at``, then resume."""
        self._script(JobScript("paused", at=at, seconds=seconds), times)

    def job_status(
        self, status: str = "verifying", *, seconds: float = 5.0, times: int = 1
    ) -> None:
        """The next ``times`` warmup jobs show ``status`` for ``seconds`` before ``success``."""
        self._script(JobScript("status", seconds=seconds, status=status), times)

    def fail_emails(
        self,
        *,
        emails: Iterable[str] = (),
        fraction: float = 0.0,
        error: str = DEFAULT_EMAIL_ERROR,
        times: int = 1,
    ) -> None:
        """In the next ``times`` warmup jobs, these emails (and/or a fraction) fail, unchanged."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        if times < 1:
            raise ValueError("times must be at least 1")
        failures = EmailFailures(frozenset(e.lower() for e in emails), fraction, error)
        self._failures.append(_Queued(failures, times))

    def next_job(self) -> tuple[JobScript | None, EmailFailures | None]:
        """The script and email failures for the warmup job being created now (consumed)."""
        script = _pop(self._scripts)
        failures = _pop(self._failures)
        assert script is None or isinstance(script, JobScript)
        assert failures is None or isinstance(failures, EmailFailures)
        return script, failures

    # --- housekeeping ----------------------------------------------------------------------

    def clear(self) -> None:
        """Remove every request fault and every queued job fault."""
        self.faults.clear()
        self._scripts.clear()
        self._failures.clear()

    def __repr__(self) -> str:
        live = sum(1 for f in self.faults if f.remaining is None or f.remaining > 0)
        queued = len(self._scripts) + len(self._failures)
        return f"Faults({live} request fault(s), {queued} job fault(s))"


def _pop(queue: list[_Queued]) -> JobScript | EmailFailures | None:
    while queue and queue[0].remaining <= 0:
        queue.pop(0)
    if not queue:
        return None
    queue[0].remaining -= 1
    return queue[0].value
