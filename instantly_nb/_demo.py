"""``demo()``: a client bound to an emulated workspace, for Binder, notebooks and CI.

No key, no network: requests go to an in-process emulator through its httpx transport. Jobs take
visible but short time so progress bars have something to show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._clock import Clock
from .sync_client import Instantly

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["DemoInstantly", "demo"]

DEMO_BASE_URL = "https://demo.instantly.invalid"


class DemoInstantly(Instantly):
    """An ``Instantly`` client whose workspace is an in-process ``Emulator`` (``.emulator``)."""

    emulator: Emulator


def demo(
    accounts: int = 500,
    seed: int = 0,
    speed: float = 1.0,
    *,
    clock: Clock | None = None,
    **emulator_options: Any,
) -> DemoInstantly:
    """A client for a freshly generated emulated workspace.

    Parameters
    ----------
    accounts : int
        How many sending accounts the workspace has.
    seed : int
        Same seed, same workspace.
    speed : float
        Job speed: 1.0 takes about 0.4 s to start a job and 10 ms per account; 10 is ten
        times faster.
    clock : Clock, optional
        A ``VirtualClock`` makes the whole run instant (tests).
    **emulator_options
        Passed to ``Emulator`` (``warmup_lock``, ``rate_limit``, ``retry_after``...).

    Examples
    --------
    >>> client = instantly_nb.demo()
    >>> instantly_nb.read_accounts(client, filter="ACC_FILTER_W_ERROR").shape
    """
    # Here, not at the top: ``import instantly_nb`` must not load the emulator for real users.
    from .emulator import Emulator, JobTiming

    if speed <= 0:
        raise ValueError("speed must be positive")
    # Whether Instantly can pause warmup on a banned or suspended account is unknown
    # (docs/instantly-api.md §5.6, guessed); the demo lets it, so "disable every account whose
    # warmup has errors" -- the main use case -- shows its happy path. "fail" shows the other.
    emulator_options.setdefault("negative_warmup", "change")
    emulator_options.setdefault(
        "timing", JobTiming(queue_delay=0.4 / speed, per_account=0.01 / speed)
    )
    emulator = Emulator(accounts, seed, clock=clock, **emulator_options)
    client = DemoInstantly(
        emulator.api_key,
        base_url=DEMO_BASE_URL,
        transport=emulator.transport(),
        clock=emulator.clock,
        name=f"Demo workspace (emulated, {accounts} accounts)",
    )
    client.emulator = emulator
    return client
