"""Which accounts: a server-side selection (filter, tag, search) or a list of emails.

The two ways are exclusive on purpose (a toggle): a pasted list narrowed by a filter would
silently target fewer accounts than the list. Emails are pasted, uploaded as CSV, or picked by
selecting rows of the account table, which is loaded only on request (a workspace can hold
thousands); its search box narrows it, and a selection survives the narrowing. Over several
workspaces, the table has a ``workspace`` column and picked rows carry their workspace; tags are
chosen by label, which each chosen workspace must have.
"""

from __future__ import annotations

import html
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w
import pandas as pd

from ..errors import RequestValidationError
from ..fleet_frames import WORKSPACE_COLUMN
from ..models import AccountFilter, WarmupStatus
from ..targets import Selection, Target, read_emails
from ._note import Note
from ._tables import Rows

__all__ = ["NONE", "UNSET", "TargetPicker", "split_emails"]

NONE = "(none)"
# The "(none)" choice's value: with None, ipywidgets shows an empty, unselected dropdown.
UNSET = ""
# Warmup filters first: this is a warmup tool.
FILTER_ORDER = (
    AccountFilter.W_ERROR, AccountFilter.W_ACTIVE, AccountFilter.W_PAUSED, AccountFilter.ERROR,
    AccountFilter.PAUSED, AccountFilter.NO_CTD, AccountFilter.PW_ACCOUNTS, AccountFilter.DFY,
    AccountFilter.DFY_SETUP_PENDING,
)  # fmt: skip
_HEADERS = {"email", "emails", "email_address", "e-mail"}
_WIDE = {"description_width": "110px"}
PICKS_LISTED = 10  # picked emails named in the note; the rest are counted


def split_emails(text: str) -> list[str]:
    """Emails from pasted text: one per line, or separated by commas, semicolons or spaces.

    A pasted header (``email``) is dropped; anything else, malformed or not, is kept so that
    ``read_emails`` reports it instead of it vanishing.
    """
    return [t for t in re.split(r"[\s,;]+", text) if t and t.strip().lower() not in _HEADERS]


