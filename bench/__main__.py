"""``python -m bench [--quick | --full] [--runs N] [--markdown FILE]``: run, print the report.

Each item starts its own emulator subprocess on 127.0.0.1 (an ephemeral port) and stops it by PID
when done, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .end_to_end import run_end_to_end
from .fleet import run_fleet
from .health import run_health
from .planning import run_planning
from .profiles import PROFILES
from .reading import run_reading
from .report import Results, render
from .safety import run_safety
from .widgets import run_widgets

ITEMS = ("jobs", "end-to-end", "reading", "widgets", "safety", "health", "fleet")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark instantly_nb against an emulated workspace served over HTTP "
        "on 127.0.0.1, and print the report (Markdown).",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller workspaces, fewer runs")
    size.add_argument("--full", action="store_true", help="adds 10,000 emails end to end")
    p.add_argument("--runs", type=int, help="runs of the end-to-end, reading and fleet items")
    p.add_argument("--only", choices=ITEMS, action="append", help="run only this item")
    p.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = p.parse_args(argv)
    profile = PROFILES["quick" if args.quick else "full" if args.full else "default"]
    if args.runs:
        profile = dataclasses.replace(
            profile, runs=args.runs, read_runs=args.runs, fleet_runs=args.runs
        )
    items = args.only or ITEMS
    command = "python -m bench" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    results = Results(profile, command)
    print(f"Profile {profile.name}; emulated jobs: {profile.timing}", flush=True)
    start = time.perf_counter()
    if "jobs" in items:
        print("1. jobs", flush=True)
        results.planning = run_planning(profile, say=_say)
    if "end-to-end" in items:
        print("2. end to end", flush=True)
        results.end_to_end = run_end_to_end(profile, say=_say)
    if "reading" in items:
        print("3. reading", flush=True)
        results.reading = run_reading(profile, say=_say)
    if "widgets" in items:
        print("5. widgets", flush=True)
        results.widgets = run_widgets(profile)
    if "safety" in items:
        print("6. safety", flush=True)
        results.safety = run_safety(profile, say=_say)
    if "health" in items:
        print("7. warmup health", flush=True)
        results.health = run_health(profile, say=_say)
    if "fleet" in items:
        print("8. many workspaces", flush=True)
        results.fleet = run_fleet(profile, say=_say)
    results.seconds = time.perf_counter() - start
    report = render(results)
    print("\n" + report)
    if args.markdown is not None:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    return 0


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
