"""Shared test helpers: a demo workspace in virtual time."""

from __future__ import annotations

from typing import Any

from instantly_nb import VirtualClock
from instantly_nb._demo import DemoInstantly, demo


def workspace(accounts: int = 1200, seed: int = 7, **options: Any) -> DemoInstantly:
    """A demo client in virtual time: jobs "take" seconds but tests do not wait for them."""
    return demo(accounts, seed, clock=VirtualClock(), **options)


def posts(client: DemoInstantly) -> list[Any]:
    """The warmup POSTs the emulator received (answered or not)."""
    return [r for r in client.emulator.log if r.method == "POST" and "/warmup/" in r.path]


def warmup_jobs(client: DemoInstantly) -> list[dict[str, Any]]:
    return client.emulator.jobs(type="update-warmup-accounts")


def states(client: DemoInstantly) -> dict[str, int]:
    return {a["email"]: a["warmup_status"] for a in client.emulator.accounts()}
