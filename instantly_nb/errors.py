"""Every error instantly_nb raises, under one base class.

    InstantlyError
    ├── ConfigurationError (ValueError) ......... no API key, an insecure base URL, bad settings
    ├── RequestValidationError (ValueError) ..... a request or target refused before sending
    ├── ConfirmationRequired .................... a plan too large to run without confirm=
    ├── PlanStaleError .......................... the workspace changed since the plan was previewed
    ├── PaginationError ......................... a listing that would loop forever or end early
    ├── TransportError .......................... no HTTP answer at all
    │   ├── ConnectionFailed (ConnectionError) .. could not connect; the request never left
    │   ├── RequestTimeout (TimeoutError) ....... a read-only request timed out after its retries
    │   └── UncertainSubmitError ................ a warmup POST left; its answer was lost or garbled
    ├── APIStatusError .......................... Instantly answered with an error status
    │   ├── BadRequestError ..................... 400
    │   ├── AuthenticationError ................. 401
    │   ├── PaymentRequiredError ................ 402
    │   ├── PermissionDeniedError ............... 403
    │   ├── NotFoundError ....................... 404
    │   ├── ConflictError ....................... 409 ("update-warmup-accounts job in progress")
    │   ├── RateLimitError ...................... 429
    │   └── ServerError ......................... 5xx
    │       └── InvalidResponseError ............ a 2xx whose body is not the JSON the call needs
    └── JobError ................................ a background job did not end well
        ├── JobFailedError ...................... the job ended failed or cancelled
        └── JobTimeoutError (TimeoutError) ...... the job was not terminal before the deadline

Every error that concerns a request names its method and path, never headers, and any server text
it quotes has the API key replaced by ``<hidden>`` (``_core.error_from_response``): the key cannot
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
    "InvalidResponseError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PaginationError",
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
    accounts whose request was not sent as ``not_submitted``, so what already changed is not
    lost. Make a new plan for the rest.
    """

    results: Any = None


class PaginationError(InstantlyError):
    """A listing cannot be followed to its end (docs/instantly-api.md §2.3).

    A cursor came back that this listing already followed (it would loop forever), or a full
    page came without a cursor on an endpoint whose cursor cannot be derived from its items (the
    listing may be incomplete). ``path`` is the listing's path.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


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
    """A warmup POST left but its answer was lost (timeout, dropped connection, 5xx, or a 2xx
    whose body is not a job: cut short, an HTML page, no ``id``).

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
        self.status_code = status_code
        self.message = message
        self.method = method
        self.path = path
        super().__init__(f"{status_code} {message} ({method} {path}){self._advice()}")

    def _advice(self) -> str:
        """What to do about it, appended to the text; subclasses that know say so."""
        return ""


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
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, method=method, path=path)

    def _advice(self) -> str:
        # §2.4: a 429 refuses the request, so even a warmup POST created nothing: the same
        # request can simply be sent again, and the user needs to know when.
        if self.retry_after is None:
            return ": the workspace's shared rate limit is busy; try again in a minute"
        return (
            f": Instantly asks to wait {_duration(self.retry_after)} before trying again "
            "(a 429 is a refusal: nothing was created)"
        )


class ServerError(APIStatusError):
    """5xx: Instantly failed; read-only requests were retried first."""


class InvalidResponseError(ServerError):
    """A 2xx answer whose body is not the JSON the call needs: cut short, an HTML page from a
    proxy, or the wrong shape (a page that is not an object, a job without an id).

    Treated like a 5xx (docs/instantly-api.md §2.2): a GET is retried first. A warmup POST is
    never resent; its odd answer raises ``UncertainSubmitError`` instead, as a job may exist.
    The message describes the body without quoting it.
    """


class JobError(InstantlyError):
    """A background job did not end well."""

    def __init__(self, message: str, *, job: Job) -> None:
        super().__init__(message)
        self.job = job


class JobFailedError(JobError):
    """The job ended ``failed`` or ``cancelled``."""


class JobTimeoutError(JobError, TimeoutError):
    """The job was still running when the deadline passed; it may still finish."""


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
