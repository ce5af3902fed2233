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
from helpers import shipped_notebooks

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = shipped_notebooks(NOTEBOOKS_DIR)  # git-tracked only: a scratch notebook is not checked
SAMPLE_SCRIPT = NOTEBOOKS_DIR / "data" / "make_sample.py"
SAMPLE_CSV = NOTEBOOKS_DIR / "data" / "sample_emails.csv"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def test_the_example_notebooks_are_there() -> None:
    assert [p.name[:3] for p in NOTEBOOKS] == [
        "01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_",
    ]  # fmt: skip


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


def test_only_git_tracked_notebooks_are_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scratch notebook (JupyterLab's File -> New lands in notebooks/) must not break the
    # README's test command: only what git tracks is run and checked.
    repo = tmp_path / "repo"
    folder = repo / "notebooks"
    folder.mkdir(parents=True)
    for path in NOTEBOOKS:
        (folder / path.name).write_bytes(path.read_bytes())
    # Git looks no higher than tmp_path, and reads no personal configuration.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True, timeout=60)
    subprocess.run([*git, "add", "notebooks"], cwd=repo, check=True, timeout=60)
    (folder / "Untitled.ipynb").write_text("{}")  # not valid nbformat, and not tracked
    (folder / "sub").mkdir()
    (folder / "sub" / "deeper.ipynb").write_text("{}")
    assert [p.name for p in shipped_notebooks(folder)] == [p.name for p in NOTEBOOKS]
    # Outside a git checkout (an unpacked sdist), every notebook of the folder counts.
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.ipynb").write_text("{}")
    assert shipped_notebooks(loose) == [loose / "a.ipynb"]
