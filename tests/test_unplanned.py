"""Nothing unreported: what a server-side job changes outside the preview is in the results.

The warmup endpoint's reading of ``search``, ``filter.tag_id`` and ``filter.filter`` is not
documented (docs/instantly-api.md §5.4). The emulator can read each one more widely than the
list endpoint (``drop``: ignored; ``broaden``: a looser match); under every reading each
account the run changed is in the results exactly once, the run stops after the job that
overreached, and undo puts every account back.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from helpers import assert_results_match_the_workspace, states, warmup_jobs, workspace

from instantly_nb.planner import plan_disable
from instantly_nb.targets import Selection
from instantly_nb.undo import undo

READINGS = [
    ("search", "drop", "domain"),
    ("search", "broaden", "letter"),
    ("tag_id", "drop", "tag"),
    ("tag_id", "broaden", "tag"),
    ("filter", "drop", "errors"),
    ("filter", "broaden", "errors"),
]


def _selection(client: Any, kind: str) -> Selection:
    """A selection of a few active accounts of this workspace, by ``kind``."""
    active = [a for a in client.emulator.accounts() if a["warmup_status"] == 1]
    if kind == "domain":
        domains = Counter(str(a["email"]).split("@")[1] for a in active)
        return Selection(search=domains.most_common(1)[0][0])
    if kind == "letter":  # most emails hold an "e"; a wider search also reads names
        return Selection(search="e")
    if kind == "tag":
        return Selection(tag="Client A")
    return Selection(filter="ACC_FILTER_W_ERROR" if kind == "errors" else "ACC_FILTER_W_ACTIVE")


def _changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {e for e in before if before[e] != after.get(e)}


@pytest.mark.parametrize(("field", "reading", "kind"), READINGS)
def test_every_account_a_wider_reading_changes_is_reported_and_undone(
    field: str, reading: str, kind: str
) -> None:
    client = workspace(2000, warmup_selection={field: reading})
    before = states(client)
    plan = plan_disable(client, _selection(client, kind))
    assert any(body.get("include_all_emails") for body in plan.requests)
    results = plan.execute(confirm=plan.fingerprint, progress=False)
    changed = _changed(before, states(client))
    assert len(results) == len(set(results["email"].str.lower()))  # each email once
    reported = results[results["outcome"].isin(["changed", "unplanned"])]
    assert {e.lower() for e in reported["email"]} == {e.lower() for e in changed}
    unplanned = results[results["outcome"] == "unplanned"]
    assert len(unplanned) > 0, "this reading must overreach on this workspace"
    assert unplanned["job_id"].notna().all()
    assert (unplanned["before"].astype(int) == [before[e] for e in unplanned["email"]]).all()
    assert "outside the preview" in results.attrs["instantly_nb"]["ended"]
    assert len(warmup_jobs(client)) == 1  # nothing further was sent
    assert_results_match_the_workspace(client, results)
    back = undo(client, results)
    back.execute(confirm=back.fingerprint, progress=False)
    now = states(client)
    # Warmup errors cannot be put back by any request; every other account is as it was.
    assert {e: s for e, s in now.items() if before[e] >= 0} == {
        e: s for e, s in before.items() if s >= 0
    }


def test_the_list_reading_changes_exactly_the_preview() -> None:
    client = workspace(2000)
    plan = plan_disable(client, _selection(client, "domain"))
    assert any(body.get("include_all_emails") for body in plan.requests)
    results = plan.execute(confirm=plan.fingerprint, progress=False)
    assert "unplanned" not in set(results["outcome"])
    assert results.attrs["instantly_nb"]["ended"] == ""


def test_an_email_list_is_sent_as_lists_of_emails_unless_asked() -> None:
    client = workspace(400, warmup_selection={"search": "drop"})
    everyone = [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1]
    plan = plan_disable(client, everyone[5:])  # "all active but five": a server-side cover
    assert all(set(body) == {"emails"} for body in plan.requests)
    cheap = plan_disable(client, everyone[5:], server_side=True)
    assert any(body.get("include_all_emails") for body in cheap.requests)
    assert len(cheap.requests) < len(plan.requests)
    before = states(client)
    results = plan.execute(confirm=plan.fingerprint, progress=False)
    assert set(_changed(before, states(client))) == set(everyone[5:])
    assert Counter(results["outcome"]) == {"changed": len(everyone) - 5}


def test_a_job_that_reports_more_than_it_names_stops_the_run() -> None:
    """Counters beyond the named accounts are reported too, never silent."""
    from instantly_nb.audit import audit_job
    from instantly_nb.models import Job

    plan = plan_disable(workspace(200), Selection(filter="ACC_FILTER_W_ACTIVE"))
    planned = plan.planned[0]
    names = list(planned.accounts)
    job = Job.from_api({"id": "j1", "status": "success", "progress": 100, "data": {
        "total_to_process": len(names) + 7, "success_count": len(names) + 7, "failed_count": 0,
        "processed_emails": [{"email": e, "status": "success"} for e in names]}})  # fmt: skip
    previewed = {e.lower() for e in plan.frame["email"]}
    audit = audit_job(planned, job, previewed, {}, 0)
    assert audit.unexplained == 7 and not audit.clean
    assert "7 more account(s)" in audit.describe()
    exact = Job.from_api({**job.raw, "data": {**job.data, "total_to_process": len(names),
                                              "success_count": len(names)}})  # fmt: skip
    assert audit_job(planned, exact, previewed, {}, 0).clean


def test_accounts_an_overreaching_job_changed_for_later_requests_are_changed_not_unsent() -> None:
    # Issue 13's own case: a list covered server-side (opt-in) while the warmup job drops
    # `search`. The first job reaches every account, those planned for later requests too; those
    # requests are never sent, yet their accounts changed: the results must say so, and undo
    # must put them back.
    client = workspace(2000, warmup_selection={"search": "drop"})
    before = states(client)
    active = sorted(e for e, s in before.items() if s == 1)
    listed = [e for i, e in enumerate(active) if i % 10]  # all active but every tenth
    plan = plan_disable(client, listed, server_side=True)
    assert len(plan.requests) > 1 and plan.requests[0].get("include_all_emails")
    results = plan.execute(confirm=plan.fingerprint, progress=False)
    assert len(warmup_jobs(client)) == 1  # the audit stopped the run after the first job
    changed = _changed(before, states(client))
    by_email = results.set_index(results["email"].str.lower())
    assert set(by_email.index[by_email["outcome"].isin(["changed", "unplanned"])]) == {
        e.lower() for e in changed
    }
    unsent = by_email[by_email["outcome"] == "not_submitted"]
    assert not set(unsent.index) & {e.lower() for e in changed}
    later = by_email.loc[[e.lower() for e in listed if e in changed]]
    assert (later["job_id"] == warmup_jobs(client)[0]["id"]).all()
    assert_results_match_the_workspace(client, results)
    back = undo(client, results)
    back.execute(confirm=back.fingerprint, progress=False)
    now = states(client)  # warmup errors cannot be put back; every other account is as it was
    assert {e: s for e, s in now.items() if before[e] >= 0} == {
        e: s for e, s in before.items() if s >= 0
    }
