"""The emulator in a subprocess on 127.0.0.1, with its own records readable from outside.

    python -m bench.server --accounts 10000 --seed 0 --queue-delay 0.5 --per-account 0.005
    python -m bench.server ... --warmup-selection search=drop
    python -m bench.server --workspaces 20 --accounts 1000 ... --delegated-rate member

serves ``instantly_nb.emulator.Emulator`` on an ephemeral port (the second reads the warmup
job's ``search`` another way than the list endpoint does, for the safety item; the third serves
a ``WorkspaceGroup``, an admin key and 20 client workspaces, for the fleet item) and prints
``Emulator listening on http://127.0.0.1:PORT``, as ``python -m instantly_nb.emulator`` does. Two
read-only routes are added beside the API, answered without touching the emulator's request log
or rate limit: ``/__bench__/log?since=N`` (the emulator's own request log: time, method, path,
status), ``/__bench__/jobs`` (every warmup job as the emulator records it) and
``/__bench__/workspaces`` (name and id of each client workspace); with a group, ``&workspace=NAME``
reads that client workspace's records.

``EmulatorProcess`` starts it, waits for that line, and stops it by PID, even on error.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-key"
READY = "Emulator listening on "
START_TIMEOUT = 180.0  # generating 100,000 accounts takes a few seconds on a loaded machine


@dataclass(frozen=True)
class Timing:
    """How long the emulator's warmup jobs take: pending for ``queue_delay``, then per account."""

    queue_delay: float
    per_account: float

    def __str__(self) -> str:
        return f"queue delay {self.queue_delay:g} s + {self.per_account * 1000:g} ms per account"


@dataclass(frozen=True)
class Request:
    """One request as the emulator logged it (its own clock, seconds since the epoch)."""

    at: float
    method: str
    path: str
    status: int


@dataclass(frozen=True)
class JobRecord:
    """A warmup job as the emulator recorded it: created, last updated (its end once terminal)."""

    id: str
    status: str
    created: float
    updated: float
    total: int

    @property
    def duration(self) -> float:
        return self.updated - self.created


