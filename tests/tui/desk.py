"""Helpers for the reviewer's-desk app tests: wait on a condition (never a fixed sleep), read
what the terminal shows (text, and the style of a word on screen), edit a returned copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from rich.style import Style
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable

from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen

WAIT_S = 15.0  # generous: the machine is shared; a real hang still fails
STEP_S = 0.02

NEEDS_REVIEW = "INTSTA006-PEER"  # the demo study's transcripts, one in each state
REVIEWED = "INTSTA007-CLIN"
OVERDUE = "INTSTA008-PEER"  # sent 17 days ago: the deadline has passed
SENT = "INTSTA009-CLIN"  # sent 4 days ago: the deadline has not passed
APPROVED = "INTSTA010-PEER"  # approved with changes

# The demo interview's words that the tests' participant deletes and adds.
DELETED_SENTENCE = "It was busy and the doors were always locked."
ADDED_SENTENCE = "The garden out the back helps people settle."


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], object], what: str, timeout: float = WAIT_S
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"waited {timeout:g} s for {what}; the screen is {type(pilot.app.screen).__name__}"
            )
        await pilot.pause(STEP_S)


async def wait_for_screen(pilot: Pilot[Any], kind: type[Any]) -> Any:
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, kind) and app.screen.is_mounted, kind.__name__
    )
    await pilot.pause()
    return app.screen


def notices(app: App[Any]) -> list[tuple[str, str]]:
    return [(n.severity, n.message) for n in app._notifications]


async def wait_for_notice(pilot: Pilot[Any], text: str, severity: str | None = None) -> str:
    def found() -> str | None:
        return next(
            (
                message
                for kind, message in notices(pilot.app)
                if text in message and severity in (None, kind)
            ),
            None,
        )

    await wait_until(pilot, lambda: found() is not None, f"a notice with {text!r}")
    message = found()
    assert message is not None
    return message


def screen_lines(app: App[Any]) -> list[str]:
    """The terminal's lines as the user sees them (every layer composed)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


def styles_on_screen(app: App[Any], word: str) -> list[Style]:
    """The style of every piece of the screen that shows `word`."""
    found = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if word in segment.text and segment.style is not None:
                found.append(segment.style)
    return found


def is_red(style: Style) -> bool:
    if style.color is None:
        return False
    r, g, b = style.color.get_truecolor()
    return r >= 100 and r > 1.3 * g and r > 1.3 * b  # as the theme tints it


def is_green(style: Style) -> bool:
    if style.color is None:
        return False
    r, g, b = style.color.get_truecolor()
    return g >= 100 and g > 1.3 * r and g > 1.3 * b


async def open_approvals(pilot: Pilot[Any]) -> ApprovalQueueScreen:
    """From the interview queue, `a`, as a user would."""
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.query(DataTable), "the interview queue")
    await pilot.press("a")
    screen = await wait_for_screen(pilot, ApprovalQueueScreen)
    assert isinstance(screen, ApprovalQueueScreen)
    return screen


async def highlight(pilot: Pilot[Any], screen: ApprovalQueueScreen, participant: str) -> None:
    """Move the cursor to the participant's row with the arrow keys."""
    table = screen.query_one(DataTable)

    def current() -> str:
        status = screen.highlighted()
        return status.participant if status else ""

    rows = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    target = rows.index(participant)
    key = "down" if target > table.cursor_row else "up"
    for _ in range(abs(target - table.cursor_row)):
        await pilot.press(key)
    await wait_until(pilot, lambda: current() == participant, f"{participant} highlighted")


def edit_docx(sent: Path, returned: Path, delete: str, add_after: str, added: str) -> None:
    """What a participant does in Word: delete a sentence, and add one after some words."""
    document = Document(str(sent))
    deleted = appended = False
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            if delete in run.text:
                run.text = run.text.replace(delete + " ", "").replace(delete, "")
                deleted = True
            if run.text.rstrip().endswith(add_after):
                run.text = run.text.rstrip() + ". " + added
                appended = True
    assert deleted and appended, "the demo transcript changed: update the test's sentences"
    document.save(str(returned))


def app_for(study: Any) -> FieldkitApp:
    return FieldkitApp(study)
