"""The interview screen, used live: what to ask now, what not to say, quick notes and markers."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static

from fieldkit.core.guard import TermState, format_clock
from fieldkit.services.interviews import InterviewSession, interview_events
from fieldkit.tui.messages import GuardEventDetected, InterviewChanged
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.modals import ChooseTerm, Confirm, TextPrompt
from fieldkit.tui.widgets.clock import InterviewClock
from fieldkit.tui.widgets.field_notes import FieldNotes
from fieldkit.tui.widgets.guard_banner import GuardBanner
from fieldkit.tui.widgets.schedule_panel import QuestionPanel
from fieldkit.tui.widgets.topic_list import TopicList


class InterviewScreen(FieldkitScreen):
    # `space` is kept free: recording (start / pause) will live on it.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_question", "Next", tooltip="Next question"),
        Binding("p", "previous_question", "Previous", tooltip="Previous question"),
        Binding("r", "raised", "Raised term", tooltip="The participant raised a guarded term"),
        Binding("u", "followed_up", "Followed up", show=False, tooltip="You asked the follow-up"),
        Binding("m", "marker", "Marker", tooltip="Timestamped marker, at once"),
        Binding("M", "labelled_marker", "Marker+label", show=False, tooltip="Marker with a label"),
        Binding(
            "f", "note", "Note", tooltip="Timestamped field note (Enter saves, Escape cancels)"
        ),
        Binding("e", "end_interview", "End", show=False, tooltip="End the interview (asks first)"),
        Binding("escape", "back", "Back", tooltip="Back to the queue; the interview stays open"),
    ]
    PALETTE = (
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
            "End interview", "Finish this interview and store its duration", "end_interview"
        ),
        PaletteEntry("Back", "Back to the participant queue (the interview stays open)", "back"),
        PaletteEntry("Help", "Show the keys", "app.help"),
        PaletteEntry("Quit", "Leave fieldkit (the interview stays open)", "app.quit"),
    )

    def __init__(self, session: InterviewSession) -> None:
        super().__init__()
        self.session = session
        schedule = session.schedule
        target_minutes = schedule.target_minutes or sum(
            topic.target_minutes or 0 for topic in schedule.topics
        )
        self.target_s = target_minutes * 60.0

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
        with Horizontal(id="recording-bar"):
            yield Static(self.recording_line(), id="recording-status", markup=False)
        yield Footer()

    def participant_line(self) -> str:
        p, interview = self.session.participant, self.session.interview
        return f"{p.id} · {p.site} · {p.role} · wave: {interview.wave}"

    def recording_line(self) -> str:
        source = self.fieldkit_app.input_file
        where = f" (virtual microphone: {source.name})" if source else ""
        return f"● Not recording{where}"

    async def on_mount(self) -> None:
        self.query_one("#topics", TopicList).border_title = "Topics"
        self.query_one(FieldNotes).load(interview_events(self.study, self.session.interview.id))
        await self.refresh_view()
        self.tick()
        self.set_interval(1.0, self.tick)

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
            self.notify(f"{term}: raised by the participant at {format_clock(event.at)}")
            self.post_message(InterviewChanged())

    def action_followed_up(self) -> None:
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
            self.session.mark_followed_up(term)
            self.post_message(InterviewChanged())

    @on(GuardEventDetected)
    def guard_event_detected(self, message: GuardEventDetected) -> None:
        """Live transcription found a use of a guarded term: apply it, store it, redraw."""
        with self.user_errors():
            self.session.guard.apply(message.event)
            self.session.record_guard_event(message.event)
            self.post_message(InterviewChanged())

    # -- markers and notes -------------------------------------------------------------------
    def action_marker(self) -> None:
        self.add_marker("")

    def action_labelled_marker(self) -> None:
        self.app.push_screen(TextPrompt("Marker label", "e.g. good quote"), self.add_marker)

    def add_marker(self, label: str | None) -> None:
        if label is None:
            return
        with self.user_errors():
            at = self.session.marker(label.strip())
            self.query_one(FieldNotes).add(at, "marker", label.strip())
            self.notify(f"Marker at {format_clock(at)}", timeout=2)

    def action_note(self) -> None:
        self.app.push_screen(
            TextPrompt("Field note", "what you noticed (not read aloud)"), self.save_note
        )

    def save_note(self, text: str | None) -> None:
        if text is None:
            return
        with self.user_errors():
            at = self.session.note(text)
            self.query_one(FieldNotes).add(at, "note", text.strip())

    # -- leaving -----------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_end_interview(self) -> None:
        self.app.push_screen(Confirm("End this interview now?"), self.end_interview)

    def end_interview(self, confirmed: bool | None) -> None:
        if not confirmed:
            return
        with self.user_errors():
            ended = self.session.end()
            self.notify(f"Interview ended after {format_clock(ended.duration_s or 0.0)}.")
            self.app.pop_screen()
