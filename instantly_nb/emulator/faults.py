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
    emu.faults.rate_limited(("POST", "/api/v2/accounts/warmup/*"), retry_after=300)
                                                                # ... on a POST, Retry-After: 300
    emu.faults.server_error(("GET", "/api/v2/accounts"), status=503)   # 5xx (502-504: an HTML page)
    emu.faults.lock(seconds=30)                                 # 409 on warmup POSTs for 30 s
    emu.faults.respond("*", 418, times=1, message="teapot")     # any status
    emu.faults.echo_key("*", status=400)   # an error whose JSON "message" quotes the request's
                                           # Authorization header, key and all: a server bug a
                                           # client must not pass on to its logs or its user

Timing and loss::

    emu.faults.delay(("GET", "/api/v2/accounts"), seconds=5)    # answered 5 s late; a shorter
                                                                # read timeout: httpx.ReadTimeout
    emu.faults.drop(("POST", "/api/v2/accounts/warmup/*"))      # processed, answer lost: ReadError
    emu.faults.drop("*", after_processing=False)                # never arrived: ConnectError
    emu.faults.late_submit(seconds=8)      # a warmup POST's answer is lost (ReadError) and the
                                           # request reaches the server 8 s later: only then is it
                                           # validated, checked against the lock, its job made

In process, a delay sleeps on the emulator's clock (instant with a VirtualClock). Over real HTTP
(the ASGI app) a dropped request is never answered: the server holds it until the client gives up
and disconnects, which a client sees as a read timeout.

Odd answers (the request IS processed; only a 2xx answer is bent, another leaves the fault
unspent)::

    emu.faults.garbled(("GET", "/api/v2/accounts"))             # a 200 with truncated JSON
    emu.faults.garbled("POST /api/v2/accounts/warmup/*", kind="html")  # a 200 HTML page; the job
                                                                # exists all the same
    emu.faults.missing_id()                # a warmup POST's 200 job object without its "id"

Listings (``GET /accounts`` and any other cursor-paginated listing)::

    emu.faults.cursor_cycle(("GET", "/api/v2/accounts"))        # page 2's cursor points back to
                                                                # page 1: following it serves page 1
    emu.faults.drop_cursor(("GET", "/api/v2/accounts"), page=2)  # page 2 comes without a cursor

Page numbers are counted per fault from when it is registered: a request without
``starting_after`` is page 1, one carrying the cursor of page n is page n + 1 (a walk begun
earlier is not counted). ``cursor_cycle``'s ``times`` counts the rewinds served (the
cursor of page ``page`` leads back to page 1 that many times, then onwards); ``drop_cursor``'s
counts the pages answered without a cursor.

The next warmup jobs::

    emu.faults.fail_job(at=0.5)            # ends "failed" halfway; the rest stays untouched
    emu.faults.cancel_job(at=0.3)          # ends "cancelled"
    emu.faults.pause_job(seconds=10)       # "paused" for 10 s halfway, then resumes
    emu.faults.job_status("verifying", seconds=5)   # an unknown status before "success"
    emu.faults.fail_emails(fraction=0.1)   # per-email failures, accounts left unchanged
    emu.faults.fail_emails(emails=["a@x.com"], error="Account is disconnected")
    emu.faults.vanishing_job()             # the first GET /background-jobs/{id} of the next job
                                           # is a 404 (eventual consistency); later polls succeed

