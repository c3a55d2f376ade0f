"""The app on an encrypted study: the passphrase is asked once at start, masked, with the tries
left before a short wait; then the queue opens as on any study."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from fieldkit.services.participants import add_participant, give_consent
from fieldkit.services.study import find_study, init_encrypted_study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens import unlock
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.screens.unlock import UnlockScreen
from tests.encrypted import PASSPHRASE, use_fast_kdf

from .conftest import SIZE, shown

WRONG = "wrong horse battery"


@pytest.fixture
def encrypted_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_fast_kdf(monkeypatch)
    root = tmp_path / "enc"
    study, _recovery_key = init_encrypted_study(root, lambda: PASSPHRASE, title="Locked study")
    participant = add_participant(study, "Site 1", "PEER")
    give_consent(study, participant.id, "2026-03-14")
    study.close()
    return root


async def wait_for(pilot: Pilot[None], what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 15
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def submit(pilot: Pilot[None], passphrase: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, UnlockScreen)
    await wait_for(pilot, "the field to open", lambda: not screen.query_one(Input).disabled)
    field = screen.query_one("#passphrase", Input)
    field.value = passphrase
    field.focus()
    await pilot.press("enter")


def status(app: FieldkitApp) -> str:
    return shown(app, "#unlock-status")


async def test_wrong_then_right_passphrase_opens_the_queue(encrypted_root: Path) -> None:
    study = find_study(encrypted_root)
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "the passphrase screen", lambda: isinstance(app.screen, UnlockScreen))
        field = app.screen.query_one("#passphrase", Input)
        assert field.password  # masked
        assert "encrypted" in str(app.screen.query_one(".dialog-question").render())

        await submit(pilot, WRONG)
        await wait_for(pilot, "the refusal", lambda: "Wrong passphrase" in status(app))
        assert "2 tries left before a 5 s wait" in status(app)
        assert field.value == ""  # the typed text is not kept
        assert study.locked

        await submit(pilot, PASSPHRASE)
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen))
        assert not study.locked
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[0]) == "INTSTA001-PEER"


async def test_three_wrong_tries_close_the_field_for_a_while(
    encrypted_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unlock, "FIRST_WAIT_S", 1.0)
    app = FieldkitApp(find_study(encrypted_root))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "the passphrase screen", lambda: isinstance(app.screen, UnlockScreen))
        screen = app.screen
        assert isinstance(screen, UnlockScreen)
        for expected in ("2 tries left", "1 try left"):
            await submit(pilot, WRONG)
            await wait_for(pilot, expected, lambda text=expected: text in status(app))
        await submit(pilot, WRONG)
        await wait_for(pilot, "the wait", lambda: "Wait" in status(app))
        field = screen.query_one("#passphrase", Input)
        assert field.disabled and "3 times" in status(app)
        # Enter while waiting does nothing.
        field.value = PASSPHRASE
        await pilot.press("enter")
        assert isinstance(app.screen, UnlockScreen)

        await wait_for(pilot, "the field to open again", lambda: not field.disabled)
        assert "3 tries left" in status(app)
        assert screen.wrong_tries == 3
        await submit(pilot, PASSPHRASE)
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen))


def test_the_waits_grow() -> None:
    assert [unlock.wait_after(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]


async def test_a_missing_key_slot_file_is_said_on_the_screen(encrypted_root: Path) -> None:
    study = find_study(encrypted_root)
    (encrypted_root / "keyslots.json").unlink()
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, PASSPHRASE)
        await wait_for(pilot, "the problem", lambda: "keyslots.json" in status(app))
        assert "missing" in status(app) and isinstance(app.screen, UnlockScreen)


async def test_a_plain_study_opens_straight_on_the_queue(tmp_path: Path) -> None:
    from fieldkit.services.study import init_study

    study = init_study(tmp_path / "plain")
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen))
    study.close()


async def test_an_unlocked_study_skips_the_screen(encrypted_root: Path) -> None:
    from fieldkit.services.study import open_study

    study = open_study(encrypted_root, passphrase=lambda: PASSPHRASE)
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen))
    study.close()


async def test_an_unforeseen_failure_reopens_the_field(
    encrypted_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(study: object, passphrase: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(unlock, "unlock_study", broken)
    app = FieldkitApp(find_study(encrypted_root))
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, PASSPHRASE)
        await wait_for(pilot, "the problem", lambda: "Could not open the study" in status(app))
        assert not app.screen.query_one("#passphrase", Input).disabled
