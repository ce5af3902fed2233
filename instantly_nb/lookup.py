"""Finding one thing in the workspace: an account by email, a tag by label or id."""

from __future__ import annotations

import uuid
from contextlib import aclosing
from typing import Any

from ._cover import SelectionSpec
from .client import AsyncInstantly
from .errors import NotFoundError, PermissionDeniedError, RequestValidationError
from .targets import Selection

__all__ = ["current_workspace", "find_account", "resolve_tag", "selection_spec"]


async def current_workspace(client: AsyncInstantly) -> dict[str, Any]:
    """The key's workspace (``GET /workspaces/current``: id, name), or ``{}`` when the key may
    not read it: a key without that scope can still change warmup, so this is never a refusal."""
    try:
        return await client.get_workspace()
    except (PermissionDeniedError, NotFoundError):
        return {}


async def find_account(client: AsyncInstantly, email: str) -> dict[str, Any] | None:
    """The account for ``email`` in any letter case, or None.

    Whether ``GET /accounts/{email}`` ignores case is not documented (docs/instantly-api.md
    §3.2), so a 404 is double-checked with a search before the email is called unknown.
    """
    try:
        return await client.get_account(email)
    except NotFoundError:
        pass
    async with aclosing(client.list_accounts(search=email)) as listing:
        async for account in listing:
            if str(account.get("email", "")).lower() == email.lower():
                return account
    return None


async def resolve_tag(client: AsyncInstantly, tag: str) -> tuple[str, str]:
    """``(id, label)`` of a tag given by id or by label.

    Parameters
    ----------
    client : AsyncInstantly
    tag : str
        A tag id, or a label. Labels are unique per workspace after trimming, but not across
        letter case (docs/instantly-api.md §6.1): a label spelled exactly wins, else the one
        tag whose label matches ignoring case.

    Raises
    ------
    RequestValidationError
        ``tag`` is not text, matches no tag, or matches several only ignoring case (then the
        message lists their ids, to pass one of them instead).
    """
    if not isinstance(tag, str):
        raise RequestValidationError(
            f"tag must be text (a tag label or id), got {type(tag).__name__} {repr(tag)[:40]}"
        )
    wanted = tag.strip()
    tags = [t async for t in client.list_tags()]
    for t in tags:
        if str(t.get("id")) == wanted:
            return str(t["id"]), str(t.get("label", ""))
    labelled = [(t, str(t.get("label", "")).strip()) for t in tags]
    exact = [t for t, label in labelled if label == wanted]
    folded = [t for t, label in labelled if label.casefold() == wanted.casefold()]
    for matches in (exact, folded):
        if len(matches) == 1:
            return str(matches[0]["id"]), str(matches[0].get("label", ""))
    if len(folded) > 1:
        ids = ", ".join(f"{t.get('label')!r}: {t.get('id')}" for t in folded)
        raise RequestValidationError(
            f"{len(folded)} tags are labelled {wanted.casefold()!r} ignoring case: pass the tag "
            f"id ({ids})"
        )
    if _is_uuid(wanted):
        raise RequestValidationError(f"no tag with id {wanted!r} in this workspace")
    known = sorted(str(t.get("label")) for t in tags)
    raise RequestValidationError(f"no tag labelled {tag!r}; the workspace has: {known}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def selection_spec(
    client: AsyncInstantly, selection: Selection
) -> tuple[SelectionSpec, str | None]:
    """What ``selection`` lists, its tag resolved to an id, and that tag's label (or None)."""
    tag_id = label = None
    if selection.tag:
        tag_id, label = await resolve_tag(client, selection.tag)
    spec = SelectionSpec(tag_id=tag_id, filter=selection.account_filter, search=selection.search)
    return spec, label
