"""An admin key's workspace group, found and checked (docs/instantly-api.md §12).

``discover`` lists ``GET /workspace-group-members``, makes a client acting as each accepted
member (the ``x-as-workspace`` header) and checks it with ``GET /workspaces/current``: the member
must answer with the id it was asked for, and is named by that answer. ``Identity`` is what such
a check says of any member of a ``Workspaces`` set.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from .errors import InstantlyError
from .sync_client import Client, async_client

__all__ = ["Discovery", "Identity", "discover", "same_name"]

log = logging.getLogger("instantly_nb")


@dataclass(frozen=True)
class Identity:
    """What ``GET /workspaces/current`` said about a member (``id`` None: the key may not ask)."""

    name: str  # the member's name in the set
    id: str | None
    base_url: str
    as_workspace: str | None = None


def same_name(a: object, b: object) -> bool:
    """Workspace names compared as people read them: case and spacing aside."""
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


@dataclass
class Discovery:
    members: dict[str, Client]  # by name, each checked; the admin's own client for the admin
    identities: list[Identity]
    skipped: dict[str, str]


async def discover(
    admin: Client, include_admin: bool, shared_budget: bool, concurrency: int
) -> Discovery:
    """The admin key's reachable workspaces, each checked with ``GET /workspaces/current``.

    Each is checked by the very client that will act on it, so the check counts against the
    budget the client keeps.
    """
    root = async_client(admin)
    listed = [m async for m in root.list_workspace_group_members()]
    skipped: dict[str, str] = {}
    wanted: list[tuple[str, str]] = []  # (name in the listing, id)
    for member in listed:
        label = str(member.get("sub_workspace_name") or member.get("sub_workspace_id"))
        if member.get("status") != "accepted":
            skipped[label] = f"membership {member.get('status')}"
        elif member.get("sub_workspace_id"):
            wanted.append((label, str(member["sub_workspace_id"])))
    limit = asyncio.Semaphore(concurrency)
    clients = [
        admin.acting_as(sub_id, name=label, shared_budget=shared_budget) for label, sub_id in wanted
    ]

    async def check(client: Client) -> dict[str, Any] | InstantlyError:
        probe = async_client(client)
        try:
            async with limit:
                return await probe.get_workspace()
        except InstantlyError as exc:
            return exc
        finally:
            await probe.aclose()

    answers = await asyncio.gather(*(check(c) for c in clients))
    found: list[tuple[Identity, Client]] = []
    if include_admin:
        own = await root.get_workspace()
        found.append((Identity(str(own.get("name")), str(own.get("id")), root.base_url), admin))
    for (label, sub_id), client, answer in zip(wanted, clients, answers, strict=True):
        if isinstance(answer, InstantlyError):
            log.warning("workspace %r (%s) is skipped: %s", label, sub_id, answer)
            skipped[label] = str(answer)
        elif answer.get("id") != sub_id:
            skipped[label] = f"acting as it reached another workspace ({answer.get('id')})"
        else:
            name = str(answer.get("name") or label)
            found.append((Identity(name, sub_id, root.base_url, sub_id), client))
    # Two workspaces may share a name: the id tells them apart, in every frame and preview.
    counts: dict[str, int] = {}
    for identity, _ in found:
        counts[identity.name.casefold()] = counts.get(identity.name.casefold(), 0) + 1
    admin_first, subs = found[: int(include_admin)], found[int(include_admin) :]
    members: dict[str, Client] = {}
    identities: list[Identity] = []
    for identity, client in admin_first + sorted(subs, key=lambda f: f[0].name.casefold()):
        if counts[identity.name.casefold()] > 1:
            label = f"{identity.name} ({(identity.id or '')[:8]})"
            identity = Identity(label, identity.id, identity.base_url, identity.as_workspace)
        members[identity.name] = client
        identities.append(identity)
    return Discovery(members, identities, skipped)
