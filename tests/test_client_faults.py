"""Client-layer faults from the audit: odd 2xx bodies, Retry-After while polling, a job not yet
visible, pagination that would loop or end early, proxies and echoed keys.

Over httpx.MockTransport in virtual time, except the proxy tests, which need the real network
stack: they serve on loopback and refuse every other connect inside the test, so nothing leaves.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from test_client import ACCOUNT, JOB, KEY, err, job, make, ok

from instantly_nb import Instantly
from instantly_nb import _constants as C
from instantly_nb._core import is_loopback
from instantly_nb.errors import (
    BadRequestError,
    ConnectionFailed,
    InvalidResponseError,
    NotFoundError,
    PaginationError,
    RateLimitError,
    ServerError,
    UncertainSubmitError,
)

HTML = httpx.Response(200, content=b"<html><body>502 Bad Gateway</body></html>")
CUT = httpx.Response(200, content=b'{"email": "a@x.io", "warmup_st')

# --- 1. a 200 whose body is not what the call needs -------------------------------------------


@pytest.mark.parametrize("odd", [HTML, CUT, httpx.Response(200, content=b"")])
def test_an_unreadable_200_on_a_get_is_retried_like_a_5xx(odd: httpx.Response) -> None:
    client, script, _ = make([odd, odd, ok(ACCOUNT)])
    assert client.get_account("a@x.io") == ACCOUNT
    assert len(script.requests) == 3
    gaps = [b - a for a, b in zip(script.times, script.times[1:], strict=False)]
    assert 0.25 <= gaps[0] <= 0.5 and 0.5 <= gaps[1] <= 1.0  # the 5xx backoff


def test_an_unreadable_200_that_persists_is_an_invalid_response_error() -> None:
    client, script, _ = make([HTML] * 3, max_retries=2)
    with pytest.raises(InvalidResponseError) as info:
        client.get_account("a@x.io")
    assert isinstance(info.value, ServerError)  # whoever handles 5xx handles this too
    assert info.value.status_code == 200
    text = str(info.value)
    assert "HTML page, not JSON" in text and "tried 3 time(s)" in text
    assert "GET /api/v2/accounts/a%40x.io" in text
    assert "Bad Gateway" not in text  # described, never dumped
    assert len(script.requests) == 3


def test_a_page_that_is_not_an_object_is_retried() -> None:
    client, script, _ = make(
        [ok([{"id": "t1"}]), ok({"items": "t1"}), ok({"items": [{"id": "t1"}]})]
    )
    assert list(client.list_tags()) == [{"id": "t1"}]
    assert len(script.requests) == 3


def test_a_job_without_an_id_while_polling_is_retried() -> None:
    client, script, _ = make([ok({"status": "pending"}), job("success", 100)])
    assert client.wait_job(JOB["id"]).status == "success"
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "odd",
    [HTML, CUT, httpx.Response(200, content=b""), ok({"status": "pending", "progress": 0}),
     ok([JOB]), httpx.Response(201, content=b"<html></html>")],
    ids=["html", "cut short", "empty", "no id", "an array", "201 html"],
)  # fmt: skip
def test_an_unreadable_answer_to_a_warmup_post_is_uncertain_never_resent(
    odd: httpx.Response,
) -> None:
    client, script, clock = make([odd])
    with pytest.raises(UncertainSubmitError) as info:
        client.disable_warmup(["a@x.io"])
    assert len(script.requests) == 1
    assert info.value.body == {"emails": ["a@x.io"]}
    assert info.value.sent_at == clock.now()
    assert "a job may exist" in str(info.value)
    assert "POST /api/v2/accounts/warmup/disable" in str(info.value)


# --- 2. Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", ["60", "300", "86400"])
def test_a_long_retry_after_does_not_stop_or_stall_the_watch_of_a_job(seconds: str) -> None:
    slow = err(429, "Rate limit exceeded", {"Retry-After": seconds})
    client, script, clock = make([job("pending"), slow, slow, slow, job("success", 100)])
    start = clock.now()
    assert client.wait_job(JOB["id"]).status == "success"
    assert len(script.requests) == 5
    gaps = [b - a for a, b in zip(script.times, script.times[1:], strict=False)]
    assert max(gaps) <= C.MAX_POLL + 1e-9
    assert clock.now() - start < 4 * C.MAX_POLL


def test_a_post_refused_with_a_long_retry_after_says_when_to_try_again() -> None:
    client, script, clock = make([err(429, "Rate limit exceeded", {"Retry-After": "300"})])
    start = clock.now()
    with pytest.raises(RateLimitError) as info:
        client.disable_warmup(["a@x.io"])
    assert info.value.retry_after == 300
    assert "wait 5 min before trying again" in str(info.value)
    assert "nothing was created" in str(info.value)
    assert clock.now() == start and len(script.requests) == 1


# --- 3. a job just created, not visible yet ---------------------------------------------------


def test_a_404_on_a_job_just_created_means_not_visible_yet() -> None:
    client, script, _ = make([err(404, "Not Found"), err(404, "Not Found"), job("success", 100)])
    assert client.wait_job(JOB["id"]).status == "success"
    assert len(script.requests) == 3


def test_a_job_still_unknown_after_the_grace_is_not_found() -> None:
    client, script, clock = make([lambda r: err(404, "Not Found")] * 100)
    start = clock.now()
    with pytest.raises(NotFoundError):
        client.wait_job(JOB["id"])
    waited = clock.now() - start
    assert C.JOB_APPEAR_GRACE <= waited <= C.JOB_APPEAR_GRACE + C.MAX_POLL
    assert len(script.requests) <= 15  # backed off towards MAX_POLL, not hammering


def test_a_404_from_get_job_outside_wait_job_is_raised_at_once() -> None:
    client, script, _ = make([err(404, "Not Found")])
    with pytest.raises(NotFoundError):
        client.get_job(JOB["id"])
    assert len(script.requests) == 1


# --- 4. pagination that would loop or end early -----------------------------------------------


def test_a_cursor_cycle_is_a_pagination_error_not_an_endless_listing() -> None:
    pages = [ok({"items": [{"id": i}], "next_starting_after": c})
             for i, c in [("a", "c1"), ("b", "c2"), ("c", "c1")]]  # fmt: skip
    client, script, _ = make(pages)
    seen: list[str] = []
    with pytest.raises(PaginationError) as info:
        seen.extend(t["id"] for t in client.list_tags())
    assert seen == ["a", "b", "c"]
    assert "GET /api/v2/custom-tags" in str(info.value) and "after 2 cursor(s)" in str(info.value)
    assert info.value.path == "/api/v2/custom-tags"
    assert len(script.requests) == 3


def _account(email: str, day: int) -> dict[str, Any]:
    return {"email": email, "timestamp_created": f"2026-01-{day:02d}T00:00:00.000Z"}


def test_a_full_accounts_page_without_a_cursor_continues_after_its_last_account(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, script, _ = make([ok({"items": [_account("a@x.io", 3), _account("b@x.io", 2)]}),
                              ok({"items": [_account("c@x.io", 1)]})])  # fmt: skip
    emails = [a["email"] for a in client.list_accounts(limit=2)]
    assert emails == ["a@x.io", "b@x.io", "c@x.io"]
    assert script.requests[1].url.params["starting_after"] == "2026-01-02T00:00:00.000Z&b@x.io"
    assert "full page of 2 came without a cursor" in caplog.text


@pytest.mark.parametrize(
    "listing",
    [lambda c: c.list_jobs(limit=2), lambda c: c.list_tags(limit=2),
     lambda c: c.list_accounts(limit=2, sort_by="email")],
    ids=["jobs", "tags", "accounts sorted by email"],
)  # fmt: skip
def test_a_full_page_without_a_cursor_elsewhere_is_a_pagination_error(listing: Any) -> None:
    items = [{**JOB, **_account("a@x.io", 2), "id": "j2"}, {**JOB, **_account("b@x.io", 1)}]
    client, script, _ = make([ok({"items": items})])
    with pytest.raises(PaginationError, match="may be incomplete"):
        list(listing(client))
    assert len(script.requests) == 1


# --- 5. proxies and secrets -------------------------------------------------------------------

PROXY = "http://203.0.113.5:3128"  # TEST-NET-3: documentation only, never routed


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse, inside this test, every connect that does not go to loopback; list them all."""
    tried: list[Any] = []
    connect, connect_ex, create = (
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection
    )  # fmt: skip

    def allowed(sock: socket.socket | None, address: Any) -> bool:
        tried.append(address)
        if sock is not None and sock.family == getattr(socket, "AF_UNIX", None):
            return True
        return isinstance(address, tuple) and is_loopback(str(address[0]))

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if not allowed(self, address):
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"test: no traffic to {address}")
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        return connect_ex(self, address) if allowed(self, address) else errno.ECONNREFUSED

    def guarded_create(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not allowed(None, address):
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"test: no traffic to {address}")
        return create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, PROXY)
        monkeypatch.setenv(name.lower(), PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return tried


class _Workspace(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        body = b'{"id": "w1", "name": "Loopback"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Workspace)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_plain_http_to_loopback_never_goes_through_a_proxy(
    loopback_only: list[Any], loopback_server: ThreadingHTTPServer
) -> None:
    port = loopback_server.server_address[1]
    with Instantly(KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0) as client:
        assert client.get_workspace()["name"] == "Loopback"
    # It reached the loopback server itself; the proxy was never even tried.
    assert loopback_server.seen == [("/api/v2/workspaces/current", f"Bearer {KEY}")]  # type: ignore[attr-defined]
    assert loopback_only and all(is_loopback(str(a[0])) for a in loopback_only)


def test_https_still_honours_the_environment_proxy(loopback_only: list[Any]) -> None:
    with Instantly(KEY, max_retries=0) as client, pytest.raises(ConnectionFailed):
        client.get_workspace()
    # The one connect attempted was to the proxy (refused here): corporate proxies keep working.
    assert loopback_only == [("203.0.113.5", 3128)]


@pytest.mark.parametrize(
    ("status", "cls"), [(400, BadRequestError), (500, ServerError), (502, ServerError)]
)
def test_an_error_body_quoting_the_key_does_not_carry_it_into_the_exception(
    status: int, cls: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = err(status, f"invalid request with Authorization: Bearer {KEY}")
    client, _, _ = make([echo] * 2, max_retries=1)
    with pytest.raises(cls) as info:
        client.get_account("a@x.io")
    exc: Any = info.value
    for text in (str(exc), repr(exc), exc.message, repr(vars(exc)), caplog.text):
        assert KEY not in text
    assert "Bearer <hidden>" in exc.message


def test_a_plain_text_error_quoting_the_key_is_redacted_too() -> None:
    client, _, _ = make([httpx.Response(401, content=f"bad key {KEY}".encode())])
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class is not the point here
        client.get_workspace()
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert "bad key <hidden>" in str(info.value)
