"""Frames and targets across several workspaces: the ``workspace`` column in and out.

A frame read from several workspaces gets the workspace's name as its first column
(``with_workspace``); a target that carries that column is split by it (``split_target``). A read
made in several workspaces at once reports one progress line for all of them (``FleetRead``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .errors import RequestValidationError
from .fleet_records import WORKSPACE_COLUMN, with_workspace
from .progress_text import ReadListener, read_listener
from .targets import Selection, Target
from .workspace_group import same_name

__all__ = ["WORKSPACE_COLUMN", "FleetRead", "split_target", "with_workspace", "workspace_column"]


class FleetRead:
    """One read-progress line for a read made in several workspaces at once (their sums)."""

    def __init__(self, progress: bool | ReadListener, title: str, names: Iterable[str]) -> None:
        self.state = dict.fromkeys(names, (0, 0, False))
        self.target = read_listener(progress, f"{title} in {len(self.state)} workspace(s)")

    def member(self, name: str) -> ReadListener | bool:
        if self.target is None:
            return False
        target = self.target

        def report(pages: int, accounts: int, finished: bool) -> None:
            self.state[name] = (pages, accounts, finished)
            states = self.state.values()
            target(sum(s[0] for s in states), sum(s[1] for s in states), all(s[2] for s in states))

        return report


def workspace_column(frame: pd.DataFrame) -> object | None:
    """The frame's ``workspace`` column (any case), or None."""
    found = [
        c for c in frame.columns if isinstance(c, str) and c.strip().lower() == WORKSPACE_COLUMN
    ]
    if len(found) > 1:
        raise RequestValidationError(f"several workspace columns {found}; keep one")
    return found[0] if found else None


def split_target(
    target: Target, known: Sequence[str], chosen: Sequence[str]
) -> dict[str, Target] | None:
    """``target`` per workspace (of ``chosen``, among ``known``) when it says where each email
    is, else None.

    A ``Selection`` applies in every chosen workspace; a DataFrame (or CSV file) with a
    ``workspace`` column is split by it, the names matched case and spacing aside. Bare emails
    (None) must be looked up.
    """
    if isinstance(target, Selection):
        return dict.fromkeys(chosen, target)
    frame = target
    if isinstance(target, str | Path) and Path(target).is_file():
        try:
            frame = pd.read_csv(target, dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            return None  # read_emails reports the file's trouble in its own words
    if not isinstance(frame, pd.DataFrame):
        return None
    column = workspace_column(frame)
    if column is None:
        return None
    where = frame[column]
    missing = [f"row {i}" for i, v in enumerate(where) if pd.isna(v) or not str(v).strip()]
    if missing:
        raise RequestValidationError(
            f"{len(missing)} row(s) name no workspace in the {column!r} column", missing
        )
    spelled: dict[str, str] = {}
    for value in sorted({str(v) for v in where}):
        match = [n for n in known if same_name(n, value)]
        if not match:
            raise RequestValidationError(
                f"the target names workspace {value!r}, not in this set: {list(known)}"
            )
        if match[0] not in chosen:
            raise RequestValidationError(
                f"the target has rows of workspace {match[0]!r}, left out by workspaces="
                f"{list(chosen)}: drop those rows, or name it too"
            )
        spelled[value] = match[0]
    named = where.astype(str).map(spelled)
    return {
        name: frame.loc[(named == name).to_numpy()].drop(columns=[column])
        for name in chosen
        if (named == name).any()
    }
