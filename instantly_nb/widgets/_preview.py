"""The preview step: what a plan will do, every targeted account in a table, and the typed count.

A plan that needs confirmation (``instantly_nb._confirm``) shows a Confirm field; whatever is
typed there is answered at once: the count it expects, or that Submit is now enabled.
"""

from __future__ import annotations

import ipywidgets as w

from ..records import PlanRecord
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

    def show(self, plan: PlanRecord, need: int | None) -> None:
        """A plan to check before Submit; ``need`` is the count to type, if any."""
        self.need = need
        self.summary.value = plan_preview_html(plan, need)
        s = plan.summary
        heading = (
            f"<b>Targeted accounts ({s.targeted})</b> <small>· {s.change} will change · "
            "sort, search, copy or save them as CSV</small>"
        )
        if s.targeted:
            self.rows.show(preview_rows(plan), heading)
        else:
            self.rows.clear()
        self.confirm.value = ""
        self.confirm_note.clear()
        self.confirm_box.layout.display = "" if need is not None else "none"

    def typed_ok(self) -> bool:
        """Whether the count typed is the one needed (or none is needed)."""
        return self.need is None or self.confirm.value.strip() == str(self.need)

    def submitted(self, plan: PlanRecord) -> None:
        """The plan runs: one line, the preview folded under it; nothing left to confirm."""
        self.summary.value = submitted_html(plan)
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
