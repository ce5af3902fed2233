"""Fewest jobs: cover the accounts to change with server-side selections, then chunks of 100.

A warmup request can name at most 100 emails, or select ``include_all_emails`` narrowed by a tag,
an ``ACC_FILTER_*`` and a search, minus at most 100 ``excluded_emails``
(docs/instantly-api.md §4.1, §5.4).
A selection is usable when everything it would change is wanted, up to 100 exclusions. Choosing
the fewest requests is a set cover; the greedy choice here is exact for the common shapes (one
tag, one filter, "all but a few") and never worse than plain chunking.

Selections may overlap. Jobs run one after another (§5.5), so an account an earlier job already
changed is in the target state when a later selection reaches it, and that job leaves it as it is:
it needs no exclusion. That is what lets "all but 150" run as a few selections that each exclude
at most 100 (§5.3).

Pure: no I/O. Candidates carry their member sets; the planner verifies an estimated set against
the server before it is relied on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import _constants as C
from .models import AccountFilter

__all__ = ["Candidate", "Cover", "SelectionSpec", "choose_cover", "chunk_count", "selection_words"]

EVERY_ACCOUNT = "every account of the workspace"


def selection_words(
    tag_label: str | None, account_filter: AccountFilter | None, search: str | None
) -> str:
    """A server-side selection in words, named as the panel names its controls.

    ``tag 'Client A', filter 'Warmup active', search 'acme.com'``: the tag by its label (never
    its id), the filter by its label; no criterion at all is every account.
    """
    parts = []
    if tag_label is not None:
        parts.append(f"tag {tag_label!r}")
    if account_filter is not None:
        parts.append(f"filter {account_filter.label!r}")
    if search is not None:
        parts.append(f"search {search!r}")
    return ", ".join(parts) or EVERY_ACCOUNT


@dataclass(frozen=True)
class SelectionSpec:
    """The narrowing of an ``include_all_emails`` request; all None means every account."""

    tag_id: str | None = None
    filter: AccountFilter | None = None
    search: str | None = None

    def list_params(self) -> dict[str, str]:
        """The ``GET /accounts`` parameters that list the same set (§5.4 "safe practice")."""
        params: dict[str, str] = {}
        if self.tag_id is not None:
            params["tag_ids"] = self.tag_id
        if self.filter is not None:
            params["filter"] = self.filter.value
        if self.search is not None:
            params["search"] = self.search
        return params

    @property
    def everything(self) -> bool:
        return self.tag_id is None and self.filter is None and self.search is None

    def describe(self, tag_labels: Mapping[str, str]) -> str:
        """``selection_words`` with the tag's label from ``tag_labels`` (its id if unknown)."""
        label = None if self.tag_id is None else tag_labels.get(self.tag_id, self.tag_id)
        return selection_words(label, self.filter, self.search)


@dataclass
class Candidate:
    """A selection and the accounts (workspace spellings, lower-cased keys) it selects."""

    spec: SelectionSpec
    members: frozenset[str]
    verified: bool


@dataclass(frozen=True)
class Cover:
    """The chosen selections (each with its exclusions) and what is left for chunks."""

    selections: tuple[tuple[Candidate, frozenset[str]], ...]
    remaining: tuple[str, ...]

    @property
    def request_count(self) -> int:
        return len(self.selections) + chunk_count(len(self.remaining))


def chunk_count(n: int) -> int:
    return math.ceil(n / C.MAX_EMAILS_PER_REQUEST)


def choose_cover(
    change: Sequence[str],
    candidates: Iterable[Candidate],
    would_change: Callable[[str], bool],
    max_excluded: int = C.MAX_EMAILS_PER_REQUEST,
) -> Cover:
    """Greedily pick selections while each one lowers the total number of requests.

    ``change`` holds the keys to change, in the order chunks should follow. A candidate's
    exclusions are its members that would change but are not wanted; members an earlier pick
    covers need none (see the module docstring).
    """
    wanted = set(change)
    uncovered = set(change)
    pool = list(candidates)
    picks: list[tuple[Candidate, frozenset[str]]] = []
    exclusions: dict[int, frozenset[str] | None] = {}  # per candidate; picks do not change them
    while uncovered:
        best: tuple[tuple[int, int, int], Candidate, frozenset[str]] | None = None
        for cand in pool:
            gain = len(cand.members & uncovered)
            if gain == 0:
                continue
            saving = chunk_count(len(uncovered)) - 1 - chunk_count(len(uncovered) - gain)
            if saving <= 0:
                continue
            if id(cand) not in exclusions:
                exclusions[id(cand)] = _exclusions(cand, wanted, would_change, max_excluded)
            excluded = exclusions[id(cand)]
            if excluded is None:
                continue
            score = (saving, gain, -len(excluded))
            if best is None or score > best[0]:
                best = (score, cand, excluded)
        if best is None:
            break
        _, cand, excluded = best
        picks.append((cand, excluded))
        pool.remove(cand)
        uncovered -= cand.members
    return Cover(tuple(picks), tuple(k for k in change if k in uncovered))


def _exclusions(
    cand: Candidate, wanted: set[str], would_change: Callable[[str], bool], limit: int
) -> frozenset[str] | None:
    """The members ``cand`` must exclude, or None when that is more than ``limit``."""
    excluded = []
    for member in cand.members - wanted:
        if would_change(member):
            excluded.append(member)
            if len(excluded) > limit:
                return None
    return frozenset(excluded)
