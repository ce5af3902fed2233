"""Tables an analyst can work with: a DataFrame as itables' ``ITable`` widget, every row in it.

``ITable`` (an anywidget around DataTables) sorts, searches, pages, selects rows and copies or
saves them as CSV, the same in JupyterLab, Notebook 7 and Voila, offline. itables downsamples a
frame above 64 KB to a sample of its rows by default (``maxBytes``); here every row is sent,
because a results table missing rows would hide failures and a pick list must list every account.

A selection is ``ITable.selected_rows``: positions in the frame shown, whatever the sort or the
search in the browser. ``Rows.selected()`` turns them back into rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as w
import pandas as pd
from itables.widget import ITable

__all__ = ["SELECTING", "TABLE_OPTIONS", "Rows", "plain_frame"]

TABLE_OPTIONS: dict[str, Any] = {
    "maxBytes": 0,  # no downsampling: every row is in the table
    "showIndex": False,
    "classes": "display nowrap compact",
    "style": "table-layout:auto;width:auto;margin:0;caption-side:bottom",
    "buttons": ["pageLength", "copyHtml5", "csvHtml5"],
    "lengthMenu": [10, 25, 100, 500],
    # Rows become DOM nodes when a page shows them: 5,000 rows draw as fast as one page.
    "deferRender": True,
    # A click on a column's name sorts by it (with True, the click selects the name's text).
    "text_in_header_can_be_selected": False,
}
# For a table whose selection means something (pick these, retry these): a click on a row
# selects it, shift-click a range, and "Select all" takes the rows the search shows.
SELECTING: dict[str, Any] = {
    **TABLE_OPTIONS,
    "select": {"style": "multi+shift"},
    "buttons": [
        "pageLength",
        {"extend": "selectAll", "selectorModifier": {"search": "applied"}},
        "selectNone",
        "copyHtml5",
        "csvHtml5",
    ],
}


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text, "" where missing: a table shows words, not ``<NA>``."""
    shown = frame.astype(object).where(frame.notna(), "")
    return shown.map(str).reset_index(drop=True)


class Rows(w.VBox):  # type: ignore[misc]
    """A heading and an interactive table of a frame, made by ``show`` and dropped by ``clear``.

    ``name`` gives the box the CSS class ``instantly-nb-<name>``; ``selecting`` lets a person
    select rows (``selected()``), for a table whose selection the panel acts on.

    Attributes
    ----------
    table : ITable or None
        The table widget; ``table.selected_rows`` is what the person selected.
    frame : DataFrame
        What the table shows: position ``i`` is ``table.selected_rows`` value ``i``.
    """

    def __init__(self, name: str, *, selecting: bool = False) -> None:
        self.heading = w.HTML()
        self.options = SELECTING if selecting else TABLE_OPTIONS
        self.table: ITable | None = None
        self.frame = pd.DataFrame()
        self._listeners: list[Callable[[], None]] = []
        super().__init__()
        self.children: tuple[w.Widget, ...] = (self.heading,)
        self.add_class(f"instantly-nb-{name}")  # where a page (or a browser test) finds it
        self.layout.display = "none"

    def show(self, frame: pd.DataFrame, heading: str = "", selected: Iterable[int] = ()) -> None:
        """Show ``frame`` (made ``plain_frame``) in a new table, these positions selected.

        Each ITable carries DataTables' code in its state (~0.7 MB): a table is made only when
        there are rows to show, and the one it replaces is closed.
        """
        shown = plain_frame(frame)
        self.frame = shown
        # A new table each time: the browser draws 5,000 new rows about twice as fast as it
        # redraws an ITable after update() (tests/browser, bench/RESULTS.md). Observed once
        # made, so the selection given here is not reported as a click.
        old = self.table
        self.table = ITable(shown, selected_rows=sorted(set(selected)), **self.options)
        self.table.observe(lambda _: self._changed(), "selected_rows")
        self.children = (self.heading, self.table)
        if old is not None:
            old.close()
        self.heading.value = heading
        self.layout.display = ""

    def clear(self) -> None:
        """Hide the table and drop it, rows and selection: nothing of it can be used any more."""
        self.layout.display = "none"
        self.heading.value = ""
        if self.table is not None:
            self.children = (self.heading,)
            self.table.close()
            self.table = None
        self.frame = self.frame.iloc[:0]

    def on_select(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the selection changes (a click in the browser)."""
        self._listeners.append(callback)

    @property
    def selected_rows(self) -> list[int]:
        if self.table is None:
            return []
        return [i for i in self.table.selected_rows if 0 <= i < len(self.frame)]

    def selected(self) -> pd.DataFrame:
        """The selected rows of ``frame``, in table order."""
        return self.frame.iloc[sorted(self.selected_rows)]

    @property
    def visible(self) -> bool:
        return bool(self.layout.display != "none")

    def _changed(self) -> None:
        for callback in self._listeners:
            callback()
