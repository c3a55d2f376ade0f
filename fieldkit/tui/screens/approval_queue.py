"""The approval queue: every transcript by state with days waiting, overdue ones first (marked,
and counted above the table). The reviewer's desk:

- Enter opens the review screen; r signs a transcript off as reviewed;
- s sends the participant's copy (.docx or .txt, to the folder remembered for the study);
- v reads a returned copy and opens the returned-copy screen (both sides, then store or not);
- d records the participant's decision (withdrawal as the study's policy says);
- x exports approved transcripts for analysis.

Writing files, deleting a withdrawn interview and exporting run in a thread worker that calls
the same services as the command line and posts a message; the handlers change what is shown.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from fieldkit.core.wording import counted
from fieldkit.core.workflow import DECISIONS, TranscriptState
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services.approval.copies import (
    ReturnedCopy,
    SentCopy,
    check_receive,
    check_send,
    read_returned,
    send_copy,
)
from fieldkit.services.approval.decisions import (
    DecisionOutcome,
    check_decision,
    decide,
    will_delete_on_withdrawal,
)
from fieldkit.services.approval.folders import copy_folder, make_copy_folder
from fieldkit.services.approval.queue import ApprovalStatus, approval_statuses
from fieldkit.services.approval.states import mark_reviewed
from fieldkit.services.deletion import Deletion
from fieldkit.services.export import SOFTWARE, ExportResult, default_out_dir, export
from fieldkit.services.interviews import get_interview
from fieldkit.tui.hints import in_app_words
from fieldkit.tui.screens.approval_dialogs import (
    DecideDialog,
    SendCopyDialog,
    SendRequest,
    decision_choice,
    withdrawal_policy,
)
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.export_dialog import ExportDialog, ExportRequest, Highlighted
from fieldkit.tui.screens.modals import ConfirmDeletion, Notice, TextPrompt
from fieldkit.tui.screens.returned_copy import ReturnedCopyScreen
from fieldkit.tui.screens.review import ReviewScreen
from fieldkit.tui.widgets.footer import KeysFooter
from fieldkit.tui.widgets.tables import fill_table

__all__ = ["ApprovalQueueScreen", "ReturnedCopyScreen", "status_row"]

# (key, label) of the columns; below NARROW_WIDTH the deadline drops its year ("29 Nov") and
# the OVERDUE mark joins it in one column, so that every column fits in 80.
COLUMNS = (
    ("participant", "Participant"),
    ("wave", "Wave"),
    ("state", "State"),
    ("waiting", "Waiting"),
    ("deadline", "Deadline"),
    ("mark", ""),
)
NARROW_COLUMNS = COLUMNS[:-1]
NARROW_WIDTH = 90
OVERDUE = "OVERDUE"
OVERDUE_STYLE = "bold red"


def status_row(status: ApprovalStatus, narrow: bool = False) -> dict[str, Text]:
    """The row's cells by column key (the narrow table has no "mark" column)."""
    days = f"{status.days_waiting} day" + ("" if status.days_waiting == 1 else "s")
    deadline = "—"
    if status.deadline:
        day = dt.date.fromisoformat(status.deadline)
        deadline = f"{day.day} {day:%b}" if narrow else status.deadline
    mark = OVERDUE if status.overdue else ""
    if narrow and mark:
        deadline = f"{deadline} {mark}"
    cells = {
        "participant": status.participant,
        "wave": status.wave,
        "state": status.state.value,
        "waiting": days,
        "deadline": deadline,
        "mark": mark,
    }
    style = OVERDUE_STYLE if status.overdue else ""
    return {key: Text(cell, style=style) for key, cell in cells.items()}


def overdue_line(statuses: list[ApprovalStatus]) -> Text:
    overdue = sum(s.overdue for s in statuses)
    if not overdue:
        return Text("Nothing overdue.", style="dim")
    return Text(
        f"⚠ {overdue} overdue: sent, and the reply deadline passed without an answer",
        style=OVERDUE_STYLE,
    )


