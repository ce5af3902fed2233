"""Helpers shared by the emulator tests: the OpenAPI document and a full cursor walk."""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx

BASE_URL = "https://api.instantly.ai"
KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}

# Instantly's official OpenAPI document of 2026-08-21, vendored (tests/data/README.md).
_SPEC = Path(__file__).resolve().parents[1] / "data" / "openapi-v2-2026-08-21.json.gz"
_SPEC_SHA256 = "65376918306f1208b446b8c11b39fb550998adda7d7609c00437b4b740353804"


@cache
def openapi() -> dict[str, Any]:
    raw = gzip.decompress(_SPEC.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == _SPEC_SHA256, "the vendored OpenAPI document changed"
    document: dict[str, Any] = json.loads(raw)
    return document


def list_all(client: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a cursor-paginated listing, and how many pages it took (the empty one too)."""
    items: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        query = dict(params)
        if cursor is not None:
            query["starting_after"] = cursor
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        if not page["items"]:
            assert "next_starting_after" not in page
            return items, pages
        items.extend(page["items"])
        cursor = page["next_starting_after"]
