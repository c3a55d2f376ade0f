"""The approval queue: every transcript by state with days waiting, overdue ones first.

Enter opens the review screen; r signs a transcript off as reviewed; v reads a returned copy and
shows it beside what was sent before storing it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Label, Static

from fieldkit.services.approval.copies import ReturnedCopy, accept_returned, read_returned
from fieldkit.services.approval.queue import ApprovalStatus, approval_statuses
from fieldkit.services.approval.states import mark_reviewed
from fieldkit.services.interviews import get_interview
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.modals import TextPrompt
from fieldkit.tui.screens.review import ReviewScreen
from fieldkit.tui.widgets.review_diff import SideBySideDiff

COLUMNS = ("Participant", "Wave", "State", "Waiting", "Deadline", "")


def status_row(status: ApprovalStatus) -> tuple[str, ...]:
    days = f"{status.days_waiting} day" + ("" if status.days_waiting == 1 else "s")
    return (
        status.participant,
        status.wave,
        status.state.value,
        days,
        status.deadline or "—",
        "OVERDUE" if status.overdue else "",
    )


class ReturnedCopyScreen(ModalScreen[bool]):
    """What the participant changed, side by side; y stores it, n or Escape does not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Store it"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]
    DEFAULT_CSS = """
    ReturnedCopyScreen { align: center middle; }
    ReturnedCopyScreen > Vertical { width: 95%; height: 90%; border: round $accent;
                                    background: $surface; }
    """

    def __init__(self, returned: ReturnedCopy) -> None:
        super().__init__()
        self.returned = returned

    def compose(self) -> ComposeResult:
        interview = self.returned.interview
        with Vertical() as box:
            box.border_title = f"Returned copy · {interview.participant_id} · {interview.wave}"
            yield Label(
                f"{self.returned.summary.describe()} in {self.returned.changed_turns} turn(s)",
                id="returned-summary",
            )
            yield SideBySideDiff(self.returned.turns, id="returned-diff")
            with Horizontal(classes="dialog-hint"):
                yield Label("y: store it as the participant's revision · n / Escape: cancel")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ApprovalQueueScreen(FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_review", "Review"),
        Binding("r", "reviewed", "Sign off"),
        Binding("v", "receive", "Returned copy"),
        Binding("D", "deidentify", "De-identify", key_display="D"),
        Binding("escape", "app.pop_screen", "Back"),
    ]
    PALETTE = (
        PaletteEntry("Open review", "Review the highlighted transcript", "open_review"),
        PaletteEntry("Sign off as reviewed", "The reviewer's sign-off", "reviewed"),
        PaletteEntry("Receive a returned copy", "Read it, compare, store", "receive"),
        PaletteEntry("De-identify", "The highlighted approved transcript", "deidentify"),
    )

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Transcripts by approval state, overdue first. Enter reviews · r signs off · "
            "v receives a returned copy.",
            id="approval-intro",
        )
        yield DataTable(id="approval-queue", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        table = self.query_one(DataTable)
        highlighted = self.highlighted()
        table.clear()
        self.statuses: dict[str, ApprovalStatus] = {}
        with self.user_errors():
            for status in approval_statuses(self.study):
                key = str(status.interview_id)
                self.statuses[key] = status
                table.add_row(*status_row(status), key=key)
        if highlighted is not None and highlighted.interview_id in {
            s.interview_id for s in self.statuses.values()
        }:
            table.move_cursor(row=table.get_row_index(str(highlighted.interview_id)))

    def highlighted(self) -> ApprovalStatus | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.statuses.get(str(key)) if key is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_review()

    def action_open_review(self) -> None:
        status = self.highlighted()
        if status is None:
            self.notify("No transcripts yet: transcribe an interview first.")
            return
        with self.user_errors():
            interview = get_interview(self.study, status.interview_id)
            self.app.push_screen(ReviewScreen(interview))

    def action_deidentify(self) -> None:
        from fieldkit.tui.screens.identifiers import open_deid_review

        status = self.highlighted()
        if status is None:
            self.notify("No transcripts yet: nothing to de-identify.")
            return
        with self.user_errors():
            open_deid_review(self, get_interview(self.study, status.interview_id))

    def action_reviewed(self) -> None:
        status = self.highlighted()
        if status is None:
            return
        with self.user_errors():
            mark_reviewed(self.study, status.participant, status.wave)
            self.notify(f"{status.participant} ({status.wave}) signed off as reviewed.")
        self.load()

    def action_receive(self) -> None:
        status = self.highlighted()
        if status is None:
            return

        def chosen(path: str | None) -> None:
            if not path or not path.strip():
                return
            with self.user_errors():
                returned = read_returned(
                    self.study, status.participant, Path(path.strip()).expanduser(), status.wave
                )
                self.app.push_screen(ReturnedCopyScreen(returned), self.stored(returned))

        prompt = TextPrompt(f"Returned copy from {status.participant}", "path to .docx or .txt")
        self.app.push_screen(prompt, chosen)

    def stored(self, returned: ReturnedCopy) -> Callable[[bool | None], None]:
        def answered(store: bool | None) -> None:
            if not store:
                self.notify("Nothing stored.")
                return
            with self.user_errors():
                revision = accept_returned(self.study, returned)
                self.notify(
                    f"Stored: {returned.interview.participant_id} is now returned "
                    f"(revision {revision})."
                )
            self.load()

        return answered
