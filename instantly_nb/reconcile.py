"""Finding the job a warmup POST created when its answer was lost.

Instantly has no idempotency keys (docs/instantly-api.md §2.2): a POST whose answer is lost may
or may not have made a job, and sending it again may make a second one. So the runner never
resends blindly. Before its first submit it notes the newest warmup job (the *fence*); a lost
answer is then looked for among the jobs listed newer than the fence, echoing the same body
(§4.1). Only the server's order is trusted, never a clock: the client's clock may be minutes off
the server's. A POST can also arrive late, so the search goes on for ``RECONCILE_GRACE``
seconds; a job that has still not appeared is reported as uncertain, never resent on a guess.

The same order tells which jobs of others ran between two of the plan's own (``others_before``).
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import aclosing

from . import _constants as C
from ._warmup import WarmupRequest
from .client import AsyncInstantly
from .journal import Journal
from .models import Job

__all__ = ["Reconciler"]


class Reconciler:
    """The fence of one run, and the search for jobs behind lost answers."""

    def __init__(self, client: AsyncInstantly, journal: Journal) -> None:
        self.client, self.journal = client, journal
        self.fence: str | None = None
        self.fenced = False

    async def take_fence(self) -> None:
        """Note the newest warmup job before the plan's first submit, once, in the journal.

        A lost submit is then never matched to an older job with the same body (the same plan
        run and undone minutes ago): only jobs listed before the fence can be this plan's.
        """
        if self.fenced:
            return
        newest_first = self.client.list_jobs(type="update-warmup-accounts", limit=1)
        async with aclosing(newest_first) as jobs:
            newest = await anext(jobs, None)
        self.fence, self.fenced = (newest.id if newest is not None else None), True
        self.journal.fence(self.fence)

    async def find(self, request: WarmupRequest, taken: Collection[str]) -> str | None:
        """A job newer than the fence that echoes ``request`` and is not one of ``taken``."""
        async with aclosing(self.client.list_jobs(type="update-warmup-accounts")) as jobs:
            async for job in jobs:
                if self.fenced and job.id == self.fence:
                    return None  # it and every job listed after it predate this plan
                if job.id not in taken and request.matches_job(job):
                    return job.id
        return None

    async def wait_for(
        self, request: WarmupRequest, taken: Collection[str], waited: float = 0.0
    ) -> str | None:
        """``find`` until the job appears or ``RECONCILE_GRACE`` seconds have passed in all.

        ``waited`` is how long ago the request was sent (a resumed run has waited already).
        """
        clock = self.client.clock
        deadline = clock.now() + max(0.0, C.RECONCILE_GRACE - waited)
        while True:
            found = await self.find(request, taken)
            if found is not None or clock.now() >= deadline:
                return found
            await clock.sleep(min(C.MAX_POLL, deadline - clock.now()))

    async def others_before(self, job_id: str, ours: Collection[str]) -> list[Job]:
        """The warmup jobs listed just before ``job_id``, newest first, back to the latest of
        ``ours`` (this plan's earlier jobs) or the fence: jobs of others, made since this plan's
        previous job (or its start), that may have run before ``job_id`` started."""
        found: list[Job] = []
        reached = False
        async with aclosing(self.client.list_jobs(type="update-warmup-accounts")) as jobs:
            async for job in jobs:
                if job.id == job_id:
                    reached = True
                elif job.id in ours or (self.fenced and job.id == self.fence):
                    break  # this plan's previous job or the fence: older ones ran before
                elif reached:
                    found.append(job)
        return found
