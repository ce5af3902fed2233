"""Seeded, deterministic workspaces of any size with realistic mixes (docs/instantly-api.md §3.3).

The same ``seed`` and start time give the same workspace, byte for byte. Timestamps are laid out
backwards from the clock's time at construction. The mix, roughly: providers Google 45 %,
Microsoft 30 %, custom IMAP/SMTP 18 %, AWS / AirMail / Airmail Instant the rest; account status
mostly Active with some Paused, Maintenance and errors (-1/-2/-3) carrying SMTP ``status_message``
objects; warmup mostly active, some paused, a few banned or suspended; some "young" inboxes whose
warmup began within 14 days; tags 'Client A/B/C', 'Agency', 'Warmup pool'; a small share of
emails in mixed case; a few bulk imports whose accounts share one ``timestamp_created`` (so the
cursor's email tiebreak matters).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from collections.abc import Callable
from typing import Any

from .isotime import DAY_MS, iso, to_ms
from .jobs import StaticJob
from .vocabulary import (
    FIRST_NAMES,
    LAST_NAMES,
    PROVIDER_WEIGHTS,
    SMTP_ERRORS,
    STATUS_WEIGHTS,
    STEMS,
    SUFFIXES,
    TAGS,
    TLDS,
    WARMUP_WEIGHTS,
)
from .workspace import AccountRecord, NegativeWarmup, Tag, TagMapping, Workspace

__all__ = ["DEFAULT_WORKSPACE_NAME", "ObjectIds", "generate", "new_uuid", "workspace_uuid"]

DEFAULT_WORKSPACE_NAME = "Demo workspace"


def _weighted(table: tuple[tuple[int, float], ...]) -> tuple[list[int], list[float]]:
    values = [v for v, _ in table]
    cumulative = list(itertools.accumulate(w for _, w in table))
    total = cumulative[-1]
    return values, [c / total for c in cumulative]


class ObjectIds:
    """MongoDB-style ids: 8 hex of epoch seconds, then 16 deterministic hex digits (§4.2)."""

    def __init__(self, rng: random.Random) -> None:
        self._process = rng.getrandbits(40)
        self._counter = rng.getrandbits(24)

    def make(self, at: float) -> str:
        self._counter = (self._counter + 1) % (1 << 24)
        return f"{int(at) & 0xFFFFFFFF:08x}{self._process:010x}{self._counter:06x}"


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng`` (deterministic for a seeded one)."""
    h = f"{rng.getrandbits(128) & _UUID_MASK | _UUID_V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# Version 4, variant RFC 4122, set by hand: uuid.UUID() is slow for 100,000 tag mappings.
_UUID_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


def _domains(rng: random.Random, count: int) -> list[str]:
    names = [
        f"{stem}{joiner}{suffix}{tld}"
        for stem in STEMS
        for suffix in SUFFIXES
        for joiner in ("", "-")
        for tld in TLDS
    ]
    names += [
        f"{verb}{stem}{tld}" for verb in ("get", "try", "use") for stem in STEMS for tld in TLDS
    ]
    rng.shuffle(names)
    return names[: max(8, min(count, len(names)))]


def _mixed_case(email: str) -> str:
    local, _, domain = email.partition("@")
    fix = "-".join(part.capitalize() for part in domain.split("-"))
    return ".".join(p.capitalize() for p in local.split(".")) + "@" + fix


def workspace_uuid(drawn: str, name: str, workspace_id: str | None) -> str:
    """The workspace id: ``workspace_id`` if given; else the seed's draw, made name-specific for
    any name but ``DEFAULT_WORKSPACE_NAME`` (so the default stays what it always was)."""
    if workspace_id is not None:
        return workspace_id
    if name == DEFAULT_WORKSPACE_NAME:
        return drawn
    digest = hashlib.blake2b(f"{drawn}\n{name}".encode(), digest_size=16).digest()
    return new_uuid(random.Random(digest))


