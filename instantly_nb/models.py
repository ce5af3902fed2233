"""Instantly's codes with human labels, and the background-job value type.

The enums are *open*: a code Instantly adds tomorrow becomes a pseudo-member labelled
``"Unknown (<code>)"`` instead of an exception (docs/instantly-api.md §3.1 and §4.2 list values
that appeared within months). Requests are the opposite: ``AccountFilter`` values we send are
checked against the known set, because the server would reject an unknown one anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum, StrEnum
from typing import Any, Self

__all__ = [
    "TERMINAL_JOB_STATUSES",
    "AccountFilter",
    "AccountStatus",
    "Job",
    "JobStatus",
    "Provider",
    "WarmupStatus",
    "warmup_word",
]


class _OpenIntEnum(IntEnum):
    """An IntEnum that turns unknown integers into labelled pseudo-members."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}".replace("-", "MINUS_")
        member._value_ = value
        return member

    @property
    def label(self) -> str:
        return _LABELS.get((type(self), int(self)), f"Unknown ({int(self)})")

    @property
    def known(self) -> bool:
        return self._name_ in type(self).__members__


class _OpenStrEnum(StrEnum):
    """A StrEnum that keeps unknown strings as pseudo-members."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member

    @property
    def label(self) -> str:
        return _LABELS.get((type(self), self.value), f"Unknown ({self.value})")

    @property
    def known(self) -> bool:
        return self._name_ in type(self).__members__


class AccountStatus(_OpenIntEnum):
    """``Account.status`` (docs/instantly-api.md §3.3)."""

    ACTIVE = 1
    PAUSED = 2
    MAINTENANCE = 3
    CONNECTION_ERROR = -1
    SOFT_BOUNCE_ERROR = -2
    SENDING_ERROR = -3


class WarmupStatus(_OpenIntEnum):
    """``Account.warmup_status``; negative codes are warmup errors (§3.3)."""

    PAUSED = 0
    ACTIVE = 1
    BANNED = -1
    SPAM_FOLDER_UNKNOWN = -2
    PERMANENT_SUSPENSION = -3


def warmup_word(code: object) -> str:
    """A warmup status as a word for sentences ("paused", "banned"); "unknown" when missing."""
    return WarmupStatus(code).label.lower() if isinstance(code, int) else "unknown"


class Provider(_OpenIntEnum):
    """``Account.provider_code`` (§3.3)."""

    CUSTOM_IMAP_SMTP = 1
    GOOGLE = 2
    MICROSOFT = 3
    AWS = 4
    AIRMAIL = 8
    AIRMAIL_INSTANT = 11


class AccountFilter(_OpenStrEnum):
    """The ``filter`` values of ``GET /accounts`` and of the warmup body's ``filter.filter``."""

    PAUSED = "ACC_FILTER_PAUSED"
    ERROR = "ACC_FILTER_ERROR"
    NO_CTD = "ACC_FILTER_NO_CTD"
    PW_ACCOUNTS = "ACC_FILTER_PW_ACCOUNTS"
    DFY = "ACC_FILTER_DFY"
    DFY_SETUP_PENDING = "ACC_FILTER_DFY_SETUP_PENDING"
    W_ACTIVE = "ACC_FILTER_W_ACTIVE"
    W_PAUSED = "ACC_FILTER_W_PAUSED"
    W_ERROR = "ACC_FILTER_W_ERROR"


class JobStatus(_OpenStrEnum):
    """``BackgroundJob.status``; the set grew in 2026-05 and is treated as open (§4.2)."""

    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    SUCCESS = "success"
    FAILED = "failed"
    DRAINING = "draining"
    PAUSED = "paused"
    CANCELLED = "cancelled"


