"""The warmup enable/disable request: validated on construction, so a bad one is never sent.

One type serves the client (``disable_warmup(...)`` builds one), the planner (``Plan.requests``)
and the journal (``body()`` is what gets recorded and what ``fingerprint`` hashes).
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from . import _constants as C
from .errors import RequestValidationError
from .models import AccountFilter, Job

__all__ = [
    "Action",
    "WarmupRequest",
    "action_of",
    "bind_action",
    "check_email",
    "check_emails",
    "check_filter",
    "goal_of",
    "warmup_request",
]

Action = Literal["disable", "enable"]
# What each action sets ``warmup_status`` to (§5.6): the goal state, said once for every layer.
_GOALS: dict[Action, int] = {"disable": 0, "enable": 1}

S = TypeVar("S")
P = ParamSpec("P")
T = TypeVar("T")


def goal_of(action: Action) -> int:
    """The ``warmup_status`` an ``action`` leaves an account in: 0 paused, 1 active."""
    return _GOALS[action]


def action_of(status: object) -> Action | None:
    """The action whose goal is ``status`` (0 -> disable, 1 -> enable), or None."""
    return next((a for a, goal in _GOALS.items() if goal == status), None)


def bind_action(
    func: Callable[Concatenate[S, Action, P], Awaitable[T]], action: Action, name: str, doc: str
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """``func`` with its ``action`` argument fixed: ``disable_x`` and ``enable_x`` written once.

    The result keeps ``func``'s real signature minus ``action`` (``help()`` and completion show
    it) and is a coroutine function of its own.
    """

    async def bound(first: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await func(first, action, *args, **kwargs)

    bound.__name__, bound.__doc__ = name, doc
    bound.__qualname__ = func.__qualname__.removesuffix(func.__name__) + name
    bound.__module__ = func.__module__
    signature = inspect.signature(func)
    params = [p for p in signature.parameters.values() if p.name != "action"]
    bound.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return bound


# ASCII only on purpose: a look-alike letter from another script (Cyrillic "a", U+0430) in a
# pasted address looks right and matches nothing.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def check_email(value: object) -> str | None:
    """The reason ``value`` is not a usable email address, or None when it is."""
    if not isinstance(value, str):
        return f"{value!r} is not text"
    if value != value.strip():
        return f"{value!r} has surrounding whitespace"
    if not value:
        return "an empty string"
    if not value.isascii():
        odd = "".join(sorted({ch for ch in value if not ch.isascii()}))
        return f"{value!r} contains non-ASCII characters ({odd!r}); a look-alike letter?"
    if len(value) > 254 or not _EMAIL.match(value):
        return f"{value!r} is not a well-formed email address"
    return None


def check_emails(values: Iterable[object], what: str) -> tuple[str, ...]:
    """Validate a list of emails as sent: well-formed, no duplicates (case-insensitive)."""
    emails: list[str] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for value in values:
        reason = check_email(value)
        if reason is not None:
            problems.append(reason)
            continue
        assert isinstance(value, str)
        key = value.lower()
        if key in seen:
            problems.append(f"{value!r} duplicates {seen[key]!r}")
            continue
        seen[key] = value
        emails.append(value)
    if problems:
        raise RequestValidationError(f"{what}: {len(problems)} unusable value(s)", problems)
    return tuple(emails)


@dataclass(frozen=True)
class WarmupRequest:
    """One ``POST /api/v2/accounts/warmup/{disable|enable}`` (docs/instantly-api.md §4.1).

    Either an explicit list of at most 100 ``emails``, or ``include_all_emails`` narrowed by
    ``tag_id``, ``filter`` (an ``ACC_FILTER_*``) and ``search``, minus at most 100
    ``excluded_emails``. Mixing the two is refused: Instantly documents the narrowing fields as
    applying only to ``include_all_emails`` and would silently ignore them otherwise (§5.4).
    """

    action: Action
    emails: tuple[str, ...] = ()
    include_all_emails: bool = False
    excluded_emails: tuple[str, ...] = ()
    filter: AccountFilter | None = None
    tag_id: str | None = None
    search: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ("disable", "enable"):
            raise RequestValidationError(
                f"action must be 'disable' or 'enable', not {self.action!r}"
            )
        object.__setattr__(self, "emails", check_emails(self.emails, "emails"))
        object.__setattr__(
            self, "excluded_emails", check_emails(self.excluded_emails, "excluded_emails")
        )
        for name in ("emails", "excluded_emails"):
            count = len(getattr(self, name))
            if count > C.MAX_EMAILS_PER_REQUEST:
                raise RequestValidationError(
                    f"{name} has {count} items; Instantly accepts at most "
                    f"{C.MAX_EMAILS_PER_REQUEST} per request (plan_disable() splits larger sets)"
                )
        if self.filter is not None:
            object.__setattr__(self, "filter", check_filter(self.filter))
        if self.tag_id is not None:
            _check_uuid(self.tag_id)
        if self.search is not None and not self.search.strip():
            raise RequestValidationError("search is empty; pass None for no search")
        narrowed = self.excluded_emails or self.filter or self.tag_id or self.search is not None
        if self.include_all_emails:
            if self.emails:
                raise RequestValidationError(
                    "emails cannot be combined with include_all_emails: Instantly would ignore one"
                )
        elif narrowed:
            raise RequestValidationError(
                "excluded_emails, filter, tag_id and search only apply with include_all_emails=True"
            )
        elif not self.emails:
            raise RequestValidationError("nothing to do: no emails and include_all_emails is off")

    @property
    def path(self) -> str:
        return f"{C.API_PREFIX}/accounts/warmup/{self.action}"

    @property
    def target_warmup_status(self) -> int:
        """What Instantly sets ``warmup_status`` to: 0 (paused) or 1 (active), §5.6."""
        return goal_of(self.action)

    def body(self) -> dict[str, Any]:
        """The JSON body exactly as sent."""
        if not self.include_all_emails:
            return {"emails": list(self.emails)}
        body: dict[str, Any] = {"include_all_emails": True}
        if self.excluded_emails:
            body["excluded_emails"] = list(self.excluded_emails)
        narrowing: dict[str, Any] = {}
        if self.tag_id is not None:
            narrowing["tag_id"] = self.tag_id
        if self.filter is not None:
            narrowing["filter"] = self.filter.value
        if narrowing:
            body["filter"] = narrowing
        if self.search is not None:
            body["search"] = self.search
        return body

    def matches_job(self, job: Job) -> bool:
        """Whether ``job`` is what Instantly made of this request (``data.filters`` echo, §4.1).

        Used to reconcile a submit whose answer was lost before anything is resent.
        """
        if job.type != "update-warmup-accounts" or job.target_warmup_status is None:
            return False
        if job.target_warmup_status != self.target_warmup_status:
            return False
        echo = job.filters
        body = self.body()
        return (
            _same_list(echo.get("emails"), body.get("emails"))
            and bool(echo.get("includeAllEmails")) == self.include_all_emails
            and _same_list(echo.get("excludedEmails"), body.get("excluded_emails"))
            and _same_mapping(echo.get("filter"), body.get("filter"))
            and (echo.get("search") or None) == body.get("search")
        )


def warmup_request(
    action: Action,
    emails: Iterable[str] | None = None,
    *,
    include_all_emails: bool = False,
    excluded_emails: Iterable[str] | None = None,
    filter: AccountFilter | str | None = None,
    tag_id: str | None = None,
    search: str | None = None,
) -> WarmupRequest:
    """A ``WarmupRequest`` from the loose arguments people pass (lists, filter names)."""
    if isinstance(emails, str) or isinstance(excluded_emails, str):
        raise RequestValidationError("pass emails as a list of strings, not one string")
    return WarmupRequest(
        action,
        emails=tuple(emails or ()),
        include_all_emails=include_all_emails,
        excluded_emails=tuple(excluded_emails or ()),
        filter=AccountFilter(filter) if filter is not None else None,
        tag_id=tag_id,
        search=search,
    )


def check_filter(value: object) -> AccountFilter:
    """The known ``AccountFilter`` named by ``value``; a clear error for anything else."""
    member = AccountFilter(str(value)) if isinstance(value, str) else None
    if member is None or not member.known:
        known = ", ".join(f.value for f in AccountFilter)
        shown = value.value if isinstance(value, AccountFilter) else value
        raise RequestValidationError(f"unknown account filter {shown!r}; known filters: {known}")
    return member


def _check_uuid(value: str) -> None:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise RequestValidationError(
            f"tag_id {value!r} is not a tag id (a UUID); look tags up with read_tags(client)"
        ) from None


def _same_list(echo: object, sent: object) -> bool:
    left = list(echo) if isinstance(echo, list) else []
    right = list(sent) if isinstance(sent, list) else []
    return sorted(map(str, left)) == sorted(map(str, right))


def _same_mapping(echo: object, sent: object) -> bool:
    left = {k: v for k, v in echo.items() if v is not None} if isinstance(echo, Mapping) else {}
    right = dict(sent) if isinstance(sent, Mapping) else {}
    return left == right
