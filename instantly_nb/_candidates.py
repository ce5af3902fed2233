"""Which server-side selections might cover a target, estimated from one listing of accounts.

Pure: the planner passes the listing (lower-cased email -> account) and verifies every
estimated set server-side before relying on it (``_cover`` chooses among them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._cover import Candidate, SelectionSpec
from .models import AccountFilter

__all__ = ["candidates"]


def candidates(accounts: Mapping[str, Mapping[str, Any]]) -> list[Candidate]:
    """Selections worth considering, with member sets estimated from the listing.

    Tag membership comes straight from the listing (``include_tags``), so it is exact. The
    meaning of ``ACC_FILTER_*`` and ``search`` is guessed (docs/instantly-api.md §3.1): those
    candidates are marked unverified and the planner lists them server-side before use.
    """
    everyone = frozenset(accounts)
    by_tag: dict[str, set[str]] = {}
    for key, account in accounts.items():
        for tag in account.get("tags") or []:
            by_tag.setdefault(str(tag.get("id")), set()).add(key)
    by_filter = {
        f: frozenset(k for k, a in accounts.items() if _guess(f.value, a)) for f in _FILTERS
    }
    domains: dict[str, set[str]] = {}
    parts: dict[str, set[str]] = {}
    for key in accounts:
        domain = key.rsplit("@", 1)[-1]
        domains.setdefault(domain, set()).add(key)
        # Wide searches that split the workspace into a few overlapping parts: a top-level
        # domain, or one character. "All but 150" needs such parts, as one request excludes at
        # most 100 (§5.3); which accounts a search selects is checked server-side before use.
        for needle in {"." + domain.rsplit(".", 1)[-1], *key.replace("@", "")}:
            parts.setdefault(needle, set()).add(key)
    out = [Candidate(SelectionSpec(), everyone, verified=True)]
    out += [Candidate(SelectionSpec(tag_id=t), frozenset(m), True) for t, m in by_tag.items()]
    for f, members in by_filter.items():
        if members:
            out.append(Candidate(SelectionSpec(filter=f), members, verified=False))
            for t, tagged in by_tag.items():
                both = members & tagged
                if both:
                    out.append(Candidate(SelectionSpec(tag_id=t, filter=f), both, False))
    big_domains = sorted(domains.items(), key=lambda kv: -len(kv[1]))[:20]
    out += [Candidate(SelectionSpec(search=d), frozenset(m), False) for d, m in big_domains]
    out += [Candidate(SelectionSpec(search=n), frozenset(m), False) for n, m in parts.items()]
    return out


_FILTERS = (AccountFilter.W_ACTIVE, AccountFilter.W_PAUSED, AccountFilter.W_ERROR,
            AccountFilter.PAUSED, AccountFilter.ERROR)  # fmt: skip


def _guess(value: str, account: Mapping[str, Any]) -> bool:
    warmup, status = account.get("warmup_status"), account.get("status")
    return {
        "ACC_FILTER_W_ACTIVE": warmup == 1,
        "ACC_FILTER_W_PAUSED": warmup == 0,
        "ACC_FILTER_W_ERROR": isinstance(warmup, int) and warmup < 0,
        "ACC_FILTER_PAUSED": status == 2,
        "ACC_FILTER_ERROR": isinstance(status, int) and status < 0,
    }.get(value, False)
