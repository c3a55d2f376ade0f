"""Small dialogs used across the app: a one-line text prompt, a choice, a yes/no question (and a
stricter one before anything is deleted), and a notice that lists what happened.

Every dialog is a `.dialog` screen holding one `.dialog-box`; app.tcss makes the box's text wrap
to the box's width (a Label is as wide as its text by default, and was cut off)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class TextPrompt(ModalScreen[str | None]):
    """One line of text (a field note, a marker label, a file's path). Enter saves, Escape
    cancels. `value` fills the line in advance (e.g. a remembered folder); `description` is a
    sentence or two above it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        placeholder: str = "",
        value: str = "",
        description: str = "",
        hint: str = "Enter saves · Escape cancels",
    ) -> None:
        super().__init__(classes="dialog")
        self.prompt_title = title
        self.placeholder = placeholder
        self.value = value
        self.description = description
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.prompt_title
            if self.description:
                yield Static(self.description, classes="dialog-text", markup=False)
            yield Input(
                value=self.value,
                placeholder=self.placeholder,
                id="prompt-input",
                select_on_focus=False,  # typing goes after a filled-in folder, not over it
            )
            yield Label(self.hint, classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChooseTerm(ModalScreen[str | None]):
    """Which one? (a guarded term, an identifier's category …)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, terms: Sequence[str]) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.terms = list(terms)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.question
            yield OptionList(*(Option(term, id=term) for term in self.terms), id="term-choice")
            yield Label("↑/↓ then Enter · Escape cancels", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes/no question: y or Enter confirms, n or Escape declines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    HINT = "y / Enter: yes · n / Escape: no"

    def __init__(self, question: str, details: str = "", title: str = "") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.details = details
        self.dialog_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            if self.dialog_title:
                box.border_title = self.dialog_title
            if self.details:
                yield Static(self.details, classes="dialog-text", markup=False)
            yield Label(self.question, classes="dialog-question", markup=False)
            yield Label(self.HINT, classes="dialog-hint")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ConfirmDeletion(Confirm):
    """Before something is deleted for good: only y confirms. Enter, n and Escape decline, so a
    key pressed out of habit deletes nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, delete"),
        Binding("n,escape,enter", "answer(False)", "No"),
    ]
    HINT = "y: yes, delete · n / Escape / Enter: no, keep everything"

    def __init__(self, question: str, details: str = "", title: str = "Delete for good?") -> None:
        super().__init__(question, details, title)
        self.add_class("-danger")


class Notice(ModalScreen[None]):
    """What just happened, as a few lines to read (where files went, what was deleted). Enter or
    Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, lines: Sequence[str]) -> None:
        super().__init__(classes="dialog")
        self.notice_title = title
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.notice_title
            with VerticalScroll(id="notice-lines"):
                for line in self.lines:
                    yield Static(line, classes="notice-line", markup=False)
            yield Label("Enter or Escape closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
