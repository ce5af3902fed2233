"""Which accounts a filter selects: shared by ``GET /accounts`` and ``include_all_emails`` jobs.

docs/instantly-api.md §5.4 (guessed): the warmup body's ``filter.tag_id``, ``filter.filter``
and ``search`` mean what the list endpoint's ``tag_ids``, ``filter`` and ``search`` mean, combined
with AND. ``search`` is a case-insensitive substring of the email (guessed, §3.1: the spec's
example is ``gmail.com``, so it must at least match the domain).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .workspace import AccountRecord

__all__ = ["FILTERS", "Predicate", "account_matcher", "split_list"]

Predicate = Callable[[AccountRecord], bool]

# §3.1's mapping table (guessed there); pre-warmed is not an Account field, so it is kept aside.
FILTERS: dict[str, Predicate] = {
    "ACC_FILTER_W_ACTIVE": lambda r: r.data.get("warmup_status") == 1,
    "ACC_FILTER_W_PAUSED": lambda r: r.data.get("warmup_status") == 0,
    "ACC_FILTER_W_ERROR": lambda r: r.data.get("warmup_status", 0) < 0,
    "ACC_FILTER_PAUSED": lambda r: r.data.get("status") == 2,
    "ACC_FILTER_ERROR": lambda r: r.data.get("status", 1) < 0,
    "ACC_FILTER_NO_CTD": lambda r: not r.data.get("tracking_domain_name"),
    "ACC_FILTER_DFY_SETUP_PENDING": lambda r: r.data.get("setup_pending") is True,
    "ACC_FILTER_DFY": lambda r: r.data.get("is_managed_account") is True,
    "ACC_FILTER_PW_ACCOUNTS": lambda r: r.prewarmed,
}


def split_list(text: str | None) -> list[str]:
    """A comma-separated query value as a list, blanks dropped."""
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def account_matcher(
    *,
    search: str | None = None,
    status: float | None = None,
    provider_code: float | None = None,
    tag_ids_any: Iterable[str] = (),
    tag_ids_all: Iterable[str] = (),
    filter: str | None = None,
) -> Predicate | None:
    """One predicate ANDing every given criterion, or None when nothing narrows the set."""
    checks: list[Predicate] = []
    if search:
        needle = search.lower()
        checks.append(lambda r: needle in r.email.lower())
    if status is not None:
        checks.append(lambda r: r.data.get("status") == status)
    if provider_code is not None:
        checks.append(lambda r: r.data.get("provider_code") == provider_code)
    any_of = frozenset(tag_ids_any)
    if any_of:
        checks.append(lambda r: not any_of.isdisjoint(r.tags))
    all_of = frozenset(tag_ids_all)
    if all_of:
        checks.append(lambda r: all_of <= r.tags)
    if filter is not None:
        checks.append(FILTERS[filter])
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda r: all(check(r) for check in checks)
