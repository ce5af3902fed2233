"""Bad inputs, one table: each gives a clear error naming the problem, or a clear outcome row.

And nothing is sent that should not be: the emulator's log shows no warmup POST for anything
refused before sending, and no job (and no retry) for what Instantly itself refuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import instantly_nb as nb
from instantly_nb import (
    AsyncInstantly,
    ConfirmationRequired,
    Instantly,
    RequestValidationError,
    Selection,
    aio,
    demo,
)
from instantly_nb._demo import DemoInstantly
from instantly_nb.errors import AuthenticationError, PaymentRequiredError, PermissionDeniedError
from instantly_nb.frames import read_accounts
from instantly_nb.lookup import resolve_tag
from instantly_nb.planner import plan_disable
from instantly_nb.testing import VirtualClock

KEY = "test-key-bad-inputs-not-real"
CYRILLIC_A = "\u0430"  # looks like "a"


@pytest.fixture
def client() -> DemoInstantly:
    return demo(300, 11, clock=VirtualClock(), api_key=KEY)


def warmup_posts(client: DemoInstantly) -> list[Any]:
    return [r for r in client.emulator.log if r.method == "POST" and "/warmup/" in r.path]


def jobs(client: DemoInstantly) -> list[dict[str, Any]]:
    return client.emulator.jobs("update-warmup-accounts")


def active(client: DemoInstantly, n: int = 3) -> list[str]:
    return [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1][:n]


def csv(text: str) -> Path:
    path = Path("targets.csv")  # the tests run in their own temporary directory
    path.write_text(text, encoding="utf-8")
    return path


Call = Callable[[DemoInstantly], object]

# --- refused before anything is sent ----------------------------------------------------------

REFUSED: list[tuple[str, Call, str]] = [
    # the raw client: one request of at most 100 emails, validated before it is sent
    ("raw: empty", lambda c: c.disable_warmup([]), "nothing to do: no emails"),
    ("raw: None", lambda c: c.disable_warmup(None), "nothing to do: no emails"),
    ("raw: whitespace only", lambda c: c.disable_warmup(["   "]), "has surrounding whitespace"),
    ("raw: padded", lambda c: c.disable_warmup([" a@x.io"]), "' a@x.io' has surrounding whitespace"),
    ("raw: malformed", lambda c: c.disable_warmup(["not-an-email"]),
     "'not-an-email' is not a well-formed email address"),
    ("raw: no domain dot", lambda c: c.disable_warmup(["a@localhost"]), "not a well-formed"),
    ("raw: duplicates in another case", lambda c: c.disable_warmup(["a@x.io", "A@X.io"]),
     "'A@X.io' duplicates 'a@x.io'"),
    ("raw: cyrillic look-alike", lambda c: c.disable_warmup([f"{CYRILLIC_A}lice@x.io"]),
     f"contains non-ASCII characters \\('{CYRILLIC_A}'\\); a look-alike letter\\?"),
    ("raw: zero-width space", lambda c: c.disable_warmup(["al\u200bice@x.io"]), "non-ASCII"),
    ("raw: NaN", lambda c: c.disable_warmup([float("nan")]), "nan is not text"),
    ("raw: one string", lambda c: c.disable_warmup("a@x.io"),
     "pass emails as a list of strings, not one string"),
    ("raw: 101 emails", lambda c: c.disable_warmup([f"u{i}@x.io" for i in range(101)]),
     "emails has 101 items; Instantly accepts at most 100 per request \\(plan_disable\\(\\) splits"),
    ("raw: 10,000 emails", lambda c: c.disable_warmup([f"u{i}@x.io" for i in range(10_000)]),
     "emails has 10000 items; Instantly accepts at most 100"),
    ("raw: 101 exclusions", lambda c: c.disable_warmup(
        include_all_emails=True, excluded_emails=[f"u{i}@x.io" for i in range(101)]),
     "excluded_emails has 101 items"),
    ("raw: unknown filter", lambda c: c.disable_warmup(include_all_emails=True,
                                                        filter="ACC_FILTER_NOPE"),
     "unknown account filter 'ACC_FILTER_NOPE'; known filters: ACC_FILTER_PAUSED"),
    ("raw: tag label as tag_id", lambda c: c.disable_warmup(include_all_emails=True,
                                                             tag_id="Client A"),
     "tag_id 'Client A' is not a tag id \\(a UUID\\); look tags up with read_tags"),
    ("raw: filter without include_all", lambda c: c.disable_warmup(
        ["a@x.io"], filter="ACC_FILTER_W_ACTIVE"),
     "filter, tag_id and search only apply with include_all_emails=True"),
    ("raw: empty search", lambda c: c.disable_warmup(include_all_emails=True, search="  "),
     "search is empty"),
    ("raw: unknown list filter", lambda c: list(c.list_accounts(filter="bogus")),
     "unknown account filter 'bogus'"),
    ("raw: unknown list parameter", lambda c: list(c.list_accounts(tag="Client A")),
     "unknown account filter\\(s\\) \\['tag'\\]"),
    # the planner: any container of emails, read and checked row by row
    ("plan: empty list", lambda c: plan_disable(c, []), "the target holds no emails"),
    ("plan: empty column", lambda c: plan_disable(c, pd.DataFrame({"email": []})),
     "the target holds no emails"),
    ("plan: whitespace", lambda c: plan_disable(c, ["   "]), "item 0: an empty string"),
    ("plan: malformed", lambda c: plan_disable(c, ["a@x.io", "nope@", "@x.io"]),
     "2 unusable email value\\(s\\)\n  - item 1: 'nope@' is not a well-formed email address\n"
     "  - item 2: '@x.io' is not a well-formed"),
    ("plan: cyrillic look-alike", lambda c: plan_disable(c, [f"{CYRILLIC_A}lice@x.io"]),
     "item 0: .* a look-alike letter\\?"),
    ("plan: NaN in a DataFrame", lambda c: plan_disable(c, pd.DataFrame(
        {"Email": ["a@x.io", np.nan]})), "row 1: missing value"),
    ("plan: None and pd.NA in a Series", lambda c: plan_disable(c, pd.Series(
        ["a@x.io", None, pd.NA])), "row 1: missing value\n  - row 2: missing value"),
    ("plan: bytes", lambda c: plan_disable(c, [b"a@x.io"]), "item 0: b'a@x.io' is not text"),
    ("plan: wrong column name", lambda c: plan_disable(c, pd.DataFrame({"mail": ["a@x.io"]})),
     "no email column: expected one named 'email' \\(any case\\), found \\['mail'\\]"),
    ("plan: two email columns", lambda c: plan_disable(c, pd.DataFrame(
        {"email": ["a@x.io"], "Email": ["b@x.io"]})), "several email columns"),
    ("plan: wrong CSV header", lambda c: plan_disable(c, csv("mail,name\na@x.io,A\n")),
     "no email column: .* found \\['mail', 'name'\\]"),
    ("plan: semicolon CSV", lambda c: plan_disable(c, csv("email;name\na@x.io;A\n")),
     "no email column: .* found \\['email;name'\\]"),
    ("plan: empty CSV file", lambda c: plan_disable(c, csv("")),
     "the CSV file targets.csv is empty: no emails"),
    ("plan: header-only CSV", lambda c: plan_disable(c, csv("email\n")),
     "the target holds no emails"),
    ("plan: missing CSV", lambda c: plan_disable(c, Path("nowhere.csv")),
     "no such CSV file: nowhere.csv"),
    ("plan: one email as a string", lambda c: plan_disable(c, "a@x.io"),
     "no such CSV file: a@x.io \\(to target one email, pass a list: \\['a@x.io'\\]\\)"),
    ("plan: a dict", lambda c: plan_disable(c, {"a@x.io": 1}),
     "pass emails as a list, Series, DataFrame or CSV path"),
    ("plan: None", lambda c: plan_disable(c, None), "cannot read emails from a NoneType"),
    ("plan: NaN in exclusions", lambda c: plan_disable(c, ["a@x.io"], exclude=["b@x.io", None]),
     "^exclude: 1 unusable email value\\(s\\)\n  - item 1: missing value"),
    ("plan: exclusions without an email column", lambda c: plan_disable(
        c, ["a@x.io"], exclude=pd.DataFrame({"mail": ["b@x.io"]})),
     "^exclude: no email column"),
    # server-side selections
    ("selection: nothing", lambda c: plan_disable(c, Selection()),
     "An empty Selection\\(\\) would select every account of the workspace; .* "
     "Selection.all_accounts\\(\\)"),
    ("selection: empty search", lambda c: plan_disable(c, Selection(search=" ")),
     "Selection search is empty"),
    ("selection: tag that does not exist", lambda c: plan_disable(c, Selection(tag="Client Z")),
     "no tag labelled 'Client Z'; the workspace has: \\['Agency', 'Client A'"),
    ("selection: unknown tag id", lambda c: plan_disable(
        c, Selection(tag="00000000-0000-4000-8000-000000000000")),
     "no tag with id '00000000-0000-4000-8000-000000000000' in this workspace"),
    ("selection: unknown filter", lambda c: plan_disable(c, Selection(filter="ACC_FILTER_NOPE")),
     "unknown account filter 'ACC_FILTER_NOPE'"),
    ("selection: criteria and all_accounts", lambda c: Selection(tag="Client A", everything=True),
     "Selection.all_accounts\\(\\) takes no criteria"),
    ("selection: tag is a number", lambda c: Selection(tag=123),
     "^Selection tag must be text \\(a tag label or id\\), got int 123$"),
    ("selection: search is a list", lambda c: Selection(search=["acme.com"]),
     "^Selection search must be text \\(Instantly's account search\\), got list \\['acme.com'\\]$"),
    ("selection: filter is a number", lambda c: plan_disable(c, Selection(filter=3)),
     "^Selection filter must be text \\(an ACC_FILTER_\\* value or its label\\), got int 3$"),
    ("read: tag is a number", lambda c: read_accounts(c, tag=123),
     "^tag must be text \\(a tag label or id\\), got int 123$"),
    ("read: tag that does not exist", lambda c: read_accounts(c, tag="Client Z"),
     "no tag labelled 'Client Z'"),
    ("read: unknown filter", lambda c: read_accounts(c, filter="Warmup exploded"),
     "unknown account filter 'Warmup exploded'"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_before_sending(client: DemoInstantly, call: Call, message: str) -> None:
    with pytest.raises(RequestValidationError, match=message):
        call(client)
    assert warmup_posts(client) == []


# --- refused by the safety checks of execute() ----------------------------------------------------


def test_include_all_without_confirmation_is_refused(client: DemoInstantly) -> None:
    plan = plan_disable(client, Selection.all_accounts())
    with pytest.raises(ConfirmationRequired, match="touches every account of the workspace") as e:
        plan.execute()
    assert e.value.fingerprint in str(e.value)
    with pytest.raises(ConfirmationRequired):
        plan.execute(confirm="not-the-fingerprint")
    assert warmup_posts(client) == []


def test_a_large_plan_without_confirmation_is_refused() -> None:
    client = demo(900, 11, clock=VirtualClock())
    emails = [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1][:600]
    plan = plan_disable(client, emails)
    with pytest.raises(ConfirmationRequired, match="This plan changes 600 accounts"):
        plan.execute()
    assert warmup_posts(client) == []


# --- refused by Instantly: the key, the plan, the scopes ----------------------------------------


def test_a_wrong_key_is_named_and_not_retried(client: DemoInstantly) -> None:
    wrong = Instantly(
        "test-key-wrong-not-real", base_url="https://demo.instantly.invalid",
        transport=client.emulator.transport(), clock=client.clock,
    )  # fmt: skip
    with pytest.raises(AuthenticationError, match="401 Invalid API key \\(GET /api/v2/accounts"):
        plan_disable(wrong, active(client))
    with pytest.raises(AuthenticationError, match="401 Invalid API key") as info:
        wrong.disable_warmup(active(client))
    assert "test-key-wrong-not-real" not in repr(info.value) + str(info.value)
    assert len(warmup_posts(client)) == 1 and jobs(client) == []  # one refused try, no job


def test_a_key_revoked_after_planning_stops_the_run_before_any_post(
    client: DemoInstantly,
) -> None:
    plan = plan_disable(client, active(client))
    client.emulator.revoke_key()
    with pytest.raises(AuthenticationError, match="401 Invalid API key") as info:
        plan.execute()
    assert KEY not in str(info.value)
    assert warmup_posts(client) == [] and jobs(client) == []


def test_a_workspace_without_a_paid_plan(client: DemoInstantly) -> None:
    client.emulator.plan_active = False
    with pytest.raises(
        PaymentRequiredError, match="402 Workspace does not have an active paid plan"
    ):
        plan_disable(client, active(client))
    with pytest.raises(PaymentRequiredError, match="402"):
        client.disable_warmup(active(client))
    assert len(warmup_posts(client)) == 1 and jobs(client) == []


def test_a_key_without_the_scope_to_change_warmup(client: DemoInstantly) -> None:
    client.emulator.scopes = {"accounts:read", "background-jobs:read"}
    plan = plan_disable(client, active(client))  # reading is allowed
    with pytest.raises(PermissionDeniedError, match=r"403 .*required scopes: accounts:update"):
        plan.execute()
    assert len(warmup_posts(client)) == 1 and jobs(client) == []  # refused once, not retried


def test_a_key_without_the_scope_to_read_tags(client: DemoInstantly) -> None:
    client.emulator.scopes = {"accounts:read"}
    with pytest.raises(PermissionDeniedError, match=r"403 .*custom_tags:read"):
        plan_disable(client, Selection(tag="Client A"))
    assert warmup_posts(client) == []


# --- accepted: a clear outcome row for each input ---------------------------------------------


def test_mixed_case_duplicates_and_padding_give_one_row_each(client: DemoInstantly) -> None:
    first, second = active(client, 2)
    target = [first.upper(), f"  {first}  ", first.swapcase(), second, second.lower(),
              "ghost@nowhere.example", "GHOST@nowhere.example"]  # fmt: skip
    results = plan_disable(client, target).execute()
    rows = results.set_index(results["email"].str.lower())
    assert len(results) == 3
    assert rows.loc[first.lower(), "outcome"] == "changed"
    assert rows.loc[first.lower(), "email"] == first  # the workspace's spelling
    assert rows.loc[second.lower(), "outcome"] == "changed"
    assert rows.loc["ghost@nowhere.example", "outcome"] == "not_found"
    assert rows.loc["ghost@nowhere.example", "email"] == "ghost@nowhere.example"  # first spelling
    assert len(warmup_posts(client)) == 1
    assert warmup_posts(client)[0].request_json == {"emails": [first, second]}


def test_an_empty_exclusion_list_excludes_nothing(client: DemoInstantly) -> None:
    emails = active(client)
    for empty in ([], pd.Series([], dtype="string"), pd.DataFrame({"email": []})):
        plan = plan_disable(client, emails, exclude=empty)
        assert plan.summary.change == len(emails)


def test_a_selection_that_selects_nothing_runs_to_an_empty_result(client: DemoInstantly) -> None:
    plan = plan_disable(client, Selection(tag="Client A", search="no-such-domain.example"))
    assert plan.summary.targeted == 0 and plan.requests == []
    results = plan.execute()
    assert results.empty and list(results.columns)[:5] == [
        "email", "job_id", "before", "after", "outcome",
    ]  # fmt: skip
    assert warmup_posts(client) == []


def test_101_emails_are_chunked_within_the_limits(client: DemoInstantly) -> None:
    emails = active(client, 101)
    assert len(emails) == 101
    plan = plan_disable(client, emails)
    assert all(len(b.get("emails", [])) <= 100 for b in plan.requests)
    assert all(len(b.get("excluded_emails", [])) <= 100 for b in plan.requests)
    results = plan.execute()
    assert len(results) == 101 and (results["outcome"] == "changed").all()
    assert len(jobs(client)) == len(plan.requests) == len(warmup_posts(client))


def test_10000_emails_are_chunked_and_every_one_gets_a_row() -> None:
    client = demo(6000, 11, clock=VirtualClock())
    known = [a["email"] for a in client.emulator.accounts() if a["warmup_status"] == 1][:5000]
    target = known + [f"nobody{i}@nowhere.example" for i in range(10_000 - len(known))]
    plan = plan_disable(client, target)
    assert warmup_posts(client) == []  # planning sends nothing
    assert plan.summary.targeted == 10_000
    for body in plan.requests:
        assert len(body.get("emails", [])) <= 100
        assert len(body.get("excluded_emails", [])) <= 100
    results = plan.execute(confirm=plan.fingerprint)
    assert len(results) == 10_000
    assert (results["email"].str.lower().value_counts() == 1).all()
    outcomes = results["outcome"].value_counts().to_dict()
    assert outcomes == {"changed": len(known), "not_found": 10_000 - len(known)}
    assert len(jobs(client)) == len(plan.requests)


# --- not a client -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "got"),
    [(lambda: nb.read_accounts(object()), "object"),
     (lambda: nb.plan_disable("not a client", ["a@x.io"]), "str"),
     (lambda: nb.read_tags(None), "NoneType")],
)  # fmt: skip
def test_something_that_is_not_a_client_is_a_type_error_naming_the_expected_type(
    call: Callable[[], object], got: str
) -> None:
    with pytest.raises(
        TypeError, match=rf"expects an instantly_nb\.Instantly client first, got {got}$"
    ):
        call()


def test_the_async_verbs_name_both_client_types() -> None:
    with pytest.raises(
        TypeError,
        match=r"expected an instantly_nb\.Instantly or AsyncInstantly client, got object$",
    ):
        asyncio.run(aio.read_accounts(object()))


# --- tags whose labels differ only in letter case ---------------------------------------------

ID_UPPER = "11111111-1111-4111-8111-111111111111"
ID_LOWER = "22222222-2222-4222-8222-222222222222"
ID_AGENCY = "33333333-3333-4333-8333-333333333333"
CASED_TAGS = [{"id": ID_UPPER, "label": "Client A"}, {"id": ID_LOWER, "label": "client a"},
              {"id": ID_AGENCY, "label": "Agency"}]  # fmt: skip


def _tags_and_accounts(listed: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        listed.append(request)
        if "starting_after" in request.url.params:
            return httpx.Response(200, json={"items": []})
        if request.url.path == "/api/v2/custom-tags":
            return httpx.Response(200, json={"items": CASED_TAGS, "next_starting_after": ID_AGENCY})
        return httpx.Response(200, json={"items": []})

    return httpx.MockTransport(answer)


def _resolve(tag: str) -> tuple[str, str]:
    async def main() -> tuple[str, str]:
        transport = _tags_and_accounts([])
        async with AsyncInstantly(KEY, transport=transport, clock=VirtualClock()) as client:
            return await resolve_tag(client, tag)

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("asked", "found"),
    [("Client A", (ID_UPPER, "Client A")), ("client a", (ID_LOWER, "client a")),
     (" Client A ", (ID_UPPER, "Client A")), ("AGENCY", (ID_AGENCY, "Agency")),
     (ID_LOWER, (ID_LOWER, "client a"))],
)  # fmt: skip
def test_an_exactly_spelled_label_wins_over_one_that_differs_in_case(
    asked: str, found: tuple[str, str]
) -> None:
    assert _resolve(asked) == found


def test_labels_that_match_only_ignoring_case_ask_for_the_tag_id() -> None:
    with pytest.raises(RequestValidationError) as info:
        _resolve("CLIENT A")
    assert str(info.value) == (
        f"2 tags are labelled 'client a' ignoring case: pass the tag id "
        f"('Client A': {ID_UPPER}, 'client a': {ID_LOWER})"
    )


def test_read_accounts_by_a_label_that_another_tag_repeats_in_another_case() -> None:
    listed: list[httpx.Request] = []
    client = Instantly(KEY, transport=_tags_and_accounts(listed), clock=VirtualClock())
    assert read_accounts(client, tag="Client A").empty
    accounts = [r for r in listed if r.url.path == "/api/v2/accounts"]
    assert accounts[0].url.params["tag_ids"] == ID_UPPER
    client.close()
