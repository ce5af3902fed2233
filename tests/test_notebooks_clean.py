"""The committed notebooks are clean: no outputs, valid nbformat 4, one ``parameters`` cell each.

Notebooks are committed without outputs (so no saved output can ever hold a key, and diffs stay
readable); ``test_notebooks.py`` runs them. The sample CSV that notebook 2 reads is checked to be
exactly what ``notebooks/data/make_sample.py`` writes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
SAMPLE_SCRIPT = NOTEBOOKS_DIR / "data" / "make_sample.py"
SAMPLE_CSV = NOTEBOOKS_DIR / "data" / "sample_emails.csv"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def test_the_six_notebooks_are_there() -> None:
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_valid_nbformat_4(path: Path) -> None:
    notebook = _read(path)
    assert notebook.nbformat == 4
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = _read(path)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} have outputs or execution counts: clear them before commit"
    assert "widgets" not in notebook.metadata, "saved widget state: clear it before commit"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_one_parameters_cell(path: Path) -> None:
    tagged = [c for c in _read(path).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert tagged[0].cell_type == "code"
    assert "KEY_SOURCE" in tagged[0].source


def test_sample_csv_is_what_make_sample_writes(tmp_path: Path) -> None:
    fresh = tmp_path / "sample_emails.csv"
    subprocess.run(
        [sys.executable, str(SAMPLE_SCRIPT), "--out", str(fresh)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert fresh.read_bytes() == SAMPLE_CSV.read_bytes(), (
        "notebooks/data/sample_emails.csv is stale: run python notebooks/data/make_sample.py"
    )
