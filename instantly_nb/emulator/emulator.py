"""``Emulator``: a stateful fake Instantly API v2 workspace, in process or over HTTP."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Mapping
from typing import Any

from .._budget import RateBudget, RateLimit
from .._clock import Clock, SystemClock
from .accounts_api import account_view
from .asgi import ASGIApp, make_asgi
from .context import ListWarmup, Settings
from .edits import WorkspaceEdits
from .faults import Faults
from .generate import DEFAULT_WORKSPACE_NAME, generate
from .group_api import member_view
from .handler import Counts, Handler, RequestRecord
from .jobs import DEFAULT_TIMING, JobTiming
from .responses import Response
from .selection import WarmupReading
from .tags_api import tag_view
from .transport import EmulatorTransport
from .workspace import NegativeWarmup

__all__ = ["Emulator"]


class Emulator(WorkspaceEdits):
    """A fake Instantly workspace: the v2 endpoints for warmup toggling, faithful to the byte.

    Parameters
    ----------
    accounts, seed
        Size of the generated workspace and the seed that makes it reproducible.
    api_key
        The key requests must carry as ``Authorization: Bearer <key>``.
    clock
        Where time comes from (``SystemClock()`` by default). With a ``VirtualClock`` jobs
        progress only as the clock moves, so tests run in virtual time.
    timing
        How long warmup jobs take (queue delay, time per account).
    warmup_lock
        Answer 409 "update-warmup-accounts job in progress" while a warmup job is not terminal.
    rate_limit
        ``(per_second, per_minute)`` requests for the workspace, or None for no limit.
    retry_after
        Send ``Retry-After`` (whole seconds) with rate-limit 429s; whether Instantly does is not
        known (docs/instantly-api.md §2.4).
    workspace_name
        ``name`` of ``GET /workspaces/current``. A name other than the default also gives the
        workspace another id (derived from the seed and the name).
    workspace_id
        ``id`` of the workspace (``GET /workspaces/current``, every account's ``organization``,
        every job's ``workspace_id``); by default a UUID drawn from ``seed`` (and the name), so
        emulators with different seeds or names are different workspaces.
    warmup_selection
        How warmup jobs read ``search``, ``filter.tag_id`` and ``filter.filter`` with
        ``include_all_emails`` (undocumented, docs/instantly-api.md §5.4): a ``WarmupReading``
        or a mapping of its fields, e.g. ``{"search": "drop", "filter": "broaden"}``. Each is
        ``"list"`` (as ``GET /accounts`` reads it: the default), ``"drop"`` (ignored) or
        ``"broaden"`` (a looser superset; selection.py). ``excluded_emails`` always exclude.
    list_warmup
        ``"abbreviated"`` (``warmup: {limit}`` in list items, as reported live) or ``"full"``.
    negative_warmup
        ``"fail"``: jobs leave banned/suspended warmup alone with a per-email error; ``"change"``.

    Examples
    --------
    >>> from instantly_nb._clock import VirtualClock
    >>> emu = Emulator(accounts=50, seed=1, clock=VirtualClock())
    >>> http = httpx.Client(base_url="https://api.instantly.ai", transport=emu.transport(),
    ...                     headers={"Authorization": f"Bearer {emu.api_key}"})
    >>> emu.faults.rate_limited(times=2)        # the next two requests get 429
    """

    def __init__(
        self,
        accounts: int = 200,
        seed: int = 0,
        *,
        api_key: str = "demo-key",
        clock: Clock | None = None,
        timing: JobTiming = DEFAULT_TIMING,
        warmup_lock: bool = True,
        rate_limit: tuple[int, int] | None = (100, 6000),
        retry_after: bool = False,
        workspace_name: str = DEFAULT_WORKSPACE_NAME,
        list_warmup: ListWarmup = "abbreviated",
        negative_warmup: NegativeWarmup = "fail",
        workspace_id: str | None = None,
        warmup_selection: WarmupReading | Mapping[str, str] | None = None,
    ) -> None:
        if accounts < 0:
            raise ValueError("accounts must be >= 0")
        if list_warmup not in ("abbreviated", "full"):
            raise ValueError("list_warmup must be 'abbreviated' or 'full'")
        if negative_warmup not in ("fail", "change"):
            raise ValueError("negative_warmup must be 'fail' or 'change'")
        if workspace_id is not None and (not isinstance(workspace_id, str) or not workspace_id):
            raise ValueError("workspace_id must be a non-empty string")
        reading = WarmupReading.of(warmup_selection)
        self._clock: Clock = clock if clock is not None else SystemClock()
        ws, ids = generate(
            accounts=accounts,
            seed=seed,
            now=self._clock.now(),
            name=workspace_name,
            negative_warmup=negative_warmup,
            workspace_id=workspace_id,
        )
        self._settings = Settings(
            api_key=api_key,
            timing=timing,
            warmup_lock=warmup_lock,
            retry_after=retry_after,
            list_warmup=list_warmup,
            warmup_reading=reading,
        )
        limiter = RateBudget(RateLimit(*rate_limit)) if rate_limit is not None else None
        self._faults = Faults(self._clock.now)
        self._handler = Handler(
            settings=self._settings,
            ws=ws,
            faults=self._faults,
            ids=ids,
            clock=self._clock,
            limiter=limiter,
        )
        self._ws = ws
        self._lock = self._handler.lock
        # Ids made after generation (tag mappings added by tests) come from their own stream.
        self._rng = random.Random(f"runtime:{seed}")
        self._asgi: ASGIApp | None = None

    def __repr__(self) -> str:
        return f"Emulator({len(self._ws.accounts)} accounts, workspace {self._ws.name!r})"

    # --- identity and knobs --------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._settings.api_key

    @property
    def workspace_id(self) -> str:
        """The workspace's ``id`` (``GET /workspaces/current``), fixed at construction."""
        return self._ws.id

    @property
    def workspace_name(self) -> str:
        return self._ws.name

    @property
    def warmup_selection(self) -> WarmupReading:
        """How warmup jobs read ``search`` / ``filter.tag_id`` / ``filter.filter`` (see the class
        docstring); set a ``WarmupReading``, a mapping of its fields, or None for the default.
        Applies to jobs created from now on."""
        return self._settings.warmup_reading

    @warmup_selection.setter
    def warmup_selection(self, value: WarmupReading | Mapping[str, str] | None) -> None:
        reading = WarmupReading.of(value)
        with self._lock:
            self._settings.warmup_reading = reading

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def faults(self) -> Faults:
        return self._faults

    @property
    def timing(self) -> JobTiming:
        return self._settings.timing

    @timing.setter
    def timing(self, value: JobTiming) -> None:
        self._settings.timing = value  # applies to jobs created from now on

    @property
    def plan_active(self) -> bool:
        """False makes every endpoint answer 402 (no active paid plan)."""
        return self._settings.plan_active

    @plan_active.setter
    def plan_active(self, value: bool) -> None:
        self._settings.plan_active = bool(value)

    @property
    def scopes(self) -> frozenset[str] | None:
        """The API key's scopes; None allows everything, else missing ones answer 403."""
        return self._settings.scopes

    @scopes.setter
    def scopes(self, value: Iterable[str] | None) -> None:
        self._settings.scopes = None if value is None else frozenset(value)

    @property
    def warmup_lock(self) -> bool:
        return self._settings.warmup_lock

    @warmup_lock.setter
    def warmup_lock(self, value: bool) -> None:
        self._settings.warmup_lock = bool(value)

    @property
    def retry_after(self) -> bool:
        return self._settings.retry_after

    @retry_after.setter
    def retry_after(self, value: bool) -> None:
        self._settings.retry_after = bool(value)

    def revoke_key(self) -> None:
        """From now on the key is refused with 401 "Invalid API key"."""
        self._settings.key_revoked = True

    # --- serving -----------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        delegated: bool = False,
        limited: bool = True,
    ) -> Response:
        """Answer one request (never raises). ``path`` may be percent-encoded.

        A ``WorkspaceGroup`` (group.py) passes ``delegated=True`` for its admin key acting on this
        workspace (key and scopes checked by the admin's gate), and ``limited=False`` when such
        a request counts against the admin's rate limit only.
        """
        return self._handler.handle(
            method, path, query, headers, body, delegated=delegated, limited=limited
        )

    def admit(
        self, method: str, path: str, query: str, headers: Mapping[str, str], *, limited: bool
    ) -> Response | None:
        """Only the gate (route, key, plan, scopes, and the rate limit when ``limited``): the
        recorded refusal, or None. A group's admin workspace admits what acts on its members."""
        return self._handler.admit(method, path, query, headers, limited=limited)

    def transport(self) -> EmulatorTransport:
        """An httpx transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""
        return EmulatorTransport(self.handle, self.clock)

    @property
    def asgi(self) -> ASGIApp:
        """The emulator as an ASGI 3 application (serve it with uvicorn: ``server.serve``)."""
        if self._asgi is None:
            self._asgi = make_asgi(self.handle, self.clock)
        return self._asgi

    # --- inspection ----------------------------------------------------------------------------

    @property
    def log(self) -> list[RequestRecord]:
        """Every request so far, oldest first."""
        return self._handler.log

    def counts(self) -> Counts:
        """Requests per route and per status (e.g. ``counts().statuses.get(429, 0)``)."""
        return self._handler.counts()

    def account(self, email: str) -> dict[str, Any] | None:
        """The account as ``GET /accounts/{email}`` would return it now, or None."""
        with self._lock:
            self._now()
            record = self._ws.find(email)
            return None if record is None else copy.deepcopy(account_view(record, self._ws))

    def accounts(self) -> list[dict[str, Any]]:
        """Every account, in the list's default order (newest first), with full ``warmup``."""
        with self._lock:
            self._now()
            return [
                copy.deepcopy(account_view(r, self._ws))
                for r in self._ws.scan(descending=True, after=None)
            ]

    def jobs(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every background job now (oldest first), optionally of one ``type``.

        The generated workspace holds one finished ``import-leads`` job, as real ones hold jobs
        of several types; ``jobs("update-warmup-accounts")`` leaves it out.
        """
        with self._lock:
            now = self._now()
            return [
                copy.deepcopy(job.view(now))
                for job in self._ws.jobs.values()
                if type is None or job.type == type
            ]

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            now = self._now()
            job = self._ws.jobs.get(job_id)
            return None if job is None else copy.deepcopy(job.view(now))

    def group_members(self) -> list[dict[str, Any]]:
        """This workspace's group members, as ``GET /workspace-group-members`` lists them."""
        with self._lock:
            members = sorted(self._ws.group_members, key=lambda m: m.id)
            return [member_view(m, self._ws) for m in members]

    def tags(self) -> list[dict[str, Any]]:
        """The custom tags, sorted by id as the API lists them."""
        with self._lock:
            return [
                tag_view(t, self._ws.id) for t in sorted(self._ws.tags.values(), key=lambda t: t.id)
            ]