def generate(
    *,
    accounts: int,
    seed: int,
    now: float,
    name: str,
    negative_warmup: NegativeWarmup,
    workspace_id: str | None = None,
) -> tuple[Workspace, ObjectIds]:
    """A workspace of ``accounts`` accounts, the same for the same ``seed`` and ``now``.

    Its id is drawn from the seed (and the name, when not the default), or is ``workspace_id``.
    """
    rng = random.Random(seed)
    now_ms = to_ms(now)
    ws = Workspace(
        id=workspace_uuid(new_uuid(rng), name, workspace_id),
        name=name,
        owner=new_uuid(rng),
        created_ms=now_ms - 900 * DAY_MS,
        negative_warmup=negative_warmup,
    )
    ids = ObjectIds(rng)
    made = []
    for index, (label, description) in enumerate(TAGS):
        created = ws.created_ms + (index + 1) * 3_600_000
        made.append(Tag(new_uuid(rng), label, description, created, created))
    ws.tags = {tag.id: tag for tag in sorted(made, key=lambda tag: tag.id)}
    by_label = {t.label: t for t in ws.tags.values()}

    records = _accounts(rng, accounts, now_ms, ws)
    ws.bulk_load(records)
    _tag(rng, ws, records, by_label, now_ms)
    if accounts:
        history_at = now - 86_400.0
        job = StaticJob(
            id=ids.make(history_at),
            seq=0,
            workspace_id=ws.id,
            type="import-leads",
            entity_type="list",
            entity_id=new_uuid(rng),
            created=history_at,
            finished=history_at + 42.0,
            data={"total_leads": 250, "imported_leads": 248, "duplicated_leads": 2},
        )
        ws.jobs[job.id] = job
    return ws, ids


