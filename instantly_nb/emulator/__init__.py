"""A faithful, stateful fake of an Instantly API v2 workspace, in process and over real HTTP.

    from instantly_nb.emulator import Emulator
    emu = Emulator(accounts=200, seed=0)
    httpx.Client(base_url="https://api.instantly.ai", transport=emu.transport(),
                 headers={"Authorization": f"Bearer {emu.api_key}"})

See ``Emulator`` for the knobs, ``Faults`` (``emu.faults``, faults.py) for fault injection,
``WorkspaceGroup`` for an agency's admin workspace and its client workspaces (group.py), and
``python -m instantly_nb.emulator --help`` to serve it on 127.0.0.1.

Where docs/instantly-api.md has no answer, the emulator decides, and says so where it does it:

* list order ``timestamp_created`` desc with an email tiebreak, default page 10;
  other ``sort_by`` columns page with ``skip`` and carry no cursor (accounts_api.py);
* ``search`` is a case-insensitive substring of the email (selection.py);
* a warmup job's ``include_all_emails`` selection reads ``search``, ``filter.tag_id`` and
  ``filter.filter`` as ``GET /accounts`` reads ``search``, ``tag_ids`` and ``filter``, ANDed,
  minus ``excluded_emails``; ``Emulator(warmup_selection=WarmupReading(...))`` (or a mapping,
  or the settable ``emu.warmup_selection``) makes each field ``"list"`` (that, the default),
  ``"drop"`` (ignored) or ``"broaden"`` (a looser superset: search also in names, tracking
  domain and provider name; any tag at all; each filter ORed with a neighbour, e.g.
  ``W_ACTIVE`` also warmup-paused, ``W_ERROR`` also sending errors); ``excluded_emails``
  exclude under every reading (selection.py);
* a job resolves its targets when it starts, after its queue delay, not when it is created:
  accounts that join, leave or change meanwhile are seen (jobs.py, jobs_api.py);
* emails are looked up exactly, then case-insensitively (workspace.py);
* ``emails`` with ``include_all_emails`` is ignored, ``emails: []`` makes an empty job,
  banned/suspended warmup fails per email (jobs_api.py);
* the workspace id is a UUID drawn from ``seed`` (and ``workspace_name`` when not the default)
  unless ``workspace_id=`` is given, so two emulators are two workspaces (generate.py);
* job step names, a success entry ``{email, status: "success"}`` (jobs.py, workspace.py);
* the 403 / 404 / body-validation messages (handler.py, validate.py).
"""

from __future__ import annotations

from .emulator import Emulator
from .faults import Fault, Faults
from .group import WorkspaceGroup
from .handler import Counts, RequestRecord
from .jobs import JobTiming
from .responses import Response
from .selection import WarmupReading
from .server import RunningServer, serve, start_server
from .transport import EmulatorTransport

__all__ = [
    "Counts",
    "Emulator",
    "EmulatorTransport",
    "Fault",
    "Faults",
    "JobTiming",
    "RequestRecord",
    "Response",
    "RunningServer",
    "WarmupReading",
    "WorkspaceGroup",
    "serve",
    "start_server",
]
