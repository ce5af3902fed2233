"""``demo()``: a client bound to an emulated workspace, for Binder, notebooks and CI.

No key, no network: requests go to an in-process emulator through its httpx transport. Jobs take
visible but short time so progress bars have something to show. ``demo(workspaces=...)`` is an
agency instead: ``Workspaces`` reached through one admin key, each an emulated workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

from ._clock import Clock
from .sync_client import Instantly
from .workspaces import Workspaces

if TYPE_CHECKING:
    from .emulator import Emulator, WorkspaceGroup

__all__ = ["DemoInstantly", "DemoWorkspaces", "demo"]

DEMO_BASE_URL = "https://demo.instantly.invalid"


class DemoInstantly(Instantly):
    """An ``Instantly`` client whose workspace is an in-process ``Emulator`` (``.emulator``)."""

    emulator: Emulator


class DemoWorkspaces(Workspaces):
    """``Workspaces`` whose workspaces are an in-process ``WorkspaceGroup`` (``.group``)."""

    group: WorkspaceGroup


@overload
def demo(
    accounts: int = ...,
    seed: int = ...,
    speed: float = ...,
    *,
    clock: Clock | None = ...,
    workspaces: None = ...,
    **emulator_options: Any,
) -> DemoInstantly: ...


@overload
def demo(
    accounts: int | Sequence[int] = ...,
    seed: int = ...,
    speed: float = ...,
    *,
    clock: Clock | None = ...,
    workspaces: int | Sequence[str],
    **emulator_options: Any,
) -> DemoWorkspaces: ...


def demo(
    accounts: int | Sequence[int] = 500,
    seed: int = 0,
    speed: float = 1.0,
    *,
    clock: Clock | None = None,
    workspaces: int | Sequence[str] | None = None,
    **emulator_options: Any,
) -> DemoInstantly | DemoWorkspaces:
    """A client for a freshly generated emulated workspace, or ``Workspaces`` for several.

    Parameters
    ----------
    accounts : int
        How many sending accounts the workspace has (with ``workspaces``: each of them, or a
        list, one number per workspace).
    seed : int
        Same seed, same workspace.
    speed : float
        Job speed: 1.0 takes about 0.4 s to start a job and 10 ms per account; 10 is ten
        times faster.
    clock : Clock, optional
        A ``VirtualClock`` makes the whole run instant (tests); with several workspaces at
        once, a ``ConcurrentClock`` keeps their waits overlapping as in real time.
    workspaces : int or list of str, optional
        An agency of that many client workspaces (or so named), reached through one admin key
        as ``Workspaces.from_admin_key`` reaches them (docs/instantly-api.md §12). Returns
        ``DemoWorkspaces``; ``.group`` is the emulated ``WorkspaceGroup``.
    **emulator_options
        Passed to ``Emulator`` (``warmup_lock``, ``rate_limit``, ``retry_after``...), or to
        ``WorkspaceGroup`` (also ``delegated_rate``, ``admin_accounts``).

    Examples
    --------
    >>> client = instantly_nb.demo()
    >>> instantly_nb.read_accounts(client, filter="ACC_FILTER_W_ERROR").shape
    >>> fleet = instantly_nb.demo(workspaces=["Acme", "Globex"], accounts=300)
    """
    # Here, not at the top: ``import instantly_nb`` must not load the emulator for real users.
    from .emulator import Emulator, JobTiming, WorkspaceGroup

    if speed <= 0:
        raise ValueError("speed must be positive")
    # Whether Instantly can pause warmup on a banned or suspended account is unknown
    # (docs/instantly-api.md §5.6, guessed); the demo lets it, so "disable every account whose
    # warmup has errors" -- the main use case -- shows its happy path. "fail" shows the other.
    emulator_options.setdefault("negative_warmup", "change")
    emulator_options.setdefault(
        "timing", JobTiming(queue_delay=0.4 / speed, per_account=0.01 / speed)
    )
    if workspaces is not None:
        group = WorkspaceGroup(workspaces, accounts, seed, clock=clock, **emulator_options)
        fleet = DemoWorkspaces.from_admin_key(
            group.api_key, base_url=DEMO_BASE_URL, transport=group.transport(), clock=group.clock
        )
        assert isinstance(fleet, DemoWorkspaces)
        fleet.group = group
        return fleet
    if not isinstance(accounts, int):
        raise ValueError("accounts: one number for one workspace (a list needs workspaces=)")
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