def _accounts(rng: random.Random, count: int, now_ms: int, ws: Workspace) -> list[AccountRecord]:
    # Hot loop (100,000 accounts in a couple of seconds): draws are `random()` scaled by hand,
    # and the dict is built directly in answer order instead of going through ordered().
    r = rng.random
    providers, provider_cut = _weighted(PROVIDER_WEIGHTS)
    statuses, status_cut = _weighted(STATUS_WEIGHTS)
    warmups, warmup_cut = _weighted(WARMUP_WEIGHTS)
    domains = _domains(rng, count // 40)
    pools = {code: domains[i::6] or domains for i, code in enumerate((2, 3, 1, 4, 8, 11))}
    public = {2: "gmail.com", 3: "outlook.com"}
    seen: set[str] = set()
    records: list[AccountRecord] = []
    batch_left, batch_ms = 0, 0
    warmups_made: dict[tuple[Any, ...], dict[str, Any]] = {}
    n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
    for _ in range(count):
        provider = providers[bisect.bisect(provider_cut, r())]
        first, last = FIRST_NAMES[int(r() * n_first)], LAST_NAMES[int(r() * n_last)]
        if provider in public and r() < 0.15:
            domain = public[provider]
        else:
            pool = pools[provider]
            domain = pool[int(r() * len(pool))]
        local = (f"{first}.{last}", first, f"{first[0]}{last}", f"{first}_{last}")[int(r() * 4)]
        email = f"{local}@{domain}"
        suffix = 1
        while email in seen:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        seen.add(email)
        if r() < 0.02:
            email = _mixed_case(email)

        young = r() < 0.08
        if batch_left > 0:
            batch_left -= 1
            created = batch_ms
        elif young:
            created = now_ms - 1 - int(r() * 13 * DAY_MS)
        else:
            created = now_ms - 14 * DAY_MS - int(r() * 716 * DAY_MS)
            if r() < 0.004:  # a bulk import: several accounts share this timestamp
                batch_left, batch_ms = 5 + int(r() * 36), created
        status = statuses[bisect.bisect(status_cut, r())]
        warmup_status = warmups[bisect.bisect(warmup_cut, r())]
        managed = r() < 0.03
        data: dict[str, Any] = {
            "email": email,
            "timestamp_created": iso(created),
            "timestamp_updated": iso(created + int(r() * (now_ms - created))),
            "first_name": first.capitalize(),
            "last_name": last.capitalize(),
            "warmup": _warmup(
                warmups_made,
                (10, 15, 20, 30, 40)[int(r() * 5)],
                r() < 0.2,
                r() < 0.3,
                ("disabled", "disabled", "1", "2", "3")[int(r() * 5)],
                (0.1, 0.2, 0.3, 0.4)[int(r() * 4)],
            ),
            "added_by": ws.owner,
            "daily_limit": (20, 25, 30, 40, 50)[int(r() * 5)],
        }
        if provider in (8, 11):
            data["daily_limit_max"], data["warmup_limit_max"] = 30, 20
        data["sending_gap"] = (0, 5, 10, 10, 15, 30)[int(r() * 6)]
        if r() < 0.35:
            data["tracking_domain_name"] = f"track.{domain.lower()}"
            data["tracking_domain_status"] = "active" if r() < 0.9 else "pending"
        data["organization"] = ws.id
        data["warmup_status"] = warmup_status
        data["provider_code"] = provider
        data["setup_pending"] = managed and r() < 0.3
        data["is_managed_account"] = managed
        data["status"] = status
        if status < 0:
            errors = SMTP_ERRORS[status]
            data["status_message"] = dict(errors[int(r() * len(errors))])
            data["autofix_failed"] = r() < 0.7
        if warmup_status != 0 or r() < 0.8:
            if young:
                start = created + int(r() * DAY_MS)
            else:
                start = created + int(r() * max(0, now_ms - DAY_MS - created))
            data["timestamp_warmup_start"] = iso(min(start, now_ms))
        data["stat_warmup_score"] = _score(r, warmup_status, young)
        records.append(AccountRecord(data, created, prewarmed=managed and r() < 0.4))
    return records


def _warmup(made: dict[tuple[Any, ...], dict[str, Any]], *key: Any) -> dict[str, Any]:
    """One shared ``warmup`` object per combination: 400 of them serve 100,000 accounts.

    Shared safely because nothing mutates a nested object: views copy, helpers replace.
    """
    found = made.get(key)
    if found is None:
        limit, warm_ctd, weekday_only, increment, reply_rate = key
        found = made[key] = {
            "limit": limit,
            "advanced": {
                "warm_ctd": warm_ctd,
                "open_rate": 0.95,
                "important_rate": 0.8,
                "read_emulation": True,
                "spam_save_rate": 0.02,
                "weekday_only": weekday_only,
            },
            "warmup_custom_ftag": "warmup",
            "increment": increment,
            "reply_rate": reply_rate,
        }
    return found


def _score(random_: Callable[[], float], warmup_status: int, young: bool) -> int:
    if warmup_status == 1:
        return round(40 + 45 * random_()) if young else round(80 + 20 * random_() ** 0.5)
    if warmup_status == 0:
        # §5.6: the score covers 7 days, so a long-paused account sits at 0.
        return 0 if random_() < 0.7 else round(60 * random_())
    return round(40 * random_())


def _tag(
    rng: random.Random,
    ws: Workspace,
    records: list[AccountRecord],
    by_label: dict[str, Tag],
    now_ms: int,
) -> None:
    random_ = rng.random
    pending: list[tuple[int, str, str]] = []
    for record in records:
        draw = random_()
        labels = []
        if draw < 0.25:
            labels.append("Client A")
        elif draw < 0.45:
            labels.append("Client B")
        elif draw < 0.60:
            labels.append("Client C")
        if random_() < 0.15:
            labels.append("Agency")
        if random_() < 0.20:
            labels.append("Warmup pool")
        for label in labels:
            tag = by_label[label]
            record.tags.add(tag.id)
            at = max(record.created_ms, tag.created_ms) + 1_000 + int(random_() * 600_000)
            pending.append((min(at, now_ms), tag.id, record.email))
    pending.sort()
    last = 0
    for at, tag_id, email in pending:
        # §6.2: the mappings cursor is a timestamp, so each one is made unique.
        last = max(at, last + 1)
        ws.mappings.append(TagMapping(new_uuid(rng), tag_id, email, last))
