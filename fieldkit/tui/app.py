"""FieldkitApp: the queue and interview screens over one open study. Kept small on purpose:
behaviour lives in the screens, rules in the services and the core."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from fieldkit.core.guard import format_clock
from fieldkit.errors import FieldkitError
from fieldkit.private import tightened_note
from fieldkit.services.interviews import recordings_marked_running
from fieldkit.services.transcription import jobs_waiting, requeue_stale_jobs, start_worker
from fieldkit.tui.screens.base import FieldkitScreen
from fieldkit.tui.screens.queue import QueueScreen

# Only what the queue needs is imported at start: the other screens (the interview screen with
# its audio, the passphrase screen, help) are imported when they are opened.
if TYPE_CHECKING:
    from fieldkit.services.interviews import InterviewSession
    from fieldkit.services.study import Study
    from fieldkit.tui.recording_link import RecordingLink
    from fieldkit.tui.screens.interview import InterviewScreen

INTERVIEW_SCREEN_MODULE = "fieldkit.tui.screens.interview"

TRANSCRIBER_RETRY_S = 10.0
START_WAIT_S = 10.0


class FieldkitApp(App[None]):
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    # Screen classes for small terminals (app.tcss): 80x24 must stay readable.
    # (Textual declares these with an odd annotation, so they cannot be re-annotated here.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "q",
            "quit",
            "Quit",
            tooltip="Quit fieldkit (a recording is stopped and kept first)",
        ),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This list of keys"),
    ]

    def __init__(self, study: Study, input_file: Path | None = None) -> None:
        super().__init__()
        self.study = study
        # Recording plays this file as a virtual microphone: fieldkit --input, else the study's
        # own (`input` in study.toml's [recording], as in the demo), else none: a microphone.
        self.input_file = input_file or study.config.recording.input_file(study.root)
        self.input_from_study = input_file is None and self.input_file is not None
        self.title = study.config.title
        self.sub_title = "fieldkit"
        # The transcription worker process this app started last (it outlives the app: the
        # queue is in the database, and the worker exits once it is empty).
        self.transcriber: subprocess.Popen[bytes] | None = None
        self._transcriber_started = float("-inf")

    def on_mount(self) -> None:
        if self.study.permissions_tightened:  # opening the study made its files owner-only
            note = tightened_note(self.study.permissions_tightened)
            self.notify(note[0].upper() + note[1:] + ".", timeout=10)
        if self.study.locked:  # an encrypted study: its passphrase first, then the queue
            from fieldkit.tui.screens.unlock import UnlockScreen

            self.push_screen(UnlockScreen(self.study), callback=self.enter_study)
        else:
            self.enter_study()

    def enter_study(self, _unlocked: bool | None = True) -> None:
        self.recover_recordings()
        self.push_screen(QueueScreen())
        # Jobs left queued by an earlier session resume once the queue is on the screen.
        self.call_after_refresh(self.ensure_transcriber)

    def recover_recordings(self) -> None:
        """Recordings a crash cut off are repaired and registered before anything else."""
        try:
            if not recordings_marked_running(self.study):
                return  # the usual case: one query, and no audio library loaded
            from fieldkit.services.recording import recover_interrupted

            recovered = recover_interrupted(self.study)
        except (FieldkitError, OSError) as error:
            problem = error.one_line() if isinstance(error, FieldkitError) else str(error)
            self.notify(f"Could not check for interrupted recordings: {problem}", severity="error")
            return
        for item in recovered:
            state = "repaired and kept" if item.repaired else "kept"
            self.notify(
                f"Recovered an interrupted recording of {item.participant_id} ({item.wave}): "
                f"{format_clock(item.duration_s)} {state}. The interview is marked interrupted.",
                severity="warning",
                timeout=20,
            )
            if item.problem:  # an encrypted recording altered after it was written
                self.notify(item.problem, severity="error", timeout=30)

    def ensure_transcriber(self, just_queued: bool = False) -> None:
        """Start the transcription worker when jobs wait and ours is not running. Cheap enough to
        call every second (the queue screen does): two small queries, and otherwise a process
        start at most every few seconds (a worker started by the CLI holds the queue's lock, and
        ours then exits at once). Jobs a dead worker left "running" are queued again first (or
        failed, once they have stopped three workers), so they never wait forever."""
        running = self.transcriber is not None and self.transcriber.poll() is None  # reaps it
        recently = time.monotonic() - self._transcriber_started < TRANSCRIBER_RETRY_S
        if running or (recently and not just_queued):
            return
        with contextlib.suppress(sqlite3.Error):  # busy or full: the next call tries again
            requeue_stale_jobs(self.study)
        if not jobs_waiting(self.study):
            return
        self._transcriber_started = time.monotonic()
        try:
            self.transcriber = start_worker(self.study)
        except OSError as error:
            self.notify(f"Could not start transcription: {error}", severity="error")

    async def action_quit(self) -> None:
        """A recording in progress is stopped cleanly (file complete, guard closed) first."""
        deadline = time.monotonic() + START_WAIT_S
        while time.monotonic() < deadline and any(
            screen.starting for screen in self.interview_screens()
        ):
            await asyncio.sleep(0.05)  # a recording being started is stopped once it runs
        links = [screen.link for screen in self.interview_screens() if screen.link is not None]
        if any(link.capturing for link in links):
            self.notify("Stopping the recording before quitting…", timeout=3)
        for link in links:
            await asyncio.to_thread(self._stop_link, link)
        self.exit()

    def _stop_link(self, link: RecordingLink) -> None:
        try:
            link.stop()
        except FieldkitError:  # e.g. a full disk: the audio is kept, the next start registers it
            pass
        finally:
            self.study.close()  # the connection of this helper thread

    def interview_screens(self) -> list[InterviewScreen]:
        """The interview screens open. Their module is imported when the first one opens, so
        while it is not, there are none (and quitting need not import it to find that out)."""
        module = sys.modules.get(INTERVIEW_SCREEN_MODULE)
        if module is None:
            return []
        return [
            screen for screen in self.screen_stack if isinstance(screen, module.InterviewScreen)
        ]

    def open_interview(self, session: InterviewSession) -> None:
        from fieldkit.tui.screens.interview import InterviewScreen

        self.push_screen(InterviewScreen(session))

    def action_help(self) -> None:
        from fieldkit.tui.screens.help import HelpScreen, screen_help

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(screen_help(self.screen, self.BINDINGS))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists the screen's own actions first, then Textual's (theme, keys …)."""
        titles: set[str] = set()
        if isinstance(screen, FieldkitScreen):
            for entry in screen.PALETTE:
                titles.add(entry.title)
                yield SystemCommand(
                    entry.title, entry.help, self.palette_callback(screen, entry.action)
                )
        for command in super().get_system_commands(screen):
            if command.title not in titles:
                yield command

    @staticmethod
    def palette_callback(screen: Screen[Any], action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await screen.run_action(action)

        return run
