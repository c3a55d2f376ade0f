"""FieldkitApp: the queue and interview screens over one open study. Kept small on purpose:
behaviour lives in the screens, rules in the services and the core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from fieldkit.services.interviews import InterviewSession
from fieldkit.services.study import Study
from fieldkit.tui.screens.base import FieldkitScreen
from fieldkit.tui.screens.help import HelpScreen, key_rows
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.queue import QueueScreen


class FieldkitApp(App[None]):
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    # Screen classes for small terminals (app.tcss): 80x24 must stay readable.
    # (Textual declares these with an odd annotation, so they cannot be re-annotated here.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Quit fieldkit (an open interview stays open)"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This list of keys"),
    ]

    def __init__(self, study: Study, input_file: Path | None = None) -> None:
        super().__init__()
        self.study = study
        # Recording (a later issue) plays this file as a virtual microphone when it is given.
        self.input_file = input_file
        self.title = study.config.title
        self.sub_title = "fieldkit"

    def on_mount(self) -> None:
        self.push_screen(QueueScreen())

    def open_interview(self, session: InterviewSession) -> None:
        self.push_screen(InterviewScreen(session))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        title = "interview" if isinstance(screen, InterviewScreen) else "participant queue"
        self.push_screen(HelpScreen(title, key_rows([*screen.BINDINGS, *self.BINDINGS])))

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
