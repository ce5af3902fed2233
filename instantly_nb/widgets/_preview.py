"""The preview step: what a plan will do, every targeted account in a table, and the typed count.

A plan that needs confirmation (``instantly_nb._confirm``) shows a Confirm field; whatever is
typed there is answered at once: the count it expects, or that Submit is now enabled. A plan over
several workspaces is previewed per workspace, with one confirmation for the whole change; the
warmup health read for the health filters stands beside each account.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from ..fleet_records import FleetRecord
from ..records import PlanRecord
from ._fleet_views import fleet_preview_html
from ._health import with_health
from ._note import Note
from ._tables import Rows
from ._views import plan_preview_html, preview_rows, submitted_html

__all__ = ["PreviewBox"]


class PreviewBox(w.VBox):  # type: ignore[misc]
    """The plan's summary (``summary``), its rows (``rows``) and the Confirm field."""

    def __init__(self) -> None:
        self.summary = w.HTML()
        self.rows = Rows("preview-rows")
        self.confirm = w.Text(description="Confirm", placeholder="type the number of accounts")
        self.confirm_note = Note()
        self.confirm_box = w.HBox([self.confirm, self.confirm_note])
        self.confirm_box.layout.display = "none"
        self.need: int | None = None  # the count to type, when the plan shown needs one
        super().__init__([self.summary, self.rows, self.confirm_box])
        self.confirm.observe(lambda _: self._answer_typed(), "value")

    def show(
        self, plan: PlanRecord | FleetRecord, need: int | None, health: pd.DataFrame | None = None
    ) -> None:
        """A plan to check before Submit; ``need`` is the count to type, if any; ``health``
        (``read_warmup_health``'s frame) puts the health columns beside each account."""
        self.need = need
        self.summary.value = _preview_html(plan, need)
        s = plan.summary
        heading = (
            f"<b>Targeted accounts ({s.targeted})</b> <small>· {s.change} will change · "
            "sort, search, copy or save them as CSV</small>"
        )
        if s.targeted:
            self.rows.show(with_health(preview_rows(plan), health), heading)
        else:
            self.rows.clear()
        self.confirm.value = ""
        self.confirm_note.clear()
        self.confirm_box.layout.display = "" if need is not None else "none"

    def typed_ok(self) -> bool:
        """Whether the count typed is the one needed (or none is needed)."""
        return self.need is None or self.confirm.value.strip() == str(self.need)

    def submitted(self, plan: PlanRecord | FleetRecord) -> None:
        """The plan runs: one line, the preview folded under it; nothing left to confirm."""
        self.summary.value = submitted_html(plan, _preview_html(plan, None))
        self._no_plan()

    def withdraw(self, why: str) -> None:
        """The plan shown no longer holds (the choice changed): say why, show nothing of it."""
        self.summary.value = f"<p><i>{why}</i></p>"
        self._no_plan()

    def clear(self) -> None:
        self.summary.value = ""
        self._no_plan()

    def _no_plan(self) -> None:
        self.rows.clear()
        self.need = None
        self.confirm.value = ""
        self.confirm_note.clear()
        self.confirm_box.layout.display = "none"

    def _answer_typed(self) -> None:
        typed = self.confirm.value.strip()
        if self.need is None or not typed:
            self.confirm_note.clear()
        elif typed == str(self.need):
            self.confirm_note.say("Confirmed: Submit is enabled.", "ok")
        else:
            self.confirm_note.say(
                f"Type exactly {self.need}, the number of accounts that will change.", "error"
            )


def _preview_html(plan: PlanRecord | FleetRecord, need: int | None) -> str:
    if isinstance(plan, FleetRecord):
        return fleet_preview_html(plan, need)
    return plan_preview_html(plan, need)
