"""Which accounts a filter selects: shared by ``GET /accounts`` and ``include_all_emails`` jobs.

docs/instantly-api.md §5.4 (guessed): the warmup body's ``filter.tag_id``, ``filter.filter``
and ``search`` mean what the list endpoint's ``tag_ids``, ``filter`` and ``search`` mean, combined
with AND. ``search`` is a case-insensitive substring of the email (guessed, §3.1: the spec's
example is ``gmail.com``, so it must at least match the domain).

Because that is a guess, a :class:`WarmupReading` lets the warmup job read each of the three
fields another way (``Emulator(warmup_selection=...)``): ``"list"`` as the list endpoint does
(the default), ``"drop"`` ignored, ``"broaden"`` a looser match whose result is always a
superset of the list's:

* ``search``: a case-insensitive substring of the email, ``first_name``, ``last_name``,
  ``tracking_domain_name`` or the provider's name (``Google``, ``Microsoft``, ...);
* ``tag_id``: every account carrying any tag at all (the given one or another; untagged accounts
  stay out), even when the given tag does not exist;
* ``filter``: the list's predicate OR a neighbouring condition (``BROAD_FILTERS``), e.g.
  ``ACC_FILTER_W_ACTIVE`` also takes warmup-paused accounts and ``ACC_FILTER_W_ERROR`` any
  account with a sending or warmup error.

``excluded_emails`` are removed under every reading (jobs_api.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Literal, get_args

from .workspace import AccountRecord

__all__ = [
    "BROAD_FILTERS",
    "FILTERS",
    "PROVIDER_NAMES",
    "Predicate",
    "Reading",
    "WarmupReading",
    "account_matcher",
    "split_list",
    "warmup_matcher",
]

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


# --- how a warmup job reads its selection (§5.4, undocumented) ---------------------------------

Reading = Literal["list", "drop", "broaden"]
READINGS: tuple[str, ...] = get_args(Reading)

# §3.3's provider codes, by the names Instantly's UI shows; matched by a broadened search.
PROVIDER_NAMES = {
    1: "Custom IMAP/SMTP",
    2: "Google",
    3: "Microsoft",
    4: "AWS",
    8: "AirMail",
    11: "Airmail Instant",
}


def _warmup(r: AccountRecord) -> int:
    value = r.data.get("warmup_status", 0)
    return int(value) if isinstance(value, int | float) else 0


def _status(r: AccountRecord) -> int:
    value = r.data.get("status", 1)
    return int(value) if isinstance(value, int | float) else 1


# What each filter adds under the "broaden" reading; BROAD_FILTERS ORs it with FILTERS.
_LOOSER: dict[str, Predicate] = {
    "ACC_FILTER_W_ACTIVE": lambda r: _warmup(r) == 0,  # ... and warmup-paused
    "ACC_FILTER_W_PAUSED": lambda r: _warmup(r) < 0,  # ... and warmup errors: anything not active
    "ACC_FILTER_W_ERROR": lambda r: _status(r) < 0,  # ... and sending errors
    "ACC_FILTER_PAUSED": lambda r: _status(r) == 3 or _warmup(r) == 0,  # maintenance, warmup paused
    "ACC_FILTER_ERROR": lambda r: _warmup(r) < 0,  # ... and warmup errors
    "ACC_FILTER_NO_CTD": lambda r: r.data.get("tracking_domain_status") != "active",
    "ACC_FILTER_DFY_SETUP_PENDING": lambda r: r.data.get("is_managed_account") is True,
    "ACC_FILTER_DFY": lambda r: r.data.get("setup_pending") is True or r.prewarmed,
    "ACC_FILTER_PW_ACCOUNTS": lambda r: r.data.get("is_managed_account") is True,
}


def _broadened(name: str) -> Predicate:
    narrow, looser = FILTERS[name], _LOOSER[name]
    return lambda r: narrow(r) or looser(r)


BROAD_FILTERS: dict[str, Predicate] = {name: _broadened(name) for name in FILTERS}


def _broad_search(search: str) -> Predicate:
    needle = search.lower()

    def match(r: AccountRecord) -> bool:
        data = r.data
        texts = (
            r.email,
            data.get("first_name"),
            data.get("last_name"),
            data.get("tracking_domain_name"),
            PROVIDER_NAMES.get(data.get("provider_code")),  # type: ignore[arg-type]
        )
        return any(isinstance(text, str) and needle in text.lower() for text in texts)

    return match


@dataclass(frozen=True)
class WarmupReading:
    """How an ``include_all_emails`` warmup job reads ``search``, ``tag_id`` and ``filter``.

    Each field is ``"list"`` (what ``GET /accounts`` does with ``search`` / ``tag_ids`` /
    ``filter``: the default), ``"drop"`` (the job ignores the field, so it selects more) or
    ``"broaden"`` (a looser match, a superset of the list's; see the module docstring).
    ``excluded_emails`` are removed under every reading.

    >>> WarmupReading(search="drop", filter="broaden")
    WarmupReading(search='drop', tag_id='list', filter='broaden')
    """

    search: Reading = "list"
    tag_id: Reading = "list"
    filter: Reading = "list"

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value not in READINGS:
                raise ValueError(
                    f"WarmupReading.{item.name} must be one of {', '.join(READINGS)}: {value!r}"
                )

    @classmethod
    def of(cls, value: WarmupReading | Mapping[str, str] | None) -> WarmupReading:
        """``value`` as a reading: a ``WarmupReading``, a mapping of its fields, None (default)."""
        if value is None:
            return cls()
        if isinstance(value, WarmupReading):
            return value
        if not isinstance(value, Mapping):
            raise TypeError("warmup_selection must be a WarmupReading, a mapping or None")
        unknown = set(value) - {item.name for item in fields(cls)}
        if unknown:
            raise ValueError(
                f"warmup_selection: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
                "expected search, tag_id, filter"
            )
        return cls(**value)  # type: ignore[arg-type]


def warmup_matcher(
    reading: WarmupReading,
    *,
    search: str | None = None,
    tag_id: str | None = None,
    filter: str | None = None,
) -> Predicate | None:
    """The predicate of a warmup job's ``include_all_emails`` selection under ``reading``.

    With the default reading this is exactly the list endpoint's ``account_matcher`` given
    ``search``, ``tag_ids=tag_id`` and ``filter``. None when nothing narrows the set.
    """
    listed = account_matcher(
        search=search if reading.search == "list" else None,
        tag_ids_any=[tag_id] if tag_id and reading.tag_id == "list" else [],
        filter=filter if reading.filter == "list" else None,
    )
    checks: list[Predicate] = [] if listed is None else [listed]
    if search and reading.search == "broaden":
        checks.append(_broad_search(search))
    if tag_id and reading.tag_id == "broaden":
        checks.append(lambda r: bool(r.tags))
    if filter is not None and reading.filter == "broaden":
        checks.append(BROAD_FILTERS[filter])
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda r: all(check(r) for check in checks)
