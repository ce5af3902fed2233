"""Client behaviour over httpx.MockTransport, in virtual time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from instantly_nb import AsyncInstantly, Instantly, RateLimit, RequestValidationError
from instantly_nb.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConnectionFailed,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RateLimitError,
    RequestTimeout,
    UncertainSubmitError,
)
from instantly_nb.testing import VirtualClock

KEY = "test-key-client-not-real"
Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests from a list of steps, records each request and its virtual time."""

    def __init__(self, clock: VirtualClock, steps: Iterable[Step]) -> None:
        self.clock = clock
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(self.clock.now())
        if not self.steps:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


def make(steps: Iterable[Step], **kwargs: Any) -> tuple[Instantly, Script, VirtualClock]:
    clock = VirtualClock()
    script = Script(clock, steps)
    client = Instantly(KEY, transport=httpx.MockTransport(script), clock=clock, **kwargs)
    return client, script, clock


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def err(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json={"statusCode": status, "error": "x", "message": message}, headers=headers
    )


ACCOUNT = {"email": "a@x.io", "warmup_status": 1}
JOB = {
    "id": "6a4431ffe7344abb7a05b177", "workspace_id": "w", "type": "update-warmup-accounts",
    "progress": 0, "status": "pending", "created_at": "t", "updated_at": "t",
    "data": {"filters": {"emails": ["a@x.io"]}, "warmup_status": 0},
}  # fmt: skip


def job(status: str, progress: float = 0) -> httpx.Response:
    return ok({**JOB, "status": status, "progress": progress})


# --- retries --------------------------------------------------------------------------------


def test_429_429_200_backs_off_exponentially_without_retry_after() -> None:
    client, script, clock = make([err(429, "Rate limit exceeded")] * 2 + [ok(ACCOUNT)])
    start = clock.now()
    assert client.get_account("a@x.io") == ACCOUNT
    assert len(script.requests) == 3
    gaps = [b - a for a, b in zip(script.times, script.times[1:], strict=False)]
    assert 0.25 <= gaps[0] <= 0.5 and 0.5 <= gaps[1] <= 1.0
    assert clock.now() - start == pytest.approx(sum(gaps))


def test_retry_after_seconds_and_http_date_are_honoured() -> None:
    clock_holder: list[VirtualClock] = []

    def dated(request: httpx.Request) -> httpx.Response:
        when = datetime.fromtimestamp(clock_holder[0].now() + 5, UTC)
        return err(429, "Rate limit exceeded", {"Retry-After": format_datetime(when, usegmt=True)})

    client, script, clock = make(
        [err(429, "Rate limit exceeded", {"Retry-After": "3"}), dated, ok(ACCOUNT)]
    )
    clock_holder.append(clock)
    client.get_account("a@x.io")
    assert script.times[1] - script.times[0] == pytest.approx(3.0)
    assert script.times[2] - script.times[1] == pytest.approx(5.0, abs=1.0)


def test_429_on_a_post_is_retried_because_it_was_refused() -> None:
    client, script, _ = make([err(429, "Rate limit exceeded"), ok(JOB)])
    assert client.disable_warmup(["a@x.io"]).id == JOB["id"]
    assert [r.method for r in script.requests] == ["POST", "POST"]


def test_429_storm_ends_in_a_rate_limit_error_after_max_retries() -> None:
    client, script, _ = make([err(429, "Rate limit exceeded")] * 3, max_retries=2)
    with pytest.raises(RateLimitError):
        client.get_account("a@x.io")
    assert len(script.requests) == 3


def test_an_unreasonable_retry_after_is_surfaced_not_waited_out() -> None:
    client, script, clock = make([err(429, "slow down", {"Retry-After": "86400"})])
    start = clock.now()
    with pytest.raises(RateLimitError) as info:
        client.get_account("a@x.io")
    assert info.value.retry_after == 86400
    assert clock.now() == start and len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "cls"), [(400, BadRequestError), (401, AuthenticationError), (404, NotFoundError)]
)
def test_client_errors_are_not_retried(status: int, cls: type[Exception]) -> None:
    client, script, _ = make([err(status, "nope")])
    with pytest.raises(cls) as info:
        client.get_account("a@x.io")
    assert len(script.requests) == 1
    assert "GET /api/v2/accounts/a%40x.io" in str(info.value)


def test_5xx_and_read_timeouts_are_retried_for_get() -> None:
    client, script, _ = make([err(503, "busy"), httpx.ReadTimeout("slow"), ok(ACCOUNT)])
    assert client.get_account("a@x.io") == ACCOUNT
    assert len(script.requests) == 3


def test_get_timeouts_end_in_request_timeout() -> None:
    client, script, _ = make([httpx.ReadTimeout("slow")] * 3, max_retries=2)
    with pytest.raises(RequestTimeout) as info:
        client.get_account("a@x.io")
    assert isinstance(info.value, TimeoutError)
    assert len(script.requests) == 3


