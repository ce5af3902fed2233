"""The fewest warmup jobs that can change exactly a set of accounts: a lower bound and a search.

A job is either a list of at most 100 emails, or a server-side selection (``include_all_emails``
narrowed by a tag, an ``ACC_FILTER_*`` and a search) minus at most 100 ``excluded_emails``
(docs/instantly-api.md §4.1, §5.4). A selection is usable when at most 100 of its members would
change but must not. Jobs run one after another, so selections may overlap: an account an earlier
job already changed is left as it is by a later one and needs no exclusion.

The selections considered (the family F): every account, every tag, every filter whose meaning
is readable from the account fields (§3.1), a search for every domain, every top-level domain
and every single character of the emails (the emulator's search is a substring of the email),
and every pairwise combination of a tag, a filter and a search. Covers of up to three selections
plus chunks of 100 are searched exhaustively, so a minimum of up to four jobs is exact over F.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PER_REQUEST = 100
EXACT_SELECTIONS = 3

Account = Mapping[str, Any]

FILTERS: dict[str, Callable[[Account], bool]] = {
    "ACC_FILTER_W_ACTIVE": lambda a: a.get("warmup_status") == 1,
    "ACC_FILTER_W_PAUSED": lambda a: a.get("warmup_status") == 0,
    "ACC_FILTER_W_ERROR": lambda a: (a.get("warmup_status") or 0) < 0,
    "ACC_FILTER_PAUSED": lambda a: a.get("status") == 2,
    "ACC_FILTER_ERROR": lambda a: (a.get("status") or 1) < 0,
    "ACC_FILTER_NO_CTD": lambda a: not a.get("tracking_domain_name"),
    "ACC_FILTER_DFY_SETUP_PENDING": lambda a: a.get("setup_pending") is True,
    "ACC_FILTER_DFY": lambda a: a.get("is_managed_account") is True,
}


@dataclass(frozen=True)
class Minimum:
    """``jobs``: the fewest over F; ``lower_bound``: no cover does better; ``witness``: a cover."""

    jobs: int
    lower_bound: int
    exact: bool
    witness: tuple[str, ...]


def minimum_jobs(accounts: Sequence[Account], change: Iterable[str], goal: int) -> Minimum:
    """The fewest jobs changing exactly ``change`` (emails) to warmup ``goal`` (0 or 1)."""
    wanted = {e.lower() for e in change}
    keys = [str(a["email"]).lower() for a in accounts]
    bit = {k: 1 << i for i, k in enumerate(keys)}
    target = _mask(bit, wanted)
    forbidden = _mask(
        bit, (k for k, a in zip(keys, accounts, strict=True)
              if k not in wanted and a.get("warmup_status") != goal)
    )  # fmt: skip
    n = target.bit_count()
    if n == 0:
        return Minimum(0, 0, True, ())
    usable = _usable(_family(accounts, keys, bit), target, forbidden)
    whole = next((name for name, s in usable if target & ~s == 0), None)
    if whole is not None:
        return Minimum(1, 1, True, (whole,))
    if n <= MAX_PER_REQUEST:
        return Minimum(1, 1, True, ("1 chunk",))
    gain = max((s.bit_count() for _, s in usable), default=0)
    bound = max(2, math.ceil(n / max(MAX_PER_REQUEST, gain)))
    for jobs in itertools.count(bound):
        found = _cover(usable, target, jobs)
        if found is not None:
            # Exact when every smaller number of jobs was refuted exhaustively, or when no
            # selection beats a chunk (then the bound is ceil(n / 100) and chunks reach it).
            exact = jobs - 1 <= EXACT_SELECTIONS or gain <= MAX_PER_REQUEST
            return Minimum(jobs, bound, exact, found)
    raise AssertionError("unreachable: chunks always cover")


def _mask(bit: Mapping[str, int], keys: Iterable[str]) -> int:
    value = 0
    for key in keys:
        value |= bit.get(key, 0)
    return value


def _family(
    accounts: Sequence[Account], keys: Sequence[str], bit: Mapping[str, int]
) -> list[tuple[str, int]]:
    """Every selection of F as (name, members)."""

    def where(test: Callable[[int], bool]) -> int:
        return _mask(bit, (k for i, k in enumerate(keys) if test(i)))

    tag_ids = [{str(t["id"]) for t in a.get("tags") or []} for a in accounts]
    labels = {str(t["id"]): str(t.get("label")) for a in accounts for t in a.get("tags") or []}
    tagged = {f"tag {label!r}": where(_has_tag(tag_ids, i)) for i, label in labels.items()}
    filtered = {name: where(_passes(accounts, f)) for name, f in FILTERS.items()}
    needles = {k.rsplit("@", 1)[-1] for k in keys} | {"." + k.rsplit(".", 1)[-1] for k in keys}
    needles |= {c for k in keys for c in k} - {"@"}
    searched = {f"search {s!r}": where(_contains(keys, s)) for s in sorted(needles)}
    everyone = (1 << len(keys)) - 1
    family = [("every account", everyone), *tagged.items(), *filtered.items(), *searched.items()]
    for first, second in itertools.combinations((tagged, filtered, searched), 2):
        for (a, sa), (b, sb) in itertools.product(first.items(), second.items()):
            family.append((f"{a} & {b}", sa & sb))
    return family


def _has_tag(tag_ids: Sequence[set[str]], tag_id: str) -> Callable[[int], bool]:
    return lambda i: tag_id in tag_ids[i]


def _passes(accounts: Sequence[Account], test: Callable[[Account], bool]) -> Callable[[int], bool]:
    return lambda i: test(accounts[i])


def _contains(keys: Sequence[str], needle: str) -> Callable[[int], bool]:
    return lambda i: needle in keys[i]


def _usable(family: list[tuple[str, int]], target: int, forbidden: int) -> list[tuple[str, int]]:
    """Usable selections as (name, members wanted), widest first, one name per distinct set."""
    seen: dict[int, str] = {}
    for name, members in family:
        covered = members & target
        if covered and (members & forbidden).bit_count() <= MAX_PER_REQUEST:
            seen.setdefault(covered, name)
    return sorted(((n, s) for s, n in seen.items()), key=lambda ns: -ns[1].bit_count())


def _cover(usable: list[tuple[str, int]], target: int, jobs: int) -> tuple[str, ...] | None:
    """A cover of ``target`` by ``jobs`` jobs: some selections (at most three), the rest chunks."""
    for picks in range(min(jobs, EXACT_SELECTIONS) + 1):
        slack = MAX_PER_REQUEST * (jobs - picks)
        found = _pick(usable, target, picks, slack, 0, ())
        if found is not None:
            return found + ((f"{jobs - picks} chunk(s)",) if jobs > picks else ())
    return None


def _pick(
    usable: list[tuple[str, int]],
    rest: int,
    picks: int,
    slack: int,
    start: int,
    chosen: tuple[str, ...],
) -> tuple[str, ...] | None:
    """``picks`` selections from ``usable[start:]`` leaving at most ``slack`` of ``rest``."""
    need = rest.bit_count() - slack
    if need <= 0:
        return chosen
    if picks == 0:
        return None
    for i in range(start, len(usable)):
        name, members = usable[i]
        if members.bit_count() * picks < need:
            return None  # widest first: no later choice can cover enough
        gained = (members & rest).bit_count()
        if gained == 0:
            continue
        found = _pick(usable, rest & ~members, picks - 1, slack, i + 1, (*chosen, name))
        if found is not None:
            return found
    return None
