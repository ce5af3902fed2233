"""The verbs of ``instantly_nb`` for async code: ``await aio.read_accounts(client)``.

Each takes an ``AsyncInstantly`` (or an ``Instantly``, on the running loop) and has the
signature and meaning of its blocking namesake in ``instantly_nb``, which runs it.
"""

from .client import AsyncInstantly
from .frames import aread_accounts as read_accounts
from .frames import aread_jobs as read_jobs
from .frames import aread_tags as read_tags
from .health import aread_warmup_health as read_warmup_health
from .planner import aplan as plan
from .planner import aplan_disable as plan_disable
from .planner import aplan_enable as plan_enable
from .undo import aresume as resume
from .undo import aundo as undo

__all__ = [
    "AsyncInstantly",
    "plan",
    "plan_disable",
    "plan_enable",
    "read_accounts",
    "read_jobs",
    "read_tags",
    "read_warmup_health",
    "resume",
    "undo",
]
