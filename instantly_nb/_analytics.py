"""Warmup analytics (docs/instantly-api.md §7): what a request may carry, what an answer must be.

Pure checks. The client refuses a bad list of emails before anything is sent, and reads an answer
that is not warmup analytics as a garbled one (retried, then ``InvalidResponseError``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import _constants as C
from ._warmup import check_emails
from .errors import RequestValidationError

__all__ = ["COUNT_FIELDS", "analytics_emails", "analytics_problem"]

# The counts of one email (aggregate) or one email and day (§7); a zero may be left out.
COUNT_FIELDS = ("sent", "received", "landed_inbox", "landed_spam")


def analytics_emails(emails: Iterable[str]) -> tuple[str, ...]:
    """``emails`` as one warmup-analytics request sends them: 1 to 100, well-formed, unique.

    Raises ``RequestValidationError`` naming every problem; nothing is sent then.
    """
    if isinstance(emails, str):
        raise RequestValidationError("pass emails as a list of strings, not one string")
    checked = check_emails(emails, "emails")
    if not checked:
        # §7: an empty list is a 400.
        raise RequestValidationError("emails is empty: warmup analytics needs 1 to 100 emails")
    if len(checked) > C.MAX_EMAILS_PER_REQUEST:
        raise RequestValidationError(
            f"emails has {len(checked)} items; warmup analytics takes at most "
            f"{C.MAX_EMAILS_PER_REQUEST} per request (read_warmup_health splits larger sets)"
        )
    return checked


def analytics_problem(body: Mapping[str, Any]) -> str | None:
    """What makes the JSON object ``body`` not a warmup-analytics answer, or None.

    ``aggregate_data`` must be an object of objects; ``email_date_data``, when present, an
    object of days of objects. Counts are whole numbers >= 0, ``health_score`` a number and
    ``health_score_label`` text, wherever they appear. Values are never quoted.
    """
    aggregate = body.get("aggregate_data")
    if not isinstance(aggregate, dict):
        return "expected warmup analytics, got an object without an aggregate_data object"
    for entry in aggregate.values():
        problem = _entry_problem(entry, "an aggregate_data entry")
        if problem is None and isinstance(entry.get("health_score"), bool | str | dict | list):
            problem = "an aggregate_data entry has a health_score that is not a number"
        if problem is None and not isinstance(entry.get("health_score_label", ""), str):
            problem = "an aggregate_data entry has a health_score_label that is not text"
        if problem is not None:
            return problem
    daily = body.get("email_date_data", {})
    if not isinstance(daily, dict):
        return "expected warmup analytics, got an email_date_data that is not an object"
    for days in daily.values():
        if not isinstance(days, dict):
            return "an email_date_data entry is not an object of days"
        for day in days.values():
            problem = _entry_problem(day, "a day of email_date_data")
            if problem is not None:
                return problem
    return None


def _entry_problem(entry: object, what: str) -> str | None:
    # Run for every day of every email (1,400 a request): the plain int is checked first.
    if not isinstance(entry, dict):
        return f"{what} is not an object"
    for field in COUNT_FIELDS:
        value = entry.get(field, 0)
        if not (value >= 0 if type(value) is int else _is_count(value)):
            return f"{what} has a {field} that is not a whole number >= 0"
    return None


def _is_count(value: object) -> bool:
    # The spec says "number"; counts of emails are whole, and 3.0 is read as 3.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value >= 0 and float(value).is_integer()
