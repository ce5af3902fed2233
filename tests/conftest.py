"""Hermetic tests: no API key from the environment leaks in, and logs are captured at DEBUG."""

from __future__ import annotations

import asyncio
import logging
import pathlib
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    logging.getLogger("instantly_nb").setLevel(logging.DEBUG)


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journals land in the working directory by default: keep each test's apart."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _close_the_loop_a_patched_asyncio_run_left() -> Iterator[None]:
    """Close the event loop ``asyncio.run`` leaves behind once nest_asyncio2 has patched it.

    The blocking client applies nest_asyncio2 when it is called under a running loop (as in
    Jupyter, and in the tests that play a notebook cell). On Python 3.11 the patched
    ``asyncio.run`` keeps its loop open and set as the thread's loop; the next
    ``asyncio.Runner`` or jupyter_client replaces it, and the loop is collected unclosed during
    some later test, failing it with a ResourceWarning. The policy's ``_local`` is private,
    hence the care: nothing is touched unless it is there.
    """
    yield
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    loop = getattr(local, "_loop", None)
    if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_running():
        if not loop.is_closed():
            loop.close()
        asyncio.set_event_loop(None)
