"""The participant queue: consented participants in consent order, then the rest, with each
one's latest interview and its transcript (progress polled from the job queue once a second)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

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

COLUMNS = ("ID", "Site", "Role", "Consent date", "Consent", "Interview", "Transcript")
TRANSCRIPT_COLUMN = "transcript"
JOB_POLL_S = 1.0
CONSENT_LABELS = {
    ConsentStatus.CONSENTED: "✓ consented",
    ConsentStatus.PENDING: "no consent yet",
    ConsentStatus.WITHDRAWN: "withdrawn",
}


def transcript_label(state: str) -> str:
    return "—" if state == "none" else state


class QueueScreen(FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_interview", "Open interview", tooltip="Open the interview screen"),
        Binding("a", "open_approvals", "Approvals", tooltip="Review and approval queue"),
        Binding("D", "deidentify", "De-identify", key_display="D"),
        Binding("I", "open_identifiers", "Identifiers", key_display="I"),
        Binding("R", "open_report", "Report", key_display="R"),
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
        yield Footer()

    def __init__(self) -> None:
        super().__init__()
        self.latest: dict[int, str] = {}  # interview id → participant, for the interviews shown
        self.active_jobs: set[int] = set()  # interviews with a queued or running job

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS[:-1])
        table.add_column(COLUMNS[-1], key=TRANSCRIPT_COLUMN)
        self.load_queue()
        self.set_interval(JOB_POLL_S, self.poll_transcripts)

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
        self.active_jobs = self.interviews_with_jobs()
        if highlighted is not None and highlighted in table.rows:
            table.move_cursor(row=table.get_row_index(highlighted))

    def interview_statuses(self) -> dict[str, tuple[str, str]]:
        """The latest interview of each participant: ("in progress (commencement)", transcript)."""
        statuses: dict[str, tuple[str, str]] = {}
        for interview in list_interviews(self.study):
            # Status first: it is what matters when the column is cut short at 80 columns.
            statuses[interview.participant] = (
                f"{interview.status} ({interview.wave})",
                transcript_label(interview.transcript_state),
            )
        latest_of = latest_interview_ids(self.study)
        self.latest = {interview_id: pid for pid, interview_id in latest_of.items()}
        return statuses

    @staticmethod
    def row(participant: Participant, statuses: dict[str, tuple[str, str]]) -> tuple[str, ...]:
        interview, transcript = statuses.get(participant.id, ("not started", "—"))
        return (
            participant.id,
            participant.site,
            participant.role,
            participant.consent_date or "—",
            CONSENT_LABELS.get(participant.status, participant.status.value),
            interview,
            transcript,
        )

    def interviews_with_jobs(self) -> set[int]:
        return interviews_with_active_jobs(self.study)

    def poll_transcripts(self) -> None:
        """Redraw the transcript cell of every interview whose job is (or just was) active."""
        self.fieldkit_app.ensure_transcriber()
        active = self.interviews_with_jobs()
        table = self.query_one(DataTable)
        for interview_id in active | self.active_jobs:
            participant = self.latest.get(interview_id)
            if participant is not None and participant in table.rows:
                state = transcript_label(transcript_state(self.study, interview_id))
                table.update_cell(participant, TRANSCRIPT_COLUMN, state, update_width=True)
        self.active_jobs = active

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
            following, why_not = None, f"No new interview: consent is {participant.status.value}."
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