def deletion_lines(deletion: Deletion, shown: Callable[[Path], str] = str) -> list[str]:
    """What a withdrawal deleted, in plain words (counts and paths, never content); `shown`
    writes a path (the study's own files relative to its folder)."""
    counts = deletion.counts
    lines = [
        f"Deleted {counted(counts.transcripts, 'version')} of the transcript "
        f"({counted(counts.words, 'word')}), {counted(counts.recordings, 'recording')}, "
        f"{counted(counts.events, 'note or marker', 'notes or markers')} with text and "
        f"{counted(len(deletion.removed), 'file')}:",
        *(f"  {shown(path)}" for path in deletion.removed),
    ]
    lines += [
        f"The export {path} held other transcripts too: export those again."
        for path in deletion.shared_exports
    ]
    lines += [f"Could not remove {problem}: delete it yourself." for problem in deletion.failed]
    lines += [
        f"The copy {name} was written before fieldkit recorded where: delete it yourself."
        for name in deletion.unrecorded_copies
    ]
    if not deletion.database_clean:
        lines.append(
            "Another program has the study open, so the database journal still holds old "
            "pages; they are cleared when the last program closes the study."
        )
    if deletion.copies_sent:
        lines.append(
            "Copies sent by e-mail or printed are beyond fieldkit's reach: delete or destroy "
            "them yourself."
        )
    return lines


def export_lines(result: ExportResult) -> list[str]:
    kind = "identified" if result.identified else "de-identified"
    lines = [
        f"{counted(len(result.files), 'file')} with "
        f"{counted(len(result.transcripts), f'{kind} transcript')}, written to {result.out_dir}:",
        *(f"  {path.name}" for path in result.files),
        f"They open in {SOFTWARE[result.format]}.",
    ]
    # The notes name the command that fixes what was skipped; in the app it is a key.
    return lines + [
        note.replace("fieldkit deidentify", "de-identify it with D on the interview queue:")
        for note in result.notes
    ]


class DeskJobDone(Message):
    """A worker finished; `then` shows the result (run by the handler, on the UI thread)."""

    def __init__(self, then: Callable[[], None]) -> None:
        super().__init__()
        self.then = then


