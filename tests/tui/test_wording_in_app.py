"""The app's messages in plain words: sentences that start with a capital, states said the way
a person says them ("has ended", not "is ended"), counts that agree ("1 unsaved change …
Restore it?"), and no stored state names where a sentence is meant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.errors import FieldkitError
from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.hints import as_sentence, in_app_words
from fieldkit.tui.screens.review import RestoreDraft
from fieldkit.tui.screens.wave_choice import WaveChoice

from . import navigate
from .conftest import notifications, wait_for_notification
from .desk import screen_text

SMALL = (80, 24)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Study]:
    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("the transcript of P1 is signed off", "The transcript of P1 is signed off"),
        ("fieldkit transcribe P1 first", "fieldkit transcribe P1 first"),  # a command
        ("study.toml: unknown key", "study.toml: unknown key"),  # a file
        ("recording.input must name a file", "recording.input must name a file"),  # a setting
        ("INTSTA001-PEER has no interview", "INTSTA001-PEER has no interview"),
        ("", ""),
    ],
)
def test_a_message_is_shown_as_a_sentence(message: str, shown: str) -> None:
    assert as_sentence(message) == shown


def test_a_refusal_on_the_desk_is_a_sentence_with_the_key_that_helps() -> None:
    error = FieldkitError(
        "the transcript of P1 (commencement) still needs review",
        "sign it off first: fieldkit approval reviewed P1",
    )
    assert in_app_words(error) == (
        "The transcript of P1 (commencement) still needs review. "
        "Review it (Enter), then sign it off (r)"
    )


async def test_a_decision_refused_on_the_desk_starts_with_a_capital(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.approval_queue(pilot)
        await navigate.highlight(pilot, navigate.REVIEWED)
        await pilot.press("d")
        message = await wait_for_notification(pilot, "not sent yet", "error")
        assert message.startswith("The transcript of INTSTA007-CLIN")


async def test_the_wave_question_says_the_interview_has_ended(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.wave_choice(pilot)
        assert isinstance(app.screen, WaveChoice)
        text = screen_text(app)
        assert "The commencement interview of INTSTA006-PEER has ended." in text
        assert "is ended" not in text and "(ended)" not in text


async def test_one_kept_change_is_offered_as_it(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.draft_offer(pilot)
        assert isinstance(app.screen, RestoreDraft)
        question = app.screen.question
        assert "has 1 unsaved change from" in question and question.endswith("Restore it?")


async def test_storing_a_returned_copy_says_what_was_stored_in_plain_words(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.returned_copy(pilot)
        await pilot.press("s")
        message = await wait_for_notification(pilot, "Stored the copy INTSTA007-CLIN returned")
        assert "as revision" in message and "is now returned" not in message
        assert not [m for kind, m in notifications(app) if kind == "error"]
