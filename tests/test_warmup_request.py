from __future__ import annotations

import pytest

from instantly_nb._warmup import WarmupRequest, check_email
from instantly_nb.errors import RequestValidationError
from instantly_nb.models import AccountFilter, Job

TAG = "0b6f5a4e-3c0f-4c7e-9a63-7d1c2b9f0e11"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ann@acme.com", None),
        ("Ann.Lee+x@mail.Acme-Corp.co.uk", None),
        ("", "an empty string"),
        (" ann@acme.com", "surrounding whitespace"),
        ("ann@acme", "not a well-formed"),
        ("ann@@acme.com", "not a well-formed"),
        ("ann acme.com", "not a well-formed"),
        ("аnn@acme.com", "non-ASCII"),  # the first letter is Cyrillic
        (float("nan"), "not text"),
        (None, "not text"),
    ],
)
def test_check_email(value: object, problem: str | None) -> None:
    reason = check_email(value)
    if problem is None:
        assert reason is None
    else:
        assert reason is not None and problem in reason


def test_emails_body() -> None:
    req = WarmupRequest("disable", emails=("a@x.io", "b@x.io"))
    assert req.body() == {"emails": ["a@x.io", "b@x.io"]}
    assert req.path == "/api/v2/accounts/warmup/disable"
    assert req.target_warmup_status == 0
    assert WarmupRequest("enable", emails=("a@x.io",)).target_warmup_status == 1


def test_selection_body() -> None:
    req = WarmupRequest(
        "disable",
        include_all_emails=True,
        excluded_emails=("a@x.io",),
        filter=AccountFilter.W_ERROR,
        tag_id=TAG,
        search="x.io",
    )
    assert req.body() == {
        "include_all_emails": True,
        "excluded_emails": ["a@x.io"],
        "filter": {"tag_id": TAG, "filter": "ACC_FILTER_W_ERROR"},
        "search": "x.io",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to do"),
        ({"emails": tuple(f"u{i}@x.io" for i in range(101))}, "at most 100"),
        ({"include_all_emails": True, "excluded_emails": tuple(f"u{i}@x.io" for i in range(101))},
         "at most 100"),
        ({"emails": ("a@x.io", "A@X.IO")}, "duplicates"),
        ({"emails": ("a@x.io", "nope")}, "nope"),
        ({"emails": ("a@x.io",), "search": "x"}, "only apply with include_all_emails"),
        ({"excluded_emails": ("a@x.io",)}, "only apply with include_all_emails"),
        ({"include_all_emails": True, "emails": ("a@x.io",)}, "cannot be combined"),
        ({"include_all_emails": True, "filter": "ACC_FILTER_NOPE"}, "unknown account filter"),
        ({"include_all_emails": True, "tag_id": "Client A"}, "not a tag id"),
        ({"include_all_emails": True, "search": "  "}, "search is empty"),
    ],
)  # fmt: skip
def test_invalid_requests_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RequestValidationError, match=message):
        WarmupRequest("disable", **kwargs)  # type: ignore[arg-type]


def test_all_problems_are_listed_at_once() -> None:
    with pytest.raises(RequestValidationError) as info:
        WarmupRequest("disable", emails=("bad1", "bad2", "ok@x.io", "OK@x.io"))
    assert len(info.value.problems) == 3
    assert "bad1" in str(info.value) and "bad2" in str(info.value)


def _job(filters: dict[str, object], warmup_status: int = 0) -> Job:
    return Job.from_api(
        {
            "id": "6a4431ffe7344abb7a05b177",
            "type": "update-warmup-accounts",
            "status": "pending",
            "progress": 0,
            "created_at": "2026-06-30T21:15:43.697Z",
            "updated_at": "2026-06-30T21:15:43.697Z",
            "data": {"filters": filters, "warmup_status": warmup_status},
        }
    )


def test_matches_the_job_instantly_echoes() -> None:
    req = WarmupRequest("disable", emails=("a@x.io", "b@x.io"))
    echo = {"emails": ["b@x.io", "a@x.io"], "includeAllEmails": None, "excludedEmails": None,
            "filter": None, "search": None}  # fmt: skip
    assert req.matches_job(_job(echo))
    assert not req.matches_job(_job(echo, warmup_status=1))
    assert not req.matches_job(_job({**echo, "emails": ["a@x.io"]}))
    sel = WarmupRequest("disable", include_all_emails=True, tag_id=TAG, excluded_emails=("a@x.io",))
    sel_echo = {"emails": None, "includeAllEmails": True, "excludedEmails": ["a@x.io"],
                "filter": {"tag_id": TAG}, "search": None}  # fmt: skip
    assert sel.matches_job(_job(sel_echo))
    assert not sel.matches_job(_job({**sel_echo, "filter": {"tag_id": TAG, "filter": "X"}}))
    assert not req.matches_job(_job(sel_echo))
