"""Warmup health as DataFrames: where each account's warmup mail lands, inbox or spam.

``read_warmup_health(client, target)`` reads Instantly's warmup analytics (docs/instantly-api.md
§7) for every email of a target, 100 emails a request, several requests in flight within the
client's budget. Its frame is keyed by ``email`` like ``read_accounts``: it joins with it, and
any slice of it is a target for ``plan_disable`` and ``plan_enable``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import pandas as pd

from . import _constants as C
from ._analytics import COUNT_FIELDS
from .client import AsyncInstantly
from .errors import RequestValidationError
from .lookup import selection_spec
from .progress_text import ReadCount, ReadListener, read_listener
from .sync_client import Client, async_client, blocking
from .targets import Selection, Target, read_emails
from .workspaces import Workspaces

__all__ = [
    "DAILY_COLUMNS",
    "HEALTH_COLUMNS",
    "MAX_IN_FLIGHT",
    "aread_warmup_health",
    "daily_frame",
    "health_frame",
    "read_warmup_health",
]

# Rates and the score are float64, not Float64: NaN compares False, so
# ``health[health.spam_rate > 0.2]`` works on every pandas this package supports (a masked NA in a
# boolean mask raises on pandas 2). Counts are Int64: NA for an email the workspace does not know.
# Source fields: docs/instantly-api.md §7, aggregate_data.
HEALTH_COLUMNS: dict[str, str] = {
    "email": "string",  # as the target spelled it
    "sent": "Int64",
    "received": "Int64",
    "landed_inbox": "Int64",
    "landed_spam": "Int64",
    "inbox_rate": "float64",  # landed_inbox / sent; NaN when sent is 0
    "spam_rate": "float64",  # landed_spam / sent; NaN when sent is 0
    "health_score": "float64",  # 0-100
    "health_score_label": "string",  # e.g. "87%"
    "found": "boolean",  # False: the workspace does not know the email (no data, §7)
}

# One row per email and day; source fields: §7, email_date_data.
DAILY_COLUMNS: dict[str, str] = {
    "email": "string",
    "date": "datetime64[ms]",  # the day Instantly reports, as a date (midnight, no zone)
    "sent": "Int64",
    "received": "Int64",
    "landed_inbox": "Int64",
    "landed_spam": "Int64",
    "inbox_rate": "float64",
    "spam_rate": "float64",
}

# Requests in flight at once (never more than the client's per-second budget): enough to keep
# the budget busy at a few hundred ms per answer; the budget still decides when each one leaves.
MAX_IN_FLIGHT = 8


async def aread_warmup_health(
    client: Client | Workspaces,
    target: Target,
    *,
    daily: bool = False,
    progress: bool | ReadListener = True,
) -> pd.DataFrame:
    """Warmup health of every email of ``target``: how much warmup mail lands in inbox and spam.

    Parameters
    ----------
    client : Instantly, or Workspaces
        With ``Workspaces``, ``target`` is a ``Selection`` (read in every workspace) or a frame
        with ``workspace`` and ``email`` columns; the frame gains a ``workspace`` column first.
    target : DataFrame, Series, list of str, CSV path, or Selection
        Whatever ``plan_disable`` takes: a DataFrame with an ``email`` column (``read_accounts``
        gives one), emails, a CSV file of them, or a ``Selection`` (listed server-side first).
        Emails are de-duplicated ignoring case, keeping the first spelling; a malformed one is
        an error before anything is sent.
    daily : bool
        False: one row per email, totals over the days Instantly reports (recent history; the
        range is not a parameter). True: one row per email and day.
    progress : bool or callable
        A long read shows a live line (requests, accounts, rate); False is quiet; a callable
        receives ``(requests, accounts, finished)`` after every request.

    Returns
    -------
    DataFrame
        Columns and dtypes of ``HEALTH_COLUMNS``, in the target's order: ``email, sent,
        received, landed_inbox, landed_spam, inbox_rate, spam_rate, health_score,
        health_score_label, found``. ``inbox_rate`` is ``landed_inbox / sent`` and
        ``spam_rate`` is ``landed_spam / sent``; both are NaN when ``sent`` is 0. An email the
        workspace does not know keeps its row, with ``found`` False, NA counts and NaN rates.
        With ``daily=True``: ``DAILY_COLUMNS`` (``email, date``, the counts and rates), by email
        in the target's order, then date; unknown emails have no rows. The same columns and
        dtypes when there are no rows.

    Notes
    -----
    One request per 100 emails, up to ``MAX_IN_FLIGHT`` at once, each admitted by the client's
    rate budget like every other request.

    Examples
    --------
    >>> health = nb.read_warmup_health(client, nb.read_accounts(client))
    >>> plan = nb.plan_disable(client, health[health.spam_rate > 0.2])
    """
    if not isinstance(daily, bool):
        raise RequestValidationError(f"daily must be True or False, not {daily!r}")
    if isinstance(client, Workspaces):
        return await client.read_split(
            aread_warmup_health, target, daily=daily, progress=progress,
            title="reading warmup health",
        )  # fmt: skip
    aclient = async_client(client)
    if isinstance(target, Selection):
        counter = ReadCount(read_listener(progress, "reading warmup health"))
        emails = await _members(aclient, target, counter)
    else:
        emails = read_emails(target, empty_ok=True)
        counter = ReadCount(read_listener(progress, "reading warmup health", len(emails)))
    answers = await _read_chunks(aclient, emails, counter)
    counter.finish()
    return daily_frame(emails, answers) if daily else health_frame(emails, answers)


read_warmup_health = blocking(aread_warmup_health)


async def _members(client: AsyncInstantly, selection: Selection, counter: ReadCount) -> list[str]:
    """The emails a ``Selection`` holds now, in the workspace's listing order."""
    spec, _ = await selection_spec(client, selection)
    emails: list[str] = []
    seen: set[str] = set()
    async with aclosing(client.list_account_pages(**spec.list_params())) as pages:
        async for page in pages:
            counter.page(0)
            for account in page:
                email = str(account["email"])
                if email.lower() not in seen:
                    seen.add(email.lower())
                    emails.append(email)
    return emails


