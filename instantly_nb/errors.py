"""Every error instantly_nb raises, under one base class.

    InstantlyError
    ├── ConfigurationError (ValueError) ......... no API key, an insecure base URL, bad settings
    ├── RequestValidationError (ValueError) ..... a request or target refused before sending
    ├── ConfirmationRequired .................... a plan too large to run without confirm=
    ├── PlanStaleError .......................... the workspace changed since the plan was previewed
    ├── TransportError .......................... no HTTP answer at all
    │   ├── ConnectionFailed (ConnectionError) .. could not connect; the request never left
    │   ├── RequestTimeout (TimeoutError) ....... a read-only request timed out after its retries
    │   └── UncertainSubmitError ................ a warmup POST was sent but its answer was lost
    ├── APIStatusError .......................... Instantly answered with an error status
    │   ├── BadRequestError ..................... 400
    │   ├── AuthenticationError ................. 401
    │   ├── PaymentRequiredError ................ 402
    │   ├── PermissionDeniedError ............... 403
    │   ├── NotFoundError ....................... 404
    │   ├── ConflictError ....................... 409 ("update-warmup-accounts job in progress")
    │   ├── RateLimitError ...................... 429
    │   └── ServerError ......................... 5xx
    └── JobError ................................ a background job did not end well
        ├── JobFailedError ...................... the job ended failed or cancelled
        └── JobTimeoutError (TimeoutError) ...... the job was not terminal before the deadline

Every error that concerns a request names its method and path, never headers: the API key cannot
leak through an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConfirmationRequired",
    "ConflictError",
    "ConnectionFailed",
    "InstantlyError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PlanStaleError",
    "RateLimitError",
    "RequestTimeout",
    "RequestValidationError",
    "ServerError",
    "TransportError",
    "UncertainSubmitError",
]


class InstantlyError(Exception):
    """Base class of every instantly_nb error."""


class ConfigurationError(InstantlyError, ValueError):
    """The client cannot be built as asked (missing key, insecure URL, bad setting)."""


class RequestValidationError(InstantlyError, ValueError):
    """A request or target was refused before anything was sent.

    ``problems`` lists each offending value with the reason, so a notebook can show all at once.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            shown = "\n".join(f"  - {p}" for p in self.problems[:20])
            more = len(self.problems) - 20
            if more > 0:
                shown += f"\n  ... and {more} more"
            message = f"{message}\n{shown}"
        super().__init__(message)


class ConfirmationRequired(InstantlyError):
    """A plan this large needs ``execute(confirm=...)``: its fingerprint or account count."""

    def __init__(self, message: str, *, count: int, fingerprint: str) -> None:
        super().__init__(message)
        self.count = count
        self.fingerprint = fingerprint


class PlanStaleError(InstantlyError):
    """The accounts a server-side selection covers are no longer the ones previewed.

    ``results`` is the run's results frame up to there: the jobs that ran, verified, and the
    requests not sent as ``skipped``, so what already changed is not lost.
    """

    results: Any = None


class TransportError(InstantlyError):
    """No HTTP answer arrived."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(f"{message} ({method} {path})")
        self.method = method
        self.path = path


class ConnectionFailed(TransportError, ConnectionError):
    """Could not connect; the request was never sent, so retrying it is safe."""


class RequestTimeout(TransportError, TimeoutError):
    """A read-only request kept timing out."""


class UncertainSubmitError(TransportError):
    """A warmup POST left but its answer was lost (timeout, dropped connection or 5xx).

    A job may or may not exist. Never resubmit blindly: list recent ``update-warmup-accounts``
    jobs and look for this ``body`` first (the runner does).
    """

    def __init__(
        self, message: str, *, method: str, path: str, body: dict[str, Any], sent_at: float
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.body = body
        self.sent_at = sent_at


class APIStatusError(InstantlyError):
    """Instantly answered with an error status; ``message`` is Instantly's own text."""

    status_code: int = 0

    def __init__(self, message: str, *, status_code: int, method: str, path: str) -> None:
        super().__init__(f"{status_code} {message} ({method} {path})")
        self.status_code = status_code
        self.message = message
        self.method = method
        self.path = path


class BadRequestError(APIStatusError):
    """400: Instantly rejected the request's shape."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PaymentRequiredError(APIStatusError):
    """402: the workspace has no active paid plan."""


class PermissionDeniedError(APIStatusError):
    """403: the API key lacks the scope this endpoint needs."""


class NotFoundError(APIStatusError):
    """404: no such account, job, tag or route."""


class ConflictError(APIStatusError):
    """409: usually another ``update-warmup-accounts`` job is running (docs/instantly-api.md
    §5.5)."""

    @property
    def is_warmup_lock(self) -> bool:
        return "update-warmup-accounts job in progress" in self.message.lower()


class RateLimitError(APIStatusError):
    """429: the workspace's shared rate limit was hit and retries ran out."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        path: str,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, method=method, path=path)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: Instantly failed; read-only requests were retried first."""


class JobError(InstantlyError):
    """A background job did not end well."""

    def __init__(self, message: str, *, job: Job) -> None:
        super().__init__(message)
        self.job = job


class JobFailedError(JobError):
    """The job ended ``failed`` or ``cancelled``."""


class JobTimeoutError(JobError, TimeoutError):
    """The job was still running when the deadline passed; it may still finish."""
