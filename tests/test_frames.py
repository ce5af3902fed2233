"""DataFrames out: stable columns and dtypes, filters by label, tags by label."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import workspace

from instantly_nb import RequestValidationError
from instantly_nb.frames import (
    ACCOUNT_COLUMNS,
    JOB_COLUMNS,
    TAG_COLUMNS,
    accounts_frame,
    read_accounts,
    read_jobs,
    read_tags,
    smtp_error_text,
)
from instantly_nb.planner import plan_disable


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return dict(frame.dtypes.astype(str))


def test_accounts_have_the_documented_columns_full_and_empty() -> None:
    client = workspace(accounts=300)
    full = read_accounts(client)
    empty = read_accounts(client, search="no-such-domain-anywhere.example")
    assert len(full) == 300
    assert empty.empty
    assert _dtypes(full) == _dtypes(empty) == ACCOUNT_COLUMNS
    assert _dtypes(accounts_frame([])) == ACCOUNT_COLUMNS


def test_account_rows_decode_codes_to_labels() -> None:
    client = workspace(accounts=300)
    frame = read_accounts(client)
    raw = {a["email"]: a for a in client.emulator.accounts()}
    row = frame.iloc[0]
    source = raw[row["email"]]
    assert row["warmup_status"] == source["warmup_status"]
    labels = dict(zip(frame["warmup_status"], frame["warmup_label"], strict=True))
    assert labels[1] == "Active"
    assert labels[0] == "Paused"
    assert set(frame["provider_label"]) >= {"Google", "Microsoft"}
    errors = frame[frame["status"] < 0]
    assert errors["error"].notna().all()
    assert frame["tags"].map(lambda t: isinstance(t, list)).all()


@pytest.mark.parametrize(
    ("kwargs", "check"),
    [
        ({"filter": "ACC_FILTER_W_ERROR"}, lambda f: (f["warmup_status"] < 0).all()),
        ({"filter": "Warmup paused"}, lambda f: (f["warmup_status"] == 0).all()),
        ({"status": "Paused"}, lambda f: (f["status"] == 2).all()),
        ({"provider": "Google"}, lambda f: (f["provider"] == 2).all()),
        ({"provider": 3}, lambda f: (f["provider"] == 3).all()),
        ({"tag": "client a"}, lambda f: f["tags"].map(lambda t: "Client A" in t).all()),
        ({"tags_all": ["Client A", "Agency"]},
         lambda f: f["tags"].map(lambda t: {"Client A", "Agency"} <= set(t)).all()),
        ({"search": "gmail.com"}, lambda f: f["email"].str.lower().str.contains("gmail.com").all()),
    ],
)  # fmt: skip
def test_filters(kwargs: dict[str, object], check) -> None:  # type: ignore[no-untyped-def]
    frame = read_accounts(workspace(accounts=600), **kwargs)  # type: ignore[arg-type]
    assert not frame.empty
    assert check(frame)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tag": "Client Z"}, "no tag labelled 'Client Z'"),
        ({"status": "Sleepy"}, "unknown status 'Sleepy'"),
        ({"provider": "Carrier pigeon"}, "unknown provider"),
        ({"filter": "ACC_FILTER_NOPE"}, "unknown account filter"),
    ],
)
def test_bad_filters_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RequestValidationError, match=message):
        read_accounts(workspace(accounts=50), **kwargs)  # type: ignore[arg-type]


def test_tags_frame() -> None:
    tags = read_tags(workspace(accounts=50))
    assert _dtypes(tags) == TAG_COLUMNS
    assert {"Client A", "Client B", "Agency"} <= set(tags["label"])


def test_jobs_frame_reads_counts_and_outcome() -> None:
    client = workspace(accounts=300)
    empty = read_jobs(client)
    assert empty.empty
    assert _dtypes(empty) == JOB_COLUMNS
    frame = read_accounts(client)
    emails = frame[frame["warmup_status"] == 1]["email"].head(120).tolist()
    results = plan_disable(client, emails).execute()
    jobs = read_jobs(client)
    assert _dtypes(jobs) == JOB_COLUMNS
    assert len(jobs) == 2
    assert set(jobs["id"]) == set(results["job_id"])
    assert (jobs["status"] == "success").all()
    assert jobs["terminal"].all()
    assert sorted(jobs["total"]) == [20, 100]
    assert (jobs["succeeded"] == jobs["total"]).all()
    assert (jobs["action"] == "disable").all()
    one = read_jobs(client, ids=[jobs["id"].iloc[0]])
    assert list(one["id"]) == [jobs["id"].iloc[0]]


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (None, None),
        ({"code": "EAUTH", "response": "535 5.7.8 Username and Password not accepted",
          "responseCode": 535}, "535 5.7.8 Username and Password not accepted"),
        ({"e_message": "connect ETIMEDOUT", "code": "ETIMEDOUT"}, "ETIMEDOUT: connect ETIMEDOUT"),
        ({"response": "Mailbox\n  unavailable", "responseCode": 550}, "550: Mailbox unavailable"),
    ],
)  # fmt: skip
def test_smtp_error_text(message: object, text: str | None) -> None:
    assert smtp_error_text(message) == text