async def _read_chunks(
    client: AsyncInstantly, emails: Sequence[str], counter: ReadCount
) -> list[dict[str, Any]]:
    """One analytics answer per chunk of 100 emails, several requests in flight at once."""
    size = C.MAX_EMAILS_PER_REQUEST
    chunks = [emails[start : start + size] for start in range(0, len(emails), size)]
    in_flight = asyncio.BoundedSemaphore(max(1, min(MAX_IN_FLIGHT, client.rate.per_second)))

    async def read(chunk: Sequence[str]) -> dict[str, Any]:
        async with in_flight:
            answer = await client.warmup_analytics(chunk)
        counter.page(len(chunk))
        return answer

    tasks = [asyncio.ensure_future(read(chunk)) for chunk in chunks]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        # gather() leaves the other requests running when one fails: stop them before raising.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def health_frame(emails: Sequence[str], answers: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per email of ``emails`` from warmup-analytics answers: the ``HEALTH_COLUMNS``."""
    aggregate = _by_email(answer.get("aggregate_data") or {} for answer in answers)
    rows: dict[str, list[Any]] = {name: [] for name in HEALTH_COLUMNS}
    for email in emails:
        # §7: an unknown email is absent from the answer, or (guessed) an empty object.
        entry: Mapping[str, Any] = aggregate.get(email.lower()) or {}
        found = bool(entry)
        counts = _counts(entry) if found else dict.fromkeys(COUNT_FIELDS)
        score = entry.get("health_score")
        rows["email"].append(email)
        for field, value in counts.items():
            rows[field].append(value)
        rows["inbox_rate"].append(_rate(counts["landed_inbox"], counts["sent"]))
        rows["spam_rate"].append(_rate(counts["landed_spam"], counts["sent"]))
        rows["health_score"].append(math.nan if score is None else float(score))
        rows["health_score_label"].append(entry.get("health_score_label"))
        rows["found"].append(found)
    return pd.DataFrame(rows).astype(HEALTH_COLUMNS)


def daily_frame(emails: Sequence[str], answers: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per email and day from warmup-analytics answers: the ``DAILY_COLUMNS``."""
    by_date = _by_email(answer.get("email_date_data") or {} for answer in answers)
    rows: dict[str, list[Any]] = {name: [] for name in DAILY_COLUMNS}
    for email in emails:
        days = by_date.get(email.lower()) or {}
        for day in sorted(days):
            counts = _counts(days[day])
            rows["email"].append(email)
            rows["date"].append(day)
            for field, value in counts.items():
                rows[field].append(value)
            rows["inbox_rate"].append(_rate(counts["landed_inbox"], counts["sent"]))
            rows["spam_rate"].append(_rate(counts["landed_spam"], counts["sent"]))
    frame = pd.DataFrame(rows)
    # Dates as Instantly writes them ("2026-10-01"); anything else becomes NaT, not an error.
    frame["date"] = pd.to_datetime(frame["date"].astype(object), format="ISO8601", errors="coerce")
    return frame.astype(DAILY_COLUMNS)


def _by_email(maps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    # (guessed) The answer may spell an email as the account does, not as it was asked: match
    # ignoring case, as the emails were de-duplicated.
    return {str(email).lower(): value for mapping in maps for email, value in mapping.items()}


def _counts(entry: Mapping[str, Any]) -> dict[str, int | None]:
    # §7: a count that would be zero may be left out.
    return {field: int(entry.get(field) or 0) for field in COUNT_FIELDS}


def _rate(part: int | None, sent: int | None) -> float:
    return part / sent if part is not None and sent else math.nan
