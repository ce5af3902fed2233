from __future__ import annotations

import pytest

from instantly_nb.models import (
    AccountFilter,
    AccountStatus,
    Job,
    JobStatus,
    Provider,
    WarmupStatus,
)


def test_labels_do_not_collide_across_enums_with_equal_values() -> None:
    assert AccountStatus(1).label == "Active"
    assert Provider(1).label == "Custom IMAP/SMTP"
    assert WarmupStatus(1).label == "Active"
    assert WarmupStatus(-1).label == "Banned"
    assert AccountStatus(-1).label == "Connection error"


@pytest.mark.parametrize("enum", [AccountStatus, WarmupStatus, Provider, AccountFilter, JobStatus])
def test_every_known_member_has_a_label(enum: type[AccountStatus]) -> None:
    for member in enum:
        assert member.known
        assert not member.label.startswith("Unknown")


def test_unknown_codes_survive_with_a_label() -> None:
    assert AccountStatus(7).label == "Unknown (7)"
    assert int(Provider(12)) == 12 and not Provider(12).known
    status = JobStatus("verifying")
    assert status == "verifying" and status.label == "Unknown (verifying)"
    with pytest.raises(ValueError, match="is not a valid AccountStatus"):
        AccountStatus("1")  # type: ignore[arg-type]


def test_job_from_api_reads_the_warmup_fields() -> None:
    job = Job.from_api(
        {"id": "6a443823e5b146c0a2006677", "status": "success", "progress": 100,
         "type": "update-warmup-accounts", "created_at": "a", "updated_at": "b",
         "data": {"warmup_status": 1, "total_to_process": 2, "success_count": 1,
                  "failed_count": 1, "processed_emails": [
                      {"email": "a@x.io", "status": "success"},
                      {"email": "b@x.io", "status": "failed", "error": "Account not found"},
                      "garbage"]}}
    )  # fmt: skip
    assert job.is_terminal and job.target_warmup_status == 1
    assert (job.total_to_process, job.success_count, job.failed_count) == (2, 1, 1)
    assert [e["email"] for e in job.processed_emails] == ["a@x.io", "b@x.io"]
    assert job.moved_emails == ["a@x.io"]  # a failed one did not move


def test_a_job_moved_only_the_named_accounts_it_did_not_fail() -> None:
    items = [{"email": "a@x.io"}, {"email": "B@x.io", "status": "success"},
             {"email": "c@x.io", "status": "failed"}, {"email": ""}, {"email": None}]  # fmt: skip
    job = Job.from_api({"id": "1", "status": "success", "data": {"processed_emails": items}})
    assert job.moved_emails == ["a@x.io", "B@x.io"]


@pytest.mark.parametrize(
    ("status", "terminal"),
    [("pending", False), ("in-progress", False), ("paused", False), ("draining", False),
     ("verifying", False), ("success", True), ("failed", True), ("cancelled", True)],
)  # fmt: skip
def test_terminal_statuses(status: str, terminal: bool) -> None:
    job = Job.from_api({"id": "1", "status": status})
    assert job.is_terminal is terminal
    assert job.processed_emails == [] and job.success_count is None
