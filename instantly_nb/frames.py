"""DataFrames in and out: accounts, tags and jobs, with one column table each.

Every reader returns the same columns and dtypes whether it found a thousand rows or none, so
notebook code that filters and groups never meets a missing column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import pandas as pd

from ._warmup import action_of
from .client import AsyncInstantly
from .errors import RequestValidationError
from .lookup import resolve_tag
from .models import AccountStatus, Job, Provider, WarmupStatus
from .progress_text import ReadCount, ReadListener, read_listener
from .sync_client import Client, async_client, blocking
from .targets import filter_from
from .workspaces import Workspaces

__all__ = [
    "ACCOUNT_COLUMNS",
    "JOB_COLUMNS",
    "TAG_COLUMNS",
    "accounts_frame",
    "aread_accounts",
    "aread_jobs",
    "aread_tags",
    "jobs_frame",
    "read_accounts",
    "read_jobs",
    "read_pages",
    "read_tags",
]

_TIME = "datetime64[ms, UTC]"

# The account table. Source fields are those of docs/instantly-api.md §3.3 (the Account object).
ACCOUNT_COLUMNS: dict[str, str] = {
    "email": "string",  # email
    "status": "Int64",  # status (1 active, 2 paused, 3 maintenance, <0 errors)
    "status_label": "string",
    "warmup_status": "Int64",  # warmup_status (0 paused, 1 active, <0 warmup errors)
    "warmup_label": "string",
    "provider": "Int64",  # provider_code
    "provider_label": "string",
    "tags": "object",  # labels of tags (include_tags=true), a list per row
    "warmup_score": "Float64",  # stat_warmup_score, 0-100
    "daily_limit": "Float64",  # daily_limit
    "created": _TIME,  # timestamp_created
    "updated": _TIME,  # timestamp_updated
    "warmup_started": _TIME,  # timestamp_warmup_start
    "error": "string",  # status_message: the raw SMTP error, as one line
}

TAG_COLUMNS: dict[str, str] = {
    "id": "string",
    "label": "string",
    "description": "string",
    "created": _TIME,
    "updated": _TIME,
}

# Background jobs, §4.2-4.3; counts come from the warmup job's data.
JOB_COLUMNS: dict[str, str] = {
    "id": "string",
    "type": "string",
    "status": "string",
    "status_label": "string",
    "terminal": "boolean",
    "progress": "Float64",
    "action": "string",  # disable / enable, from data.warmup_status
    "total": "Int64",
    "succeeded": "Int64",
    "failed": "Int64",
    "pending": "Int64",
    "created": _TIME,
    "updated": _TIME,
}


# --- accounts --------------------------------------------------------------------------------


def accounts_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Account dicts as the API returns them -> the ``ACCOUNT_COLUMNS`` table."""
    status = [r.get("status") for r in records]
    warmup = [r.get("warmup_status") for r in records]
    provider = [r.get("provider_code") for r in records]
    columns: dict[str, Any] = {
        "email": [r.get("email") for r in records],
        "status": status,
        "status_label": _labels(AccountStatus, status),
        "warmup_status": warmup,
        "warmup_label": _labels(WarmupStatus, warmup),
        "provider": provider,
        "provider_label": _labels(Provider, provider),
        "tags": [[t.get("label") for t in r.get("tags") or []] for r in records],
        "warmup_score": [r.get("stat_warmup_score") for r in records],
        "daily_limit": [r.get("daily_limit") for r in records],
        "created": [r.get("timestamp_created") for r in records],
        "updated": [r.get("timestamp_updated") for r in records],
        "warmup_started": [r.get("timestamp_warmup_start") for r in records],
        "error": [smtp_error_text(r.get("status_message")) for r in records],
    }
    return _typed(columns, ACCOUNT_COLUMNS)


def smtp_error_text(message: object) -> str | None:
    """One readable line from ``status_message`` (``{code, command, response, e_message}``)."""
    if not isinstance(message, Mapping):
        return str(message) if message else None
    text = message.get("response") or message.get("e_message")
    if not text:
        return None
    code = message.get("responseCode") or message.get("code")
    line = " ".join(str(text).split())
    return f"{code}: {line}" if code and not line.startswith(str(code)) else line


async def aread_accounts(
    client: Client | Workspaces,
    *,
    search: str | None = None,
    status: int | str | None = None,
    provider: int | str | None = None,
    filter: str | None = None,
    tag: str | None = None,
    tags_all: Iterable[str] | None = None,
    progress: bool | ReadListener = True,
) -> pd.DataFrame:
    """Every matching account as a DataFrame, one row per account.

    Parameters
    ----------
    client : Instantly, or Workspaces
        With ``Workspaces``, every workspace is read at once into one frame whose first column,
        ``workspace``, names each row's workspace.
    search : str, optional
        Instantly's account search (e.g. a domain).
    status, provider : int or str, optional
        A code (``2``) or its label (``"Google"``, ``"Paused"``).
    filter : str, optional
        ``"ACC_FILTER_W_ERROR"`` or its label ``"Warmup has errors"``.
    tag : str, optional
        Accounts with this tag (label or id).
    tags_all : list of str, optional
        Accounts with every one of these tags.
    progress : bool or callable
        A long read shows a live line (pages, accounts, rate); False is quiet; a callable
        receives ``(pages, accounts, finished)`` after every page.

    Returns
    -------
    DataFrame
        Columns and dtypes of ``ACCOUNT_COLUMNS``, the same when nothing matches.
    """
    if isinstance(client, Workspaces):
        return await client.read_each(
            aread_accounts, search=search, status=status, provider=provider, filter=filter,
            tag=tag, tags_all=tags_all, progress=progress, title="reading accounts",
        )  # fmt: skip
    aclient = async_client(client)
    params: dict[str, Any] = {"include_tags": True, "search": search}
    if status is not None:
        params["status"] = _code(AccountStatus, status, "status")
    if provider is not None:
        params["provider_code"] = _code(Provider, provider, "provider")
    if filter is not None:
        params["filter"] = filter_from(filter).value
    if tag is not None:
        params["tag_ids"] = (await resolve_tag(aclient, tag))[0]
    if tags_all is not None:
        if isinstance(tags_all, str):
            tags_all = [tags_all]
        params["tag_ids_all"] = [(await resolve_tag(aclient, t))[0] for t in tags_all]
    count = ReadCount(read_listener(progress, "reading accounts"))
    records = await read_pages(aclient, count, **params)
    count.finish()
    return accounts_frame(records)


