"""Changing an emulated workspace behind a client's back: the helpers tests use.

Each takes the emulator's lock and first applies elapsed job time, like a request would.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .._clock import Clock
from .accounts_api import account_view
from .generate import new_uuid
from .isotime import iso, to_ms
from .workspace import AccountRecord, GroupMember, Tag, Workspace, ordered

__all__ = ["GROUP_STATUSES", "WorkspaceEdits"]

GROUP_STATUSES = ("pending", "accepted", "rejected")  # WorkspaceGroupMember.status


class WorkspaceEdits:
    """Mixed into ``Emulator``: set states, add, remove and tag accounts."""

    _ws: Workspace
    _clock: Clock
    _rng: random.Random
    _lock: threading.Lock

    def _now(self) -> float:
        now = self._clock.now()
        self._ws.advance(now)
        return now

    def _record(self, email: str) -> AccountRecord:
        record = self._ws.find(email)
        if record is None:
            raise KeyError(f"no account {email!r} in the emulated workspace")
        return record

    def _touch(self, record: AccountRecord, **fields: Any) -> None:
        for key, value in fields.items():
            if value is None:
                record.data.pop(key, None)
            else:
                record.data[key] = value
        record.data["timestamp_updated"] = iso(to_ms(self._clock.now()))
        record.data = ordered(record.data)

    def set_warmup_status(self, email: str, code: int) -> None:
        """Set an account's ``warmup_status`` (0, 1, or a negative error code)."""
        with self._lock:
            now = self._now()
            record = self._record(email)
            record.set_warmup(int(code), to_ms(now))
            self._touch(record)

    def set_status(
        self, email: str, code: int, status_message: Mapping[str, Any] | None = None
    ) -> None:
        """Set an account's ``status``; ``status_message`` is kept only for error codes (< 0)."""
        with self._lock:
            self._now()
            message = dict(status_message) if status_message is not None and code < 0 else None
            self._touch(self._record(email), status=int(code), status_message=message)

    def add_account(self, email: str, *, tags: Iterable[str] = (), **fields: Any) -> dict[str, Any]:
        """Add an account created now; ``fields`` set Account fields, ``tags`` are labels or ids.

        Defaults: a Google account, active, warmup active, score 0.
        """
        with self._lock:
            now = self._now()
            ms = to_ms(now)
            local = email.split("@")[0]
            data = {
                "email": email,
                "timestamp_created": iso(ms),
                "timestamp_updated": iso(ms),
                "first_name": local.split(".")[0].capitalize(),
                "last_name": "",
                "warmup": {"limit": 20},
                "daily_limit": 30,
                "organization": self._ws.id,
                "warmup_status": 1,
                "provider_code": 2,
                "setup_pending": False,
                "is_managed_account": False,
                "status": 1,
                "stat_warmup_score": 0,
            }
            data.update(fields)
            record = AccountRecord(ordered(data), ms)
            self._ws.add(record)
            for tag in tags:
                self._assign(record, tag, ms)
            return copy.deepcopy(account_view(record, self._ws))

    def remove_account(self, email: str) -> bool:
        """Delete an account (and its tag mappings); False when there was none."""
        with self._lock:
            self._now()
            return self._ws.remove(email) is not None

    def tag_account(self, email: str, tag: str) -> None:
        """Assign a tag (by label or id) to an account."""
        with self._lock:
            now = self._now()
            self._assign(self._record(email), tag, to_ms(now))

    def untag_account(self, email: str, tag: str) -> None:
        with self._lock:
            self._now()
            self._ws.unassign(self._record(email), self._tag(tag))

    def set_group_member(
        self, sub_workspace_id: str, name: str | None, status: str = "accepted"
    ) -> None:
        """Add a sub-workspace to this (admin) workspace's group, or set its name and status
        (``pending``, ``accepted`` or ``rejected``)."""
        if status not in GROUP_STATUSES:
            raise ValueError(f"status must be one of {GROUP_STATUSES}, not {status!r}")
        with self._lock:
            ms = to_ms(self._now())
            for member in self._ws.group_members:
                if member.sub_workspace_id == sub_workspace_id:
                    member.sub_workspace_name, member.status = name, status
                    member.updated_ms = ms
                    return
            member = GroupMember(new_uuid(self._rng), sub_workspace_id, name, status, ms, ms)
            self._ws.group_members.append(member)

    def _tag(self, tag: str) -> Tag:
        found = self._ws.tags.get(tag) or self._ws.tag_by_label(tag)
        if found is None:
            raise KeyError(f"no tag {tag!r} in the emulated workspace")
        return found

    def _assign(self, record: AccountRecord, tag: str, ms: int) -> None:
        self._ws.assign(record, self._tag(tag), new_uuid(self._rng), ms)