Job faults apply to the jobs in the order they are created (a late submit's job when it arrives).
``Emulator.log`` names the fault that shaped each answer (``RequestRecord.fault``).
``emu.faults.clear()`` removes every fault.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from .jobs import JobScript

__all__ = ["EmailFailures", "Fault", "Faults", "Garble", "Route"]

Route = tuple[str, str] | str
Kind = Literal[
    "status",
    "delay",
    "drop",
    "garbled",
    "missing_id",
    "echo_key",
    "late_submit",
    "cursor_cycle",
    "drop_cursor",
]
Garble = Literal["truncated", "html"]
GARBLES: tuple[str, ...] = ("truncated", "html")

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
    garble: Garble = "truncated"
    page: int = 0  # cursor_cycle / drop_cursor: the page whose cursor is bent
    pages: dict[str, int] = field(default_factory=dict, repr=False)  # cursor -> page it leads to
    rewind: set[str] = field(default_factory=set, repr=False)  # cursor_cycle: cursors to page 1

    @property
    def live(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def spend(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1
        self.fired += 1

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
        self._vanish_next = 0  # how many of the next warmup jobs vanish once
        self._vanishing: set[str] = set()  # ids whose first GET is still to be refused

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

    def late_submit(
        self, seconds: float = 8.0, *, times: int = 1, route: Route = WARMUP_POSTS
    ) -> Fault:
        """Lose the answer (``httpx.ReadError``) and deliver the request ``seconds`` later.

        Nothing happens when it is sent: a client listing jobs right after sees no new job. At
        ``seconds`` later on the emulator clock the request is processed as if it arrived then
        (validated, checked against the warmup lock, its job created with that time).
        ``Emulator.log`` holds it twice: status 0 when sent, its real status when delivered.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        return self._add(Fault("late_submit", seconds=seconds), route, times, None)

    def garbled(self, route: Route, *, times: int = 1, kind: Garble = "truncated") -> Fault:
        """Process the request, then answer 200 with a broken body instead of its 2xx answer.

        ``kind="truncated"``: the first half of the JSON (``application/json``, unparseable);
        ``"html"``: an HTML page (``text/html``), as from a proxy or a challenge page. A warmup
        POST still creates its job. A non-2xx answer is sent as is and does not spend the fault.
        """
        if kind not in GARBLES:
            raise ValueError(f"kind must be one of {', '.join(GARBLES)}")
        return self._add(Fault("garbled", garble=kind), route, times, None)

    def missing_id(self, *, times: int = 1) -> Fault:
        """A warmup POST answered 200 with its job object minus ``id`` (the job IS created)."""
        return self._add(Fault("missing_id"), WARMUP_POSTS, times, None)

    def echo_key(self, route: Route = "*", *, times: int = 1, status: int = 400) -> Fault:
        """An error ``status`` (not processed) whose JSON ``message`` quotes the request's
        ``Authorization`` header value, key and all (a real server bug; the client must not
        repeat it)."""
        if not 400 <= status <= 599:
            raise ValueError("an echo_key status must be 4xx or 5xx")
        return self._add(Fault("echo_key", status=status), route, times, None)

    def cursor_cycle(self, route: Route, *, times: int = 1, page: int = 2) -> Fault:
        """The cursor answered with page ``page`` (default 2) leads back to page 1, a cycle.

        The cursor looks like any other; a request carrying it is served as page 1 (its
        ``starting_after`` ignored), ``times`` times. Once spent, that cursor works normally.
        """
        if page < 1:
            raise ValueError("page must be at least 1")
        return self._add(Fault("cursor_cycle", page=page), route, times, None)

    def drop_cursor(self, route: Route, *, page: int = 1, times: int = 1) -> Fault:
        """Page ``page`` of the listing (normally a full one) comes without
        ``next_starting_after``, as if it were the last; ``times`` such pages."""
        if page < 1:
            raise ValueError("page must be at least 1")
        return self._add(Fault("drop_cursor", page=page), route, times, None)

    def take(self, kind: Kind, method: str, path: str) -> Fault | None:
        """The first live fault of ``kind`` matching the request, consumed once."""
        now = self._now()
        for fault in self.faults:
            if fault.kind == kind and fault.matches(method, path, now):
                fault.spend()
                return fault
        return None

    def listing(self, method: str, path: str) -> list[Fault]:
        """The live ``cursor_cycle`` / ``drop_cursor`` faults matching a request (not spent)."""
        now = self._now()
        return [
            f
            for f in self.faults
            if f.kind in ("cursor_cycle", "drop_cursor") and f.matches(method, path, now)
        ]

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

    def vanishing_job(self, *, times: int = 1) -> None:
        """The next ``times`` warmup jobs: the first ``GET /background-jobs/{id}`` of each
        answers 404 "Background job not found" (eventual consistency); later polls succeed."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._vanish_next += times

    def job_created(self, job_id: str) -> None:
        """Called for each new warmup job: it vanishes once if ``vanishing_job`` asked so."""
        if self._vanish_next > 0:
            self._vanish_next -= 1
            self._vanishing.add(job_id)

    def vanishes(self, job_id: str) -> bool:
        """Whether this ``GET /background-jobs/{id}`` is refused (once per vanishing job)."""
        if job_id in self._vanishing:
            self._vanishing.discard(job_id)
            return True
        return False

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
        self._vanish_next = 0
        self._vanishing.clear()

    def __repr__(self) -> str:
        live = sum(1 for f in self.faults if f.live)
        queued = len(self._scripts) + len(self._failures) + self._vanish_next
        return f"Faults({live} request fault(s), {queued} job fault(s))"


def _pop(queue: list[_Queued]) -> JobScript | EmailFailures | None:
    while queue and queue[0].remaining <= 0:
        queue.pop(0)
    if not queue:
        return None
    queue[0].remaining -= 1
    return queue[0].value
