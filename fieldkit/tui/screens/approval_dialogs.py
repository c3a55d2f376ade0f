"""The approval queue's dialogs: where to write the participant's copy (Send), and the
participant's decision (Decide). They only ask; the approval queue screen calls the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from fieldkit.services.approval.folders import default_copy_name
from fieldkit.tui.screens.modals import Confirm

COPY_FORMATS = {"docx": "Word document (.docx)", "txt": "Plain text (.txt)"}
LEAVES_PROTECTION = (
    "The copy leaves the study's protection: it is an ordinary file that anyone who has it "
    "can read. Send it the way your ethics approval allows, and delete it from shared places "
    "once it has come back."
)
# Scoped to each dialog that uses it (Textual prefixes the rules with the dialog's type).
DIALOG_CSS = """
.dialog-box { overflow-y: auto; }
.field { height: auto; margin-bottom: 1; }
.field > .field-label { width: 12; text-style: bold; }
.field > Input, .field > RadioSet, .field > Checkbox { width: 1fr; }
RadioSet { border: none; padding: 0; background: transparent; }
.dialog-warning { color: $text-warning; margin-bottom: 1; width: 100%; }
"""


@dataclass(frozen=True)
class SendRequest:
    path: Path
    create_folder: bool  # the folder does not exist yet, and the user agreed to create it


class SendCopyDialog(ModalScreen[SendRequest | None]):
    """Which format, which folder, which file name: the answers for `send_copy`."""

    DEFAULT_CSS = DIALOG_CSS + "#send-format { layout: horizontal; height: 1; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, participant_id: str, wave: str, folder: Path, sent_before: str | None = None
    ) -> None:
        super().__init__(classes="dialog desk-dialog")
        self.participant_id = participant_id
        self.wave = wave
        self.folder = folder
        self.sent_before = sent_before  # the day a copy went out, if this sends it again
        self.fmt = "docx"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="send-box") as box:
            box.border_title = f"Send {self.participant_id}'s copy ({self.wave})"
            yield Static(
                "Writes the participant's copy of the signed-off transcript (a cover note, "
                "then every turn) and records today as the day it was sent.",
                classes="dialog-text",
            )
            if self.sent_before:
                yield Static(
                    f"A copy went out on {self.sent_before}: this writes another one, "
                    "with the same reply deadline.",
                    classes="dialog-text",
                )
            with Horizontal(classes="field"):
                yield Label("Format", classes="field-label")
                with RadioSet(id="send-format", compact=True):
                    for fmt, label in COPY_FORMATS.items():
                        yield RadioButton(label, value=fmt == self.fmt, id=f"format-{fmt}")
            with Horizontal(classes="field"):
                yield Label("Folder", classes="field-label")
                yield Input(str(self.folder), id="send-folder", compact=True)
            with Horizontal(classes="field"):
                yield Label("File name", classes="field-label")
                yield Input(self.default_name(), id="send-name", compact=True)
            yield Static(LEAVES_PROTECTION, classes="dialog-warning", markup=False)
            yield Label("Ctrl+S or Enter sends · Tab moves · Escape cancels", classes="dialog-hint")

    def default_name(self) -> str:
        return default_copy_name(self.participant_id, self.wave, self.fmt, self.folder)

    def on_mount(self) -> None:
        self.query_one("#send-name", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        pressed = event.pressed.id or ""
        fmt = pressed.removeprefix("format-")
        if fmt not in COPY_FORMATS or fmt == self.fmt:
            return
        name = self.query_one("#send-name", Input)
        stem = Path(name.value.strip())
        if stem.suffix.lower() == f".{self.fmt}":
            name.value = stem.with_suffix(f".{fmt}").name
        self.fmt = fmt

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def action_send(self) -> None:
        folder_text = self.query_one("#send-folder", Input).value.strip()
        name = self.query_one("#send-name", Input).value.strip()
        if not folder_text or not name:
            self.notify("Give a folder and a file name.", severity="error")
            return
        if "/" in name or "\\" in name:
            self.notify("The file name is a name only; the folder goes above.", severity="error")
            return
        if Path(name).suffix.lower() != f".{self.fmt}":
            name = f"{name}.{self.fmt}"
        folder = Path(folder_text).expanduser()
        if folder.is_dir():
            self.dismiss(SendRequest(folder / name, create_folder=False))
            return
        if folder.exists():
            self.notify(f"{folder} is a file, not a folder.", severity="error")
            return

        def answered(create: bool | None) -> None:
            if create:
                self.dismiss(SendRequest(folder / name, create_folder=True))

        self.app.push_screen(
            Confirm(f"The folder {folder} does not exist yet. Create it?"), answered
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- the participant's decision ----------------------------------------------------------------


@dataclass(frozen=True)
class DecisionChoice:
    word: str  # as `fieldkit approval decide` takes it
    label: str
    detail: str


DECISION_LABELS: dict[str, tuple[str, str]] = {
    "approved": ("Approved", "as it was sent"),
    "approved-with-changes": ("Approved with changes", "as the participant returned it"),
    "withdrawn": ("Withdrawn", "the participant takes this interview out of the study"),
    "no-response": ("No response", "no answer came by the reply deadline"),
}


def decision_choice(word: str, deleting: bool) -> DecisionChoice:
    label, detail = DECISION_LABELS[word]
    if word == "withdrawn":
        detail += " (its data is deleted)" if deleting else " (its data is kept)"
    return DecisionChoice(word, label, detail)


def withdrawal_policy(deleting: bool) -> str:
    """The study's withdrawal policy ([approval] withdrawn_data in study.toml), spelled out."""
    if deleting:
        return (
            "This study's policy on withdrawal is to delete: the recording, every version of the "
            "transcript, the copies sent and returned and the exports that hold it go for good. "
            "You are asked to confirm first."
        )
    return (
        "This study's policy on withdrawal is to keep the data: the recording and transcripts "
        "stay, but the transcript is never de-identified, exported or analysed."
    )


class DecideDialog(ModalScreen[str | None]):
    """The decisions open to this transcript now; Enter records the highlighted one."""

    DEFAULT_CSS = DIALOG_CSS + "#decision-choice { height: auto; max-height: 8; margin-bottom: 1; }"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        participant_id: str,
        wave: str,
        situation: str,
        choices: list[DecisionChoice],
        policy: str,
        note: str = "",
    ) -> None:
        super().__init__(classes="dialog desk-dialog")
        self.participant_id = participant_id
        self.wave = wave
        self.situation = situation
        self.choices = choices
        self.policy = policy
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="decide-box") as box:
            box.border_title = f"Decision for {self.participant_id} ({self.wave})"
            yield Static(self.situation, classes="dialog-text", markup=False)
            yield OptionList(
                *(Option(self.option_text(c), id=c.word) for c in self.choices),
                id="decision-choice",
            )
            yield Static(self.policy, classes="dialog-text", markup=False)
            if self.note:
                yield Static(self.note, classes="dialog-text", markup=False)
            yield Label("↑/↓ then Enter records it · Escape cancels", classes="dialog-hint")

    @staticmethod
    def option_text(choice: DecisionChoice) -> Text:
        text = Text(choice.label, style="bold")
        text.append(f" — {choice.detail}", style="")
        return text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
