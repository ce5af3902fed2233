"""Fixtures for the emulator tests: a virtual clock, a small workspace, a client bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emu_support import AUTH, BASE_URL, KEY

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator, JobTiming


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_780_000_000.0)


@pytest.fixture
def emu(clock: VirtualClock) -> Emulator:
    return Emulator(
        accounts=120,
        seed=7,
        api_key=KEY,
        clock=clock,
        timing=JobTiming(queue_delay=0.5, per_account=0.1),
    )


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=AUTH) as http:
        yield http
