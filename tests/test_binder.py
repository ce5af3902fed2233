"""The Binder configuration, read the way repo2docker reads it, and the README's launch links.

repo2docker's rules, as its source and docs state them (``BuildPack.binder_dir``,
``Repo2Docker.buildpacks``, ``PythonBuildPack``):

- configuration lives in ``binder/`` or ``.binder/`` (never both); when either exists, files at
  the repository root are ignored, ``pyproject.toml`` and ``setup.py`` included;
- the first buildpack in a fixed order whose files are present builds the image, so a
  ``Dockerfile``, Julia, Nix, R, ``environment.yml``, ``Pipfile`` or ``pyproject.toml`` in the
  configuration folder would take over from ``requirements.txt``;
- ``runtime.txt`` holding ``python-X.Y`` picks the Python version;
- ``requirements.txt`` is installed with pip; when a line refers to a local path (``-e .``),
  pip runs after the repository is copied in, from the repository root, so ``.`` is the project.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]

# Repo2Docker.buildpacks, in order, with the files each one detects in the configuration folder.
BUILDPACKS: list[tuple[str, tuple[str, ...]]] = [
    ("docker", ("Dockerfile",)),
    ("julia", ("Project.toml", "JuliaProject.toml", "REQUIRE")),
    ("nix", ("default.nix",)),
    ("r", ("install.R", "DESCRIPTION")),
    ("conda", ("environment.yml",)),
    ("pipfile", ("Pipfile", "Pipfile.lock")),
    ("pyproject", ("pyproject.toml",)),
    ("python", ("requirements.txt", "runtime.txt", "setup.py")),
]
# Files repo2docker reads that do not choose a buildpack.
COMPOSABLE = {"apt.txt", "postBuild", "start"}
NOTEBOOK_NEEDS = {"jupyterlab", "ipykernel", "ipywidgets", "matplotlib", "voila"}


def config_dir(repo: Path) -> Path:
    binder, dotbinder = repo / "binder", repo / ".binder"
    if binder.is_dir() and dotbinder.is_dir():
        raise AssertionError("repo2docker refuses a repository with both binder/ and .binder/")
    if dotbinder.is_dir():
        return dotbinder
    return binder if binder.is_dir() else repo


def buildpack(config: Path) -> str:
    for name, files in BUILDPACKS:
        if any((config / f).exists() for f in files):
            return name
    return "python"  # repo2docker's default buildpack


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def local_path(line: str) -> str | None:
    """The local path a requirement line installs (repo2docker's is_local_pip_requirement)."""
    for flag in ("--editable=", "--editable ", "-e "):
        if line.startswith(flag):
            line = line[len(flag) :].strip()
            break
    return line if line.startswith(".") else None


def project() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)["project"]
    return data


def installed(extras: set[str]) -> dict[str, Requirement]:
    """What ``pip install .[extras]`` asks for directly, the project's own extras expanded."""
    meta = project()
    name = canonicalize_name(meta["name"])
    optional: dict[str, list[str]] = meta.get("optional-dependencies", {})
    wanted = [Requirement(r) for r in meta["dependencies"]]
    todo, done = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in done:
            continue
        done.add(extra)
        assert extra in optional, f"pyproject.toml has no [{extra}] extra"
        for req in map(Requirement, optional[extra]):
            if canonicalize_name(req.name) == name:
                todo += req.extras
            else:
                wanted.append(req)
    return {canonicalize_name(req.name): req for req in wanted}


@pytest.fixture
def config() -> Path:
    return config_dir(REPO)


def test_configuration_lives_in_binder_folder(config: Path) -> None:
    assert config == REPO / "binder"
    unknown = (
        {p.name for p in config.iterdir()}
        - COMPOSABLE
        - {f for _, files in BUILDPACKS for f in files}
    )
    assert not unknown, f"binder/ holds files repo2docker does not read: {sorted(unknown)}"


def test_the_python_buildpack_builds_it(config: Path) -> None:
    assert buildpack(config) == "python"


