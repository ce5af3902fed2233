"""Cheap structural guarantees: the public surface, sync/async parity, and the layers.

The layers (docs/architecture.md), bottom to top; a module may import its own layer and those
below, never above, and no two modules may import each other, however indirectly, counting
imports inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

from helpers import shipped_notebooks

import instantly_nb
from instantly_nb import errors
from instantly_nb.client import AsyncInstantly
from instantly_nb.sync_client import Instantly

PACKAGE = Path(instantly_nb.__file__).parent

LAYERS: list[set[str]] = [
    # pure values and decisions: no I/O
    {"_constants", "_clock", "models", "errors", "_budget", "_core", "_warmup", "_cover",
     "_candidates", "_confirm", "events", "records", "_analytics", "fleet_records"},
    {"emulator"},  # a fake workspace: knows the values, never the client
    {"client", "sync_client"},
    {"progress", "progress_text", "fleet_progress"},  # one model, as text here, widgets on top
    {"targets", "lookup", "frames", "health", "workspace_group", "fleet_frames", "workspaces",
     "_demo"},  # workspace reads
    {"journal", "results", "audit", "reconcile", "verify", "run", "fleet_run"},  # no planner
    {"plan_view", "plan", "planner", "undo", "fleet_view", "fleet_plan"},
    {"widgets"},
    {"__init__", "aio", "testing"},  # the doors users come in by
]  # fmt: skip
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _unit(path: Path) -> str:
    """A module's name in ``LAYERS``: subpackages count as one unit."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement stands."""
    found: set[str] = set()
    package = _module(path).split(".") if path.name == "__init__.py" else (
        _module(path).split(".")[:-1]
    )  # fmt: skip
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
            elif node.level > 0:
                base = package[: len(package) - node.level + 1]
                stem = [*base, *(node.module.split(".") if node.module else [])]
                if node.module:  # "from . import x" imports x, not the package itself
                    found.add(".".join(stem))
                found |= {".".join([*stem, a.name]) for a in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (names that are not modules are dropped)."""
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        graph[name] = {m for m in _imports(path) if m in paths and m != name}
        # A submodule import loads its package's __init__ too, but that is Python's doing,
        # not a dependency of the importer on its parents: only explicit imports count.
    return graph


def test_no_import_cycle_anywhere_lazy_imports_included() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_imports_point_down_only() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _unit(path)
        assert own in RANK, f"{path.relative_to(PACKAGE)} has no layer in LAYERS"
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "instantly_nb" or len(parts) == 1 or parts[1] == own:
                continue
            assert parts[1] in RANK, f"{module} has no layer"
            assert RANK[parts[1]] <= RANK[own], f"{path.relative_to(PACKAGE)} imports {module}"


def test_the_engine_never_imports_the_planner() -> None:
    for name in ("journal", "results", "audit", "reconcile", "verify", "run", "fleet_run"):
        imported = {m.split(".")[1] for m in _imports(PACKAGE / f"{name}.py") if "." in m}
        assert not imported & {"plan", "planner", "undo"}, name


def test_the_client_and_all_it_imports_stay_free_of_pandas() -> None:
    graph = _graph()
    seen, todo = set(), ["instantly_nb.client", "instantly_nb.sync_client"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    for module in sorted(seen):
        roots = {m.split(".")[0] for m in _imports(paths[module])}
        assert "pandas" not in roots, f"{module} imports pandas, and the client imports it"


def test_ipywidgets_only_in_widgets_and_httpx_only_below_the_reads() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit(path)
        roots = {m.split(".")[0] for m in _imports(path)}
        if unit != "widgets":
            assert "ipywidgets" not in roots, f"{unit} imports ipywidgets"
        if RANK[unit] > RANK["client"]:
            assert "httpx" not in roots, f"{unit} imports httpx (only the client talks HTTP)"


def test_importing_the_package_loads_neither_the_emulator_nor_ipywidgets() -> None:
    code = (
        "import sys, instantly_nb\n"
        "print(sorted(m for m in sys.modules if m.startswith(('instantly_nb.emulator',"
        " 'instantly_nb.widgets', 'ipywidgets'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_is_small_sorted_and_complete() -> None:
    names = instantly_nb.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    assert len(names) <= 24, "the top-level surface grows: does the name belong in a submodule?"
    for name in names:
        assert hasattr(instantly_nb, name), name
    public = {n for n in vars(instantly_nb) if not n.startswith("_") and n != "annotations"}
    modules = {n for n in public if inspect.ismodule(getattr(instantly_nb, n))}
    assert public - modules <= set(names), "exported without being in __all__"


def test_every_error_is_in_the_errors_module_under_instantly_error() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.InstantlyError)
        assert name in (errors.__doc__ or ""), f"{name} missing from the drawn tree"
        if name in instantly_nb.__all__:
            assert getattr(instantly_nb, name) is cls


def test_the_async_twins_have_the_blocking_signatures() -> None:
    from instantly_nb import aio

    for name in aio.__all__:
        if name in ("AsyncInstantly", "plan"):
            continue
        blocking, twin = getattr(instantly_nb, name), getattr(aio, name)
        assert inspect.iscoroutinefunction(twin), name
        assert inspect.signature(blocking) == inspect.signature(twin), name
        assert blocking.__doc__ == twin.__doc__, name


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_sync_and_async_clients_have_the_same_methods_and_signatures() -> None:
    sync, aio = _public_methods(Instantly), _public_methods(AsyncInstantly)
    aio["close"] = aio.pop("aclose")
    assert set(sync) == set(aio)
    for name, sig in sync.items():
        assert list(sig.parameters.values()) == list(aio[name].parameters.values()), name
    props = {n for n, m in inspect.getmembers(AsyncInstantly) if isinstance(m, property)}
    assert props == {n for n, m in inspect.getmembers(Instantly) if isinstance(m, property)}
    assert {"base_url", "name", "clock", "rate"} <= props


def test_blocking_methods_return_what_they_say() -> None:
    """``help(Instantly.list_jobs)`` must not promise an async generator."""
    for name, sig in _public_methods(Instantly).items():
        assert "Async" not in str(sig.return_annotation), name


def test_one_confirmation_threshold_in_the_api_the_panel_the_readme_and_the_notebooks() -> None:
    from instantly_nb._confirm import CONFIRM_ABOVE
    from instantly_nb.planner import aplan
    from instantly_nb.widgets import WarmupPanel

    assert inspect.signature(aplan).parameters["confirm_above"].default == CONFIRM_ABOVE
    assert inspect.signature(WarmupPanel).parameters["confirm_above"].default == CONFIRM_ABOVE
    root = PACKAGE.parent
    assert f"above {CONFIRM_ABOVE} changes" in (root / "README.md").read_text()
    for notebook in shipped_notebooks(root / "notebooks"):
        said = re.findall(r"CONFIRM_ABOVE = (\d+) if ON_DEMO", notebook.read_text())
        assert set(said) <= {str(CONFIRM_ABOVE)}, notebook.name
