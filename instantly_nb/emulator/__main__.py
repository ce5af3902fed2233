"""``python -m instantly_nb.emulator``: serve an emulated workspace over HTTP (loopback only).

    python -m instantly_nb.emulator --port 8765 --accounts 2000 --seed 0 --api-key KEY
    python -m instantly_nb.emulator --workspaces 20 --accounts 1000 --api-key KEY

Prints ``Emulator listening on http://127.0.0.1:PORT`` once it accepts connections. With
``--workspaces N`` it serves a ``WorkspaceGroup``: ``KEY`` is the admin workspace's key (its
client workspaces are reached with the ``x-as-workspace`` header), and client workspace ``n``
also answers to its own key ``KEY-n``; a line per client workspace follows, with its id.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .emulator import Emulator
from .generate import DEFAULT_WORKSPACE_NAME
from .group import ADMIN_NAME, DELEGATED_RATES, WorkspaceGroup
from .jobs import JobTiming
from .server import is_loopback, serve


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m instantly_nb.emulator",
        description="Serve an emulated Instantly API v2 workspace over HTTP.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    p.add_argument("--accounts", type=int, default=200, help="accounts in the workspace")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated workspace")
    p.add_argument("--api-key", default="demo-key", help="the Bearer key requests must carry")
    p.add_argument(
        "--workspaces",
        type=int,
        default=0,
        metavar="N",
        help="serve an admin workspace and N client workspaces of --accounts each (0: one "
        "workspace)",
    )
    p.add_argument(
        "--delegated-rate",
        choices=DELEGATED_RATES,
        default="member",
        help="with --workspaces: the rate limit x-as-workspace requests count against",
    )
    p.add_argument(
        "--workspace-name",
        default=None,
        help=f"the workspace's name (default {DEFAULT_WORKSPACE_NAME!r}; with --workspaces, "
        f"the admin workspace's, default {ADMIN_NAME!r})",
    )
    p.add_argument("--workspace-id", default=None, help="the workspace id (default: from the seed)")
    p.add_argument(
        "--warmup-selection",
        default=None,
        metavar="FIELD=READING,...",
        help="how warmup jobs read search / tag_id / filter: list (default), drop or broaden, "
        "e.g. search=drop,filter=broaden",
    )
    p.add_argument("--queue-delay", type=float, default=0.5, help="seconds a job stays pending")
    p.add_argument("--per-account", type=float, default=0.01, help="seconds per account in a job")
    p.add_argument("--no-lock", action="store_true", help="no 409 while a warmup job runs")
    p.add_argument("--rate-per-second", type=int, default=100)
    p.add_argument("--rate-per-minute", type=int, default=6000)
    p.add_argument("--no-rate-limit", action="store_true")
    p.add_argument("--retry-after", action="store_true", help="send Retry-After with 429s")
    p.add_argument(
        "--full-list-warmup",
        action="store_true",
        help="list items carry the whole warmup object, not just {limit}",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the demo key would be exposed)",
    )
    p.add_argument("--log-level", default="warning")
    return p


def _reading(text: str | None) -> dict[str, str] | None:
    """``search=drop,filter=broaden`` as a mapping for ``Emulator(warmup_selection=...)``."""
    if not text:
        return None
    reading: dict[str, str] = {}
    for part in text.split(","):
        field, equals, value = part.partition("=")
        if not equals:
            raise ValueError(f"--warmup-selection: expected FIELD=READING, got {part!r}")
        reading[field.strip()] = value.strip()
    return reading


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        print(
            f"error: refusing to listen on {args.host}: only loopback addresses (127.0.0.1, ::1, "
            "localhost) are served unless --allow-remote is given",
            file=sys.stderr,
        )
        return 2
    served: Emulator | WorkspaceGroup
    try:
        options: dict[str, Any] = {
            "timing": JobTiming(args.queue_delay, args.per_account),
            "warmup_lock": not args.no_lock,
            "rate_limit": None
            if args.no_rate_limit
            else (args.rate_per_second, args.rate_per_minute),
            "retry_after": args.retry_after,
            "list_warmup": "full" if args.full_list_warmup else "abbreviated",
            "warmup_selection": _reading(args.warmup_selection),
        }
        if args.workspaces < 0:
            raise ValueError("--workspaces cannot be negative")
        if args.workspaces:
            if args.workspace_id is not None:
                raise ValueError("--workspace-id names one workspace; not with --workspaces")
            served = WorkspaceGroup(
                args.workspaces, args.accounts, args.seed, api_key=args.api_key,
                admin_name=args.workspace_name or ADMIN_NAME,
                delegated_rate=args.delegated_rate, **options,
            )  # fmt: skip
        else:
            served = Emulator(
                args.accounts, args.seed, api_key=args.api_key,
                workspace_name=args.workspace_name or DEFAULT_WORKSPACE_NAME,
                workspace_id=args.workspace_id, **options,
            )  # fmt: skip
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(f"Emulator listening on {url}", flush=True)
        if isinstance(served, WorkspaceGroup):
            for n, (name, member) in enumerate(served.members.items(), start=1):
                print(f"  workspace {n}: {name} (id {member.workspace_id}, key <api-key>-{n})")
            sys.stdout.flush()

    try:
        serve(
            served,
            args.host,
            args.port,
            allow_remote=args.allow_remote,
            log_level=args.log_level,
            ready=ready,
        )
    except (OSError, OverflowError) as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
