"""Asked on Enter when the participant's current wave has ended: a new wave never starts
silently. Start the next wave (named), view the ended interview, or cancel."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from fieldkit.core.wording import interview_status_phrase
from fieldkit.store.repo import InterviewRow

WaveAnswer = Literal["next", "view"]


class WaveChoice(ModalScreen[WaveAnswer | None]):
    """`next_wave` is None when there is no wave left, or the participant cannot be recorded
    (`why_not` says why); then only viewing is offered."""

    DEFAULT_CSS = """
    #wave-choice {
        height: auto;
        max-height: 8;
        margin-top: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, ended: InterviewRow, next_wave: str | None, why_not: str = "") -> None:
        super().__init__(classes="dialog")
        self.ended = ended
        self.next_wave = next_wave
        self.why_not = why_not

    def options(self) -> list[Option]:
        options = []
        if self.next_wave is not None:
            options.append(Option(f"Start the {self.next_wave} interview (a new wave)", id="next"))
        options.append(Option(f"View the {self.ended.wave} interview (view only)", id="view"))
        options.append(Option("Cancel", id="cancel"))
        return options

    def compose(self) -> ComposeResult:
        participant, wave = self.ended.participant_id, self.ended.wave
        status = interview_status_phrase(self.ended.status)
        with Vertical(classes="dialog-box") as box:
            box.border_title = participant
            yield Label(
                f"The {wave} interview of {participant} {status}.", classes="dialog-question"
            )
            if self.why_not:
                yield Label(self.why_not)
            yield OptionList(*self.options(), id="wave-choice")
            yield Label("↑/↓ then Enter · Escape cancels", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = event.option.id
        self.dismiss("next" if choice == "next" else "view" if choice == "view" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
