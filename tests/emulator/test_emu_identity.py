"""Workspace identity: ``GET /workspaces/current`` names one workspace per emulator, so a client
journal can refuse to resume a run against another workspace."""

from __future__ import annotations

import httpx
import pytest
from emu_support import BASE_URL

from instantly_nb._clock import VirtualClock
from instantly_nb.emulator import Emulator
from instantly_nb.emulator.__main__ import main


def _current(emu: Emulator) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=BASE_URL, transport=emu.transport(), headers=headers) as http:
        response = http.get("/api/v2/workspaces/current")
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


def _emu(seed: int = 0, **options: str) -> Emulator:
    return Emulator(20, seed, clock=VirtualClock(), rate_limit=None, **options)  # type: ignore[arg-type]


def test_the_current_workspace_is_the_emulators_everywhere() -> None:
    emu = _emu(4, workspace_name="Acme outreach")
    body = _current(emu)
    assert (body["id"], body["name"]) == (emu.workspace_id, emu.workspace_name)
    assert body["name"] == "Acme outreach"
    assert {a["organization"] for a in emu.accounts()} == {emu.workspace_id}
    assert {t["organization_id"] for t in emu.tags()} == {emu.workspace_id}
    assert {j["workspace_id"] for j in emu.jobs()} == {emu.workspace_id}


def test_different_seeds_are_different_workspaces() -> None:
    ids = {_current(_emu(seed))["id"] for seed in range(25)}
    assert len(ids) == 25
    assert _current(_emu(3))["id"] == _current(_emu(3))["id"]  # and the same seed the same one


def test_a_name_or_an_explicit_id_makes_another_workspace() -> None:
    plain = _emu(1)
    named = _emu(1, workspace_name="Client B workspace")
    other_name = _emu(1, workspace_name="Client C workspace")
    chosen = _emu(1, workspace_id="5c0ffee0-0000-4000-8000-00000000000b")
    ids = [e.workspace_id for e in (plain, named, other_name, chosen)]
    assert len(set(ids)) == 4
    assert chosen.workspace_id == _current(chosen)["id"] == "5c0ffee0-0000-4000-8000-00000000000b"
    assert _emu(1, workspace_name="Client B workspace").workspace_id == named.workspace_id
    # Only the identity differs: the same seed still makes the same accounts.
    assert [a["email"] for a in chosen.accounts()] == [a["email"] for a in plain.accounts()]
    # The default name keeps the id the seed always gave.
    assert _emu(1, workspace_name="Demo workspace").workspace_id == plain.workspace_id


def test_an_explicit_id_is_checked() -> None:
    with pytest.raises(ValueError, match="workspace_id"):
        _emu(workspace_id="")


def test_the_command_line_takes_the_new_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--accounts", "1", "--warmup-selection", "search=wide"]) == 2
    assert "search must be one of" in capsys.readouterr().err
    assert main(["--accounts", "1", "--warmup-selection", "search"]) == 2
    assert "FIELD=READING" in capsys.readouterr().err
    assert main(["--accounts", "1", "--workspace-id", ""]) == 2
