"""The planner against the emulated workspace: targets, fewest jobs, preview == outcome."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest
from helpers import posts, states, workspace

from instantly_nb import ConfirmationRequired, RequestValidationError
from instantly_nb._confirm import CONFIRM_ABOVE, confirm_count
from instantly_nb.frames import read_accounts, read_tags
from instantly_nb.journal import Journal
from instantly_nb.plan import Plan
from instantly_nb.plan_view import cover_sentence, request_lines
from instantly_nb.planner import plan_disable, plan_enable
from instantly_nb.records import PLAN_COLUMNS
from instantly_nb.targets import Selection


@pytest.fixture(scope="module")
def accounts() -> pd.DataFrame:
    return read_accounts(workspace())


def _tag_members(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    return frame[frame["tags"].map(lambda tags: label in tags)]


def _active(frame: pd.DataFrame, n: int) -> list[str]:
    return frame[frame["warmup_status"] == 1]["email"].head(n).tolist()


# --- targets ----------------------------------------------------------------------------------


def test_every_target_kind_reads_the_same_emails(accounts: pd.DataFrame, tmp_path: Path) -> None:
    client = workspace()
    emails = list(accounts["email"].head(30))
    csv_with_header = tmp_path / "with.csv"
    pd.DataFrame({"Email": emails}).to_csv(csv_with_header, index=False)
    csv_bare = tmp_path / "bare.csv"
    csv_bare.write_text("\n".join(emails) + "\n")
    targets = [
        emails,
        pd.Series(emails),
        pd.DataFrame({"EMAIL": emails, "other": 1}),
        pd.DataFrame(index=pd.Index(emails, name="email")),
        csv_with_header,
        str(csv_bare),
    ]
    frames = [plan_disable(client, t).frame for t in targets]
    for frame in frames:
        assert list(frame["email"]) == emails
        pd.testing.assert_frame_equal(frame, frames[0])
    assert posts(client) == []


def test_plan_frame_has_the_documented_columns_and_dtypes(accounts: pd.DataFrame) -> None:
    plan = plan_disable(workspace(), list(accounts["email"].head(5)))
    assert dict(plan.frame.dtypes.astype(str)) == PLAN_COLUMNS


def test_emails_match_case_insensitively_and_send_the_workspace_spelling(
    accounts: pd.DataFrame,
) -> None:
    client = workspace()
    active = accounts[accounts["warmup_status"] == 1]["email"].head(3).tolist()
    given = [e.upper() for e in active] + ["  " + active[0].lower() + " "]
    plan = plan_disable(client, given)
    assert list(plan.frame["email"]) == active  # the duplicate collapsed into the first
    assert plan.requests == [{"emails": active}]


def test_a_case_sensitive_lookup_falls_back_to_search(accounts: pd.DataFrame) -> None:
    client = workspace()
    email = accounts[accounts["warmup_status"] == 1]["email"].iloc[0]
    # Make GET /accounts/{email} answer 404 for the upper-cased spelling, as a case-sensitive
    # server would.
    client.emulator.faults.respond(("GET", f"/api/v2/accounts/{email.upper()}"), 404, times=5)
    plan = plan_disable(client, [email.upper()])
    assert list(plan.frame["email"]) == [email]
    assert plan.requests == [{"emails": [email]}]


def test_skip_and_not_found_rows(accounts: pd.DataFrame) -> None:
    client = workspace()
    paused = accounts[accounts["warmup_status"] == 0]["email"].iloc[0]
    active = accounts[accounts["warmup_status"] == 1]["email"].iloc[0]
    plan = plan_disable(client, [paused, active, "ghost@nowhere-at-all.com"])
    rows = plan.frame.set_index("email")
    assert rows.loc[paused, "action"] == "skip"
    assert rows.loc[paused, "reason"] == "warmup already paused"
    assert rows.loc[active, "action"] == "change"
    assert rows.loc["ghost@nowhere-at-all.com", "action"] == "not_found"
    assert plan.requests == [{"emails": [active]}]
    assert (plan.summary.change, plan.summary.skip, plan.summary.not_found) == (1, 1, 1)


def test_risks_are_noted(accounts: pd.DataFrame) -> None:
    broken = accounts[accounts["warmup_status"] < 0]["email"].head(2).tolist()
    erring = accounts[accounts["status"] < 0]["email"].head(2).tolist()
    plan = plan_disable(workspace(), broken + erring)
    risks = plan.frame.set_index("email")["risk"]
    assert all("warmup in error" in risks[e] for e in broken)
    assert all("account in error" in risks[e] for e in erring)


def test_young_inboxes_are_flagged_when_disabling(accounts: pd.DataFrame) -> None:
    client = workspace()
    now = pd.Timestamp(client.clock.now(), unit="s", tz="UTC")
    started = accounts["warmup_started"]
    young = accounts[(now - started) < pd.Timedelta(days=14)]["email"].head(3).tolist()
    old = accounts[(now - started) > pd.Timedelta(days=30)]["email"].head(3).tolist()
    assert young
    assert old
    risks = plan_disable(client, young + old).frame.set_index("email")["risk"]
    assert all("young inbox" in risks[e] for e in young)
    assert not any("young inbox" in risks[e] for e in old)
    enabling = plan_enable(client, young).frame["risk"]
    assert not enabling.str.contains("young inbox").any()


def test_excluded_emails_are_skipped(accounts: pd.DataFrame) -> None:
    active = accounts[accounts["warmup_status"] == 1]["email"].head(4).tolist()
    plan = plan_disable(workspace(), active, exclude=[active[1].upper()])
    rows = plan.frame.set_index("email")
    assert rows.loc[active[1], "reason"] == "excluded"
    assert plan.requests == [{"emails": [active[0], *active[2:]]}]


# --- fewest jobs ------------------------------------------------------------------------------


def test_all_of_a_tag_given_as_emails_is_one_selection_request(accounts: pd.DataFrame) -> None:
    client = workspace()
    members = _tag_members(accounts, "Client A")
    assert len(members) > 100
    plan = plan_disable(client, members, server_side=True)
    [body] = plan.requests
    assert body["include_all_emails"] is True
    assert set(body["filter"]) == {"tag_id"}
    assert "excluded_emails" not in body
    assert plan.summary.jobs == 1 < plan.summary.chunked_jobs


def test_all_with_warmup_errors_is_one_request_verified_server_side() -> None:
    client = workspace(accounts=3000, seed=3)
    frame = read_accounts(client, filter="ACC_FILTER_W_ERROR")
    assert len(frame) > 100
    plan = plan_disable(client, frame, server_side=True)
    [body] = plan.requests
    assert body["filter"].get("filter") == "ACC_FILTER_W_ERROR" or "tag_id" in body["filter"]
    listed = [
        r for r in client.emulator.log if r.path == "/api/v2/accounts" and "filter=" in r.query
    ]
    assert listed, "an inferred filter must be checked by listing it before use"


def test_all_of_a_tag_but_37_is_one_request_with_37_exclusions(accounts: pd.DataFrame) -> None:
    client = workspace()
    members = _tag_members(accounts, "Client A")
    active = members[members["warmup_status"] == 1]
    keep = active["email"].head(37).tolist()
    plan = plan_disable(client, Selection(tag="Client A"), exclude=keep)
    [body] = plan.requests
    assert sorted(body["excluded_emails"]) == sorted(keep)
    # The same target given as a list of emails compresses the same way.
    plan2 = plan_disable(client, members[~members["email"].isin(keep)], server_side=True)
    assert len(plan2.requests) == 1
    assert sorted(plan2.requests[0]["excluded_emails"]) == sorted(keep)


def test_101_exclusions_fall_back_to_chunks(accounts: pd.DataFrame) -> None:
    client = workspace(accounts=1200, seed=11)
    frame = read_accounts(client)
    members = _tag_members(frame, "Client A")
    active = members[members["warmup_status"] == 1]
    assert len(active) > 101 + 100
    keep = active["email"].head(101).tolist()
    plan = plan_disable(client, Selection(tag="Client A"), exclude=keep)
    assert all(len(b.get("excluded_emails", [])) <= 100 for b in plan.requests)
    sent = {e for b in plan.requests for e in b.get("emails", [])}
    assert not sent & set(keep)
    assert plan.summary.jobs <= plan.summary.chunked_jobs


def test_arbitrary_emails_are_chunked_by_100(accounts: pd.DataFrame) -> None:
    client = workspace()
    active = accounts[accounts["warmup_status"] == 1]
    sample = active.sample(250, random_state=3)["email"].tolist()
    plan = plan_disable(client, sample)
    assert [len(b["emails"]) for b in plan.requests] == [100, 100, 50]
    # Chunks follow the workspace's listing order (what lets verification keep pace with the
    # jobs), and each row names the chunk that holds it; the frame keeps the caller's order.
    listed = [e for e in accounts["email"] if e in set(sample)]
    assert [e for b in plan.requests for e in b["emails"]] == listed
    chunk_of = {e: i for i, b in enumerate(plan.requests) for e in b["emails"]}
    assert plan.frame["email"].tolist() == sample
    assert plan.frame["request"].tolist() == [chunk_of[e] for e in sample]


@pytest.mark.parametrize(
    "target",
    [
        lambda f: list(f["email"].sample(230, random_state=1)),
        lambda f: _tag_members(f, "Client B"),
        lambda f: Selection(tag="Agency"),
        lambda f: Selection(filter="Warmup has errors"),
        lambda f: Selection(search="gmail.com"),
    ],
)
def test_the_preview_equals_what_the_server_changes(accounts: pd.DataFrame, target) -> None:  # type: ignore[no-untyped-def]
    client = workspace()
    before = states(client)
    plan = plan_disable(client, target(accounts))
    plan.execute(confirm=plan.fingerprint)
    after = states(client)
    changed = {e for e in before if before[e] != after[e]}
    previewed = set(plan.frame.loc[plan.frame["action"] == "change", "email"])
    assert changed == previewed


def test_enable_plans_mirror_disable(accounts: pd.DataFrame) -> None:
    paused = accounts[accounts["warmup_status"] == 0]["email"].head(3).tolist()
    active = accounts[accounts["warmup_status"] == 1]["email"].head(2).tolist()
    plan = plan_enable(workspace(), paused + active)
    assert plan.path.endswith("/warmup/enable")
    assert list(plan.frame["action"]) == ["change"] * 3 + ["skip"] * 2


# --- guardrails and presentation ------------------------------------------------------------


def test_whole_workspace_and_large_plans_need_confirmation(accounts: pd.DataFrame) -> None:
    client = workspace()
    everything = plan_disable(client, Selection.all_accounts())
    assert everything.summary.touches_every_account
    assert everything.summary.needs_confirmation
    active = accounts[accounts["warmup_status"] == 1]["email"].head(150)
    small = plan_disable(client, active, confirm_above=200)
    large = plan_disable(client, active, confirm_above=100)
    assert not small.summary.needs_confirmation
    assert large.summary.needs_confirmation


def test_fingerprint_is_stable_and_tracks_the_requests(accounts: pd.DataFrame) -> None:
    client = workspace()
    emails = accounts[accounts["warmup_status"] == 1]["email"].head(20).tolist()
    a, b = plan_disable(client, emails), plan_disable(client, emails)
    assert a.fingerprint == b.fingerprint
    assert a.id != b.id  # each planning gets its own journal
    assert plan_disable(client, emails[:-1]).fingerprint != a.fingerprint
    assert plan_enable(client, emails).fingerprint != a.fingerprint


def test_repr_html_shows_counts_requests_and_rows(accounts: pd.DataFrame) -> None:
    plan = plan_disable(workspace(), _tag_members(accounts, "Client A"), server_side=True)
    html = plan._repr_html_()
    assert "Client A" in html
    assert plan.fingerprint in html
    assert f"<b>{plan.summary.change}</b>" in html
    assert "<table" in html
    text = repr(plan)
    assert "1 job(s)" in text


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ([], "holds no emails"),
        (["   "], "not a well-formed|empty"),
        (["ok@acme.com", "nope"], "'nope' is not a well-formed"),
        (["ok@acme.com", float("nan")], "missing value"),
        (pd.DataFrame({"address": ["a@b.co"]}), "no email column"),
        (pd.DataFrame({"email": ["a@b.co", None]}), "row 1: missing value"),
        ("missing-file.csv", "no such CSV file"),
        ("someone@acme.com", "pass a list"),
        (Selection(tag="No Such Tag"), "no tag labelled 'No Such Tag'"),
        ({"a@b.co": 1}, "pass emails as a list"),
    ],
)
def test_bad_targets_are_refused_before_any_warmup_request(target: object, message: str) -> None:
    client = workspace()
    with pytest.raises(RequestValidationError, match=message):
        plan_disable(client, target)  # type: ignore[arg-type]
    assert posts(client) == []


def test_bad_selections_are_refused_on_construction() -> None:
    with pytest.raises(RequestValidationError, match="every account"):
        Selection()
    with pytest.raises(RequestValidationError, match="unknown account filter"):
        Selection(filter="Warmup is sad")
    assert Selection(filter="warmup has errors").filter == "ACC_FILTER_W_ERROR"


# --- words: tags by label, the workspace by name, selections for what they are ---------------


def _human_texts(plan: Plan) -> list[str]:
    """Everything a person reads about a plan (the request bodies are not among them)."""
    return [plan.description, repr(plan), plan._repr_html_(), cover_sentence(plan),
            *request_lines(plan), *(p.label for p in plan.planned)]  # fmt: skip


def test_a_tag_given_by_id_is_shown_by_its_label_everywhere(tmp_path: Path) -> None:
    client = workspace()
    tags = read_tags(client)
    tag_id = tags.loc[tags["label"] == "Client A", "id"].iloc[0]
    plan = plan_disable(client, Selection(tag=tag_id, filter="ACC_FILTER_W_ACTIVE"))
    assert plan.requests[0]["filter"]["tag_id"] == tag_id  # the id goes where the API wants it
    assert plan.tag_labels == {tag_id: "Client A"}
    assert plan.description == "tag 'Client A', filter 'Warmup active'"
    for text in _human_texts(plan):
        assert tag_id not in text
    assert html.escape("tag 'Client A'") in plan._repr_html_() and "tag 'Client A'" in repr(plan)
    path = tmp_path / "run.jsonl"
    plan.execute(journal=path, progress=False)
    again = Journal(path).plan_record()
    assert again.tag_labels == plan.tag_labels and again.description == plan.description
    assert request_lines(again) == request_lines(plan)


def test_a_server_side_cover_of_a_list_names_its_tag_by_label(accounts: pd.DataFrame) -> None:
    members = _tag_members(accounts, "Client B")
    plan = plan_disable(workspace(), members[members["warmup_status"] == 1], server_side=True)
    (planned,) = plan.planned
    assert planned.spec is not None and planned.spec.tag_id is not None
    assert plan.tag_labels == {planned.spec.tag_id: "Client B"}
    for text in _human_texts(plan):
        assert planned.spec.tag_id not in text


def test_the_plan_names_its_workspace(tmp_path: Path) -> None:
    client = workspace()
    name = client.get_workspace()["name"]
    plan = plan_disable(client, Selection(tag="Client A"))
    assert name and plan.workspace_name == name
    assert f"on {name!r}" in repr(plan) and name in plan._repr_html_()
    path = tmp_path / "run.jsonl"
    plan.execute(journal=path, progress=False)
    assert Journal(path).plan_record().workspace_name == name
    client.emulator.scopes = {"accounts:read", "custom_tags:read"}  # may not read the workspace
    assert plan_disable(client, Selection(tag="Client A")).workspace_name == ""


def test_a_selection_reads_as_exactly_the_accounts_that_change(accounts: pd.DataFrame) -> None:
    client = workspace()
    plan = plan_disable(client, Selection(tag="Client A"))
    s = plan.summary
    members, change = len(plan.planned[0].accounts), s.change
    assert members > change > 0  # some are already paused: the job leaves them as they are
    assert cover_sentence(plan) == (
        f"1 job: tag 'Client A', {change} accounts; these are exactly the {change} accounts "
        "listed below."
    )
    assert request_lines(plan) == [
        f"Job 1: tag 'Client A' (selected server-side): {members} account(s), {change} change; "
        f"{members - change} already paused, left as they are"
    ]
    everyone = plan_disable(client, Selection.all_accounts())
    assert cover_sentence(everyone).startswith("1 job: every account of the workspace, ")
    picked = plan_disable(client, _active(accounts, 250))
    assert cover_sentence(picked) == (
        "3 jobs: 250 accounts sent as 3 list(s) of emails; these are exactly the 250 accounts "
        "listed below."
    )
    assert request_lines(picked)[0] == "Job 1: a list of 100 email(s), 100 change"
    for text in [*_human_texts(plan), *_human_texts(everyone), *_human_texts(picked)]:
        assert "all accounts with" not in text and "with every account" not in text


def test_the_preview_says_how_many_changes_cannot_be_undone(accounts: pd.DataFrame) -> None:
    client = workspace()
    in_error = accounts[accounts["warmup_status"] < 0]["email"].head(7).tolist()
    plan = plan_disable(client, _active(accounts, 10) + in_error)
    assert plan.summary.cannot_undo == 7
    note = "7 account(s) cannot be undone: their warmup is in an error state now"
    assert note in repr(plan) and note in plan._repr_html_()
    clean = plan_disable(client, _active(accounts, 10))
    assert clean.summary.cannot_undo == 0
    assert "cannot be undone" not in repr(clean) + clean._repr_html_()


def test_whole_workspace_plans_always_need_confirmation(accounts: pd.DataFrame) -> None:
    client = workspace()
    for target in (Selection.all_accounts(), list(accounts["email"])):
        plan = plan_disable(client, target, confirm_above=10**9)
        assert plan.summary.touches_every_account and plan.summary.needs_confirmation
        assert confirm_count(plan.summary) == plan.summary.change > CONFIRM_ABOVE
        with pytest.raises(ConfirmationRequired):
            plan.execute()
    assert posts(client) == []


@pytest.mark.parametrize("above", [-1, True, 2.5, "500"])
def test_a_confirmation_threshold_must_be_a_count(above: object) -> None:
    client = workspace()
    with pytest.raises(RequestValidationError, match="confirm_above"):
        plan_disable(client, ["a@b.co"], confirm_above=above)  # type: ignore[arg-type]
    assert client.emulator.log == []
