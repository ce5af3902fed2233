"""Hermetic tests: no API key from the environment leaks in, and logs are captured at DEBUG."""

from __future__ import annotations

import logging
import pathlib

import pytest


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    logging.getLogger("instantly_nb").setLevel(logging.DEBUG)


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journals land in the working directory by default: keep each test's apart."""
    monkeypatch.chdir(tmp_path)
