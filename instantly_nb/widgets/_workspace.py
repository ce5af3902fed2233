"""Which workspace the panel acts on, always in sight, and the API key's way in.

The key is typed into a ``Password`` field, read once to build the client and cleared at once:
ipywidgets syncs a Password's value like any text, and a notebook saves widget state, so a key
left in the field would be saved with the notebook.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

import ipywidgets as w

from .._demo import DemoInstantly
from ..errors import RequestValidationError
from ..sync_client import Client, Instantly
from ._note import Note

__all__ = ["KEY_NOTE", "KeyBox", "workspace_html"]

KEY_NOTE = (
    "The key builds the client and is then cleared from this field: it is never kept in a "
    "widget, so it is not saved with the notebook."
)


def workspace_html(client: Client, name: str | None) -> str:
    """A banner naming the workspace (``name`` from the API when known) and where it lives."""
    host = urlsplit(client.base_url).hostname or client.base_url
    if isinstance(client, DemoInstantly):
        shown = f"<b>{html.escape(client.name)}</b>"
        where = (
            "<span style='background:#b45309;color:white;padding:0 4px'>DEMO</span> "
            "<small>emulated in this kernel: nothing real is changed</small>"
        )
    else:
        shown = f"<b>{html.escape(name or client.name)}</b>"
        where = f"<small>{html.escape(host)}</small>"
    return (
        "<div style='padding:4px 8px;background:#f1f5f9;border-left:4px solid #1d4ed8'>"
        f"Workspace: {shown} {where}</div>"
    )


class KeyBox(w.VBox):  # type: ignore[misc]
    """A password field, a Connect button, what went wrong with the key (``note``), and what
    happens to the key."""

    def __init__(self) -> None:
        self.key = w.Password(description="API key", placeholder="Instantly API v2 key")
        self.connect_button = w.Button(description="Connect", icon="plug")
        self.note = Note()
        super().__init__(
            [w.HBox([self.key, self.connect_button, self.note]),
             w.HTML(f"<small>{KEY_NOTE}</small>")]
        )  # fmt: skip

    def build_client(self, options: dict[str, Any]) -> Instantly:
        """An ``Instantly`` client from the typed key; the field is empty afterwards."""
        key = self.key.value.strip()
        # Cleared before anything can fail, so no path leaves the key in the widget state.
        self.key.value = ""
        if not key:
            raise RequestValidationError("Type the workspace's API key first")
        return Instantly(api_key=key, **options)
