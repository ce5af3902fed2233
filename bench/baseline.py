"""What a script written without instantly_nb does, with plain httpx: the baselines.

``naive_disable`` follows Instantly's own SDK helper (``wait_for_background_job`` in the official
starter kit, docs/instantly-api.md §4.2): chunks of 100 emails, submit one, poll right away and
then every 2 s until the status is terminal, sleep and resubmit on a 409. No planning: every email
is sent.

``raw_read`` is the shortest way to a DataFrame of accounts: a pagination loop and
``pd.DataFrame(records)``, no labels, no dtypes, no budget. ``raw_analytics`` and
``raw_analytics_frame`` are the same for warmup health: a loop of requests of 100 emails and a
frame of the totals.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pandas as pd

from .server import API_KEY

POLL_INTERVAL = 2.0
TERMINAL = frozenset({"success", "failed", "cancelled", "completed", "error"})
CHUNK = 100


@dataclass
class NaiveRun:
    wall: float = 0.0
    jobs: list[str] = field(default_factory=list)
    noticed: dict[str, float] = field(default_factory=dict)  # job id -> when it was seen terminal


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    )


def naive_disable(
    base_url: str, emails: Sequence[str], poll_interval: float = POLL_INTERVAL
) -> NaiveRun:
    """Disable warmup for ``emails`` the SDK way; ``wall`` is first submit to last notice."""
    run = NaiveRun()
    start = time.perf_counter()
    with _client(base_url) as http:
        for i in range(0, len(emails), CHUNK):
            body = {"emails": list(emails[i : i + CHUNK])}
            while True:
                answer = http.post("/api/v2/accounts/warmup/disable", json=body)
                if answer.status_code in (409, 429):
                    time.sleep(poll_interval)
                    continue
                answer.raise_for_status()
                break
            job_id = answer.json()["id"]
            run.jobs.append(job_id)
            while True:
                job = http.get(f"/api/v2/background-jobs/{job_id}")
                if job.status_code == 200 and job.json().get("status") in TERMINAL:
                    run.noticed[job_id] = time.time()
                    break
                time.sleep(poll_interval)
    run.wall = time.perf_counter() - start
    return run


def raw_records(base_url: str, **params: Any) -> list[dict[str, Any]]:
    """Every account, page by page (``limit=100``); a 429 is slept off."""
    query: dict[str, Any] = {"limit": 100, **params}
    records: list[dict[str, Any]] = []
    with _client(base_url) as http:
        while True:
            answer = http.get("/api/v2/accounts", params=query)
            if answer.status_code == 429:
                time.sleep(0.5)
                continue
            answer.raise_for_status()
            page = answer.json()
            if not page["items"]:
                return records
            records.extend(page["items"])
            query["starting_after"] = page["next_starting_after"]


def raw_read(base_url: str, **params: Any) -> pd.DataFrame:
    """The raw baseline of ``read_accounts``: the pages, then ``pd.DataFrame(records)``."""
    return pd.DataFrame(raw_records(base_url, **params))


def raw_analytics(base_url: str, emails: Sequence[str]) -> list[dict[str, Any]]:
    """Warmup analytics of ``emails``, 100 a request, one request after another; a 429 is slept
    off. The raw baseline of ``read_warmup_health``."""
    answers: list[dict[str, Any]] = []
    with _client(base_url) as http:
        for i in range(0, len(emails), CHUNK):
            body = {"emails": list(emails[i : i + CHUNK])}
            while True:
                answer = http.post("/api/v2/accounts/warmup-analytics", json=body)
                if answer.status_code != 429:
                    break
                time.sleep(0.5)
            answer.raise_for_status()
            answers.append(answer.json())
    return answers


def raw_analytics_frame(answers: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per email from the answers' totals, as a script would: ``pd.DataFrame(rows)``."""
    rows = [
        {"email": email, **totals}
        for answer in answers
        for email, totals in answer["aggregate_data"].items()
    ]
    return pd.DataFrame(rows)
