"""One job's line in ``JobProgress``: bar, status, counts and timing, and what colours mean.

Colours carry meaning and nothing else: blue running, green success, red failed or cancelled
(kept red while the run goes on), orange for what needs a look (paused, draining, a status
Instantly added after this was written, a success with failed accounts).
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..progress import JobState, Tone, clock_text

__all__ = ["BAR_STYLES", "COLOURS", "JobRow"]

BAR_STYLES: dict[Tone, str] = {
    "idle": "",
    "running": "info",
    "success": "success",
    "partial": "warning",
    "failed": "danger",
    "attention": "warning",
}
COLOURS: dict[Tone, str] = {
    "idle": "#555",
    "running": "#1d4ed8",
    "success": "#15803d",
    "partial": "#b45309",
    "failed": "#b91c1c",
    "attention": "#b45309",
}


class JobRow(w.HBox):  # type: ignore[misc]
    """One job: its bar, its status (raw name for unknown ones), counts and timing."""

    def __init__(self) -> None:
        self.bar = w.FloatProgress(value=0, min=0, max=100, style={"description_width": "90px"})
        self.status = w.HTML()
        self.counts = w.HTML()
        super().__init__([self.bar, self.status, self.counts])

    def parts(self) -> list[w.Widget]:
        return [self, self.bar, self.status, self.counts]

    def show(self, row: JobState, now: float) -> None:
        tone = row.tone
        self.bar.description = row.title
        self.bar.value = round(row.percent, 1)
        self.bar.bar_style = BAR_STYLES[tone]
        # An unknown status's label carries its raw name: "Unknown (verifying)".
        label = row.label
        note = f" - {html.escape(row.note)}" if row.note else ""
        self.status.value = (
            f"<span style='color:{COLOURS[tone]}'><b>{html.escape(label)}</b>{note}</span>"
        )
        parts = []
        if row.processed is not None:
            total = "?" if row.total is None else row.total
            bad = row.failed or 0
            failed = f"<span style='color:{COLOURS['failed']}'>{bad} failed</span>" if bad else (
                "0 failed"
            )  # fmt: skip
            parts.append(f"{row.processed}/{total} processed, {row.succeeded or 0} ok, {failed}")
        parts.append(f"{clock_text(row.elapsed(now))} elapsed")
        eta = row.eta(now)
        if eta is not None:
            parts.append(f"ETA {clock_text(eta)}")
        self.counts.value = "<small>" + " · ".join(parts) + "</small>"
