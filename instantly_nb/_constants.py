"""Tunables, in one place. Each names the docs/instantly-api.md section that motivates it."""

from __future__ import annotations

VERSION = "0.1.0"
USER_AGENT = f"instantly-nb/{VERSION} (+https://pypi.org/project/instantly-nb/)"

DEFAULT_BASE_URL = "https://api.instantly.ai"
API_PREFIX = "/api/v2"
API_KEY_ENV = "INSTANTLY_API_KEY"
# §12: an admin workspace's key acts on a sub-workspace with this header (not in the OpenAPI
# document; Instantly's starter kit sends it).
AS_WORKSPACE_HEADER = "x-as-workspace"

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 6

# §2.4: the workspace allows 100 req/s and 6,000 req/min, shared by every integration and by v1.
# By default we take a fifth of the minute, so a bulk run never starves the user's other tools,
# but let a short burst use half of the second: a plan's reads are a few dozen pages, and
# spacing them 50 ms apart made planning wait on the budget, not on the server.
DEFAULT_RATE_PER_SECOND = 50
DEFAULT_RATE_PER_MINUTE = 1200
WORKSPACE_RATE_PER_SECOND = 100
WORKSPACE_RATE_PER_MINUTE = 6000
# The server counts requests when they arrive, a few milliseconds after the client admitted them,
# and that delay varies (50 ms seen on loopback for a new connection). The budget's windows are
# kept this much longer than nominal (1.05 s, 63 s), so jitter cannot bunch N+1 arrivals into one.
BUDGET_MARGIN = 0.05

# Backoff for 429/5xx/connect errors: jittered exponential, capped.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# §2.4: a Retry-After longer than this is not waited out silently: the error reaches the caller
# (except while polling a job, where every wait is capped at MAX_POLL instead).
MAX_RETRY_AFTER = 120.0

# §2.3 and §4.1/§5.3: pages and warmup email lists hold at most 100 items.
PAGE_LIMIT = 100
MAX_EMAILS_PER_REQUEST = 100

# Job polling: fast enough to notice a job's end within a fraction of a second, never faster
# than MIN_POLL (budget), never slower than MAX_POLL (so a stuck job is seen to be stuck).
MIN_POLL = 0.1
FIRST_POLL = 0.25
MAX_POLL = 2.0
POLL_GROWTH = 1.5
DEFAULT_JOB_TIMEOUT = 30 * 60.0
# A job just created may not be readable at once (replicas catch up): a 404 this many seconds
# into wait_job means "not visible yet", later it means the job is unknown (§4.4).
JOB_APPEAR_GRACE = 10.0
# §5.5: a 409 warmup lock was seen to last 25+ minutes; back off up to this between tries.
CONFLICT_BACKOFF_CAP = 15.0
# Many workspaces (§12): how many run a plan at once, each still one job at a time. Their requests
# share the admin key's budget by default, so more at once mostly waits on that budget.
FLEET_CONCURRENCY = 10
# Individual GETs beat listing the workspace for a handful of emails (planning and verifying).
SMALL_TARGET = 20
# A warmup POST whose answer was lost may still arrive late: its job is looked for this long
# (seconds since it was sent) before the request is reported as uncertain (reconcile.py).
RECONCILE_GRACE = 60.0
