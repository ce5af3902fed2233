"""instantly_nb: bulk warmup enable/disable for Instantly.ai sending accounts, from Jupyter.

    client = instantly_nb.demo()                     # or instantly_nb.Instantly() with a key
    accounts = instantly_nb.read_accounts(client, filter="ACC_FILTER_W_ERROR")
    plan = instantly_nb.plan_disable(client, accounts)
    results = plan.execute()

Many workspaces (an agency's clients) are one target for the same verbs:
``fleet = instantly_nb.Workspaces.from_admin_key(key)`` (or ``Workspaces({name: client})``),
then ``read_accounts(fleet)``, ``plan_disable(fleet, ...)``: frames gain a ``workspace`` column.

More lives in submodules, each imported on request: ``instantly_nb.widgets`` (the panel and
progress bars), ``instantly_nb.aio`` (the same verbs for async code), ``instantly_nb.errors``
(every exception), ``instantly_nb.models`` (Instantly's codes and ``Job``),
``instantly_nb.testing`` (clocks and demo helpers, for tests) and ``instantly_nb.emulator``.
"""

from ._budget import RateLimit
from ._constants import VERSION as __version__
from ._demo import DemoInstantly, demo
from .client import AsyncInstantly
from .errors import ConfirmationRequired, InstantlyError, PlanStaleError, RequestValidationError
from .events import RunEvent
from .frames import read_accounts, read_jobs, read_tags
from .health import read_warmup_health
from .journal import Journal
from .plan import Plan
from .planner import plan_disable, plan_enable
from .sync_client import Instantly
from .targets import Selection, read_emails
from .undo import resume, undo
from .workspaces import Workspaces

__all__ = [
    "AsyncInstantly",
    "ConfirmationRequired",
    "DemoInstantly",
    "Instantly",
    "InstantlyError",
    "Journal",
    "Plan",
    "PlanStaleError",
    "RateLimit",
    "RequestValidationError",
    "RunEvent",
    "Selection",
    "Workspaces",
    "__version__",
    "demo",
    "plan_disable",
    "plan_enable",
    "read_accounts",
    "read_emails",
    "read_jobs",
    "read_tags",
    "read_warmup_health",
    "resume",
    "undo",
]
