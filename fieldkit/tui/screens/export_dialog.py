"""The export dialog: which format, which folder, whether each turn's time goes into the text,
and which transcripts (the highlighted one, or every approved one). It only asks; the approval
queue screen runs the export (fieldkit.services.export) and shows where the files went."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet, Static

from fieldkit.services.export import FORMATS, TIMED_TEXT_FORMATS
from fieldkit.tui.screens.approval_dialogs import DIALOG_CSS

FORMAT_LABELS: dict[str, str] = {
    "nvivo-docx": "NVivo: Word documents (nvivo-docx)",
    "nvivo-txt": "NVivo: transcript text (nvivo-txt)",
    "qdpx": "ATLAS.ti, MAXQDA, NVivo: project (qdpx)",
    "csv": "R, spreadsheets: table (csv)",
    "json": "Scripts (json)",
}
ALL = "all"


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    out_dir: Path
    timestamps: str | None  # "after" | "none" for the formats that put times in the text
    interview_ids: tuple[int, ...]  # empty: every approved transcript


@dataclass(frozen=True)
class Highlighted:
    """The transcript highlighted in the approval queue, offered when it is approved."""

    interview_id: int
    name: str  # "INTSTA010-PEER (commencement)"


class ExportDialog(ModalScreen[ExportRequest | None]):
    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "export", "Export", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, folder: Path, highlighted: Highlighted | None) -> None:
        super().__init__(classes="dialog desk-dialog")
        self.folder = folder
        self.highlighted = highlighted
        self.fmt = FORMATS[0]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="export-box") as box:
            box.border_title = "Export for analysis"
            yield Static(
                "Approved transcripts, as de-identified, for qualitative-analysis software. "
                "Files are never overwritten.",
                classes="dialog-text",
            )
            with Horizontal(classes="field"):
                yield Label("Format", classes="field-label")
                with RadioSet(id="export-format", compact=True):
                    for fmt in FORMATS:
                        yield RadioButton(
                            FORMAT_LABELS[fmt], value=fmt == self.fmt, id=f"format-{fmt}"
                        )
            with Horizontal(classes="field"):
                yield Label("Folder", classes="field-label")
                yield Input(str(self.folder), id="export-folder", compact=True)
            with Horizontal(classes="field"):
                yield Label("Times", classes="field-label")
                yield Checkbox(
                    "each turn's start time after the speaker's name",
                    value=True,
                    id="export-timestamps",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Transcripts", classes="field-label")
                with RadioSet(id="export-which", compact=True):
                    if self.highlighted is not None:
                        yield RadioButton(
                            f"only {self.highlighted.name}", value=True, id="which-highlighted"
                        )
                    yield RadioButton(
                        "every approved transcript",
                        value=self.highlighted is None,
                        id=f"which-{ALL}",
                    )
            yield Label(
                "Ctrl+S or Enter exports · Tab moves · Escape cancels", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id != "export-format":
            return
        event.stop()
        self.fmt = (event.pressed.id or "").removeprefix("format-")
        # Only the formats whose turns are lines of text take the time into the text; the
        # others keep it in a column of its own.
        self.query_one("#export-timestamps", Checkbox).disabled = self.fmt not in TIMED_TEXT_FORMATS

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    def action_export(self) -> None:
        folder = self.query_one("#export-folder", Input).value.strip()
        if not folder:
            self.notify("Give the folder to export to.", severity="error")
            return
        timestamps: str | None = None
        if self.fmt in TIMED_TEXT_FORMATS:
            timestamps = "after" if self.query_one("#export-timestamps", Checkbox).value else "none"
        which = self.query_one("#export-which", RadioSet).pressed_button
        only = (
            (self.highlighted.interview_id,)
            if self.highlighted is not None and which is not None and which.id != f"which-{ALL}"
            else ()
        )
        self.dismiss(ExportRequest(self.fmt, Path(folder).expanduser(), timestamps, only))

    def action_cancel(self) -> None:
        self.dismiss(None)
