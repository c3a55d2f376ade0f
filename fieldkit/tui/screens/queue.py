"""The participant queue: consented participants in consent order, then the rest."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from fieldkit.core.models import ConsentStatus, Participant
from fieldkit.services.interviews import InterviewSession, list_interviews
from fieldkit.services.participants import interview_queue
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry

COLUMNS = ("ID", "Site", "Role", "Consent date", "Consent", "Interview")
CONSENT_LABELS = {
    ConsentStatus.CONSENTED: "✓ consented",
    ConsentStatus.PENDING: "no consent yet",
    ConsentStatus.WITHDRAWN: "withdrawn",
}


class QueueScreen(FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_interview", "Open interview", tooltip="Open the interview screen"),
    ]
    PALETTE = (
        PaletteEntry("Open interview", "Interview the highlighted participant", "open_interview"),
        PaletteEntry("Help", "Show the keys", "app.help"),
        PaletteEntry("Quit", "Leave fieldkit", "app.quit"),
    )

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Interview queue — consented participants in the order consent was given. "
            "Enter opens the interview.",
            id="queue-intro",
        )
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.load_queue()

    def on_screen_resume(self) -> None:
        self.load_queue()  # back from an interview: its status has changed

    def load_queue(self) -> None:
        table = self.query_one(DataTable)
        highlighted = self.highlighted_id()
        table.clear()
        statuses = self.interview_statuses()
        with self.user_errors():
            for participant in interview_queue(self.study):
                table.add_row(*self.row(participant, statuses), key=participant.id)
        if highlighted is not None and highlighted in table.rows:
            table.move_cursor(row=table.get_row_index(highlighted))

    def interview_statuses(self) -> dict[str, str]:
        """The latest interview of each participant, e.g. "in progress (commencement)"."""
        statuses: dict[str, str] = {}
        for interview in list_interviews(self.study):
            # Status first: it is what matters when the column is cut short at 80 columns.
            statuses[interview.participant] = f"{interview.status} ({interview.wave})"
        return statuses

    @staticmethod
    def row(participant: Participant, statuses: dict[str, str]) -> tuple[str, ...]:
        return (
            participant.id,
            participant.site,
            participant.role,
            participant.consent_date or "—",
            CONSENT_LABELS.get(participant.status, participant.status.value),
            statuses.get(participant.id, "not started"),
        )

    def highlighted_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_interview()

    def action_open_interview(self) -> None:
        participant_id = self.highlighted_id()
        if participant_id is None:
            self.notify("No participants yet: add one with `fieldkit participant add`.")
            return
        with self.user_errors():
            session = InterviewSession.start(self.study, participant_id)
            self.fieldkit_app.open_interview(session)
