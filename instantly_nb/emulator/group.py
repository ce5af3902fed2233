"""``WorkspaceGroup``: an agency's workspaces behind one address (docs/instantly-api.md §12).

An admin workspace and its sub-workspaces, each a full ``Emulator`` on one shared clock, so each
keeps its own accounts, jobs, warmup lock (409) and rate limit. A request is routed by its key
and its ``x-as-workspace`` header:

* the admin key alone acts on the admin workspace, which lists the others at
  ``GET /workspace-group-members``;
* the admin key with ``x-as-workspace: <sub_workspace_id>`` acts on that sub-workspace: it passes
  the admin's gate (key, plan, scopes), then the sub-workspace's (plan);
* a sub-workspace's own key acts on it (one key per workspace), as a lone emulator would.

Where the sources are silent the group decides, and says so here:

* (guessed) which rate limit a delegated request counts against: ``delegated_rate="member"``
  (the sub-workspace's, the default), ``"admin"`` or ``"both"``;
* (guessed) the header with any key but the admin's, or naming a workspace that is not an
  ``accepted`` member, is refused with 403; naming the admin workspace itself acts on it;
* member keys are ``<api_key>-<n>`` and member seeds derive from ``seed``: the same arguments
  give the same group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from .._clock import Clock, SystemClock
from .asgi import ASGIApp, make_asgi
from .emulator import Emulator
from .responses import Response, api_error
from .transport import EmulatorTransport

__all__ = ["AS_WORKSPACE_HEADER", "DelegatedRate", "WorkspaceGroup"]

AS_WORKSPACE_HEADER = "x-as-workspace"
DelegatedRate = Literal["member", "admin", "both"]
DELEGATED_RATES: tuple[DelegatedRate, ...] = get_args(DelegatedRate)
ADMIN_NAME = "Agency (admin)"
# Names for generated client workspaces; past these, "Client 21" and so on.
MEMBER_NAMES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka",
    "Tyrell", "Cyberdyne", "Soylent", "Pied Piper", "Dunder Mifflin", "Oscorp", "Aperture",
    "Monarch", "Gringotts", "Massive Dynamic", "Black Mesa",
)  # fmt: skip


class WorkspaceGroup:
    """An admin workspace and its client workspaces, served together (``handle``).

    Parameters
    ----------
    members : int or list of str
        How many client workspaces, or their names (``MEMBER_NAMES`` by default).
    accounts : int or list of int
        Accounts of each client workspace (one number for all, or one per member).
    seed : int
        Same seed, same group.
    api_key : str
        The admin workspace's key; member ``n`` (from 1) has ``f"{api_key}-{n}"``.
    clock : Clock, optional
        Shared by every workspace (a ``VirtualClock`` in tests).
    admin_name, admin_accounts
        The admin workspace's name and size (no accounts by default).
    delegated_rate : "member", "admin" or "both"
        Which rate limit a request made with the admin key and ``x-as-workspace`` counts
        against; undocumented, so each reading can be tried.
    **options
        Passed to every ``Emulator`` (``timing``, ``rate_limit``, ``warmup_lock``...).

    Examples
    --------
    >>> group = WorkspaceGroup(["Acme", "Globex"], accounts=100)
    >>> group.member("Acme").faults.rate_limited(times=3)   # one workspace's trouble
    """

    def __init__(
        self,
        members: int | Sequence[str] = 3,
        accounts: int | Sequence[int] = 200,
        seed: int = 0,
        *,
        api_key: str = "demo-key",
        clock: Clock | None = None,
        admin_name: str = ADMIN_NAME,
        admin_accounts: int = 0,
        delegated_rate: DelegatedRate = "member",
        **options: Any,
    ) -> None:
        names = _names(members)
        sizes = [accounts] * len(names) if isinstance(accounts, int) else list(accounts)
        if len(sizes) != len(names):
            raise ValueError(f"{len(sizes)} account counts for {len(names)} workspaces")
        if delegated_rate not in DELEGATED_RATES:
            raise ValueError(f"delegated_rate must be one of {DELEGATED_RATES}")
        for reserved in ("workspace_name", "workspace_id"):
            if reserved in options:
                raise ValueError(f"{reserved} is set per workspace by the group")
        self.delegated_rate: DelegatedRate = delegated_rate
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.admin = Emulator(
            admin_accounts, seed, api_key=api_key, clock=self._clock,
            workspace_name=admin_name, **options,
        )  # fmt: skip
        self._members: dict[str, Emulator] = {}
        for n, (name, size) in enumerate(zip(names, sizes, strict=True), start=1):
            member = Emulator(
                size, seed * 1000 + n, api_key=f"{api_key}-{n}", clock=self._clock,
                workspace_name=name, **options,
            )  # fmt: skip
            self._members[name] = member
            self.admin.set_group_member(member.workspace_id, name)
        self._by_key = {e.api_key: e for e in (self.admin, *self._members.values())}
        self._by_id = {e.workspace_id: e for e in self._members.values()}
        self._asgi: ASGIApp | None = None

    def __repr__(self) -> str:
        return f"WorkspaceGroup({self.admin.workspace_name!r} + {len(self._members)} workspaces)"

    # --- the workspaces ------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The admin workspace's key."""
        return self.admin.api_key

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def members(self) -> Mapping[str, Emulator]:
        """The client workspaces by name, in order."""
        return dict(self._members)

    def member(self, name: str) -> Emulator:
        try:
            return self._members[name]
        except KeyError:
            raise KeyError(f"no workspace {name!r}; the group has {list(self._members)}") from None

    def set_status(self, name: str, status: str) -> None:
        """Set a member's ``status`` in the group (``pending``, ``accepted``, ``rejected``)."""
        self.admin.set_group_member(self.member(name).workspace_id, name, status)

    # --- serving -------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        """Answer one request in the workspace its key and ``x-as-workspace`` header name."""
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        key = _bearer(lowered.get("authorization"))
        acting_as = lowered.get(AS_WORKSPACE_HEADER)
        if acting_as is None:
            # No key of the group: the admin answers (401, or Fastify's 404 for a bad route).
            return self._by_key.get(key, self.admin).handle(method, path, query, headers, body)
        if key != self.admin.api_key:
            own = self._by_key.get(key)
            if own is None:
                return self.admin.handle(method, path, query, headers, body)
            refusal = own.admit(method, path, query, headers, limited=False)
            return refusal or api_error(
                403, f"{AS_WORKSPACE_HEADER} needs the key of the workspace group's admin workspace"
            )
        acting_as = acting_as.strip()
        if acting_as == self.admin.workspace_id:
            return self.admin.handle(method, path, query, headers, body)
        refusal = self.admin.admit(
            method, path, query, headers, limited=self.delegated_rate != "member"
        )
        if refusal is not None:
            return refusal
        member = self._by_id.get(acting_as)
        statuses = {m["sub_workspace_id"]: m["status"] for m in self.admin.group_members()}
        if member is None or statuses.get(acting_as) != "accepted":
            return api_error(
                403, f"Workspace {acting_as} is not an accepted member of this workspace group"
            )
        return member.handle(
            method, path, query, headers, body,
            delegated=True, limited=self.delegated_rate != "admin",
        )  # fmt: skip

    def transport(self) -> EmulatorTransport:
        """An httpx transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""
        return EmulatorTransport(self.handle, self._clock)

    @property
    def asgi(self) -> ASGIApp:
        """The group as an ASGI 3 application (``server.serve`` serves it)."""
        if self._asgi is None:
            self._asgi = make_asgi(self.handle, self._clock)
        return self._asgi


def _names(members: int | Sequence[str]) -> list[str]:
    if isinstance(members, int):
        if members < 1:
            raise ValueError("a workspace group needs at least one member")
        return [
            MEMBER_NAMES[i] if i < len(MEMBER_NAMES) else f"Client {i + 1}" for i in range(members)
        ]
    if isinstance(members, str):
        raise ValueError("members: a number or a list of names, not one string")
    names = [str(n).strip() for n in members]
    if not names or not all(names):
        raise ValueError("member names must be non-empty, and there must be at least one")
    if len({n.casefold() for n in names}) != len(names):
        raise ValueError(f"member names must differ (ignoring case): {names}")
    return names


def _bearer(authorization: str | None) -> str:
    scheme, _, key = (authorization or "").strip().partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""
