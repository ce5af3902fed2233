"""Health filters: "Spam rate above" and "Health score below", applied on the client side.

Instantly's account listing cannot filter by warmup health; its warmup analytics report it per
account (``health.py``). So the panel narrows in two steps: the filter, tag or search (or the
emails given) chooses the accounts server-side, then the warmup health of those accounts only is
read, and the thresholds keep the accounts past them. An empty field is off; both empty, no
health is read at all. The health read is shown beside every account of the preview (and of the
pick list) so the threshold can be checked against the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as w
import pandas as pd

from ..errors import RequestValidationError
from ..fleet_frames import WORKSPACE_COLUMN
from ..health import aread_warmup_health
from ..progress_text import ReadListener
from ..sync_client import Client
from ..targets import Selection, Target, read_emails
from ..workspaces import Workspaces
from ._note import Note

__all__ = [
    "HEALTH_SHOWN", "HealthFilter", "HealthLimits", "Narrowed", "health_of", "narrow",
    "with_health",
]  # fmt: skip

# The columns shown beside each account, in this order (health.HEALTH_COLUMNS names).
HEALTH_SHOWN = ("inbox_rate", "spam_rate", "health_score", "sent")
_WIDE = {"description_width": "140px"}


def parse_rate(text: str) -> float | None:
    """A spam rate typed as a fraction (``0.2``) or a percentage (``20%``); None when empty."""
    typed = text.strip()
    if not typed:
        return None
    percent = typed.endswith("%")
    number = _number(typed.removesuffix("%").strip(), "Spam rate above", "0.2 or 20%")
    if percent:
        number /= 100
    elif number > 1:
        raise RequestValidationError(
            f"Spam rate above takes a fraction from 0 to 1 (0.2) or a percentage (20%), not "
            f"{typed!r}: type {typed}% if a percentage is meant"
        )
    if not 0 <= number <= 1:
        raise RequestValidationError(f"Spam rate above must be between 0 and 100%, not {typed!r}")
    return number


def parse_score(text: str) -> float | None:
    """A health score from 0 to 100 (``50``, or ``50%`` as Instantly labels it); None when empty."""
    typed = text.strip()
    if not typed:
        return None
    number = _number(typed.removesuffix("%").strip(), "Health score below", "50")
    if not 0 <= number <= 100:
        raise RequestValidationError(
            f"Health score below takes a score from 0 to 100, not {typed!r}"
        )
    return number


def _number(text: str, field: str, example: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isnan(number) or math.isinf(number):
        raise RequestValidationError(
            f"{field} takes a number, e.g. {example}, not {text!r} (leave it empty for no limit)"
        )
    return number


@dataclass(frozen=True)
class HealthLimits:
    """The thresholds typed: spam rate (0-1) and health score (0-100), each None when off."""

    spam_above: float | None = None
    score_below: float | None = None

    @property
    def on(self) -> bool:
        return self.spam_above is not None or self.score_below is not None

    def keep(self, health: pd.DataFrame) -> pd.Series:
        """Rows of a ``read_warmup_health`` frame past every threshold set.

        An account with no warmup sent has no rate (NaN), and one the workspace does not know
        has no health: neither is past a threshold, so neither is kept.
        """
        mask = health["found"].fillna(False).astype(bool)
        if self.spam_above is not None:
            mask &= health["spam_rate"] > self.spam_above
        if self.score_below is not None:
            mask &= health["health_score"] < self.score_below
        return mask

    def words(self) -> str:
        parts = []
        if self.spam_above is not None:
            parts.append(f"spam rate above {_percent(self.spam_above)}")
        if self.score_below is not None:
            parts.append(f"health score below {self.score_below:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Narrowed:
    """What the health filters kept: the plan's target (None if nothing) and the health read."""

    target: Target | None
    health: pd.DataFrame
    read: int  # accounts whose health was read
    kept: int

    def words(self, limits: HealthLimits) -> str:
        """What the health filters did, to lead the status line (or say why nothing is left)."""
        if self.target is not None:
            return f"Warmup health: {self.kept} of {self.read} account(s) have {limits.words()}. "
        if not self.read:
            return "No account matches this choice: there is nothing to preview."
        return (
            f"Warmup health read for {self.read} account(s): none has {limits.words()}, so "
            "there is nothing to preview."
        )