class EmulatorProcess:
    """``python -m bench.server`` as a context manager: ``url``, ``log()``, ``jobs()``.

    ``warmup_selection`` (e.g. ``{"search": "drop"}``) is the emulator's ``WarmupReading``:
    how its warmup jobs read ``search``, ``tag_id`` and ``filter`` (docs/instantly-api.md §5.4).
    """

    def __init__(
        self,
        accounts: int,
        seed: int,
        timing: Timing,
        warmup_selection: Mapping[str, str] | None = None,
        *,
        workspace_name: str | None = None,
        workspaces: int = 0,
        delegated_rate: str = "member",
    ) -> None:
        self.accounts, self.seed, self.timing = accounts, seed, timing
        self.warmup_selection = dict(warmup_selection or {})
        self.workspace_name, self.workspaces = workspace_name, workspaces
        self.delegated_rate = delegated_rate
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        self._http: httpx.Client | None = None

    def __enter__(self) -> EmulatorProcess:
        try:
            self.spawn()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def spawn(self) -> None:
        """Start the subprocess; ``wait_ready`` waits for it (several can start at once)."""
        command = [
            sys.executable, "-m", "bench.server", "--accounts", str(self.accounts),
            "--seed", str(self.seed), "--queue-delay", repr(self.timing.queue_delay),
            "--per-account", repr(self.timing.per_account),
        ]  # fmt: skip
        if self.warmup_selection:
            reading = ",".join(f"{k}={v}" for k, v in self.warmup_selection.items())
            command += ["--warmup-selection", reading]
        if self.workspace_name is not None:
            command += ["--workspace-name", self.workspace_name]
        if self.workspaces:
            command += ["--workspaces", str(self.workspaces)]
            command += ["--delegated-rate", self.delegated_rate]
        paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        self._proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )

    def wait_ready(self) -> None:
        """Wait for the line naming the address, then make one untimed request."""
        assert self._proc is not None and self._proc.stdout is not None, "spawn() first"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.5)
            if ready:
                line = self._proc.stdout.readline()
                if line.startswith(READY):
                    self.url = line[len(READY) :].strip()
                    self._http = httpx.Client(base_url=self.url, timeout=60)
                    # The first answer pays for lazy imports; nothing measured should.
                    self._http.get("/api/v2/workspaces/current", headers=_auth())
                    return
                if not line:
                    break
            if self._proc.poll() is not None:
                break
        self._stderr.seek(0)
        raise RuntimeError(f"the emulator did not start:\n{self._stderr.read()[-2000:]}")

    def stop(self) -> None:
        """Stop the subprocess by its PID (SIGTERM, then SIGKILL), and wait for it."""
        if self._http is not None:
            self._http.close()
            self._http = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self._stderr.close()

    def cpu_seconds(self) -> float:
        """CPU time the subprocess has used so far (user + system; Linux's /proc, else NaN)."""
        if self._proc is None:
            return float("nan")
        try:
            with open(f"/proc/{self._proc.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            return float("nan")
        # After the name: state is field 3 of proc(5), so utime (14) and stime (15) are 11, 12.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _get(self, path: str, **params: Any) -> Any:
        assert self._http is not None, "the emulator is not running"
        response = self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        response.raise_for_status()
        return response.json()

    # With ``workspaces``, ``workspace`` names the group's client workspace whose records are
    # read (None: the admin workspace's).

    def log(self, since: int = 0, workspace: str | None = None) -> list[Request]:
        """The emulator's request log from entry ``since`` on."""
        rows = self._get("/__bench__/log", since=since, workspace=workspace)
        return [Request(*row) for row in rows]

    def log_size(self, workspace: str | None = None) -> int:
        return int(self._get("/__bench__/log", count=1, workspace=workspace)["size"])

    def jobs(self, workspace: str | None = None) -> list[JobRecord]:
        """Every warmup job, oldest first, as the emulator recorded it."""
        return [JobRecord(**row) for row in self._get("/__bench__/jobs", workspace=workspace)]

    def members(self) -> dict[str, str]:
        """The served client workspaces (with ``workspaces``), name -> id, in the group's order;
        else the one workspace."""
        return {row["name"]: row["id"] for row in self._get("/__bench__/workspaces")}


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


class SendTimes(httpx.AsyncHTTPTransport):
    """An ``Instantly(transport=...)`` that notes when each request leaves the client."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.time())
        return await super().handle_async_request(request)


# --- the subprocess side ---------------------------------------------------------------------


def _bench_app(served: Any) -> Any:
    """The emulator's (or group's) ASGI app, plus the read-only ``/__bench__/`` routes; with a
    group, ``workspace=NAME`` reads that client workspace's records (else the admin's)."""
    from instantly_nb.emulator import WorkspaceGroup
    from instantly_nb.emulator.isotime import parse_iso

    api = served.asgi
    group = served if isinstance(served, WorkspaceGroup) else None

    def pick(query: dict[str, list[str]]) -> Any:
        name = query.get("workspace", [None])[0]
        if group is None:
            return served
        return group.admin if name is None else group.member(name)

    def workspaces(query: dict[str, list[str]]) -> Any:
        chosen = list(group.members.values()) if group is not None else [served]
        return [{"name": e.workspace_name, "id": e.workspace_id} for e in chosen]

    def log(query: dict[str, list[str]]) -> Any:
        records = pick(query).log
        if "count" in query:
            return {"size": len(records)}
        since = int(query.get("since", ["0"])[0])
        return [[r.at, r.method, r.path, r.status] for r in records[since:]]

    def seconds(stamp: str) -> float:
        ms = parse_iso(stamp)
        assert ms is not None, stamp
        return ms / 1000

    def jobs(query: dict[str, list[str]]) -> Any:
        return [
            {"id": j["id"], "status": j["status"], "created": seconds(j["created_at"]),
             "updated": seconds(j["updated_at"]),
             "total": (j.get("data") or {}).get("total_to_process") or 0}
            for j in pick(query).jobs(type="update-warmup-accounts")
        ]  # fmt: skip

    routes = {"/__bench__/log": log, "/__bench__/jobs": jobs, "/__bench__/workspaces": workspaces}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        route = routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None:
            await api(scope, receive, send)
            return
        query = parse_qs(bytes(scope.get("query_string", b"")).decode())
        body = json.dumps(route(query)).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    from instantly_nb.emulator import Emulator, JobTiming, WorkspaceGroup
    from instantly_nb.emulator.server import url_for

    p = argparse.ArgumentParser(prog="python -m bench.server")
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--queue-delay", type=float, required=True)
    p.add_argument("--per-account", type=float, required=True)
    p.add_argument("--warmup-selection", default="", metavar="FIELD=READING,...")
    p.add_argument("--workspace-name", default=None, help="the (admin) workspace's name")
    p.add_argument("--workspaces", type=int, default=0, help="a group of N client workspaces")
    p.add_argument("--delegated-rate", choices=("member", "admin", "both"), default="member")
    args = p.parse_args(argv)
    reading = dict(part.split("=", 1) for part in args.warmup_selection.split(",") if part)
    options: dict[str, Any] = {
        "timing": JobTiming(args.queue_delay, args.per_account),
        "warmup_selection": reading or None,
    }
    if args.workspace_name is not None:
        options["workspace_name" if not args.workspaces else "admin_name"] = args.workspace_name
    # A group's client workspace n is the lone emulator of seed ``seed * 1000 + n`` under the
    # same name (group.py): both ways of serving a fleet serve the same accounts.
    emulator: Any = (
        WorkspaceGroup(
            args.workspaces, args.accounts, args.seed, api_key=API_KEY,
            delegated_rate=args.delegated_rate, **options,
        )
        if args.workspaces
        else Emulator(args.accounts, args.seed, api_key=API_KEY, **options)
    )  # fmt: skip
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP. Without
    # it, a response's body waits for the ACK of its headers, which the client delays ~40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(
        _bench_app(emulator), log_level="warning", access_log=False, lifespan="off",
        loop="asyncio",
    )  # fmt: skip
    server = uvicorn.Server(config)
    print(f"{READY}{url_for(sock)}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