class DeskJobFailed(Message):
    """A worker's service call refused or failed; the handler shows it as a notification."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class ApprovalQueueScreen(FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding, so the footer shows it (the table's own Enter would hide it).
        Binding("enter", "open_review", "Review", priority=True, tooltip="Review the transcript"),
        Binding("r", "reviewed", "Sign off", tooltip="Sign off as reviewed"),
        Binding("s", "send", "Send", tooltip="Send: write the participant's copy, record the day"),
        Binding("v", "receive", "Returned copy", tooltip="Read a returned copy and compare it"),
        Binding("d", "decide", "Decide", tooltip="Record the participant's decision"),
        Binding("x", "export", "Export", tooltip="Export approved transcripts for analysis"),
        Binding(
            "D",
            "deidentify",
            "De-identify",
            show=False,
            key_display="D",
            tooltip="De-identify the highlighted approved transcript",
        ),
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the interview queue"),
        # Quit still works; its place in the footer goes to the desk's keys (80 columns).
        Binding("q", "app.quit", "Quit", show=False, tooltip="Quit fieldkit"),
    ]
    # Below 100 columns, r gives its place in the footer to the desk's other keys (the line
    # above the table and the help overlay name it).
    FOOTER_WIDE_ONLY = frozenset({"reviewed"})
    PALETTE = (
        PaletteEntry("Send the participant's copy", "Write it and record the day", "send"),
        PaletteEntry("Receive a returned copy", "Read it, compare, store", "receive"),
        PaletteEntry("Record the decision", "Approved, with changes, withdrawn …", "decide"),
        PaletteEntry("Export for analysis", "NVivo, QDPX, CSV or JSON", "export"),
        PaletteEntry("Open review", "Review the highlighted transcript", "open_review"),
        PaletteEntry("Sign off as reviewed", "The reviewer's sign-off", "reviewed"),
        PaletteEntry("De-identify", "The highlighted approved transcript", "deidentify"),
    )
    DEFAULT_CSS = """
    #approval-intro { padding: 0 1; color: $text-muted; }
    #approval-overdue { padding: 0 1; }
    #approval-queue { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[str, ApprovalStatus] = {}
        self.narrow: bool | None = None
        self.busy = False  # a worker is writing; a second key waits for it
        self.last_export: ExportResult | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Transcripts by approval state, overdue first. Enter reviews · r signs off · "
            "s sends · v returned copy · d decides · x exports · ? all keys",
            id="approval-intro",
        )
        yield Static(id="approval-overdue")
        yield DataTable(id="approval-queue", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def on_resize(self) -> None:
        if self.narrow is not None and self.is_narrow() != self.narrow:
            self.load()

    def is_narrow(self) -> bool:
        return self.app.size.width < NARROW_WIDTH

    def load(self) -> None:
        self.narrow = self.is_narrow()
        self.statuses = {}
        with self.user_errors():
            for status in approval_statuses(self.study):
                self.statuses[str(status.interview_id)] = status
        rows = {key: status_row(status, self.narrow) for key, status in self.statuses.items()}
        columns = NARROW_COLUMNS if self.narrow else COLUMNS
        fill_table(self.query_one(DataTable), columns, rows)
        overdue = self.query_one("#approval-overdue", Static)
        overdue.update(overdue_line(list(self.statuses.values())))

    def highlighted(self) -> ApprovalStatus | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.statuses.get(str(key)) if key is not None else None

    def chosen(self) -> ApprovalStatus | None:
        """The highlighted transcript, or None (said) when there is none or a step is running."""
        if self.busy:
            self.notify("Still working on the last step: a moment.")
            return None
        status = self.highlighted()
        if status is None:
            self.notify("No transcripts yet: transcribe an interview first.")
        return status

    @contextmanager
    def desk_errors(self) -> Iterator[None]:
        """A refusal becomes one notification in the app's words (keys, not commands)."""
        with self.user_errors():
            try:
                yield
            except FieldkitError as error:
                self.notify(in_app_words(error), severity="error", timeout=8)

    # -- review and sign-off -------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_review()

    def action_open_review(self) -> None:
        status = self.chosen()
        if status is None:
            return
        with self.desk_errors():
            interview = get_interview(self.study, status.interview_id)
            self.app.push_screen(ReviewScreen(interview))

    def action_deidentify(self) -> None:
        from fieldkit.tui.screens.identifiers import open_deid_review

        status = self.chosen()
        if status is None:
            return
        with self.user_errors():
            open_deid_review(self, get_interview(self.study, status.interview_id))

    def action_reviewed(self) -> None:
        status = self.chosen()
        if status is None:
            return
        with self.desk_errors():
            mark_reviewed(self.study, status.participant, status.wave)
            self.notify(f"{status.participant} ({status.wave}) signed off as reviewed.")
        self.load()

    # -- s: send the participant's copy --------------------------------------------------------

    def action_send(self) -> None:
        status = self.chosen()
        if status is None:
            return
        with self.desk_errors():
            check_send(self.study, status.participant, status.wave)
            sent_before = status.since[:10] if status.state is TranscriptState.SENT else None
            dialog = SendCopyDialog(
                status.participant, status.wave, copy_folder(self.study), sent_before
            )
            self.app.push_screen(dialog, lambda request: self.send(status, request))

    def send(self, status: ApprovalStatus, request: SendRequest | None) -> None:
        if request is None:
            self.notify("Nothing sent.")
            return

        def job() -> SentCopy:
            if request.create_folder:
                make_copy_folder(request.path.parent)
            return send_copy(self.study, status.participant, request.path, status.wave)

        def then(sent: SentCopy) -> None:
            again = " again" if sent.resent else ""
            where = self.study.paths.relative(sent.path)
            self.notify(
                f"Sent{again}: {where} written, today recorded as the day it went out. "
                f"Reply by {sent.deadline.isoformat()}.",
                timeout=10,
            )

        self.run_job(job, then)

    # -- v: a returned copy --------------------------------------------------------------------

    def action_receive(self) -> None:
        status = self.chosen()
        if status is None:
            return
        with self.desk_errors():
            check_receive(self.study, status.participant, status.wave)
            folder = copy_folder(self.study)
            prompt = TextPrompt(
                f"Returned copy from {status.participant} ({status.wave})",
                "the returned .docx or .txt",
                value=f"{folder}{os.sep}",
                description=(
                    "The file the participant sent back. It is compared with what was sent, "
                    "and nothing is stored until you say so."
                ),
                hint="Enter reads and compares it · Escape cancels",
            )
            self.app.push_screen(prompt, lambda path: self.receive(status, path))

    def receive(self, status: ApprovalStatus, path: str | None) -> None:
        if path is None or not path.strip():
            return
        returned_path = Path(path.strip()).expanduser()

        def job() -> ReturnedCopy:
            return read_returned(self.study, status.participant, returned_path, status.wave)

        def then(returned: ReturnedCopy) -> None:
            self.app.push_screen(ReturnedCopyScreen(returned))

        self.run_job(job, then)

    # -- d: the participant's decision ---------------------------------------------------------

    def action_decide(self) -> None:
        status = self.chosen()
        if status is None:
            return
        with self.desk_errors():
            words, refusals = [], []
            for word in DECISIONS:
                try:
                    check_decision(self.study, status.participant, word, status.wave)
                    words.append(word)
                except WorkflowError as refusal:
                    refusals.append(refusal)
            if not words:
                raise refusals[0]
            deleting = will_delete_on_withdrawal(self.study)
            dialog = DecideDialog(
                status.participant,
                status.wave,
                self.situation(status),
                [decision_choice(word, deleting) for word in words],
                withdrawal_policy(deleting) if "withdrawn" in words else "",
                self.no_response_note(status, words),
            )
            self.app.push_screen(dialog, lambda word: self.decided(status, word, deleting))

    @staticmethod
    def situation(status: ApprovalStatus) -> str:
        line = f"Now: {status.state.value} (for {status.days_waiting} day"
        line += ")" if status.days_waiting == 1 else "s)"
        if status.deadline and status.state is TranscriptState.SENT:
            line += f"; reply by {status.deadline}"
            line += ", which has passed." if status.overdue else "."
        return line if line.endswith(".") else line + "."

    @staticmethod
    def no_response_note(status: ApprovalStatus, words: list[str]) -> str:
        if "no-response" in words or status.state is not TranscriptState.SENT:
            return ""
        return f"No response can be recorded after the reply deadline, {status.deadline}."

    def decided(self, status: ApprovalStatus, word: str | None, deleting: bool) -> None:
        if word is None:
            self.notify("Nothing recorded.")
            return
        if word != "withdrawn" or not deleting:
            self.record_decision(status, word)
            return
        question = f"Delete the {status.wave} interview of {status.participant} now?"
        details = (
            "The study's policy deletes a withdrawn interview's data, for good: the recording, "
            "every version of the transcript, the participant's copies sent and returned, and "
            "every export that holds it. This cannot be undone."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.record_decision(status, word)
            else:
                self.notify("Nothing changed: the transcript and its data are as they were.")

        self.app.push_screen(ConfirmDeletion(question, details), confirmed)

    def record_decision(self, status: ApprovalStatus, word: str) -> None:
        def job() -> DecisionOutcome:
            return decide(self.study, status.participant, word, status.wave)

        def then(outcome: DecisionOutcome) -> None:
            decided = f"{status.participant} ({status.wave}): {outcome.state.value}"
            self.notify(f"Decision recorded for {decided}.")
            if outcome.deletion is not None:
                lines = deletion_lines(outcome.deletion, self.study.paths.relative)
                self.app.push_screen(Notice("Deleted", lines))

        if word == "withdrawn":
            self.notify("Recording the withdrawal …", timeout=3)
        self.run_job(job, then)

    # -- x: export -----------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.busy:
            self.notify("Still working on the last step: a moment.")
            return
        status = self.highlighted()
        offered = (
            Highlighted(status.interview_id, f"{status.participant} ({status.wave})")
            if status is not None and status.ready_for_analysis
            else None
        )
        dialog = ExportDialog(default_out_dir(self.study), offered)
        self.app.push_screen(dialog, self.export)

    def export(self, request: ExportRequest | None) -> None:
        if request is None:
            self.notify("Nothing exported.")
            return

        def job() -> ExportResult:
            return export(
                self.study,
                request.fmt,
                request.out_dir,
                timestamps=request.timestamps,
                interview_ids=request.interview_ids,
            )

        def then(result: ExportResult) -> None:
            self.last_export = result
            self.app.push_screen(Notice("Exported", export_lines(result)))

        self.notify("Exporting …", timeout=3)
        self.run_job(job, then)

    # -- the worker ----------------------------------------------------------------------------

    def run_job(self, job: Callable[[], Any], then: Callable[[Any], None]) -> None:
        self.busy = True
        self.work_in_thread(job, then)

    @work(thread=True, exit_on_error=False, group="approval-desk")
    def work_in_thread(self, job: Callable[[], Any], then: Callable[[Any], None]) -> None:
        try:
            result = job()
        except Exception as error:  # shown (or, if it is a bug, raised) by the handler
            self.post_message(DeskJobFailed(error))
        else:
            self.post_message(DeskJobDone(lambda: then(result)))
        finally:
            self.study.close()  # this thread's own database connection

    def on_desk_job_done(self, message: DeskJobDone) -> None:
        self.busy = False
        self.load()
        message.then()

    def on_desk_job_failed(self, message: DeskJobFailed) -> None:
        self.busy = False
        self.load()
        with self.desk_errors():
            raise message.error