async def narrow(
    where: Client | Workspaces, target: Target, limits: HealthLimits, progress: ReadListener
) -> Narrowed:
    """Read the health of ``target``'s accounts in ``where`` and keep those past ``limits``.

    A ``Selection`` is listed first (in each workspace of a fleet). In a fleet, rows that carry
    their workspace stay in it; bare emails are read in every workspace and kept as bare emails,
    so the planner still looks each up and refuses one found in two workspaces.
    """
    if (
        isinstance(where, Workspaces)
        and not isinstance(target, Selection)
        and where.split(target) is None
    ):
        emails = read_emails(target)
        health = await where.read_each(
            aread_warmup_health, emails, progress=progress, title="reading warmup health"
        )
        health = health[health["found"].fillna(False).astype(bool)].reset_index(drop=True)
        kept = health.loc[limits.keep(health), "email"]
        chosen: Target | None = list(dict.fromkeys(kept)) or None
        return Narrowed(chosen, health, len(emails), len(kept))
    health = await aread_warmup_health(where, target, progress=progress)
    rows = health[limits.keep(health)]
    keys = [c for c in (WORKSPACE_COLUMN, "email") if c in rows.columns]
    narrowed: Target | None = None
    if len(rows):
        narrowed = rows[keys].reset_index(drop=True) if len(keys) > 1 else list(rows["email"])
    return Narrowed(narrowed, health, len(health), len(rows))


async def health_of(
    where: Client | Workspaces, accounts: pd.DataFrame, progress: ReadListener
) -> pd.DataFrame:
    """The warmup health of the accounts of ``read_accounts`` (in their workspaces)."""
    keys = [c for c in (WORKSPACE_COLUMN, "email") if c in accounts.columns]
    return await aread_warmup_health(where, accounts[keys], progress=progress)


def with_health(rows: pd.DataFrame, health: pd.DataFrame | None) -> pd.DataFrame:
    """``rows`` (an ``email`` column, and ``workspace`` in a fleet) with the health columns
    beside each account, as a person reads them (rates in %, the score 0-100)."""
    if health is None:
        return rows
    keys = [c for c in (WORKSPACE_COLUMN, "email") if c in rows.columns and c in health.columns]
    shown = health.assign(email=health["email"].str.lower())[[*keys, *HEALTH_SHOWN]]
    shown = shown.drop_duplicates(keys)
    left = rows.assign(email=rows["email"].str.lower())[keys]
    joined = left.merge(shown, on=keys, how="left")
    out = rows.reset_index(drop=True).copy()
    for name in ("inbox_rate", "spam_rate"):
        out[name] = [_percent(v) for v in joined[name]]
    out["health_score"] = [_whole(v) for v in joined["health_score"]]
    out["sent"] = [_whole(v) for v in joined["sent"]]
    return out


def _percent(value: object) -> str:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    return f"{float(value) * 100:.1f}%".replace(".0%", "%")  # type: ignore[arg-type]


def _whole(value: object) -> str:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    return f"{float(value):.0f}"  # type: ignore[arg-type]


class HealthFilter(w.VBox):  # type: ignore[misc]
    """The two thresholds with a note beside each; ``limits()`` reads them."""

    def __init__(self) -> None:
        self.spam = w.Text(
            description="Spam rate above", placeholder="off · e.g. 0.2 or 20%", style=_WIDE,
            continuous_update=False,
        )  # fmt: skip
        self.score = w.Text(
            description="Health score below", placeholder="off · e.g. 50 (0 to 100)", style=_WIDE,
            continuous_update=False,
        )  # fmt: skip
        self.spam_note, self.score_note = Note(), Note()
        heading = w.HTML(
            "<small><b>Warmup health</b> (optional): read for the chosen accounts only, then "
            "kept if past a threshold; empty is off</small>"
        )
        super().__init__(
            [heading, w.HBox([self.spam, self.spam_note]), w.HBox([self.score, self.score_note])]
        )
        self.spam.observe(lambda _: self._check(), "value")
        self.score.observe(lambda _: self._check(), "value")

    def on_change(self, callback: Callable[[], None]) -> None:
        for field in (self.spam, self.score):
            field.observe(lambda _: callback(), "value")

    def limits(self) -> HealthLimits:
        """The thresholds; for text that is no threshold, a plain error (the details beside
        its field)."""
        if not self._check():
            raise RequestValidationError(
                "Not planned: a warmup health threshold is not a number (see beside it)"
            )
        return HealthLimits(parse_rate(self.spam.value), parse_score(self.score.value))

    def _check(self) -> bool:
        """Say beside each field what is wrong with its text; whether both are usable."""
        usable = True
        for field, note, parse in ((self.spam, self.spam_note, parse_rate),
                                   (self.score, self.score_note, parse_score)):  # fmt: skip
            try:
                parse(field.value)
            except RequestValidationError as exc:
                note.say(str(exc), "error")
                usable = False
            else:
                note.clear()
        return usable
