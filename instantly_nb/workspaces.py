"""``Workspaces``: many Instantly workspaces, each named, as one target for the verbs.

    fleet = nb.Workspaces({"Acme": nb.Instantly(api_key=KEY_A), "Globex": nb.Instantly(...)})
    fleet = nb.Workspaces.from_admin_key(ADMIN_KEY)   # an agency's client workspaces (§12)
    nb.read_accounts(fleet)                            # one frame, with a ``workspace`` column
    nb.plan_disable(fleet, accounts)                   # one preview, one confirmation

Each member is a client of its own: its own warmup lock and journal identity, and its own rate
budget (members reached through one admin key share that key's budget unless told otherwise:
docs/instantly-api.md §12). Before a member is used, ``GET /workspaces/current`` must name the
workspace as the member is named (and, for an admin key, answer with the id it asked for): a key
filed under the wrong client is an error, never a run in the wrong workspace. Members work
concurrently on one event loop, at most ``concurrency`` at a time.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd

from . import _constants as C
from .client import AsyncInstantly
from .errors import (
    ConfigurationError,
    RequestValidationError,
)
from .fleet_frames import WORKSPACE_COLUMN, FleetRead, split_target, with_workspace
from .lookup import current_workspace
from .progress_text import ReadListener
from .sync_client import Client, Instantly, LoopRunner, async_client
from .targets import Target
from .workspace_group import Discovery, Identity, discover, same_name

__all__ = ["Workspaces"]

log = logging.getLogger("instantly_nb")
T = TypeVar("T")


class Workspaces(LoopRunner):
    """A named set of workspace clients: one target for ``read_accounts``, ``plan_disable``...

    Parameters
    ----------
    clients : dict of str to Instantly (or AsyncInstantly)
        Each workspace's client under the workspace's name, as Instantly spells it (checked
        against ``GET /workspaces/current``, case and spacing aside). All blocking, or all async.
    concurrency : int
        How many workspaces work at once (each still runs one warmup job at a time).

    Examples
    --------
    >>> fleet = nb.Workspaces({"Acme": nb.Instantly(api_key=a), "Globex": nb.Instantly(api_key=b)})
    >>> nb.read_accounts(fleet, filter="ACC_FILTER_W_ERROR").groupby("workspace").size()
    """

    def __init__(
        self, clients: Mapping[str, Client], *, concurrency: int = C.FLEET_CONCURRENCY
    ) -> None:
        if not isinstance(clients, Mapping) or not clients:
            raise ConfigurationError(
                "Workspaces takes a dict of workspace name -> client, e.g. "
                "Workspaces({'Acme': Instantly(api_key=...)}), or use Workspaces.from_admin_key"
            )
        members: dict[str, Client] = {}
        for name, client in clients.items():
            if not isinstance(name, str) or not name.strip():
                raise ConfigurationError(f"a workspace name must be text, got {name!r}")
            if not isinstance(client, Instantly | AsyncInstantly):
                raise ConfigurationError(
                    f"{name!r}: expected an instantly_nb.Instantly or AsyncInstantly client, got "
                    f"{type(client).__name__}"
                )
            clash = [n for n in members if same_name(n, name)]
            if clash:
                raise ConfigurationError(f"two workspaces named {clash[0]!r} and {name!r}")
            members[name.strip()] = client
        if len({isinstance(c, AsyncInstantly) for c in members.values()}) > 1:
            raise ConfigurationError(
                "mix of Instantly and AsyncInstantly clients: use one kind for every workspace"
            )
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise ConfigurationError(
                f"concurrency must be a whole number >= 1, not {concurrency!r}"
            )
        self._clients = members
        self.concurrency = concurrency
        self._identities: dict[str, Identity] = {}
        # Members of an admin key's group that are not reachable (not accepted, or failing when
        # listed): name -> why. Shown with the set, so a missing client is never a surprise.
        self.skipped: dict[str, str] = {}
        self._owned: list[Client] = []  # clients this set made (from_admin_key) and closes

    # --- the set -------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    @property
    def is_async(self) -> bool:
        return isinstance(next(iter(self._clients.values())), AsyncInstantly)

    def __len__(self) -> int:
        return len(self._clients)

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __contains__(self, name: object) -> bool:
        return name in self._clients

    def __getitem__(self, name: str) -> Client:
        try:
            return self._clients[name]
        except KeyError:
            raise KeyError(f"no workspace {name!r}; the set has {self.names}") from None

    def items(self) -> list[tuple[str, Client]]:
        return list(self._clients.items())

    def subset(self, names: str | Iterable[str]) -> Workspaces:
        """The workspaces named (in the set's order), sharing clients and checked identities."""
        chosen = self.resolve(names)
        part = Workspaces({n: self._clients[n] for n in chosen}, concurrency=self.concurrency)
        part._identities = {n: i for n, i in self._identities.items() if n in chosen}
        return part

    def without(self, *names: str) -> Workspaces:
        """Every workspace but those named (e.g. one whose key was revoked)."""
        dropped = set(self.resolve(names))
        return self.subset([n for n in self.names if n not in dropped])

    def resolve(self, names: str | Iterable[str] | None) -> list[str]:
        """Names as the set spells them, in its order (all when None); unknown ones are an error."""
        if names is None:
            return self.names
        wanted = [names] if isinstance(names, str) else list(names)
        found, unknown = set(), []
        for name in wanted:
            match = [n for n in self._clients if isinstance(name, str) and same_name(n, name)]
            if match:
                found.add(match[0])
            else:
                unknown.append(name)
        if unknown:
            raise RequestValidationError(f"no workspace named {unknown}; the set has {self.names}")
        if not found:
            raise RequestValidationError("no workspace chosen: name at least one")
        return [n for n in self._clients if n in found]

    # --- identity ------------------------------------------------------------------------------

    async def aidentify(self, names: Iterable[str] | None = None) -> dict[str, Identity]:
        """Check each member against ``GET /workspaces/current`` (once; then remembered)."""
        chosen = self.resolve(names)
        todo = [n for n in chosen if n not in self._identities]
        found = await self.gather(lambda name, _: self._identify(name), todo)
        self._identities.update(found)
        by_id: dict[str, str] = {}
        for name in self.names:
            identity = self._identities.get(name)
            if identity is None or identity.id is None:
                continue
            key = f"{identity.base_url} {identity.id}"
            if key in by_id:
                raise ConfigurationError(
                    f"{by_id[key]!r} and {name!r} are the same workspace (id {identity.id}): "
                    "one key was given twice?"
                )
            by_id[key] = name
        return {n: self._identities[n] for n in chosen}

    async def _identify(self, name: str) -> Identity:
        client = async_client(self._clients[name])
        info = await current_workspace(client)
        if not info:
            # A key without the workspaces:read scope: the name cannot be checked. The runner
            # still pins each journal to the base URL; say so rather than refuse the key.
            log.warning("workspace %r: cannot confirm its name (no access to it)", name)
            return Identity(name, None, client.base_url, client.as_workspace)
        there, there_id = info.get("name"), info.get("id")
        if client.as_workspace is not None and there_id != client.as_workspace:
            raise ConfigurationError(
                f"workspace {name!r}: asked to act as {client.as_workspace}, but the API acts on "
                f"{there!r} ({there_id}); the key is not that workspace's admin"
            )
        # An admin key's members are named by this very answer, with the id's start added when
        # two share a name (_discover).
        suffixed = f"{there} ({str(there_id)[:8]})"
        if not same_name(there, name) and not (client.as_workspace and same_name(suffixed, name)):
            raise ConfigurationError(
                f"the client named {name!r} acts on the workspace {there!r} (id {there_id}); "
                f"name it {there!r}, or check which key this is"
            )
        return Identity(
            name, str(there_id) if there_id else None, client.base_url, client.as_workspace
        )

    def identify(self) -> pd.DataFrame:
        """Each member checked against ``GET /workspaces/current``: name, id, base URL."""
        found = self._run(self.aidentify())
        return pd.DataFrame(
            {
                WORKSPACE_COLUMN: list(found),
                "id": [i.id for i in found.values()],
                "base_url": [i.base_url for i in found.values()],
                "as_workspace": [i.as_workspace for i in found.values()],
            }
        ).astype("string")

    def identity(self, name: str) -> Identity | None:
        """What the last check said of ``name`` (None before one)."""
        return self._identities.get(name)

    # --- working on every member -------------------------------------------------------------

    async def gather(
        self, work: Callable[[str, Client], Awaitable[T]], names: Sequence[str] | None = None
    ) -> dict[str, T]:
        """``work(name, client)`` for each workspace at once (``concurrency`` at a time).

        Every one runs to its end; then the first failure (in the set's order) is raised, with
        a note naming its workspace and any other that failed.
        """
        chosen = self.names if names is None else list(names)
        limit = asyncio.Semaphore(self.concurrency)

        async def one(name: str) -> T:
            async with limit:
                return await work(name, self._clients[name])

        outcomes = await asyncio.gather(*(one(n) for n in chosen), return_exceptions=True)
        failed = [
            (n, o) for n, o in zip(chosen, outcomes, strict=True) if isinstance(o, BaseException)
        ]
        if failed:
            name, first = failed[0]
            if isinstance(first, Exception):
                others = [n for n, _ in failed[1:]]
                also = f"; also failed: {others}" if others else ""
                first.add_note(
                    f"in workspace {name!r}{also}. To go on without it: fleet.without({name!r})"
                )
            raise first
        done: dict[str, T] = {}
        for name, outcome in zip(chosen, outcomes, strict=True):
            assert not isinstance(outcome, BaseException)
            done[name] = outcome
        return done

    async def read_each(
        self,
        read: Callable[..., Awaitable[pd.DataFrame]],
        /,
        *args: Any,
        names: Iterable[str] | None = None,
        progress: bool | ReadListener | None = None,
        title: str = "reading",
        **kwargs: Any,
    ) -> pd.DataFrame:
        """``read(client, *args, **kwargs)`` in every workspace, as one frame whose first column
        is ``workspace``. ``progress`` (when the reader takes one) is one line for them all."""
        chosen = self.resolve(names)
        await self.aidentify(chosen)
        report = FleetRead(progress, title, chosen) if progress is not None else None

        async def one(name: str, client: Client) -> pd.DataFrame:
            extra = {} if report is None else {"progress": report.member(name)}
            return await read(client, *args, **kwargs, **extra)

        frames = await self.gather(one, chosen)
        return with_workspace(frames)

    async def read_split(
        self,
        read: Callable[..., Awaitable[pd.DataFrame]],
        target: Target,
        /,
        *,
        progress: bool | ReadListener = True,
        title: str = "reading",
        **kwargs: Any,
    ) -> pd.DataFrame:
        """``read(client, part, **kwargs)`` for each workspace's part of ``target`` (a
        ``Selection``, or a frame with ``workspace`` and ``email`` columns), as one frame."""
        parts = self.split(target)
        if parts is None:
            raise RequestValidationError(
                "for several workspaces, pass a Selection or a frame with 'workspace' and "
                "'email' columns (read_accounts(fleet) returns one)"
            )
        await self.aidentify(parts)
        report = FleetRead(progress, title, parts)

        async def one(name: str, client: Client) -> pd.DataFrame:
            return await read(client, parts[name], progress=report.member(name), **kwargs)

        return with_workspace(await self.gather(one, list(parts)))

    def split(self, target: Target, names: Iterable[str] | None = None) -> dict[str, Target] | None:
        """``target`` per workspace when it says where each email is, else None (bare emails:
        look them up). See ``fleet_frames.split_target``."""
        return split_target(target, self.names, self.resolve(names))

    # --- discovering an admin key's workspaces -----------------------------------------------

    @classmethod
    def from_admin_key(
        cls,
        api_key: str | None = None,
        *,
        shared_budget: bool = True,
        include_admin: bool = False,
        concurrency: int = C.FLEET_CONCURRENCY,
        **client_options: Any,
    ) -> Workspaces:
        """Every client workspace of an agency's admin workspace, reached with its one key.

        Lists ``GET /workspace-group-members`` and keeps the ``accepted`` ones (the others are
        in ``.skipped``); each is checked with ``GET /workspaces/current`` sent as it (the
        ``x-as-workspace`` header, docs/instantly-api.md §12) and named as that answer names it.

        Parameters
        ----------
        api_key : str, optional
            The admin workspace's key (``INSTANTLY_API_KEY`` by default).
        shared_budget : bool
            True (the default): all the workspaces draw on one request budget, the key's, as
            Instantly may count every request of the key against the admin workspace's limit
            (undocumented). False: each its own budget (``rate`` each).
        include_admin : bool
            Also act on the admin workspace's own accounts.
        concurrency : int
            How many workspaces work at once.
        **client_options
            ``base_url``, ``rate``, ``timeout``... as for ``Instantly``.
        """
        admin = Instantly(api_key, **client_options)
        found = admin._run(discover(admin, include_admin, shared_budget, concurrency))
        fleet = cls._made(admin, found, concurrency)
        fleet._owned.append(admin)
        return fleet

    @classmethod
    async def afrom_admin_key(
        cls,
        api_key: str | None = None,
        *,
        shared_budget: bool = True,
        include_admin: bool = False,
        concurrency: int = C.FLEET_CONCURRENCY,
        **client_options: Any,
    ) -> Workspaces:
        """``from_admin_key`` for async code: its members are ``AsyncInstantly`` clients."""
        admin = AsyncInstantly(api_key, **client_options)
        found = await discover(admin, include_admin, shared_budget, concurrency)
        fleet = cls._made(admin, found, concurrency)
        fleet._owned.append(admin)
        return fleet

    @classmethod
    def _made(cls, admin: Client, found: Discovery, concurrency: int) -> Workspaces:
        if not found.members:
            why = "; ".join(f"{n}: {w}" for n, w in found.skipped.items()) or "the list is empty"
            raise ConfigurationError(f"this admin key reaches no client workspace ({why})")
        fleet = cls(found.members, concurrency=concurrency)
        fleet._identities = {i.name: i for i in found.identities}
        fleet.skipped = dict(found.skipped)
        fleet._owned.extend(c for c in found.members.values() if c is not admin)
        return fleet

    # --- running -------------------------------------------------------------------------------

    def _check_blocking(self) -> None:
        if self.is_async:
            raise TypeError(
                "these Workspaces hold AsyncInstantly clients: use the verbs of instantly_nb.aio "
                "(await aio.read_accounts(fleet), await plan.aexecute())"
            )

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.is_async:
            coro.close()
            self._check_blocking()
        return super()._run(coro)

    def close(self) -> None:
        """Close the connections this set opened (and the clients it made)."""
        if self.is_async:
            raise TypeError("these Workspaces hold AsyncInstantly clients: await fleet.aclose()")
        if self._loop is not None and not self._loop.is_closed():
            self._run(self._close_twins())
            self._loop.close()
        for client in self._owned:
            if isinstance(client, Instantly):
                client.close()

    async def _close_twins(self) -> None:
        for client in self._clients.values():
            await async_client(client).aclose()

    async def aclose(self) -> None:
        for client in {id(c): c for c in [*self._clients.values(), *self._owned]}.values():
            await async_client(client).aclose()

    def __enter__(self) -> Workspaces:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- display -------------------------------------------------------------------------------

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for name, client in self._clients.items():
            identity = self._identities.get(name)
            checked = "not checked yet" if identity is None else (
                f"id {identity.id}" if identity.id else "name unconfirmed (no workspaces:read)"
            )  # fmt: skip
            via = "through the admin key" if client.as_workspace else client.base_url
            rows.append((name, checked, via))
        return rows

    def __repr__(self) -> str:
        lines = [f"Workspaces: {len(self)} workspace(s), {self.concurrency} at a time"]
        lines += [f"  {name}: {checked}, {via}" for name, checked, via in self._rows()]
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(
            f"<tr><td><b>{e(n)}</b></td><td>{e(c)}</td><td>{e(v)}</td></tr>"
            for n, c, v in self._rows()
        )
        skipped = "".join(
            f"<tr><td>{e(n)}</td><td colspan=2 style='color:#b45309'>skipped: {e(w)}</td></tr>"
            for n, w in self.skipped.items()
        )
        return (
            f"<div class='instantly-nb-workspaces'><b>{len(self)} workspace(s)</b>, "
            f"{self.concurrency} at a time<table>{rows}{skipped}</table></div>"
        )
