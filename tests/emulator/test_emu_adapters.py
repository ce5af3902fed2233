"""The transport and ASGI adapters work from any handle and clock; the emulator has no import cycle."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import httpx

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import EmulatorTransport
from instantly_nb.emulator.asgi import make_asgi
from instantly_nb.emulator.responses import Response, json_response

PACKAGE = Path(__file__).resolve().parents[2] / "instantly_nb" / "emulator"
NAME = "instantly_nb.emulator"


class Recorder:
    """A handle that answers 200 late, and remembers what it was asked."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls: list[tuple[str, str, str, str, bytes]] = []

    def __call__(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        self.calls.append((method, path, query, headers.get("x-probe", ""), body))
        response = json_response(200, {"ok": True})
        response.delay = self.delay
        return response


def test_the_transport_answers_through_its_handle_and_waits_on_its_clock() -> None:
    handle, clock = Recorder(delay=3.0), VirtualClock()
    start = clock.now()
    with httpx.Client(transport=EmulatorTransport(handle, clock)) as client:
        response = client.post("https://x/a%20b?q=1", content=b"hi", headers={"X-Probe": "p"})
    assert response.json() == {"ok": True}
    assert handle.calls == [("POST", "/a%20b", "q=1", "p", b"hi")]
    assert clock.now() - start == 3.0


def test_the_asgi_app_answers_through_its_handle_and_sleeps_on_its_clock() -> None:
    handle, clock = Recorder(delay=2.0), VirtualClock()
    start = clock.now()

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=make_asgi(handle, clock))
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            return await client.get("/a?q=1", headers={"X-Probe": "p"})

    assert asyncio.run(call()).json() == {"ok": True}
    assert handle.calls == [("GET", "/a", "q=1", "p", b"")]
    assert clock.now() - start == 2.0


def _imports(path: Path) -> set[str]:
    """Emulator modules ``path`` imports anywhere: top level, in functions, under TYPE_CHECKING."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level in (0, 1):
            module = node.module or ""
            if node.level == 1:
                module = f"{NAME}.{module}" if module else NAME
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        for name in names:
            head = name.removeprefix(f"{NAME}.").split(".")[0]
            if name.startswith(f"{NAME}.") and head in modules:
                found.add(head)
    found.discard(path.stem)
    return found


def test_no_emulator_module_imports_itself_back() -> None:
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py")}

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
        return seen

    cycles = sorted(m for m in graph if m in reachable(m))
    assert not cycles, f"import cycles through {cycles}: {graph}"
