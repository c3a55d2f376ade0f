"""The interview screen, used live: what to ask now, what not to say, quick notes and markers,
and the recording (space) with its meters and the live guard."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Header, Static

from fieldkit.audio.capture import LevelReading, RecordingResult
from fieldkit.core.guard import GuardEvent, GuardEventKind, TermState, format_clock
from fieldkit.core.models import InterviewStatus
from fieldkit.core.wording import interview_status_phrase
from fieldkit.errors import FieldkitError
from fieldkit.services.interviews import InterviewSession, has_audio, interview_events
from fieldkit.services.live_guard import LiveStatus
from fieldkit.services.recording import capture_settings, disk_status
from fieldkit.services.transcription import enqueue
from fieldkit.store.repo import InterviewRow, JobRow
from fieldkit.tui.hints import as_sentence
from fieldkit.tui.messages import (
    GuardEventDetected,
    InterviewChanged,
    InterviewLeft,
    LiveGuardStatus,
    RecordingStarted,
    RecordingStopped,
    WorkerFailed,
)
from fieldkit.tui.recording_link import RecordingLink
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.modals import ChooseTerm, Confirm, TextPrompt
from fieldkit.tui.widgets.clock import InterviewClock
from fieldkit.tui.widgets.field_notes import FieldNotes
from fieldkit.tui.widgets.footer import KeysFooter
from fieldkit.tui.widgets.guard_banner import GuardBanner, banner_id, breach_text
from fieldkit.tui.widgets.recording_bar import RecordingBar
from fieldkit.tui.widgets.schedule_panel import QuestionPanel
from fieldkit.tui.widgets.topic_list import TopicList

METER_INTERVAL_S = 0.1  # meters and recorded time redraw at most 10 times a second
DISK_INTERVAL_S = 5.0
SETTLE_DRAIN_S = 6.0  # after a stop by itself: let the live guard judge what it has heard
END_DRAIN_S = 2.0  # ending the interview: a short wait for the guard's last chunk
STOP_DETAILS = {
    "end-of-input": "end of the input file",
    "disk": "disk full",
    "write-error": "could not write the file",
    "device-lost": "input device lost",
    "duration": "time limit",
    "withdrawn": "consent withdrawn",
}


def guard_status_line(status: LiveStatus) -> str:
    if status.state == "behind":
        return f"live guard: behind ({status.skipped_s:.0f} s skipped)"
    if status.state == "starting":
        return "live guard: starting…"
    return f"live guard: {status.state}"


def stop_explanation(result: RecordingResult, source: str) -> str:
    """What the interviewer reads when the recording stopped by itself."""
    recorded = format_clock(result.duration_s)
    if result.stop_reason == "end-of-input" and not result.message:
        return (
            f"The virtual microphone ({source}) has reached the end of its file: recording "
            f"stopped after {recorded}, everything is kept. Press e to end the interview."
        )
    if not result.message:
        return f"Recording stopped ({result.stop_reason}). Recorded {recorded}, all kept."
    reason = result.message
    if "kept" in reason:  # the message already says how much is kept
        return f"{reason[0].upper()}{reason[1:]}."
    return f"{reason[0].upper()}{reason[1:]}. Recorded {recorded}, all kept."


class InterviewScreen(FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "record", "Rec/pause", tooltip="Start, pause or resume the recording"),
        Binding("n", "next_question", "Next", tooltip="Next question"),
        Binding("p", "previous_question", "Prev", tooltip="Previous question"),
        Binding("r", "raised", "Raised", tooltip="The participant raised a guarded term"),
        Binding("u", "followed_up", "Followed up", show=False, tooltip="You asked the follow-up"),
        Binding("m", "marker", "Marker", tooltip="Timestamped marker, at once"),
        Binding("M", "labelled_marker", "Marker+label", show=False, tooltip="Marker with a label"),
        Binding(
            "f", "note", "Note", tooltip="Timestamped field note (Enter saves, Escape cancels)"
        ),
        Binding(
            "e",
            "end_interview",
            "End",
            tooltip="End the interview (asks first); it is then queued for transcription",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back to the queue; the interview stays open (asks first while recording)",
        ),
    ]
    FOOTER_WIDE_ONLY = frozenset({"quit"})  # q still quits; the help lists it
    PALETTE = (
        PaletteEntry("Record / pause", "Start, pause or resume the recording", "record"),
        PaletteEntry("Next question", "Go to the next question of the schedule", "next_question"),
        PaletteEntry("Previous question", "Go back one question", "previous_question"),
        PaletteEntry(
            "Participant raised a term", "The participant said a guarded term first", "raised"
        ),
        PaletteEntry("Follow-up asked", "You asked the follow-up probe for a term", "followed_up"),
        PaletteEntry("Marker", "Put a timestamped marker here", "marker"),
        PaletteEntry(
            "Marker with label", "A timestamped marker with a short label", "labelled_marker"
        ),
        PaletteEntry("Field note", "Write a timestamped field note", "note"),
        PaletteEntry(
            "End interview",
            "Stop recording, finish this interview and queue it for transcription",
            "end_interview",
        ),
        PaletteEntry("Back", "Back to the participant queue (the interview stays open)", "back"),
        PaletteEntry("Help", "Show the keys", "app.help"),
        PaletteEntry("Quit", "Leave fieldkit (a recording is stopped and kept first)", "app.quit"),
    )

    def __init__(self, session: InterviewSession) -> None:
        super().__init__()
        self.session = session
        schedule = session.schedule
        target_minutes = schedule.target_minutes or sum(
            topic.target_minutes or 0 for topic in schedule.topics
        )
        self.target_s = target_minutes * 60.0
        self.link: RecordingLink | None = None
        self.starting = False  # a recording is being started (space is ignored meanwhile)
        self.leaving = False  # winding down to leave the screen (keys that change things wait)
        self.stop_detail = ""  # why the last recording stopped by itself
        self.guard_problem = ""  # the last live-guard state the user was told about
        self._shown_level: LevelReading | None = None
        self._meter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="interview-bar"):
            yield Static(self.participant_line(), id="participant-info", markup=False)
            yield InterviewClock(self.target_s, id="clock")
        with Vertical(id="guard-banners"):
            for guarded in self.session.schedule.guarded_terms:
                yield GuardBanner(guarded.term)
        with Horizontal(id="interview-body"):
            yield TopicList(id="topics")
            with Vertical(id="interview-main"):
                yield QuestionPanel(id="question-panel")
                yield FieldNotes(id="notes")
        yield RecordingBar(self.channel_labels(), self.recording_hint(), id="recording-bar")
        yield KeysFooter()

    def participant_line(self) -> str:
        p, interview = self.session.participant, self.session.interview
        return f"{p.id} · {p.site} · {p.role} · wave: {interview.wave}"

    def channel_labels(self) -> list[str]:
        recording = self.study.config.recording
        if recording.channels != 2:
            return ["microphone"]
        return list(self.session.interview.channel_map or recording.channel_map)[:2]

    def recording_hint(self) -> str:
        if not self.session.is_open:
            status = interview_status_phrase(self.session.interview.status)
            return f"this interview {status}: view only"
        source = self.fieldkit_app.input_file
        where = f"virtual microphone: {source.name}" if source else "default microphone"
        return f"space to record · {where}"

    async def on_mount(self) -> None:
        self.query_one("#topics", TopicList).border_title = "Topics"
        self.query_one(FieldNotes).load(interview_events(self.study, self.session.interview.id))
        await self.refresh_view()
        self.tick()
        self.refresh_disk()
        self.set_interval(1.0, self.tick)
        self.set_interval(DISK_INTERVAL_S, self.refresh_disk)
        self._meter_timer = self.set_interval(METER_INTERVAL_S, self.refresh_recording, pause=True)

    def on_unmount(self) -> None:
        # Last line of defence (the app closing by any route): never leave a recording running.
        if self.link is not None:
            with suppress(FieldkitError):  # the audio is kept; the next start registers it
                self.link.stop()

    def tick(self) -> None:
        self.query_one(InterviewClock).show(self.session.elapsed())

    @on(InterviewChanged)
    async def refresh_view(self) -> None:
        session = self.session
        topic, question = session.current
        steps = session.steps
        position = f"Question {session.index + 1} of {len(steps)}"
        # The schedule's general instructions matter before the first question only.
        general = session.schedule.instructions if session.index == 0 else ""
        instructions = (general, topic.instructions, question.instructions)
        panel = self.query_one(QuestionPanel)
        await panel.show(topic, question, position, session.available, instructions)
        self.query_one(TopicList).show(session.schedule.topics, session.covered_topics(), topic.id)
        for banner in self.query(GuardBanner):
            banner.show(session.guard)

    # -- recording ---------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        """A recording is capturing (or paused): leaving must stop it first."""
        return self.link is not None and self.link.capturing

    def action_record(self) -> None:
        if self.starting or self.leaving:
            return
        if not self.session.is_open and (self.link is None or not self.link.capturing):
            self.notify(
                f"This interview {interview_status_phrase(self.session.interview.status)}: nothing "
                "more can be "
                "recorded in it. Start the next wave from the queue.",
                severity="warning",
                timeout=6,
            )
            return
        link = self.link
        if link is None or not link.capturing:
            self.starting = True
            self.query_one(RecordingBar).show_state("starting", None)
            self.start_recording()
            return
        with self.user_errors():
            if link.state == "recording":
                link.session.pause()  # type: ignore[union-attr]
            else:
                link.session.resume()  # type: ignore[union-attr]
        self.refresh_recording()

    @work(thread=True, exclusive=True, exit_on_error=False, group="recording")
    def start_recording(self) -> None:
        """Open the input and start capture, then the live guard (both may take a moment)."""
        link, previous = RecordingLink(self), self.link
        try:
            try:
                if previous is not None:
                    previous.stop()  # registered first: the new recording starts where it ended
                if self.fieldkit_app.input_from_study:  # gone since? say where it is named
                    self.study.config.recording.checked_input_file(self.study.root)
                link.start(self.study, self.session.interview, self.fieldkit_app.input_file)
            except FieldkitError as error:
                self.post_message(WorkerFailed(as_sentence(error.one_line())))
                return
            except Exception as error:  # never a traceback: one line, and nothing was recorded
                self.post_message(WorkerFailed(f"Recording could not start: {error}"))
                return
            link.start_guard(self.study)  # a guard problem is only a status: recording goes on
            self.post_message(RecordingStarted(link))
        finally:
            self.study.close()  # this thread's database connection

    def redraw_everything(self) -> None:
        """PortAudio's calls run with stderr (where the terminal UI is drawn) silenced for a
        moment: draw the whole screen again, so nothing drawn meanwhile stays missing."""
        self.app.refresh(repaint=True)

    @on(RecordingStarted)
    def recording_started(self, message: RecordingStarted) -> None:
        self.redraw_everything()
        link = message.link
        assert link.session is not None
        self.link, self.starting, self.stop_detail = link, False, ""
        # From now on question changes, markers and notes are on recording time.
        self.session.clock.source = link.session.elapsed
        bar = self.query_one(RecordingBar)
        bar.relabel(link.session.channel_map or ("microphone",))
        bar.set_meters_visible(True)
        if link.guard is not None:
            bar.show_guard(link.guard.status.state, guard_status_line(link.guard.status))
        elif link.guard_note:
            bar.show_guard("off", f"live guard: {link.guard_note}")
        if self._meter_timer is not None:
            self._meter_timer.resume()
        self.refresh_recording()
        self.notify(f"Recording to {link.session.path.name}", timeout=3)

    @on(WorkerFailed)
    def worker_failed(self, message: WorkerFailed) -> None:
        self.redraw_everything()
        self.starting = self.leaving = False
        if self.link is None:
            self.query_one(RecordingBar).show_state("idle", None)
        else:
            self.refresh_recording()
        self.notify(message.problem, severity="error", timeout=10)

    def refresh_recording(self) -> None:
        """Meters, warnings and recorded time from the newest reading (called ~10/s)."""
        link = self.link
        if link is None or link.session is None:
            return
        bar = self.query_one(RecordingBar)
        reading = link.latest_level
        if reading is not None and reading is not self._shown_level:
            self._shown_level = reading
            bar.show_levels(reading)
        detail = self.stop_detail if link.state == "stopped" else ""
        bar.show_state(link.state, link.session.elapsed(), detail)
        if not link.capturing:
            if self._meter_timer is not None:
                self._meter_timer.pause()
            bar.set_meters_visible(False)
            bar.show_warnings([])
            bar.show_hint("space records more (into a new file) · e ends the interview")

    def refresh_disk(self) -> None:
        with suppress(FieldkitError, OSError):
            status = disk_status(self.study, capture_settings(self.study))
            self.query_one(RecordingBar).show_disk(status.free_bytes, status.hours_left)

    @on(RecordingStopped)
    def recording_stopped(self, message: RecordingStopped) -> None:
        self.redraw_everything()
        result = message.result
        if result.stop_reason == "requested" or self.link is None:
            return  # we asked for it: whoever asked carries on from here
        self.stop_detail = STOP_DETAILS.get(result.stop_reason, result.stop_reason)
        source = self.fieldkit_app.input_file
        explanation = stop_explanation(result, source.name if source else "input")
        ordinary = result.stop_reason in ("end-of-input", "duration") and not result.message
        self.notify(explanation, severity="warning" if ordinary else "error", timeout=20)
        self.refresh_recording()
        # After a withdrawal the live guard hears nothing more of what was said.
        drain = 0.0 if result.stop_reason == "withdrawn" else SETTLE_DRAIN_S
        self.settle_recording(self.link, drain)

    @work(thread=True, exit_on_error=False, group="settle")
    def settle_recording(self, link: RecordingLink, drain_s: float) -> None:
        """Register the stopped recording and let the live guard finish what it heard."""
        try:
            link.stop(drain_s=drain_s)
        except FieldkitError as error:  # e.g. the disk is too full to update the database
            self.post_message(WorkerFailed(as_sentence(error.one_line())))
        finally:
            self.study.close()

    @on(LiveGuardStatus)
    def live_guard_status(self, message: LiveGuardStatus) -> None:
        status = message.status
        self.query_one(RecordingBar).show_guard(status.state, guard_status_line(status))
        if status.state in ("behind", "failed") and status.state != self.guard_problem:
            self.notify(status.message, severity="warning", timeout=10)
        self.guard_problem = status.state

    def view_only(self) -> bool:
        """An ended interview is looked at, not changed: say so instead of asking for input."""
        if self.session.is_open:
            return False
        status = interview_status_phrase(self.session.interview.status)
        self.notify(f"This interview {status}: it can be viewed, not changed.", timeout=4)
        return True

    # -- walking the schedule ----------------------------------------------------------------
    def action_next_question(self) -> None:
        self.move(+1)

    def action_previous_question(self) -> None:
        self.move(-1)

    def move(self, step: int) -> None:
        with self.user_errors():
            moved = self.session.next_question() if step > 0 else self.session.previous_question()
            if not moved:
                where = "last" if step > 0 else "first"
                self.notify(f"This is the {where} question.", timeout=3)
                return
            self.post_message(InterviewChanged())

    # -- the guarded-term rule ---------------------------------------------------------------
    def action_raised(self) -> None:
        if self.view_only():
            return
        locked = self.session.locked_terms()
        if not locked:
            self.notify("Every guarded term has already been raised.", timeout=4)
        elif len(locked) == 1:
            self.raise_term(locked[0])
        else:
            self.app.push_screen(
                ChooseTerm("Which term did the participant raise?", locked), self.raise_term
            )

    def raise_term(self, term: str | None) -> None:
        if term is None:
            return
        with self.user_errors():
            event = self.session.mark_raised(term)
            self.tell_live_guard(event)
            self.notify(f"{term}: raised by the participant at {format_clock(event.at)}")
            self.post_message(InterviewChanged())

    def action_followed_up(self) -> None:
        if self.view_only():
            return
        guard = self.session.guard
        raised = [t for t in guard.terms if guard.state(t) is TermState.RAISED]
        if not raised:
            self.notify("No raised term is waiting for its follow-up.", timeout=4)
        elif len(raised) == 1:
            self.follow_up(raised[0])
        else:
            self.app.push_screen(ChooseTerm("Which follow-up did you ask?", raised), self.follow_up)

    def follow_up(self, term: str | None) -> None:
        if term is None:
            return
        with self.user_errors():
            event = self.session.mark_followed_up(term)
            self.tell_live_guard(event)
            self.post_message(InterviewChanged())

    def tell_live_guard(self, event: GuardEvent) -> None:
        """The live guard has its own tracker: keep it in step with the keys."""
        if self.link is not None:
            self.link.apply(event)

    @on(GuardEventDetected)
    def guard_event_detected(self, message: GuardEventDetected) -> None:
        """Live transcription found a use of a guarded term: apply it, store it, redraw."""
        event, guard = message.event, self.session.guard
        if event.term not in guard.terms or self.already_known(event):
            return
        with self.user_errors():
            guard.apply(event)
            self.session.record_guard_event(event)
            self.post_message(InterviewChanged())
        if event.kind is GuardEventKind.RAISED:
            follow_up = next(
                (t.follow_up for t in self.session.schedule.guarded_terms if t.term == event.term),
                "",
            )
            self.notify(
                f"{event.term}: raised by the participant at {format_clock(event.at)} (heard "
                f"live). Ask: {follow_up}",
                timeout=8,
            )
        elif event.kind is GuardEventKind.FOLLOWED_UP:
            self.notify(f"{event.term}: follow-up heard at {format_clock(event.at)}", timeout=4)
        elif event.kind is GuardEventKind.BREACH:
            banner = self.query_one(f"#{banner_id(event.term)}", GuardBanner)
            banner.warn_breach(event)
            self.notify(f"Guard: {breach_text(event)}.", severity="error", timeout=10)

    def already_known(self, event: GuardEvent) -> bool:
        """A live raise or follow-up the interviewer has already marked with a key."""
        state = self.session.guard.state(event.term)
        if event.kind is GuardEventKind.RAISED:
            return state is not TermState.LOCKED
        if event.kind is GuardEventKind.FOLLOWED_UP:
            return state is not TermState.RAISED
        return False

    # -- markers and notes -------------------------------------------------------------------
    def action_marker(self) -> None:
        if self.view_only():
            return
        self.add_marker("")

    def action_labelled_marker(self) -> None:
        if self.view_only():
            return
        at = self.session.elapsed()  # when the key was pressed, not when the label is saved
        self.app.push_screen(
            TextPrompt("Marker label", "e.g. good quote"), self.with_time(self.add_marker, at)
        )

    def add_marker(self, label: str | None, at: float | None = None) -> None:
        if label is None:
            return
        with self.user_errors():
            at = self.session.marker(label.strip(), at=at)
            self.query_one(FieldNotes).add(at, "marker", label.strip())
            self.notify(f"Marker at {format_clock(at)}", timeout=2)

    def action_note(self) -> None:
        if self.view_only():
            return
        at = self.session.elapsed()  # a note is about what was just said
        self.app.push_screen(
            TextPrompt("Field note", "what you noticed (not read aloud)"),
            self.with_time(self.save_note, at),
        )

    def save_note(self, text: str | None, at: float | None = None) -> None:
        if text is None:
            return
        with self.user_errors():
            at = self.session.note(text, at=at)
            self.query_one(FieldNotes).add(at, "note", text.strip())

    @staticmethod
    def with_time(
        save: Callable[[str | None, float | None], None], at: float
    ) -> Callable[[str | None], None]:
        return lambda text: save(text, at)

    # -- leaving -----------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.leaving or self.waiting_for_start():
            return
        if self.recording:
            question = (
                "Stop recording and go back to the queue? Everything recorded is kept and the "
                "interview stays open."
            )
            self.app.push_screen(Confirm(question), self.back_after_stop)
            return
        self.app.pop_screen()

    def waiting_for_start(self) -> bool:
        """Leaving while capture is starting would orphan the recording: wait a moment."""
        if self.starting:
            self.notify("The recording is starting; try again in a moment.", timeout=3)
        return self.starting

    def back_after_stop(self, confirmed: bool | None) -> None:
        if confirmed and not self.leaving:
            self.leaving = True
            self.wind_down(end=False)

    def action_end_interview(self) -> None:
        if self.leaving or self.waiting_for_start():
            return
        if not self.session.is_open:
            status = interview_status_phrase(self.session.interview.status)
            self.notify(f"This interview {status}: it cannot be ended again.", timeout=4)
            return
        if self.recording:
            question = "End this interview now? The recording stops."
        elif not has_audio(self.study, self.session.interview.id):
            question = (
                "Nothing has been recorded in this interview. End it anyway, without audio? "
                "It will not count as an audio-recorded interview."
            )
        else:
            question = "End this interview now?"
        self.app.push_screen(Confirm(question), self.end_interview)

    def end_interview(self, confirmed: bool | None) -> None:
        if not confirmed or self.leaving:
            return
        self.leaving = True
        if self.recording:
            self.notify("Stopping the recording…", timeout=3)
        self.wind_down(end=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="leave")
    def wind_down(self, end: bool) -> None:
        """Stop the recording (kept whole), then end the interview and queue its transcription."""
        try:
            if self.link is not None:
                self.link.stop(drain_s=END_DRAIN_S if end else 0.0)
            if not end:
                self.post_message(InterviewLeft())
                return
            ended = self.session.end()  # its duration: what its recordings hold
            job, problem = self.queue_transcription(ended)
            self.post_message(InterviewLeft(ended, job, problem))
        except FieldkitError as error:
            self.post_message(WorkerFailed(as_sentence(error.one_line())))
        except Exception as error:
            self.post_message(WorkerFailed(f"Could not end the interview: {error}"))
        finally:
            self.study.close()

    def queue_transcription(self, ended: InterviewRow) -> tuple[JobRow | None, str]:
        if not has_audio(self.study, ended.id):
            return None, ""  # nothing recorded: nothing to transcribe
        try:
            return enqueue(self.study, ended), ""
        except FieldkitError as error:
            return None, error.one_line()

    @on(InterviewLeft)
    def interview_left(self, message: InterviewLeft) -> None:
        if message.ended is not None:
            recorded = format_clock(message.ended.duration_s or 0.0)
            if message.ended.status is InterviewStatus.WITHDRAWN:
                text = f"Consent was withdrawn: the interview is kept as withdrawn ({recorded})."
            elif message.ended.duration_s:
                text = f"Interview ended after {recorded} of recording."
            else:
                text = "Interview ended without audio."
            if message.job is not None:
                text += " Queued for transcription."
                self.fieldkit_app.ensure_transcriber(just_queued=True)
            elif message.problem:
                text += f" Not queued for transcription: {message.problem}"
            self.notify(text, severity="warning" if message.problem else "information")
        while self.app.screen is not self:  # a dialog opened meanwhile
            self.app.pop_screen()
        self.app.pop_screen()
