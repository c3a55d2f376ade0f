"""Fixtures for the app tests: a demo study in tmp_path, helpers to read what the app shows, and
waits on a condition (never a fixed sleep: the machine is shared and often busy)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow, Interviews
from fieldkit.tui.app import FieldkitApp

SIZE = (120, 40)
WAIT_TIMEOUT_S = 20.0  # generous: a loaded machine is slow, but a real hang still fails
WAIT_STEP_S = 0.02

ScreenT = TypeVar("ScreenT", bound=Screen[Any])


@pytest.fixture
def tui_study(tmp_path: Path) -> Iterator[Study]:
    """The demo study: five participants, four with consent on different days."""
    study = build_demo_study(tmp_path / "demo-study", actor="tester")
    yield study
    study.close()


@pytest.fixture
def review_study(tmp_path: Path) -> Iterator[Study]:
    """The demo study with its transcripts, one in each state (the reviewer's desk)."""
    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def interview_of(study: Study, participant_id: str) -> InterviewRow:
    """The participant's latest interview."""
    return Interviews(study.db).for_participant(participant_id)[-1]


@pytest.fixture
def app(tui_study: Study) -> FieldkitApp:
    return FieldkitApp(tui_study)


def shown(app: App[None], selector: str) -> str:
    """The text a Static currently shows."""
    return str(app.screen.query_one(selector, Static).content)


def notifications(app: App[None]) -> list[tuple[str, str]]:
    """(severity, message) of every notification the app has shown and not yet expired."""
    return [(n.severity, n.message) for n in app._notifications]


def describe(condition: Callable[[], object]) -> str:
    """The condition's source line (a lambda), for the timeout message."""
    try:
        return inspect.getsource(condition).strip()
    except (OSError, TypeError):
        return repr(condition)


async def wait_until(
    pilot: Pilot[Any],
    condition: Callable[[], object],
    timeout: float = WAIT_TIMEOUT_S,
    what: str | None = None,
) -> None:
    """Let the app run in short steps until `condition()` is true; fail clearly after `timeout`.

    Use it wherever the state comes from a worker, a timer or a chain of messages:
    `await wait_until(pilot, lambda: screen.report is not None)`. `pilot.pause()` with no
    argument (one round of messages) stays right for a key whose handler is synchronous.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            last = f"; the screen is {type(pilot.app.screen).__name__}"
            raise AssertionError(
                f"waited {timeout:g} s for {what or describe(condition)}, in vain{last}"
            )
        await pilot.pause(WAIT_STEP_S)


async def wait_for_screen(
    pilot: Pilot[Any], kind: type[ScreenT], timeout: float = WAIT_TIMEOUT_S
) -> ScreenT:
    """Wait until the app shows a screen of `kind`, mounted, and return it."""
    app = pilot.app
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, kind) and app.screen.is_mounted,
        timeout,
        what=f"the {kind.__name__} screen",
    )
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


async def wait_for_notification(
    pilot: Pilot[Any],
    text: str,
    severity: str | None = None,
    timeout: float = WAIT_TIMEOUT_S,
) -> str:
    """Wait until a notification containing `text` (of `severity`, if given) is shown."""

    def found() -> str | None:
        return next(
            (
                message
                for kind, message in notifications(pilot.app)
                if text in message and (severity is None or kind == severity)
            ),
            None,
        )

    await wait_until(pilot, lambda: found() is not None, timeout, what=f"a notice {text!r}")
    message = found()
    assert message is not None
    return message
