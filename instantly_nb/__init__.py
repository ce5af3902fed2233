"""instantly_nb: bulk warmup enable/disable for Instantly.ai sending accounts, from Jupyter.

    client = instantly_nb.demo()                     # or instantly_nb.Instantly() with a key
    accounts = instantly_nb.read_accounts(client, filter="ACC_FILTER_W_ERROR")
    plan = instantly_nb.plan_disable(client, accounts)
    results = plan.execute()

The widgets live in ``instantly_nb.widgets`` and are imported only when asked for.
"""

from ._budget import RateLimit
from ._clock import SystemClock, VirtualClock
from ._constants import VERSION as __version__
from ._demo import DemoInstantly, demo
from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConfirmationRequired,
    ConflictError,
    ConnectionFailed,
    InstantlyError,
    JobError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    PlanStaleError,
    RateLimitError,
    RequestTimeout,
    RequestValidationError,
    ServerError,
    TransportError,
    UncertainSubmitError,
)
from ._warmup import WarmupRequest
from .client import AsyncInstantly
from .frames import aread_accounts, read_accounts, read_jobs, read_tags
from .journal import Journal
from .models import AccountFilter, AccountStatus, Job, JobStatus, Provider, WarmupStatus
from .plan import Plan, PlanSummary, aplan, plan_disable, plan_enable
from .run import RunEvent
from .sync_client import Instantly
from .targets import Selection, read_emails
from .undo import aresume, aundo, resume, undo

__all__ = [
    "APIStatusError",
    "AccountFilter",
    "AccountStatus",
    "AsyncInstantly",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConfirmationRequired",
    "ConflictError",
    "ConnectionFailed",
    "DemoInstantly",
    "Instantly",
    "InstantlyError",
    "Job",
    "JobError",
    "JobFailedError",
    "JobStatus",
    "JobTimeoutError",
    "Journal",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Plan",
    "PlanStaleError",
    "PlanSummary",
    "Provider",
    "RateLimit",
    "RateLimitError",
    "RequestTimeout",
    "RequestValidationError",
    "RunEvent",
    "Selection",
    "ServerError",
    "SystemClock",
    "TransportError",
    "UncertainSubmitError",
    "VirtualClock",
    "WarmupRequest",
    "WarmupStatus",
    "__version__",
    "aplan",
    "aread_accounts",
    "aresume",
    "aundo",
    "demo",
    "plan_disable",
    "plan_enable",
    "read_accounts",
    "read_emails",
    "read_jobs",
    "read_tags",
    "resume",
    "undo",
]
