"""A line of words next to a control: what to do next, or what went wrong there, and nothing stale.

Each step of the panel has its own note beside the control that starts it, so an error stands
where it happened and is cleared when that step (or an earlier one) starts again.
"""

from __future__ import annotations

import html
import re
from typing import Literal

import ipywidgets as w

__all__ = ["TONES", "Note", "Tone"]

Tone = Literal["info", "ok", "warn", "error"]
TONES: dict[Tone, str] = {
    "info": "#1d4ed8",
    "ok": "#15803d",
    "warn": "#b45309",
    "error": "#b91c1c",
}


class Note(w.HTML):  # type: ignore[misc]
    """``say(text, tone)`` shows one message (lines kept); ``clear()`` empties it."""

    def __init__(self) -> None:
        super().__init__()
        self.tone: Tone | None = None

    def say(self, text: str, tone: Tone = "info") -> None:
        self.tone = tone
        self.value = (
            f"<span class='instantly-nb-note' style='color:{TONES[tone]};white-space:pre-line'>"
            f"{html.escape(text)}</span>"
        )

    def clear(self) -> None:
        self.tone = None
        self.value = ""

    @property
    def text(self) -> str:
        """The message as plain text ("" when clear)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.value))