async def read_pages(
    client: AsyncInstantly, count: ReadCount, **filters: Any
) -> list[dict[str, Any]]:
    """Every account ``filters`` select, each page counted (``count`` is not finished: a read
    may list several times)."""
    accounts: list[dict[str, Any]] = []
    async with aclosing(client.list_account_pages(**filters)) as listing:
        async for page in listing:
            accounts.extend(page)
            count.page(len(page))
    return accounts


read_accounts = blocking(aread_accounts)


# --- tags ------------------------------------------------------------------------------------


async def aread_tags(client: Client | Workspaces) -> pd.DataFrame:
    """The workspace's custom tags: ``id, label, description, created, updated``.

    With ``Workspaces``: every workspace's, a ``workspace`` column first."""
    if isinstance(client, Workspaces):
        return await client.read_each(aread_tags)
    tags = [t async for t in async_client(client).list_tags()]
    columns = {
        "id": [t.get("id") for t in tags],
        "label": [t.get("label") for t in tags],
        "description": [t.get("description") for t in tags],
        "created": [t.get("timestamp_created") for t in tags],
        "updated": [t.get("timestamp_updated") for t in tags],
    }
    return _typed(columns, TAG_COLUMNS)


read_tags = blocking(aread_tags)


# --- jobs ------------------------------------------------------------------------------------


def jobs_frame(jobs: Sequence[Job]) -> pd.DataFrame:
    """Jobs -> the ``JOB_COLUMNS`` table (progress, counts, outcome)."""
    columns = {
        "id": [j.id for j in jobs],
        "type": [j.type for j in jobs],
        "status": [j.status.value for j in jobs],
        "status_label": [j.status.label for j in jobs],
        "terminal": [j.is_terminal for j in jobs],
        "progress": [j.progress for j in jobs],
        "action": [action_of(j.target_warmup_status) for j in jobs],
        "total": [j.total_to_process for j in jobs],
        "succeeded": [j.success_count for j in jobs],
        "failed": [j.failed_count for j in jobs],
        "pending": [_pending(j) for j in jobs],
        "created": [j.created_at or None for j in jobs],
        "updated": [j.updated_at or None for j in jobs],
    }
    return _typed(columns, JOB_COLUMNS)


async def aread_jobs(
    client: Client | Workspaces,
    *,
    ids: Iterable[str] | None = None,
    type: str | None = "update-warmup-accounts",
    status: str | Iterable[str] | None = None,
    limit: int | None = 100,
) -> pd.DataFrame:
    """Background jobs, newest first: warmup jobs by default, at most ``limit`` rows.

    ``ids`` reads exactly those jobs; ``type=None`` lists every type; ``status`` narrows to
    one or several statuses (``["pending", "in-progress"]``). With ``Workspaces``: up to
    ``limit`` of each workspace, in one frame whose first column is ``workspace`` (``ids`` belong
    to one workspace: pass them with its client, ``fleet[name]``).
    """
    if isinstance(client, Workspaces):
        if ids is not None:
            raise RequestValidationError(
                "job ids belong to one workspace: read_jobs(fleet[name], ids=...)"
            )
        return await client.read_each(aread_jobs, type=type, status=status, limit=limit)
    aclient = async_client(client)
    jobs: list[Job] = []
    if ids is not None:
        jobs = [await aclient.get_job(i) for i in ids]
    else:
        async with aclosing(aclient.list_jobs(type=type, status=status)) as listing:
            async for job in listing:
                jobs.append(job)
                if limit is not None and len(jobs) >= limit:
                    break
    return jobs_frame(jobs)


read_jobs = blocking(aread_jobs)


# --- helpers ---------------------------------------------------------------------------------


def _typed(columns: Mapping[str, Any], table: Mapping[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame({name: columns[name] for name in table})
    for name, dtype in table.items():
        if dtype == _TIME:
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame.astype(dict(table))


def _labels(
    enum: type[AccountStatus] | type[WarmupStatus] | type[Provider], codes: list[Any]
) -> list[str | None]:
    cache: dict[Any, str | None] = {}
    out = []
    for code in codes:
        if code not in cache:
            cache[code] = enum(code).label if isinstance(code, int) else None
        out.append(cache[code])
    return out


def _code(enum: type[AccountStatus] | type[Provider], value: int | str, what: str) -> int:
    if isinstance(value, int):
        return int(enum(value))
    for member in enum:
        if member.label.lower() == value.strip().lower() or member.name == value.strip().upper():
            return int(member)
    labels = [m.label for m in enum]
    raise RequestValidationError(f"unknown {what} {value!r}; known: {labels}")


def _pending(job: Job) -> int | None:
    pending = job.data.get("pending_emails")
    return len(pending) if isinstance(pending, list) else None
