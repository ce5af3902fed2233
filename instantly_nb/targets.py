"""What a plan targets: emails from any container users hold, or a server-side ``Selection``.

Emails arrive as a DataFrame column (``email``, ``Email``, ``EMAIL``...) or index, a Series, a
list, or a CSV path. They are stripped and checked here, so a malformed address is an error that
names every bad row before anything is sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._cover import selection_words
from ._warmup import check_email, check_filter
from .errors import RequestValidationError
from .models import AccountFilter

__all__ = ["Selection", "Target", "filter_from", "read_emails", "read_exclusions"]


@dataclass(frozen=True)
class Selection:
    """A set of accounts described server-side, as Instantly's warmup body can.

    Parameters
    ----------
    filter : str, optional
        An ``ACC_FILTER_*`` value or its label, e.g. ``"ACC_FILTER_W_ERROR"`` or
        ``"Warmup has errors"``.
    tag : str, optional
        A tag label (``"Client A"``) or tag id.
    search : str, optional
        Instantly's account search, e.g. a domain (``"acme.com"``).

    ``Selection()`` with no criterion would be every account of the workspace; ask for that
    explicitly with ``Selection.all_accounts()``.
    """

    filter: AccountFilter | str | None = None
    tag: str | None = None
    search: str | None = None
    everything: bool = False

    def __post_init__(self) -> None:
        # A notebook passes whatever a cell holds (a tag id as an int, a Series...): say which
        # field and what it got, before ``.strip()`` fails with an AttributeError.
        for field, value in (("filter", self.filter), ("tag", self.tag), ("search", self.search)):
            if value is not None and not isinstance(value, str):
                raise RequestValidationError(
                    f"Selection {field} must be text ({_WANTED[field]}), got "
                    f"{type(value).__name__} {_shown(value)}"
                )
        if self.filter is not None:
            object.__setattr__(self, "filter", filter_from(self.filter))
        if self.tag is not None and not self.tag.strip():
            raise RequestValidationError("Selection tag is empty")
        if self.search is not None and not self.search.strip():
            raise RequestValidationError("Selection search is empty")
        criteria = self.filter is not None or self.tag is not None or self.search is not None
        if not criteria and not self.everything:
            raise RequestValidationError(
                "An empty Selection() would select every account of the workspace; give a "
                "filter, tag or search, or say Selection.all_accounts() if that is what you mean"
            )
        if criteria and self.everything:
            raise RequestValidationError("Selection.all_accounts() takes no criteria")

    @classmethod
    def all_accounts(cls) -> Selection:
        """Every account of the workspace (plans on it always need confirmation)."""
        return cls(everything=True)

    @property
    def account_filter(self) -> AccountFilter | None:
        return self.filter if isinstance(self.filter, AccountFilter) else None

    def describe(self, tag_label: str | None = None) -> str:
        """The selection in words; ``tag_label`` names the tag when ``tag`` is its id."""
        tag = tag_label or (self.tag.strip() if self.tag is not None else None)
        return selection_words(tag, self.account_filter, self.search)


_WANTED = {
    "filter": "an ACC_FILTER_* value or its label",
    "tag": "a tag label or id",
    "search": "Instantly's account search",
}


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


Target = Selection | pd.DataFrame | pd.Series | Iterable[str] | str | Path


def filter_from(value: AccountFilter | str) -> AccountFilter:
    by_label = {f.label.lower(): f for f in AccountFilter}
    if isinstance(value, str) and value.strip().lower() in by_label:
        return by_label[value.strip().lower()]
    return check_filter(value)


_EMAIL_NAMES = ("email", "emails", "email_address", "email address", "e-mail")


def read_emails(
    target: pd.DataFrame | pd.Series | Iterable[object] | str | Path, *, empty_ok: bool = False
) -> list[str]:
    """Emails from a DataFrame, Series, iterable or CSV path: stripped, checked, de-duplicated.

    Duplicates are compared case-insensitively and the first spelling is kept. Missing values
    (NaN, None, empty strings) and malformed addresses raise ``RequestValidationError`` listing
    every offending row, and so does a target without emails unless ``empty_ok`` (a read of
    nothing is nothing; a change of nothing is a mistake).
    """
    emails = _read_emails(target)
    if not emails and not empty_ok:
        raise RequestValidationError("the target holds no emails")
    return emails


def read_exclusions(
    exclude: pd.DataFrame | pd.Series | Iterable[object] | str | Path,
) -> set[str]:
    """The emails to leave alone, lower-cased, read like ``read_emails``; none at all is fine.

    Its errors start with ``exclude:``, so a bad row is not looked for in the target.
    """
    try:
        return {e.lower() for e in _read_emails(exclude)}
    except RequestValidationError as exc:
        headline = str(exc).splitlines()[0]
        raise RequestValidationError(f"exclude: {headline}", exc.problems) from None


def _read_emails(target: object) -> list[str]:
    values, where = _raw_values(target)
    emails: list[str] = []
    seen: set[str] = set()
    problems: list[str] = []
    for position, value in zip(where, values, strict=True):
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            problems.append(f"{position}: missing value")
            continue
        text = value.strip() if isinstance(value, str) else value
        reason = check_email(text)
        if reason is not None:
            problems.append(f"{position}: {reason}")
            continue
        assert isinstance(text, str)
        if text.lower() not in seen:
            seen.add(text.lower())
            emails.append(text)
    if problems:
        raise RequestValidationError(f"{len(problems)} unusable email value(s)", problems)
    return emails


def _raw_values(target: object) -> tuple[list[object], list[str]]:
    if isinstance(target, str | Path):
        return _raw_values(_read_csv(Path(target)))
    if isinstance(target, pd.DataFrame):
        column = _email_column(target)
        if column is None:
            if _is_email_name(target.index.name):
                return list(target.index), [f"row {i}" for i in range(len(target))]
            raise RequestValidationError(
                f"no email column: expected one named 'email' (any case), found "
                f"{[str(c) for c in target.columns]}"
            )
        return list(target[column]), [f"row {i}" for i in range(len(target))]
    if isinstance(target, pd.Series):
        return list(target), [f"row {i}" for i in range(len(target))]
    if isinstance(target, dict):
        raise RequestValidationError("pass emails as a list, Series, DataFrame or CSV path")
    if isinstance(target, Iterable):
        values = list(target)
        return values, [f"item {i}" for i in range(len(values))]
    raise RequestValidationError(f"cannot read emails from a {type(target).__name__}")


def _email_column(frame: pd.DataFrame) -> object | None:
    matches = [c for c in frame.columns if _is_email_name(c)]
    if len(matches) > 1:
        raise RequestValidationError(f"several email columns {matches}; keep one")
    return matches[0] if matches else None


def _is_email_name(name: object) -> bool:
    return isinstance(name, str) and name.strip().lower() in _EMAIL_NAMES


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        hint = (
            " (to target one email, pass a list: ['" + str(path) + "'])" if "@" in str(path) else ""
        )
        raise RequestValidationError(f"no such CSV file: {path}{hint}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise RequestValidationError(f"the CSV file {path} is empty: no emails") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        why = " ".join(str(exc).split())[:200]
        raise RequestValidationError(f"cannot read {path} as CSV: {why}") from None
    if _email_column(frame) is None and len(frame.columns) == 1 and "@" in str(frame.columns[0]):
        # A bare list of emails without a header: the first address became the header.
        frame = pd.read_csv(path, dtype=str, header=None, names=["email"], na_values=[""])
    return frame
