"""The emulator over real HTTP: the CLI as a subprocess, and ``start_server`` in a thread."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from instantly_nb.emulator import Emulator, JobTiming, start_server
from instantly_nb.emulator.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^Emulator listening on (http://127\.0\.0\.1:(\d+))$")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def served() -> Iterator[str]:
    """``python -m instantly_nb.emulator --port 0`` on 127.0.0.1; yields its base URL."""
    command = [
        sys.executable, "-m", "instantly_nb.emulator", "--host", "127.0.0.1", "--port", "0",
        "--accounts", "250", "--seed", "3", "--api-key", "cli-key", "--queue-delay", "0.05",
        "--per-account", "0.01", "--rate-per-second", "20",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        match = URL_LINE.match(line)
        assert match, (
            f"unexpected first line {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        )
        assert int(match.group(2)) > 0
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_cli_serves_a_workspace_over_real_http(served: str) -> None:
    auth = {"Authorization": "Bearer cli-key"}
    with httpx.Client(base_url=served, headers=auth, timeout=10) as client:
        page = client.get("/api/v2/accounts", params={"limit": 100})
        assert page.status_code == 200
        assert page.headers["content-type"] == "application/json; charset=utf-8"
        cursor = page.json()["next_starting_after"]
        assert "&" in cursor
        second = client.get("/api/v2/accounts", params={"limit": 100, "starting_after": cursor})
        assert len(second.json()["items"]) == 100
        email = page.json()["items"][0]["email"]
        assert client.get(f"/api/v2/accounts/{email}").json()["email"] == email
        job = client.post("/api/v2/accounts/warmup/disable", json={"emails": [email]}).json()
        assert job["status"] == "pending"
        deadline = time.monotonic() + 10
        while client.get(f"/api/v2/background-jobs/{job['id']}").json()["status"] != "success":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.get(f"/api/v2/accounts/{email}").json()["warmup_status"] == 0
        missing = client.get("/api/v2/nope")
        assert missing.json()["message"] == "Route GET:/api/v2/nope not found"
        assert (
            client.get("/api/v2/accounts", headers={"Authorization": "Bearer x"}).status_code == 401
        )
        burst = [client.get("/api/v2/workspaces/current").status_code for _ in range(80)]
        assert 429 in burst


def test_the_cli_refuses_a_public_host_without_allow_remote() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "instantly_nb.emulator", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr
    assert "--allow-remote" in result.stderr
    assert "Emulator listening" not in result.stdout


def test_main_rejects_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "192.0.2.1"]) == 2
    assert main(["--queue-delay", "-1", "--accounts", "1"]) == 2
    assert "non-negative" in capsys.readouterr().err


def test_start_server_serves_faults_over_http() -> None:
    emu = Emulator(accounts=20, seed=1, timing=JobTiming(0.01, 0.01))
    auth = {"Authorization": f"Bearer {emu.api_key}"}
    with start_server(emu) as server, httpx.Client(base_url=server.url, headers=auth) as client:
        assert server.url.startswith("http://127.0.0.1:")
        emu.faults.delay(("GET", "/api/v2/workspaces/current"), seconds=0.3)
        start = time.monotonic()
        assert client.get("/api/v2/workspaces/current", timeout=5).status_code == 200
        assert time.monotonic() - start >= 0.3
        emu.faults.drop(("POST", "/api/v2/accounts/warmup/enable"))
        with pytest.raises(httpx.ReadTimeout):
            client.post("/api/v2/accounts/warmup/enable", json={"emails": ["a@b.co"]}, timeout=0.5)
        assert len(emu.jobs("update-warmup-accounts")) == 1  # processed, answer never sent
        emu.faults.server_error(status=502)
        edge = client.get("/api/v2/accounts", timeout=5)
        assert edge.status_code == 502 and edge.headers["content-type"].startswith("text/html")
        assert client.get("/api/v2/accounts", timeout=5).status_code == 200


def test_start_server_refuses_a_public_host() -> None:
    with pytest.raises(PermissionError, match="allow_remote"):
        start_server(Emulator(accounts=1), host="0.0.0.0")


def test_the_asgi_app_in_process() -> None:
    emu = Emulator(accounts=5, seed=2)

    async def run() -> tuple[int, dict[str, object]]:
        transport = httpx.ASGITransport(app=emu.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            response = await client.get(
                "/api/v2/accounts/" + emu.accounts()[0]["email"].replace("@", "%40"),
                headers={"Authorization": "Bearer demo-key"},
            )
            return response.status_code, response.json()

    status, body = asyncio.run(run())
    assert status == 200 and body["email"] == emu.accounts()[0]["email"]