class TargetPicker(w.VBox):  # type: ignore[misc]
    """The target and the exclusions of a plan, as widgets; ``target()`` reads them."""

    def __init__(self) -> None:
        self.kind = w.ToggleButtons(
            options=[("Accounts matching", "selection"), ("These emails", "emails")],
            value="selection",
            description="Target",
            style=_WIDE,
        )
        self.filter = w.Dropdown(
            options=[(NONE, UNSET), *((f.label, f.value) for f in FILTER_ORDER)],
            value=UNSET,
            description="Filter",
            style=_WIDE,
        )
        self.tag = w.Dropdown(options=[(NONE, UNSET)], value=UNSET, description="Tag", style=_WIDE)
        self.tag_note = Note()  # a tag some chosen workspace lacks (several workspaces)
        self.search = w.Text(
            description="Search", placeholder="e.g. a domain: acme.com", style=_WIDE
        )
        self.everything = w.Checkbox(
            description="Every account of the workspace (needs the count typed to submit)",
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.emails = w.Textarea(
            description="Emails",
            placeholder="one per line, or separated by commas",
            style=_WIDE,
            layout=w.Layout(width="60%", height="90px"),
        )
        self.upload = w.FileUpload(accept=".csv,.txt", multiple=False, description="CSV")
        self.upload_note = Note()
        self.load_button = w.Button(description="Load accounts", icon="list")
        self.load_note = Note()
        self.load_note.say("then select rows to pick them (search the table to narrow it)")
        self.pick = Rows("pick-rows", selecting=True)
        self.pick_note = w.HTML()
        self.exclude = w.Textarea(
            description="Exclude",
            placeholder="emails to leave alone, one per line",
            style=_WIDE,
            layout=w.Layout(width="60%", height="60px"),
        )
        self.selection_box = w.VBox(
            [self.filter, w.HBox([self.tag, self.tag_note]), self.search, self.everything]
        )
        self.emails_box = w.VBox(
            [self.emails, w.HBox([self.upload, self.upload_note]),
             w.HBox([self.load_button, self.load_note]), self.pick, self.pick_note]
        )  # fmt: skip
        super().__init__([self.kind, self.selection_box, self.emails_box, self.exclude])
        self.uploaded: list[str] = []
        self.upload_name = ""
        self.picked: list[str] = []  # emails of the rows selected in the account table
        self.picked_keys: list[str] = []  # the same rows as "<workspace> <email>", lower case
        self._changed: Callable[[], None] | None = None
        self.kind.observe(lambda _: self._show_kind(), "value")
        self.tag.observe(lambda _: self.tag_note.clear(), "value")
        self.pick.on_select(self._picks_changed)
        self._show_kind()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the target or the exclusions change."""
        for widget in (self.kind, self.filter, self.tag, self.search, self.everything,
                       self.emails, self.exclude):  # fmt: skip
            widget.observe(lambda _: callback(), "value")
        self._changed = callback

    # --- loading choices -------------------------------------------------------------------

    def set_tags(self, tags: pd.DataFrame) -> None:
        """Tag choices from ``read_tags``: label shown, id used (labels may repeat).

        From several workspaces (a ``workspace`` column) the label is used: ids differ from one
        workspace to the next, and the planner finds the tag by its label in each.
        """
        if WORKSPACE_COLUMN in tags.columns:
            labels = dict.fromkeys(str(label) for label in tags["label"])
            options = [(NONE, UNSET)] + [(label, label) for label in labels]
        else:
            options = [(NONE, UNSET)] + [
                (str(label), str(tag_id))
                for tag_id, label in zip(tags["id"], tags["label"], strict=True)
            ]
        keep = self.tag.value if self.tag.value in {v for _, v in options} else UNSET
        self.tag.options = options
        self.tag.value = keep

    def set_accounts(
        self, accounts: pd.DataFrame, add: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    ) -> None:
        """The account table from ``read_accounts``: email, warmup, status and tags (and the
        workspace first, from several workspaces). ``add`` puts more columns beside them (the
        warmup health).

        Rows picked before stay picked if the new list still holds them.
        """
        frame = pd.DataFrame(
            {
                "email": accounts["email"],
                "warmup": accounts["warmup_label"],
                "status": accounts["status_label"],
                "tags": [", ".join(t) if isinstance(t, list) else "" for t in accounts["tags"]],
            }
        )
        if WORKSPACE_COLUMN in accounts.columns:
            frame.insert(0, WORKSPACE_COLUMN, accounts[WORKSPACE_COLUMN])
        self._show_accounts(add(frame) if add is not None else frame)

    def refresh_warmup(self, results: pd.DataFrame) -> None:
        """Put the warmup states a run read back into the account table (verified, not guessed)."""
        if not self.pick.visible or not len(self.pick.frame):
            return
        read = results.dropna(subset=["after"])
        now = {
            key: WarmupStatus(int(a)).label
            for key, a in zip(_keys(read), read["after"], strict=True)
        }
        frame = self.pick.frame.copy()
        frame["warmup"] = [
            now.get(k, old) for k, old in zip(_keys(frame), frame["warmup"], strict=True)
        ]
        self._show_accounts(frame)

    def _show_accounts(self, frame: pd.DataFrame) -> None:
        picked = set(self.picked_keys)
        keep = [i for i, key in enumerate(_keys(frame)) if key in picked]
        self.pick.show(frame, f"<small>{len(frame)} accounts</small>", selected=keep)
        self._picks_changed()
        self._note_picks()

    def read_upload(self) -> None:
        """Parse the uploaded CSV (an ``email`` column, or one bare column of addresses)."""
        files = self.upload.value
        if not files:
            return
        name, content = str(files[0]["name"]), bytes(files[0]["content"])
        # Dropped from the widget at once, readable or not: widget state is saved with the
        # notebook, and the list is kept below as plain emails.
        self.upload.value = ()
        self.uploaded, self.upload_name = [], name
        self.upload_note.clear()
        try:
            with tempfile.TemporaryDirectory() as folder:
                # read_emails reads CSV paths the same way plan_disable("file.csv") does.
                path = Path(folder) / "upload.csv"
                path.write_bytes(content)
                emails = read_emails(path)
        finally:
            if self._changed is not None:
                self._changed()  # the list from an earlier upload is gone either way
        self.uploaded = emails
        self.upload_note.say(f"{len(emails)} email(s) from {name}", "info")

    # --- reading the choice ----------------------------------------------------------------

    def target(self) -> Target:
        """What to plan for: a ``Selection`` or a list of emails; explains what is missing."""
        if self.kind.value == "selection":
            if self.everything.value:
                if self.filter.value or self.tag.value or self.search.value.strip():
                    raise RequestValidationError(
                        "'Every account' takes no filter, tag or search: untick it or clear them"
                    )
                return Selection.all_accounts()
            if not (self.filter.value or self.tag.value or self.search.value.strip()):
                raise RequestValidationError(
                    "Nothing is chosen yet: choose a filter, a tag or a search (or tick 'Every "
                    "account of the workspace'), then Preview"
                )
            return Selection(
                filter=self.filter.value or None,
                tag=self.tag.value or None,
                search=self.search.value.strip() or None,
            )
        typed = [*split_emails(self.emails.value), *self.uploaded]
        rows = self.pick.selected()
        if WORKSPACE_COLUMN in rows.columns and len(rows):
            # Picked rows say where each account is; pasted emails do not.
            if typed:
                raise RequestValidationError(
                    "Picked rows carry their workspace, pasted or uploaded emails do not: with "
                    "several workspaces, pick rows or give emails, not both"
                )
            return rows[[WORKSPACE_COLUMN, "email"]].reset_index(drop=True)
        given = [*typed, *self.picked]
        if not given:
            raise RequestValidationError(
                "No email is chosen yet: paste emails, upload a CSV, or load the accounts and "
                "select rows, then Preview"
            )
        return read_emails(given)

    def describe(self, target: Target) -> str:
        """``target`` (from ``target()``) in words, its tag by label."""
        if isinstance(target, Selection):
            return target.describe(self.tag.label if target.tag else None)
        count = len(target) if isinstance(target, list | pd.DataFrame) else 0
        return f"{count} email(s)"

    def excluded(self) -> list[str] | None:
        given = split_emails(self.exclude.value)
        return read_emails(given) if given else None

    # --- view ------------------------------------------------------------------------------

    def _show_kind(self) -> None:
        emails = self.kind.value == "emails"
        self.selection_box.layout.display = "none" if emails else ""
        self.emails_box.layout.display = "" if emails else "none"

    def _picks_changed(self) -> None:
        rows = self.pick.selected()
        picked, keys = [str(e) for e in rows["email"]], _keys(rows)
        if keys == self.picked_keys:
            return
        self.picked, self.picked_keys = picked, keys
        self._note_picks()
        if self._changed is not None:
            self._changed()

    def _note_picks(self) -> None:
        """The picks by name (the first few), so what Preview will target is in sight."""
        n = len(self.picked)
        if not n:
            self.pick_note.value = "<small>0 picked: select rows of the table</small>"
            return
        named = ", ".join(html.escape(e) for e in self.picked[:PICKS_LISTED])
        more = f" and {n - PICKS_LISTED} more" if n > PICKS_LISTED else ""
        self.pick_note.value = f"<small><b>{n} picked</b>: {named}{more}</small>"


def _keys(frame: pd.DataFrame) -> list[str]:
    """Each row's account: its email, after its workspace when the frame names one."""
    if "email" not in frame.columns:
        return []
    emails = frame["email"].astype(str).str.lower()
    if WORKSPACE_COLUMN not in frame.columns:
        return list(emails)
    return [f"{w} {e}" for w, e in zip(frame[WORKSPACE_COLUMN].astype(str), emails, strict=True)]
