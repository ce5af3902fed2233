"""The sync client inside a running event loop, as in a Jupyter cell.

Run in a subprocess: the nested-loop patch changes asyncio for the whole process, which is what
happens in a kernel but must not leak into the other tests.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, httpx
    from instantly_nb import Instantly
    from instantly_nb.testing import VirtualClock

    calls = []
    def handler(request):
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(429, json={"message": "Rate limit exceeded"})
        return httpx.Response(200, json={"items": [{"email": "a@x.io"}]})

    client = Instantly("k", transport=httpx.MockTransport(handler), clock=VirtualClock())

    async def cell():
        # The kernel's loop is running; a plain blocking call must still work, twice.
        first = list(client.list_accounts())
        second = list(client.list_accounts())
        return first, second

    first, second = asyncio.run(cell())
    assert first == second == [{"email": "a@x.io"}], (first, second)
    assert len(calls) == 3, calls
    patched = "nest_asyncio2" in sys.modules
    client.close()
    print("ok", patched)
    """
)

PLAIN = textwrap.dedent(
    """
    import sys, httpx
    from instantly_nb import Instantly
    client = Instantly("k", transport=httpx.MockTransport(
        lambda r: httpx.Response(200, json={"email": "a@x.io"})))
    assert client.get_account("a@x.io") == {"email": "a@x.io"}
    client.close()
    print("ok", "nest_asyncio2" in sys.modules)
    """
)


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sync_calls_work_inside_a_running_loop() -> None:
    assert _run(SCRIPT) == "ok True"


def test_the_nested_loop_patch_is_applied_only_when_needed() -> None:
    assert _run(PLAIN) == "ok False"