def test_connect_errors_are_retried_for_any_method() -> None:
    client, script, _ = make([httpx.ConnectError("refused"), ok(JOB)])
    client.disable_warmup(["a@x.io"])
    assert len(script.requests) == 2
    client2, _, _ = make([httpx.ConnectError("refused")] * 2, max_retries=1)
    with pytest.raises(ConnectionFailed):
        client2.get_account("a@x.io")


@pytest.mark.parametrize(
    "answer", [httpx.ReadTimeout("lost"), httpx.ReadError("reset"), err(502, "bad gateway")]
)
def test_a_warmup_post_whose_answer_is_lost_is_uncertain_and_never_resent(answer: Step) -> None:
    client, script, clock = make([answer])
    with pytest.raises(UncertainSubmitError) as info:
        client.disable_warmup(["a@x.io"])
    assert len(script.requests) == 1
    assert info.value.body == {"emails": ["a@x.io"]}
    assert info.value.sent_at == clock.now()


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.disable_warmup([f"u{i}@x.io" for i in range(101)]),
        lambda c: c.disable_warmup(["a@x.io", "A@x.io"]),
        lambda c: c.enable_warmup("a@x.io"),
        lambda c: c.disable_warmup(include_all_emails=True, filter="ACC_FILTER_BOGUS"),
        lambda c: c.disable_warmup(include_all_emails=True,
                                   excluded_emails=[f"u{i}@x.io" for i in range(101)]),
        lambda c: list(c.list_accounts(filter="ACC_FILTER_BOGUS")),
        lambda c: list(c.list_accounts(tag="Client A")),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_before_anything_is_sent(
    call: Callable[[Instantly], object],
) -> None:
    client, script, _ = make([])
    with pytest.raises(RequestValidationError):
        call(client)
    assert script.requests == []


# --- pagination -------------------------------------------------------------------------------


def test_pagination_through_three_pages_and_the_empty_last_page() -> None:
    cursors = ["2026-01-03T00:00:00.000Z&c@x.io", "2026-01-02T00:00:00.000Z&f@x.io",
               "2026-01-01T00:00:00.000Z&g@x.io"]  # fmt: skip
    pages = [
        ok({"items": [{"email": e} for e in "abc"], "next_starting_after": cursors[0]}),
        ok({"items": [{"email": e} for e in "def"], "next_starting_after": cursors[1]}),
        ok({"items": [{"email": "g"}], "next_starting_after": cursors[2]}),
        ok({"items": []}),
    ]
    client, script, _ = make(pages)
    emails = [a["email"] for a in client.list_accounts(status=1, tag_ids=["t1", "t2"])]
    assert emails == list("abcdefg")
    assert len(script.requests) == 4
    first = script.requests[0].url
    assert first.params["limit"] == "100" and first.params["tag_ids"] == "t1,t2"
    assert "starting_after" not in first.params
    for request, cursor in zip(script.requests[1:], cursors, strict=True):
        assert request.url.params["starting_after"] == cursor
        # The cursor's "&" must travel encoded, or the server sees a new parameter.
        assert b"%26" in request.url.raw_path
        assert request.url.params["status"] == "1"


def test_account_pages_are_requested_one_at_a_time() -> None:
    pages = [
        ok({"items": [{"email": e} for e in "ab"], "next_starting_after": "t&b"}),
        ok({"items": [{"email": "c"}], "next_starting_after": "t&c"}),
        ok({"items": []}),
    ]
    client, script, _ = make(pages)
    it = client.list_account_pages(filter="ACC_FILTER_W_PAUSED")
    assert [a["email"] for a in next(it)] == ["a", "b"]
    assert len(script.requests) == 1  # the next page waits until it is asked for
    assert [a["email"] for a in next(it)] == ["c"]
    assert len(script.requests) == 2
    assert [list(page) for page in it] == [[]]
    assert script.requests[1].url.params["filter"] == "ACC_FILTER_W_PAUSED"
    assert script.requests[1].url.params["starting_after"] == "t&b"


def test_pagination_stops_when_the_cursor_is_missing() -> None:
    client, script, _ = make([ok({"items": [{"id": "t1"}]})])
    assert list(client.list_tags()) == [{"id": "t1"}]
    assert len(script.requests) == 1


def test_list_jobs_decodes_jobs_and_joins_statuses() -> None:
    client, script, _ = make([ok({"items": [JOB], "next_starting_after": JOB["id"]}),
                              ok({"items": []})])  # fmt: skip
    jobs = list(client.list_jobs(type="update-warmup-accounts", status=["pending", "in-progress"]))
    assert [j.id for j in jobs] == [JOB["id"]]
    assert script.requests[0].url.params["status"] == "pending,in-progress"


def test_abandoning_an_iterator_early_is_clean() -> None:
    client, script, _ = make([ok({"items": [{"email": "a"}, {"email": "b"}],
                                  "next_starting_after": "c"})])  # fmt: skip
    it = client.list_accounts()
    assert next(it) == {"email": "a"}
    it.close()
    client.close()
    assert len(script.requests) == 1


