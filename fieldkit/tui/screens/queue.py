"""The participant queue: consented participants in consent order, then the rest, with each
one's latest interview and its transcript (progress polled from the job queue once a second)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import ColumnKey

from fieldkit.core.models import ConsentStatus, Participant
from fieldkit.services.interviews import (
    FINISHED,
    InterviewSession,
    current_interview,
    latest_interview_ids,
    list_interviews,
    next_wave,
)
from fieldkit.services.participants import get_participant, interview_queue
from fieldkit.services.transcription import interviews_with_active_jobs, transcript_state
from fieldkit.store.repo import InterviewRow
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.wave_choice import WaveAnswer, WaveChoice
from fieldkit.tui.widgets.footer import KeysFooter
from fieldkit.tui.widgets.tables import column_widths, fill_table

# (key, label) of every column, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("site", "Site"),
    ("role", "Role"),
    ("consent_date", "Consent date"),
    ("consent", "Consent"),
    ("interview", "Interview"),
    ("transcript", "Transcript"),
)
TRANSCRIPT_COLUMN = "transcript"
# When the terminal is too narrow for every column, these go first, in this order (the role is
# usually part of the ID; the order by consent shows who consented first); they come back as
# soon as there is room.
DROPPED_FIRST = ("consent_date", "site", "role")
CELL_PADDING = 2  # a DataTable cell's padding, both sides together
SCROLLBAR = 2  # kept free for the table's vertical scroll bar
JOB_POLL_S = 1.0
CONSENT_LABELS = {
    ConsentStatus.CONSENTED: "✓ consented",
    ConsentStatus.PENDING: "no consent yet",
    ConsentStatus.WITHDRAWN: "withdrawn",
}


def columns_that_fit(widths: Mapping[str, int], room: int) -> tuple[str, ...]:
    """The columns to show in `room` terminal cells: all of them when they fit, else without
    the least important ones (DROPPED_FIRST), as few dropped as will do."""
    shown = [key for key, _ in COLUMNS]
    for key in DROPPED_FIRST:
        if sum(widths[k] + CELL_PADDING for k in shown) <= room - SCROLLBAR:
            break
        shown.remove(key)
    return tuple(shown)


def transcript_label(state: str) -> str:
    return "—" if state == "none" else state


class QueueScreen(FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding, so the footer shows it (the table's own Enter would hide it).
        Binding(
            "enter",
            "open_interview",
            "Open",
            priority=True,
            tooltip="Open the interview screen of the highlighted participant",
        ),
        Binding("a", "open_approvals", "Approvals", tooltip="Review and approval queue"),
        Binding(
            "D",
            "deidentify",
            "De-identify",
            key_display="D",
            tooltip="De-identify the highlighted participant's approved transcript",
        ),
        Binding(
            "I",
            "open_identifiers",
            "Identifiers",
            key_display="I",
            tooltip="The study's list of names and places to replace",
        ),
        Binding(
            "R",
            "open_report",
            "Report",
            key_display="R",
            tooltip="The study report: the figures a methods section reports",
        ),
    ]
    PALETTE = (
        PaletteEntry("Open interview", "Interview the highlighted participant", "open_interview"),
        PaletteEntry("Approvals", "Transcripts by review and approval state", "open_approvals"),
        PaletteEntry(
            "De-identify", "De-identify the highlighted approved transcript", "deidentify"
        ),
        PaletteEntry(
            "Identifiers", "The study's list of names and places to replace", "open_identifiers"
        ),
        PaletteEntry("Report", "The study report with interview durations", "open_report"),
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
        yield KeysFooter()

    def __init__(self) -> None:
        super().__init__()
        self.latest: dict[int, str] = {}  # interview id → participant, for the interviews shown
        self.active_jobs: set[int] = set()  # interviews with a queued or running job
        self.cells: dict[str, dict[str, str]] = {}  # participant → column → text, all columns
        self.shown: tuple[str, ...] = ()  # the columns on screen

    def on_mount(self) -> None:
        self.load_queue()
        self.set_interval(JOB_POLL_S, self.poll_transcripts)

    def on_screen_resume(self) -> None:
        self.load_queue()  # back from an interview: its status has changed

    def on_resize(self) -> None:
        if self.fitting_columns() != self.shown:
            self.show_table()

    def load_queue(self) -> None:
        statuses = self.interview_statuses()
        self.cells = {}
        with self.user_errors():
            for participant in interview_queue(self.study):
                self.cells[participant.id] = self.row(participant, statuses)
        self.active_jobs = self.interviews_with_jobs()
        self.show_table()

    def fitting_columns(self) -> tuple[str, ...]:
        widths = column_widths(COLUMNS, list(self.cells.values()))
        return columns_that_fit(widths, self.app.size.width)

    def show_table(self) -> None:
        """Fill the table with the columns that fit, keeping the highlighted participant."""
        self.shown = self.fitting_columns()
        columns = [(key, label) for key, label in COLUMNS if key in self.shown]
        fill_table(self.query_one(DataTable), columns, self.cells)

    def interview_statuses(self) -> dict[str, tuple[str, str]]:
        """The latest interview of each participant: ("in progress (commencement)", transcript)."""
        statuses: dict[str, tuple[str, str]] = {}
        for interview in list_interviews(self.study):
            statuses[interview.participant] = (
                f"{interview.status} ({interview.wave})",
                transcript_label(interview.transcript_state),
            )
        latest_of = latest_interview_ids(self.study)
        self.latest = {interview_id: pid for pid, interview_id in latest_of.items()}
        return statuses

    @staticmethod
    def row(participant: Participant, statuses: dict[str, tuple[str, str]]) -> dict[str, str]:
        interview, transcript = statuses.get(participant.id, ("not started", "—"))
        return {
            "id": participant.id,
            "site": participant.site,
            "role": participant.role,
            "consent_date": participant.consent_date or "—",
            "consent": CONSENT_LABELS.get(participant.status, participant.status.value),
            "interview": interview,
            "transcript": transcript,
        }

    def interviews_with_jobs(self) -> set[int]:
        return interviews_with_active_jobs(self.study)

    def poll_transcripts(self) -> None:
        """Once a second: the transcript cell of every interview whose job is (or just was)
        queued or running, as the job table has it now (the worker writes its progress there
        as it goes)."""
        self.fieldkit_app.ensure_transcriber()
        active = self.interviews_with_jobs()
        changed: list[str] = []
        for interview_id in active | self.active_jobs:
            participant = self.latest.get(interview_id)
            if participant is None or participant not in self.cells:
                continue
            state = transcript_label(transcript_state(self.study, interview_id))
            if self.cells[participant][TRANSCRIPT_COLUMN] != state:
                self.cells[participant][TRANSCRIPT_COLUMN] = state
                changed.append(participant)
        self.active_jobs = active
        if not changed:
            return
        widths = column_widths(COLUMNS, list(self.cells.values()))
        table = self.query_one(DataTable)
        column = table.columns.get(ColumnKey(TRANSCRIPT_COLUMN))
        same_layout = columns_that_fit(widths, self.app.size.width) == self.shown
        if column is None or not same_layout or column.width != widths[TRANSCRIPT_COLUMN]:
            self.show_table()  # the state's new width changes the columns that fit
            return
        for participant in changed:  # the usual case: "transcribing 41%" → "42%", in place
            state = self.cells[participant][TRANSCRIPT_COLUMN]
            table.update_cell(participant, TRANSCRIPT_COLUMN, state)

    def highlighted_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_interview()

    def action_open_approvals(self) -> None:
        from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen

        self.app.push_screen(ApprovalQueueScreen())

    def action_open_report(self) -> None:
        from fieldkit.tui.screens.report import ReportScreen

        self.app.push_screen(ReportScreen())

    def action_open_identifiers(self) -> None:
        from fieldkit.tui.screens.identifiers import IdentifiersScreen

        self.app.push_screen(IdentifiersScreen())

    def action_deidentify(self) -> None:
        from fieldkit.tui.screens.identifiers import deidentify_participant

        with self.user_errors():
            deidentify_participant(self, self.highlighted_id())

    def action_open_interview(self) -> None:
        participant_id = self.highlighted_id()
        if participant_id is None:
            self.notify("No participants yet: add one with `fieldkit participant add`.")
            return
        with self.user_errors():
            current = current_interview(self.study, participant_id)
            if current is not None and current.status in FINISHED:
                self.ask_about_wave(current)  # a new wave never starts silently
                return
            session = InterviewSession.start(self.study, participant_id)
            self.fieldkit_app.open_interview(session)

    def ask_about_wave(self, ended: InterviewRow) -> None:
        participant = get_participant(self.study, ended.participant_id)
        following = next_wave(self.study, participant)
        why_not = ""
        if participant.status is not ConsentStatus.CONSENTED:
            consent = "withdrawn" if participant.status is ConsentStatus.WITHDRAWN else "not given"
            following, why_not = None, f"No new interview: consent is {consent}."
        elif following is None:
            why_not = "Every wave of the study is done (add a wave to study.toml to go on)."

        def answered(answer: WaveAnswer | None) -> None:
            with self.user_errors():
                if answer == "next" and following is not None:
                    session = InterviewSession.start(self.study, participant.id, following)
                    self.fieldkit_app.open_interview(session)
                elif answer == "view":
                    self.fieldkit_app.open_interview(InterviewSession.view(self.study, ended))

        self.app.push_screen(WaveChoice(ended, following, why_not), answered)
