"""Listing emulated accounts page by page, in process: is it linear in the workspace size?

    python bench/emulator_list.py            # 10,000 (baseline) and 100,000 accounts
    python bench/emulator_list.py 2000 20000

Each run generates a workspace, then walks ``GET /api/v2/accounts?limit=100`` through
``httpx.Client(transport=emu.transport())`` until the empty page, and prints pages per second.
Linear listing means pages/s stays about the same as the workspace grows.
"""

from __future__ import annotations

import sys
import time

import httpx

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator


def run(accounts: int) -> tuple[float, float, int, float]:
    """(generation s, listing s, pages, pages/s) for a workspace of ``accounts``."""
    start = time.perf_counter()
    emu = Emulator(accounts, seed=0, clock=VirtualClock(), rate_limit=None)
    generated = time.perf_counter() - start
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    pages = 0
    seen = 0
    with httpx.Client(
        base_url="https://api.instantly.ai", transport=emu.transport(), headers=headers
    ) as client:
        params: dict[str, str | int] = {"limit": 100}
        start = time.perf_counter()
        while True:
            page = client.get("/api/v2/accounts", params=params).json()
            pages += 1
            if not page["items"]:
                break
            seen += len(page["items"])
            params["starting_after"] = page["next_starting_after"]
        listed = time.perf_counter() - start
    assert seen == accounts, (seen, accounts)
    return generated, listed, pages, pages / listed


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    columns = ("accounts", "generate s", "list s", "pages", "pages/s", "us/account")
    print(" ".join(f"{c:>11}" for c in columns))
    for size in sizes:
        generated, listed, pages, rate = run(size)
        per_account = listed / size * 1e6
        row = (f"{size:,}", f"{generated:.2f}", f"{listed:.2f}", pages, f"{rate:.0f}")
        print(" ".join(f"{v:>11}" for v in row), f"{per_account:>11.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
