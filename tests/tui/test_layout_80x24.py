"""Every screen usable in an 80×24 terminal: read from what the terminal shows (the composed
screen's text), not from widget state. The queue's columns fit (the least important go first and
come back when there is room), transcription progress shows as it advances, each footer shows its
screen's essential keys, and dialogs wrap their text."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.services.demo import build_demo_study
from fieldkit.services.interviews import start_interview
from fieldkit.services.study import Study, now_iso
from fieldkit.store.repo import Jobs
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.help import HelpScreen

from . import navigate
from .conftest import wait_until
from .desk import screen_lines, screen_text

SMALL = (80, 24)
LARGE = (120, 40)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Study]:
    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def header_line(app: FieldkitApp) -> str:
    return next(line for line in screen_lines(app) if line.lstrip().startswith("ID "))


def row_of(app: FieldkitApp, participant: str) -> str:
    return next(line for line in screen_lines(app) if line.lstrip().startswith(participant))


# -- the interview queue -----------------------------------------------------------------------


async def test_the_queue_fits_80_columns_and_gets_its_columns_back_when_wider(
    demo: Study,
) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.queue(pilot)
        header = header_line(app)
        assert "Transcript" in header and "Interview" in header and "Consent" in header
        assert "Site" not in header and "Consent date" not in header  # the first to go
        row = row_of(app, navigate.APPROVED)
        assert row.rstrip().endswith("approved with changes")  # whole, on screen
        assert all(len(line) <= SMALL[0] for line in screen_lines(app))

        await pilot.resize_terminal(*LARGE)
        await wait_until(pilot, lambda: "Consent date" in header_line(app))
        for label in ("ID", "Site", "Role", "Consent date", "Consent", "Interview", "Transcript"):
            assert label in header_line(app)
        assert row_of(app, navigate.APPROVED).rstrip().endswith("approved with changes")

        await pilot.resize_terminal(*SMALL)
        await wait_until(pilot, lambda: "Site" not in header_line(app))
        assert "Transcript" in header_line(app)


async def test_the_queue_shows_transcription_progress_as_it_advances_at_80_columns(
    demo: Study,
) -> None:
    participant = navigate.NOT_INTERVIEWED
    interview = start_interview(demo, participant)
    job = Jobs(demo.db).add(interview.id, "tiny.en", now_iso())
    # This process stands in for the worker holding the job (so it is not queued again).
    Jobs(demo.db).update(
        job, status="running", progress=0.0, worker_pid=os.getpid(), started_at=now_iso()
    )
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.queue(pilot)
        assert row_of(app, participant).rstrip().endswith("transcribing 0%")
        for progress, shown in ((0.37, "transcribing 37%"), (0.84, "transcribing 84%")):
            Jobs(demo.db).update(job, progress=progress)  # as the worker writes it
            await wait_until(pilot, lambda s=shown: row_of(app, participant).rstrip().endswith(s))
        Jobs(demo.db).update(job, status="failed", message="the engine stopped")
        await wait_until(pilot, lambda: row_of(app, participant).rstrip().endswith("failed"))


# -- footers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("screen", "keys"),
    [
        ("queue", ["⏎ Open", "a Approvals", "D De-identify", "I Identifiers", "R Report"]),
        (
            "interview",
            ["space Rec/pause", "n Next", "p Prev", "r Raised", "m Marker", "f Note", "e End"],
        ),
        ("approval-queue", ["⏎ Review", "s Send", "v Returned copy", "d Decide", "x Export"]),
        ("review", ["space Play", "e Edit", "s Speaker", "n Unsure", "^s Save"]),
        ("returned-copy", ["s Store", "n Next change", "p Previous change", "esc Cancel"]),
        ("deidentification", ["y Replace", "n Keep", "space Play/stop", "^s Save"]),
        ("identifiers", ["a Add", "d Delete"]),
        ("report", ["r Refresh"]),
    ],
)
async def test_each_footer_shows_its_screens_essential_keys(
    demo: Study, screen: str, keys: list[str]
) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.SCREENS[screen](pilot)
        footer = screen_lines(app)[-1]
        for key in [*keys, "? Help"] + ([] if screen == "queue" else ["esc "]):
            assert key in footer, f"{key!r} is not in the footer {footer!r}"


async def test_wider_the_footer_has_room_for_every_key_and_the_palette(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=LARGE) as pilot:
        await navigate.approval_queue(pilot)
        footer = screen_lines(app)[-1]
        assert "r Sign off" in footer and "^p palette" in footer
        await pilot.resize_terminal(*SMALL)
        await wait_until(pilot, lambda: "palette" not in screen_lines(app)[-1])
        assert "r Sign off" not in screen_lines(app)[-1]  # named above the table instead


# -- help and dialogs ----------------------------------------------------------------------------


async def test_the_review_help_names_what_i_and_c_insert(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=LARGE) as pilot:
        await navigate.review_help(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = screen_text(app)
        assert "Insert [inaudible] at the word cursor" in text
        assert "Insert [crosstalk] at the word cursor" in text


async def test_the_turn_editor_wraps_its_hint_at_80_columns(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.edit_turn(pilot)
        lines = screen_lines(app)
        first = next(i for i, line in enumerate(lines) if "Enter applies · Escape cancels" in line)
        hint = " ".join(
            line.split("│")[2].strip() for line in lines[first : first + 2]
        )  # the dialog's own column, inside the review screen's border and its own
        assert hint.endswith("Ctrl+S on the screen saves a revision")


async def test_the_interview_screen_fits_80_by_24(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SMALL) as pilot:
        await navigate.interview(pilot)
        lines = screen_lines(app)
        assert any("do not say it" in line for line in lines)  # the guard banner
        assert any("Field notes" in line for line in lines)
        hint = next(line for line in lines if "not recording" in line)
        assert hint.rstrip().endswith("space to record · virtual microphone: demo-interview.flac")
        assert any(re.search(r"disk \d+ GB · [\d.]+ h left$", line.rstrip()) for line in lines)