# A list, not a dict: IntEnum members of different classes with equal values compare equal.
_LABEL_PAIRS: list[tuple[Enum, str]] = [
    (AccountStatus.ACTIVE, "Active"),
    (AccountStatus.PAUSED, "Paused"),
    (AccountStatus.MAINTENANCE, "Maintenance (auto-resumes)"),
    (AccountStatus.CONNECTION_ERROR, "Connection error"),
    (AccountStatus.SOFT_BOUNCE_ERROR, "Soft bounce error"),
    (AccountStatus.SENDING_ERROR, "Sending error"),
    (WarmupStatus.PAUSED, "Paused"),
    (WarmupStatus.ACTIVE, "Active"),
    (WarmupStatus.BANNED, "Banned"),
    (WarmupStatus.SPAM_FOLDER_UNKNOWN, "Spam folder unknown"),
    (WarmupStatus.PERMANENT_SUSPENSION, "Permanent suspension"),
    (Provider.CUSTOM_IMAP_SMTP, "Custom IMAP/SMTP"),
    (Provider.GOOGLE, "Google"),
    (Provider.MICROSOFT, "Microsoft"),
    (Provider.AWS, "AWS"),
    (Provider.AIRMAIL, "AirMail"),
    (Provider.AIRMAIL_INSTANT, "Airmail Instant"),
    (AccountFilter.PAUSED, "Paused"),
    (AccountFilter.ERROR, "Has errors"),
    (AccountFilter.NO_CTD, "No custom tracking domain"),
    (AccountFilter.PW_ACCOUNTS, "Pre-warmed accounts"),
    (AccountFilter.DFY, "DFY accounts"),
    (AccountFilter.DFY_SETUP_PENDING, "DFY setup pending"),
    (AccountFilter.W_ACTIVE, "Warmup active"),
    (AccountFilter.W_PAUSED, "Warmup paused"),
    (AccountFilter.W_ERROR, "Warmup has errors"),
    (JobStatus.PENDING, "Pending"),
    (JobStatus.IN_PROGRESS, "In progress"),
    (JobStatus.SUCCESS, "Success"),
    (JobStatus.FAILED, "Failed"),
    (JobStatus.DRAINING, "Draining"),
    (JobStatus.PAUSED, "Paused"),
    (JobStatus.CANCELLED, "Cancelled"),
]

_LABELS: dict[tuple[type, object], str] = {
    (type(member), member.value): text for member, text in _LABEL_PAIRS
}

# success/failed/cancelled per the spec; "completed" and "error" because Instantly's own SDK polls
# until them (docs/instantly-api.md §4.2): a server that ever sends them must not keep us waiting.
TERMINAL_JOB_STATUSES = frozenset({"success", "failed", "cancelled", "completed", "error"})


@dataclass(frozen=True)
class Job:
    """A background job as Instantly returns it, with typed access to the warmup fields.

    ``raw`` keeps the whole response: fields Instantly adds later are never lost.
    """

    id: str
    status: JobStatus
    progress: float
    type: str
    created_at: str
    updated_at: str
    data: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> Job:
        data = body.get("data")
        return cls(
            id=str(body["id"]),
            status=JobStatus(str(body.get("status", ""))),
            progress=float(body.get("progress") or 0),
            type=str(body.get("type", "")),
            created_at=str(body.get("created_at", "")),
            updated_at=str(body.get("updated_at", "")),
            data=dict(data) if isinstance(data, Mapping) else {},
            raw=dict(body),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status.value in TERMINAL_JOB_STATUSES

    @property
    def target_warmup_status(self) -> int | None:
        value = self.data.get("warmup_status")
        return value if isinstance(value, int) else None

    @property
    def total_to_process(self) -> int | None:
        return _int_or_none(self.data.get("total_to_process"))

    @property
    def success_count(self) -> int | None:
        return _int_or_none(self.data.get("success_count"))

    @property
    def failed_count(self) -> int | None:
        return _int_or_none(self.data.get("failed_count"))

    @property
    def processed_emails(self) -> list[dict[str, Any]]:
        """Per-email results ``{email, status, error?}``; empty until Instantly fills them."""
        items = self.data.get("processed_emails")
        if not isinstance(items, list):
            return []
        return [dict(item) for item in items if isinstance(item, Mapping) and "email" in item]

    @property
    def moved_emails(self) -> list[str]:
        """The emails it reports processed without failure: the accounts it moved."""
        return [
            str(item["email"])
            for item in self.processed_emails
            if item["email"] and item.get("status") != "failed"
        ]

    @property
    def filters(self) -> Mapping[str, Any]:
        """The request as Instantly echoed it (camelCase keys, §4.1)."""
        filters = self.data.get("filters")
        return filters if isinstance(filters, Mapping) else {}


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)
