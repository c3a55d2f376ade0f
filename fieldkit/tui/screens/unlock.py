"""The passphrase screen: an encrypted study is unlocked once, when the app starts.

The passphrase is typed masked and checked off the UI thread (the key derivation takes about half
a second by design). After TRIES_PER_ROUND wrong tries the field is closed for a while — 5 s, then
twice as long each round — and the screen says how many tries are left before that wait.
"""

from __future__ import annotations

import math
import sqlite3
import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from fieldkit.crypto.errors import WrongPassphraseError
from fieldkit.errors import FieldkitError
from fieldkit.services.study import Study, explain_failure, unlock_study

TRIES_PER_ROUND = 3
FIRST_WAIT_S = 5.0


def wait_after(round_number: int) -> float:
    """The wait after the `round_number`-th round of wrong tries (1, 2, …): 5 s, 10 s, 20 s …"""
    return FIRST_WAIT_S * 2 ** (round_number - 1)


class UnlockScreen(Screen[bool]):
    """Asks for the passphrase; dismissed with True once the study is unlocked."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.quit", "Quit")]

    class Unlocked(Message):
        """The passphrase opened the study (posted by the unlock worker)."""

    class Refused(Message):
        """The passphrase did not open the study, or the study cannot be opened at all."""

        def __init__(self, problem: str, wrong_passphrase: bool) -> None:
            super().__init__()
            self.problem = problem
            self.wrong_passphrase = wrong_passphrase

    def __init__(self, study: Study) -> None:
        super().__init__(classes="dialog")
        self.study = study
        self.wrong_tries = 0  # since the app started
        self.checking = False
        self.waiting_until_s: float | None = None  # monotonic time the field opens again
        self._countdown: Timer | None = None

    @property
    def tries_left(self) -> int:
        """Tries before the next wait."""
        return TRIES_PER_ROUND - self.wrong_tries % TRIES_PER_ROUND

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="unlock-box") as box:
            box.border_title = self.study.config.title
            yield Label("This study is encrypted.", classes="dialog-question")
            yield Label("Passphrase:")
            yield Input(password=True, id="passphrase", placeholder="passphrase")
            yield Static("", id="unlock-status")
            yield Static(
                "Enter opens the study · Escape quits\n"
                "Passphrase lost? `fieldkit passphrase reset` sets a new one with the "
                "recovery key.",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#passphrase", Input)
        passphrase = event.value
        field.value = ""  # the typed passphrase is not kept in the widget
        if self.checking or self.waiting_until_s is not None or not passphrase:
            return
        self.checking = True
        field.disabled = True
        self.say("Opening the study…")
        self.check_passphrase(passphrase)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def check_passphrase(self, passphrase: str) -> None:
        """Derive the key and open the database (about half a second), off the UI thread."""
        try:
            unlock_study(self.study, passphrase)
        except WrongPassphraseError as error:
            self.post_message(self.Refused(error.one_line(), wrong_passphrase=True))
        except FieldkitError as error:
            self.post_message(self.Refused(error.one_line(), wrong_passphrase=False))
        except (sqlite3.Error, OSError) as error:
            explained = explain_failure(error, self.study.root)
            if explained is None:
                raise
            self.post_message(self.Refused(explained.one_line(), wrong_passphrase=False))
        else:
            self.post_message(self.Unlocked())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failure nobody foresaw (a bug) must not leave the field closed for good."""
        if event.worker.group == "unlock" and event.state is WorkerState.ERROR:
            self.post_message(
                self.Refused(f"Could not open the study: {event.worker.error}", False)
            )

    def on_unlock_screen_unlocked(self, message: Unlocked) -> None:
        self.checking = False
        self.dismiss(True)

    def on_unlock_screen_refused(self, message: Refused) -> None:
        self.checking = False
        field = self.query_one("#passphrase", Input)
        if not message.wrong_passphrase:
            self.say(message.problem)  # damage or a missing file: retrying will not help
            field.disabled = False
            field.focus()
            return
        self.wrong_tries += 1
        if self.wrong_tries % TRIES_PER_ROUND:
            tries = self.tries_left
            wait = wait_after(self.wrong_tries // TRIES_PER_ROUND + 1)
            self.say(
                f"Wrong passphrase. {tries} {'try' if tries == 1 else 'tries'} left before a "
                f"{wait:.0f} s wait."
            )
            field.disabled = False
            field.focus()
            return
        self.start_wait(wait_after(self.wrong_tries // TRIES_PER_ROUND))

    def start_wait(self, seconds: float) -> None:
        self.waiting_until_s = time.monotonic() + seconds
        self.show_wait()
        self._countdown = self.set_interval(0.25, self.show_wait)

    def show_wait(self) -> None:
        assert self.waiting_until_s is not None
        remaining = self.waiting_until_s - time.monotonic()
        if remaining > 0:
            self.say(f"Wrong passphrase {self.wrong_tries} times. Wait {math.ceil(remaining)} s.")
            return
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
        self.waiting_until_s = None
        tries = self.tries_left
        self.say(f"Try again: {tries} tries left before the next wait.")
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()

    def say(self, text: str) -> None:
        self.query_one("#unlock-status", Static).update(text)
