"""Shared test helpers: a demo workspace in virtual time."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from instantly_nb._demo import DemoInstantly, demo
from instantly_nb.journal import Journal
from instantly_nb.testing import VirtualClock


def shipped_notebooks(folder: Path) -> list[Path]:
    """The notebooks of ``folder`` that git tracks, sorted; every ``*.ipynb`` there when the
    folder is not in a git checkout (an unpacked sdist, a copy).

    A scratch notebook made with File -> New in JupyterLab is not tracked: the tests that run
    or check the shipped notebooks must not pick it up.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", "*.ipynb"],
            cwd=folder, capture_output=True, check=True, text=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return sorted(folder.glob("*.ipynb"))
    names = [name for name in listed.stdout.split("\0") if name and "/" not in name]
    return sorted(folder / name for name in names if (folder / name).is_file())


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


def assert_results_match_the_workspace(client: DemoInstantly, results: pd.DataFrame) -> None:
    """Every row's verified ``after`` is the account's warmup status in the emulator now."""
    now = states(client)
    for row in results.itertuples():
        if row.outcome != "not_found":
            assert now[str(row.email)] == row.after, row


def model_refs(value: Any) -> Iterator[str]:
    """The model ids a widget's synced state refers to (``"IPY_MODEL_<id>"``), at any depth."""
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        yield value[len("IPY_MODEL_") :]
    elif isinstance(value, list | tuple):
        for item in value:
            yield from model_refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from model_refs(item)


class Crash(Exception):
    """Stands for the kernel dying at a chosen step."""


class CrashingJournal(Journal):
    """A journal that raises ``Crash`` on the ``nth`` append of ``kind``, before writing it."""

    def __init__(self, path: Path | str, kind: str, nth: int) -> None:
        super().__init__(path)
        self.kind, self.left = kind, nth

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        if kind == self.kind:
            self.left -= 1
            if self.left == 0:
                raise Crash(kind)
        return super().append(kind, **fields)