def test_python_is_pinned_to_3_11(config: Path) -> None:
    runtime = (config / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    version = runtime.removeprefix("python-")
    assert SpecifierSet(str(project()["requires-python"])).contains(version)


def test_requirements_install_this_project_from_the_repository_root(config: Path) -> None:
    lines = requirement_lines(config / "requirements.txt")
    local = [p for p in map(local_path, lines) if p is not None]
    assert len(local) == 1, "exactly one line should install the project itself"
    path, _, extras = local[0].partition("[")
    # pip resolves the path from its working directory, the repository root, not from binder/.
    assert (REPO / path).resolve() == REPO
    assert (REPO / path / "pyproject.toml").is_file()
    assert canonicalize_name(project()["name"]) == "instantly-nb"
    assert extras.rstrip("]") == "notebooks"


def test_what_binder_installs(config: Path) -> None:
    extras: set[str] = set()
    others: dict[str, Requirement] = {}
    for line in requirement_lines(config / "requirements.txt"):
        path = local_path(line)
        if path is not None:
            extras |= {e.strip() for e in path.partition("[")[2].rstrip("]").split(",") if e}
        elif not line.startswith("-"):
            req = Requirement(line)
            others[canonicalize_name(req.name)] = req
    got = {**installed(extras), **others}
    runtime = {canonicalize_name(Requirement(r).name) for r in project()["dependencies"]}
    assert runtime <= set(got), "the project's runtime dependencies"
    missing = {canonicalize_name(n) for n in NOTEBOOK_NEEDS} - set(got)
    assert not missing, f"Binder would lack {sorted(missing)}"
    # ipywidgets 8 ships its JupyterLab extension prebuilt (jupyterlab_widgets): no lab build.
    assert not got["ipywidgets"].specifier.contains("7.8", prereleases=True)
    assert not got["jupyterlab"].specifier.contains("3.6", prereleases=True)


def test_postbuild_if_any_stops_on_errors(config: Path) -> None:
    # None is needed: requirements.txt installs everything and JupyterLab extensions come
    # prebuilt with their pip packages. repo2docker does not stop on a failing line by itself.
    post = config / "postBuild"
    assert not post.exists() or "set -e" in post.read_text()


# --- README launch links ---------------------------------------------------------------------

BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/[^\s)\"'>]+")


def binder_urlpaths() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    paths = []
    for url in BINDER_LINK.findall(readme):
        parts = urlsplit(url)
        assert re.fullmatch(r"/v2/gh/[^/]+/[^/]+/[^/]+", parts.path), url
        paths += [unquote(p) for p in parse_qs(parts.query).get("urlpath", [])]
    return paths


@pytest.mark.parametrize(
    ("urlpath", "notebook"),
    [
        ("lab/tree/notebooks/01_quickstart.ipynb", "notebooks/01_quickstart.ipynb"),
        ("voila/render/notebooks/06_panel_app.ipynb", "notebooks/06_panel_app.ipynb"),
    ],
    ids=["lab-quickstart", "voila-panel"],
)
def test_readme_links_launch_the_notebooks(urlpath: str, notebook: str) -> None:
    assert urlpath in binder_urlpaths()
    assert (REPO / notebook).is_file()


def repository() -> str:
    """``owner/name`` of the repository ``pyproject.toml`` names (``[project.urls]``)."""
    url = urlsplit(project()["urls"]["Repository"])
    assert (url.scheme, url.hostname) == ("https", "github.com"), "Binder builds from GitHub"
    name = url.path.strip("/").removesuffix(".git")
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", name), url.geturl()
    return name


def test_readme_binder_links_follow_the_repository_in_pyproject() -> None:
    # One place names the repository: pyproject.toml. INSTANTLY_NB_UPDATE_README=1 rewrites the
    # README's links from it (what a publisher runs after setting it); otherwise they must agree.
    name = repository()
    readme_path = REPO / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    links = BINDER_LINK.findall(readme)
    assert len(links) >= 2, "the README has a Lab badge and a Voila link"
    wrong = [link for link in links if not link.startswith(f"https://mybinder.org/v2/gh/{name}/")]
    if wrong and os.environ.get("INSTANTLY_NB_UPDATE_README") == "1":
        pattern = re.compile(r"(https://mybinder\.org/v2/gh/)[^/]+/[^/]+/")
        readme_path.write_text(pattern.sub(rf"\g<1>{name}/", readme), encoding="utf-8")
        return
    assert not wrong, (
        f"README Binder links do not point at {name} (pyproject.toml [project.urls] "
        f"Repository): {wrong}; run INSTANTLY_NB_UPDATE_README=1 pytest tests/test_binder.py"
    )
