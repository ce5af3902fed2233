"""Cheap structural guarantees: the public surface, sync/async parity, and the layers."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import instantly_nb
from instantly_nb import _errors
from instantly_nb.client import AsyncInstantly
from instantly_nb.sync_client import Instantly

PACKAGE = Path(instantly_nb.__file__).parent

# DESIGN.md "Layers": a module may import only modules of a lower rank.
RANKS = {
    "_constants": 0, "_clock": 0, "models": 0,
    "_errors": 1,
    "_budget": 2, "_core": 2,
    "_warmup": 3, "_cover": 3, "_candidates": 4,
    "emulator": 4, "client": 4,
    "sync_client": 5,
    "_demo": 6, "targets": 6, "journal": 6, "plan_view": 6,
    "frames": 7,
    "plan": 8, "run": 8, "undo": 8, "run_progress": 8, "run_verify": 8,  # one layer (DESIGN.md): plan -> run -> undo, and back
    "widgets": 9,
    "__init__": 10,
}  # fmt: skip
SAME_LAYER = {"plan", "run", "undo", "run_progress", "run_verify"}


def test_all_is_sorted_and_complete() -> None:
    names = instantly_nb.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(instantly_nb, name), name
    public = {n for n in vars(instantly_nb) if not n.startswith("_") and n != "annotations"}
    modules = {n for n in public if inspect.ismodule(getattr(instantly_nb, n))}
    assert public - modules <= set(names), "exported without being in __all__"


def test_every_error_is_exported_and_under_instantly_error() -> None:
    for name in _errors.__all__:
        cls = getattr(_errors, name)
        assert issubclass(cls, _errors.InstantlyError)
        assert getattr(instantly_nb, name) is cls
        assert name in (_errors.__doc__ or ""), f"{name} missing from the drawn tree"


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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    # Imports under `if TYPE_CHECKING:` are for annotations only, not runtime dependencies.
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module)
            elif node.level > 0:
                package = path.parent.relative_to(PACKAGE.parent).parts
                base = list(package[: len(package) - node.level + 1])
                if node.module is None:
                    found |= {".".join([*base, alias.name]) for alias in node.names}
                else:
                    found.add(".".join([*base, node.module]))
    return found


def _rank(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "instantly_nb":
        return None
    if len(parts) == 1:
        return RANKS["__init__"]
    return RANKS.get(parts[1])


def test_imports_point_down_only() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        own = RANKS.get(rel.parts[0].removesuffix(".py"))
        assert own is not None, f"{rel} has no layer in RANKS"
        for module in _imports(path):
            rank = _rank(module)
            if rank is None or module.split(".")[1:2] == [rel.parts[0].removesuffix(".py")]:
                continue
            peers = {rel.parts[0].removesuffix(".py"), module.split(".")[1]} <= SAME_LAYER
            assert rank < own or peers, f"{rel} imports {module} (up a layer)"


def test_lower_layers_import_neither_pandas_nor_ipywidgets() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        rank = RANKS[rel.parts[0].removesuffix(".py")]
        roots = {m.split(".")[0] for m in _imports(path)}
        if rank <= RANKS["sync_client"]:
            assert "pandas" not in roots, f"{rel} imports pandas"
        if rel.parts[0] != "widgets":
            assert "ipywidgets" not in roots, f"{rel} imports ipywidgets"
            assert "httpx" not in roots or rank <= RANKS["sync_client"], f"{rel} imports httpx"


def test_importing_the_package_does_not_import_ipywidgets() -> None:
    code = "import sys, instantly_nb; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
