"""Table tests for the pure decisions in _core."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from instantly_nb import _constants as C
from instantly_nb._core import (
    ErrorKind,
    PollSample,
    accounts_cursor,
    backoff_delay,
    build_headers,
    check_base_url,
    classify_exception,
    error_from_response,
    next_cursor,
    next_poll_delay,
    parse_retry_after,
    read_answer,
    resolve_api_key,
    retry_decision,
    retry_delay,
)
from instantly_nb.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InstantlyError,
    NotFoundError,
    PaginationError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

NOW = 1_780_000_000.0


def test_headers_carry_bearer_and_a_user_agent_naming_the_toolkit() -> None:
    headers = build_headers("k-123")
    assert headers["Authorization"] == "Bearer k-123"
    assert headers["User-Agent"].startswith(f"instantly-nb/{C.VERSION}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.instantly.ai", "https://api.instantly.ai"),
        ("https://api.instantly.ai/", "https://api.instantly.ai"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:1/", "http://localhost:1"),
        ("http://[::1]:9", "http://[::1]:9"),
        ("https://proxy.example.com/instantly/", "https://proxy.example.com/instantly"),
    ],
)
def test_base_url_accepted(url: str, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://api.instantly.ai",
        "http://10.0.0.5:8765",
        "ftp://x",
        "api.instantly.ai",
        "https://h/?a=1",
    ],
)
def test_base_url_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        check_base_url(url)


def test_api_key_from_argument_then_environment() -> None:
    assert resolve_api_key(" abc ", {}) == "abc"
    assert resolve_api_key(None, {"INSTANTLY_API_KEY": "env-key"}) == "env-key"
    assert resolve_api_key("arg", {"INSTANTLY_API_KEY": "env-key"}) == "arg"
    with pytest.raises(ConfigurationError, match="INSTANTLY_API_KEY"):
        resolve_api_key(None, {})
    with pytest.raises(ConfigurationError):
        resolve_api_key("   ", {})
    with pytest.raises(ConfigurationError, match="whitespace"):
        resolve_api_key("ab cd", {})


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (400, b'{"statusCode":400,"error":"Bad Request","message":"body/emails must NOT have more than 100 items"}',
         BadRequestError, "body/emails must NOT have more than 100 items"),
        (401, b'{"statusCode":401,"error":"Unauthorized","message":"Invalid API key"}',
         AuthenticationError, "Invalid API key"),
        (402, b'{"statusCode":402,"error":"Payment Required","message":"Workspace does not have an active paid plan"}',
         PaymentRequiredError, "Workspace does not have an active paid plan"),
        (403, b'{"statusCode":403,"error":"Forbidden","message":"Missing scope"}',
         PermissionDeniedError, "Missing scope"),
        # Fastify's own 404 puts "message" first (docs/instantly-api.md §2.2).
        (404, b'{"message":"Route GET:/api/v2/nope not found","error":"Not Found","statusCode":404}',
         NotFoundError, "Route GET:/api/v2/nope not found"),
        (409, b'{"statusCode":409,"error":"Conflict","message":"update-warmup-accounts job in progress"}',
         ConflictError, "update-warmup-accounts job in progress"),
        (429, b'{"statusCode":429,"error":"Too Many Requests","message":"Rate limit exceeded"}',
         RateLimitError, "Rate limit exceeded"),
        (502, b"<html><body>Bad gateway</body></html>", ServerError, "Bad Gateway"),
        (503, b"upstream connect error", ServerError, "upstream connect error"),
        (500, b"", ServerError, "Internal Server Error"),
        (418, b'{"error":"teapot"}', APIStatusError, "teapot"),
    ],
)  # fmt: skip
def test_error_mapping(status: int, body: bytes, cls: type[APIStatusError], message: str) -> None:
    err = error_from_response(status, body, method="POST", path="/api/v2/x", retry_after=None)
    assert type(err) is cls
    assert err.status_code == status
    assert err.message == message
    assert "POST /api/v2/x" in str(err)


def test_conflict_knows_the_warmup_lock() -> None:
    lock = error_from_response(
        409, b'{"message":"Update-warmup-accounts job in progress"}', method="POST", path="/p"
    )
    other = error_from_response(409, b'{"message":"Something else"}', method="POST", path="/p")
    assert isinstance(lock, ConflictError) and lock.is_warmup_lock
    assert isinstance(other, ConflictError) and not other.is_warmup_lock


def test_rate_limit_error_keeps_retry_after() -> None:
    err = error_from_response(429, b"{}", method="GET", path="/p", retry_after=7.0)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7.0


@pytest.mark.parametrize(
    ("retry_after", "said"),
    [(7.0, "wait 7 s before trying again"), (300.0, "wait 5 min before trying again"),
     (86400.0, "wait 24.0 h before trying again"), (None, "try again in a minute")],
)  # fmt: skip
def test_a_rate_limit_error_says_when_to_try_again(retry_after: float | None, said: str) -> None:
    err = error_from_response(
        429, b'{"message":"Rate limit exceeded"}', method="POST", path="/p", retry_after=retry_after
    )
    assert said in str(err)
    assert err.message == "Rate limit exceeded"  # Instantly's own text stays as it was
    if retry_after is not None:
        assert "nothing was created" in str(err)


SECRET = "test-key-core-not-real"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b'{"statusCode":400,"error":"Bad Request","message":"bad key test-key-core-not-real"}'),
        (401, b'{"message":"Invalid API key: Bearer test-key-core-not-real"}'),
        (500, b'{"error":"oops test-key-core-not-real"}'),
        (502, b"proxy refused Authorization: Bearer test-key-core-not-real"),
    ],
)  # fmt: skip
def test_server_text_quoting_the_key_is_redacted(status: int, body: bytes) -> None:
    err = error_from_response(status, body, method="GET", path="/p", secret=SECRET)
    for text in (str(err), repr(err), err.message, repr(vars(err))):
        assert SECRET not in text
    assert "<hidden>" in err.message


@pytest.mark.parametrize(
    ("content", "shape", "body", "problem"),
    [
        (b'{"id":"j1"}', "job", {"id": "j1"}, None),
        (b'{"items":[]}', "page", {"items": []}, None),
        (b"", "any", None, None),
        (b"[1]", "any", [1], None),
        (b'{"items":[{"id":"j', "page", None, "not valid JSON (cut short? 18 bytes)"),
        (b"<html><body>Gateway</body></html>", "object", None, "an HTML page, not JSON"),
        (b"  <!DOCTYPE html>", "any", None, "an HTML page"),
        (b"\xff\xfe\x00", "any", None, "not valid JSON"),
        (b"", "object", None, "expected a JSON object, got nothing"),
        (b"[]", "page", None, "expected a JSON object, got an array"),
        (b'"ok"', "job", None, "expected a JSON object, got a string"),
        (b'{"items":"x"}', "page", None, "whose items is a string"),
        (b"{}", "page", None, "whose items is nothing"),
        (b'{"status":"pending"}', "job", None, "expected a job, got an object without an id"),
        (b'{"id":""}', "job", None, "without an id"),
    ],
)  # fmt: skip
def test_read_answer(content: bytes, shape: str, body: object, problem: str | None) -> None:
    got, why = read_answer(content, shape)  # type: ignore[arg-type]
    assert got == body
    if problem is None:
        assert why is None
    else:
        assert why is not None and problem in why


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("soon", None),
        ("nan", None),
        (format_datetime(datetime.fromtimestamp(NOW + 42, UTC), usegmt=True), 42.0),
        (format_datetime(datetime.fromtimestamp(NOW - 42, UTC), usegmt=True), 0.0),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("idempotent", "status", "error", "expected"),
    [
        (True, 429, None, "retry"),
        (False, 429, None, "retry"),
        (True, 500, None, "retry"),
        (True, 503, None, "retry"),
        (False, 500, None, "uncertain"),
        (False, 502, None, "uncertain"),
        (True, 400, None, "raise"),
        (True, 401, None, "raise"),
        (True, 404, None, "raise"),
        (False, 409, None, "raise"),
        (True, None, ErrorKind.LOST, "retry"),
        (False, None, ErrorKind.LOST, "uncertain"),
        (True, None, ErrorKind.NOT_SENT, "retry"),
        (False, None, ErrorKind.NOT_SENT, "retry"),
    ],
)
def test_retry_decision(
    idempotent: bool, status: int | None, error: ErrorKind | None, expected: str
) -> None:
    assert retry_decision(idempotent=idempotent, status=status, error=error) == expected


def test_an_unreadable_2xx_is_retried_on_a_get_and_uncertain_on_a_post() -> None:
    assert retry_decision(idempotent=True, invalid=True) == "retry"
    assert retry_decision(idempotent=False, invalid=True) == "uncertain"


def test_retry_delay_surfaces_a_long_retry_after_unless_capped_for_polling() -> None:
    assert retry_delay(0, retry_after=C.MAX_RETRY_AFTER) == C.MAX_RETRY_AFTER
    assert retry_delay(0, retry_after=C.MAX_RETRY_AFTER + 1) is None
    # Polling a job: the wait is never longer than the poll interval, whatever is asked.
    assert retry_delay(0, retry_after=300.0, cap=C.MAX_POLL) == C.MAX_POLL
    assert retry_delay(9, cap=C.MAX_POLL) == C.MAX_POLL
    assert retry_delay(0, retry_after=0.5, cap=C.MAX_POLL) == 0.5


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused"), ErrorKind.NOT_SENT),
        (httpx.ConnectTimeout("slow connect"), ErrorKind.NOT_SENT),
        (httpx.PoolTimeout("pool"), ErrorKind.NOT_SENT),
        (httpx.ReadTimeout("slow"), ErrorKind.LOST),
        (httpx.ReadError("reset"), ErrorKind.LOST),
        (httpx.WriteTimeout("half sent"), ErrorKind.LOST),
        (httpx.RemoteProtocolError("closed"), ErrorKind.LOST),
    ],
)
def test_exception_classification(exc: httpx.TransportError, kind: ErrorKind) -> None:
    assert classify_exception(exc) is kind


def test_backoff_is_jittered_exponential_and_capped() -> None:
    rng = random.Random(1)
    for attempt in range(12):
        ceiling = min(C.BACKOFF_CAP, C.BACKOFF_BASE * 2**attempt)
        delays = [backoff_delay(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter: clients that failed together spread out
    assert backoff_delay(0, retry_after=9.0) == 9.0


@pytest.mark.parametrize(
    ("page", "seen", "expected"),
    [
        ({"items": [1], "next_starting_after": "c1"}, set(), "c1"),
        ({"items": [1]}, set(), None),
        ({"items": [1], "next_starting_after": ""}, set(), None),
        # The quirk: a cursor with an empty page still ends the listing.
        ({"items": [], "next_starting_after": "c9"}, {"c8"}, None),
        ({"items": [1], "next_starting_after": "2026-01-01T00:00:00.000Z&a@b.co"}, {"x"},
         "2026-01-01T00:00:00.000Z&a@b.co"),
        # A short page without a cursor is the last one.
        ({"items": [1, 2]}, set(), None),
    ],
)  # fmt: skip
def test_next_cursor(page: dict[str, object], seen: set[str], expected: str | None) -> None:
    assert next_cursor(page, seen, limit=3) == expected


def test_a_repeated_cursor_is_an_error_not_an_endless_loop() -> None:
    with pytest.raises(PaginationError, match="loop forever") as info:
        next_cursor({"items": [1], "next_starting_after": "c1"}, {"c1"}, path="/api/v2/x")
    assert isinstance(info.value, InstantlyError)
    assert info.value.path == "/api/v2/x"


def test_a_cursor_seen_pages_ago_is_a_cycle_too() -> None:
    with pytest.raises(PaginationError, match=r"GET /api/v2/x: the cursor 'c1' came back after 3"):
        next_cursor({"items": [1], "next_starting_after": "c1"}, {"c1", "c2", "c3"},
                    path="/api/v2/x")  # fmt: skip


def test_a_full_page_without_a_cursor_is_not_the_end() -> None:
    full = {"items": [{"id": "a"}, {"id": "b"}]}
    with pytest.raises(PaginationError, match=r"full page of 2 came without a cursor.*incomplete"):
        next_cursor(full, limit=2, path="/api/v2/custom-tags")
    accounts = {"items": [{"email": "a@x.io", "timestamp_created": "2026-01-02T00:00:00.000Z"},
                          {"email": "b@x.io", "timestamp_created": "2026-01-01T00:00:00.000Z"}]}  # fmt: skip
    assert next_cursor(accounts, limit=2, derive=accounts_cursor) == (
        "2026-01-01T00:00:00.000Z&b@x.io"
    )
    # A derived cursor already followed is a cycle like any other.
    with pytest.raises(PaginationError, match="loop forever"):
        next_cursor(accounts, {"2026-01-01T00:00:00.000Z&b@x.io"}, limit=2, derive=accounts_cursor)
    # An item the cursor cannot be made from: the listing may be incomplete.
    with pytest.raises(PaginationError, match="incomplete"):
        next_cursor({"items": [{"email": "a@x.io"}]}, limit=1, derive=accounts_cursor)


def test_poll_without_information_backs_off_from_the_first_delay() -> None:
    delays = []
    samples: list[PollSample] = []
    for i in range(8):
        delays.append(next_poll_delay(samples, now=NOW + i))
        samples.append(PollSample(NOW + i, "pending", 0))
    assert delays[0] == pytest.approx(C.FIRST_POLL)
    assert delays == sorted(delays)
    assert delays[-1] == C.MAX_POLL


def test_poll_aims_just_after_the_end_predicted_from_progress() -> None:
    # 10 %/s: at t=2 the job is at 20 %, so it ends at t=10; capped to MAX_POLL until close.
    samples = [PollSample(NOW + 1, "in-progress", 10), PollSample(NOW + 2, "in-progress", 20)]
    assert next_poll_delay(samples, now=NOW + 2) == C.MAX_POLL
    samples.append(PollSample(NOW + 9.5, "in-progress", 95))
    delay = next_poll_delay(samples, now=NOW + 9.5)
    assert 0.5 <= delay <= 0.5 + C.MIN_POLL


def test_poll_uses_an_expected_end_and_then_short_growing_steps() -> None:
    assert next_poll_delay([], now=NOW, expected_end=NOW + 1.2) == pytest.approx(
        1.2 + C.MIN_POLL / 4
    )
    overdue = [PollSample(NOW + 1.3, "in-progress", 50)]
    first = next_poll_delay(overdue, now=NOW + 1.3, expected_end=NOW + 1.2)
    overdue.append(PollSample(NOW + 1.5, "in-progress", 60))
    second = next_poll_delay(overdue, now=NOW + 1.5, expected_end=NOW + 1.2)
    assert C.MIN_POLL <= first < second <= C.MAX_POLL