# --- rate budget ------------------------------------------------------------------------------


def test_the_rate_budget_is_never_exceeded() -> None:
    page = {"items": [{"email": "a"}], "next_starting_after": "c"}
    client, script, _ = make([ok(page)] * 130, rate=RateLimit(per_second=5, per_minute=40))
    for _ in range(130):
        client.request("GET", "/api/v2/accounts")
    stamps = script.times
    for i, t in enumerate(stamps):
        assert sum(1 for u in stamps[i:] if u - t < 1.0) <= 5
        assert sum(1 for u in stamps[i:] if u - t < 60.0) <= 40
    assert stamps[-1] - stamps[0] > 120  # 130 requests at 40/min take over two minutes


# --- jobs -------------------------------------------------------------------------------------


def test_wait_job_polls_through_unknown_statuses_until_terminal() -> None:
    steps = [job("pending"), job("in-progress", 20), job("verifying", 60), job("success", 100)]
    client, script, _ = make(steps)
    seen: list[str] = []
    done = client.wait_job(JOB["id"], on_update=lambda j: seen.append(j.status.value))
    assert done.status == "success"
    assert seen == ["pending", "in-progress", "verifying", "success"]
    assert all(r.url.path == f"/api/v2/background-jobs/{JOB['id']}" for r in script.requests)


def test_wait_job_raises_on_failure_unless_asked_not_to() -> None:
    client, _, _ = make([job("failed", 40)])
    with pytest.raises(JobFailedError) as info:
        client.wait_job(JOB["id"])
    assert info.value.job.progress == 40
    client2, _, _ = make([job("cancelled", 40)])
    assert client2.wait_job(JOB["id"], raise_on_failure=False).status == "cancelled"


def test_wait_job_deadline_is_a_timeout_error() -> None:
    client, script, clock = make([job("paused")] * 50)
    start = clock.now()
    with pytest.raises(JobTimeoutError) as info:
        client.wait_job(JOB["id"], timeout=10)
    assert isinstance(info.value, TimeoutError)
    assert clock.now() - start == pytest.approx(10, abs=0.01)
    assert len(script.requests) < 20  # backed off to MAX_POLL, not hammering


def test_get_job_sends_data_fields() -> None:
    client, script, _ = make([job("success", 100)])
    client.get_job(JOB["id"], data_fields=["success_count", "failed_count"])
    assert script.requests[0].url.params["data_fields"] == "success_count,failed_count"


# --- configuration and secrets ----------------------------------------------------------------


def test_missing_key_and_insecure_url_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="INSTANTLY_API_KEY"):
        Instantly()
    with pytest.raises(ConfigurationError, match="unencrypted"):
        Instantly(KEY, base_url="http://api.instantly.ai")
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY)
    assert Instantly().base_url == "https://api.instantly.ai"


def test_requests_carry_the_key_and_user_agent() -> None:
    client, script, _ = make([ok(ACCOUNT)])
    client.get_account("a@x.io")
    headers = script.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["user-agent"].startswith("instantly-nb/")


def test_the_key_never_appears_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, _, _ = make([err(429, "x")] * 2 + [err(401, "Invalid API key"), httpx.ReadTimeout("t")],
                        max_retries=2)  # fmt: skip
    texts = _printable(client)
    with pytest.raises(AuthenticationError) as e1:
        client.get_account("a@x.io")
    with pytest.raises(UncertainSubmitError) as e2:
        client.disable_warmup(["a@x.io"])
    texts += _printable(client)  # again, now that it has sent requests with the key
    texts += [str(e1.value), repr(e1.value), str(e2.value), repr(e2.value), caplog.text]
    texts += [repr(vars(e1.value)), repr(vars(e2.value))]
    assert caplog.records  # something was logged, and none of it is the key
    for text in texts:
        assert KEY not in text


def _printable(client: Instantly) -> list[str]:
    """What a user can print of a client without naming a private attribute.

    Its repr and str, its public properties, and the repr of every value ``vars()`` reaches
    three levels down (the settings, the async client and its HTTP client among them).
    """
    public = [client.base_url, client.name, client.clock, client.rate]
    texts = [repr(client), str(client), *map(repr, public), *map(str, public)]
    objects: list[Any] = [client]
    for _ in range(3):
        values = [v for o in objects if hasattr(o, "__dict__") for v in vars(o).values()]
        texts += [repr(v) for v in values]
        objects = values
    return texts


# --- sync and async ---------------------------------------------------------------------------


def test_async_client_runs_the_same_stories() -> None:
    clock = VirtualClock()
    script = Script(clock, [err(429, "x"), ok({"items": [ACCOUNT], "next_starting_after": "c"}),
                            ok({"items": []})])  # fmt: skip

    async def main() -> list[dict[str, Any]]:
        async with AsyncInstantly(KEY, transport=httpx.MockTransport(script), clock=clock) as c:
            return [a async for a in c.list_accounts()]

    assert asyncio.run(main()) == [ACCOUNT]
    assert len(script.requests) == 3
