"""The review screen: check a transcript against the audio and correct it.

Turns with their times; ↑/↓ choose a turn and ←/→ a word in it (the word cursor is "the cursor's
time" for marks and splits). Every change is kept in a draft; Ctrl+S saves it as a revision.
Playing runs in a thread worker that posts a message; the handlers change state."""

from __future__ import annotations

import string
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Label, Static, TextArea

from fieldkit.core.diff import words_of
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Segment, Speaker
from fieldkit.services.review import (
    ReviewDraft,
    draft_for,
    low_probability_words,
    question_markers,
    recording_for,
    save_review,
)
from fieldkit.store.repo import InterviewRow
from fieldkit.tui.playing import TurnPlayer
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.modals import Confirm, TextPrompt
from fieldkit.tui.widgets.review_turns import SPEAKER_NAMES, ReviewTurns

SPEAKER_CYCLE = (Speaker.INTERVIEWER, Speaker.PARTICIPANT, Speaker.UNKNOWN)


class EditTurn(ModalScreen[str | None]):
    """Edit one turn's text. Enter applies it to the draft, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "Apply", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    EditTurn { align: center middle; }
    EditTurn > Vertical { width: 90%; height: auto; max-height: 80%; border: round $accent;
                          background: $surface; padding: 0 1; }
    EditTurn TextArea { height: 10; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.edit_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.edit_title
            yield TextArea(self.text, id="turn-editor", soft_wrap=True)
            yield Label("Enter applies · Escape cancels · Ctrl+S on the screen saves a revision")

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    def action_apply(self) -> None:
        self.dismiss(" ".join(self.query_one(TextArea).text.split()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewScreen(TurnPlayer, FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "turn(-1)", "Prev turn", show=False),
        Binding("down,j", "turn(1)", "Next turn", show=False),
        Binding("left,h", "word(-1)", "Prev word", show=False),
        Binding("right,l", "word(1)", "Next word", show=False),
        Binding("space", "play", "Play/stop"),
        Binding("e,enter", "edit", "Edit"),
        Binding("s", "speaker", "Speaker"),
        Binding("x", "split", "Split"),
        Binding("m", "merge", "Merge"),
        Binding("i", "mark('[inaudible]')", "[inaudible]"),
        Binding("c", "mark('[crosstalk]')", "[crosstalk]"),
        Binding("n", "next_unsure", "Next unsure"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("g", "search_again", "Next match", show=False),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "leave", "Back"),
    ]
    PALETTE = (
        PaletteEntry("Play or stop the turn", "Play the turn with 2 s either side", "play"),
        PaletteEntry("Edit the turn", "Change the turn's text", "edit"),
        PaletteEntry("Change the speaker", "Interviewer → participant → unknown", "speaker"),
        PaletteEntry("Split the turn", "Split before the word cursor", "split"),
        PaletteEntry("Merge with the next turn", "Same speaker only", "merge"),
        PaletteEntry("Insert [inaudible]", "At the word cursor's time", "mark('[inaudible]')"),
        PaletteEntry("Insert [crosstalk]", "At the word cursor's time", "mark('[crosstalk]')"),
        PaletteEntry("Next unsure word", "Jump to the next low-probability word", "next_unsure"),
        PaletteEntry("Search", "Find words in the transcript", "search"),
        PaletteEntry("Save a revision", "Store the changes as a new revision", "save"),
    )
    DEFAULT_CSS = """
    #review-bar { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    #review-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, interview: InterviewRow) -> None:
        super().__init__()
        self.interview = interview
        self.draft: ReviewDraft | None = None
        self.turn = 0
        self.word: int | None = 0
        self.search_term = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="review-bar", markup=False)
        yield ReviewTurns(id="review-turns")
        yield Static("", id="review-status", markup=False)
        yield Footer()

    async def on_mount(self) -> None:
        with self.user_errors():
            self.draft = draft_for(self.study, self.interview)
            self.markers = question_markers(self.study, self.interview)
        if self.draft is None:
            self.dismiss()
            return
        await self.rebuild()

    # -- drawing -------------------------------------------------------------------------
    @property
    def segments(self) -> list[Segment]:
        return self.draft.segments if self.draft else []

    async def rebuild(self) -> None:
        await self.query_one(ReviewTurns).rebuild(self.segments, self.markers)
        self.turn = min(self.turn, max(0, len(self.segments) - 1))
        self.select(self.turn, self.word)

    def select(self, turn: int, word: int | None) -> None:
        if not self.segments:
            return
        self.turn = max(0, min(turn, len(self.segments) - 1))
        count = len(words_of(self.segments[self.turn]))
        self.word = None if count == 0 else max(0, min(word or 0, count - 1))
        self.query_one(ReviewTurns).show(self.segments, self.turn, self.word)
        self.update_bars()

    def update_bars(self) -> None:
        draft = self.draft
        if draft is None:
            return
        unsaved = f" · {len(draft.changes)} unsaved change(s)" if draft.dirty else ""
        mode = "" if draft.editable else " · read only"
        self.query_one("#review-bar", Static).update(
            f"{self.interview.participant_id} · {self.interview.wave} · revision "
            f"{draft.base_revision} · {draft.state.value}{mode}{unsaved}"
        )
        self.query_one("#review-status", Static).update(self.status_line())

    def status_line(self) -> str:
        if not self.segments:
            return "no turns"
        segment = self.segments[self.turn]
        words = words_of(segment)
        where = f"turn {self.turn + 1}/{len(self.segments)} · {SPEAKER_NAMES[segment.speaker]}"
        if self.word is not None and words:
            word = words[self.word]
            where += (
                f" · word {word.word!r} at {format_clock(word.start)} (p={word.probability:.2f})"
            )
        return where

    def cursor_time(self) -> float:
        segment = self.segments[self.turn]
        words = words_of(segment)
        return words[self.word].start if self.word is not None and words else segment.start

    # -- moving ----------------------------------------------------------------------------
    def action_turn(self, step: int) -> None:
        self.select(self.turn + step, 0)

    def action_word(self, step: int) -> None:
        self.select(self.turn, (self.word or 0) + step)

    def action_next_unsure(self) -> None:
        positions = low_probability_words(self.segments)
        here = (self.turn, self.word if self.word is not None else -1)
        following = [p for p in positions if p > here] or positions
        if not following:
            self.notify("No unsure words in this transcript.")
            return
        self.select(*following[0])

    def action_search(self) -> None:
        def searched(term: str | None) -> None:
            if term and term.strip():
                self.search_term = term.strip()
                self.action_search_again()

        self.app.push_screen(TextPrompt("Search the transcript", "word or phrase"), searched)

    def action_search_again(self) -> None:
        if not self.search_term:
            self.action_search()
            return
        found = find_next(self.segments, self.search_term, self.turn, self.word)
        if found is None:
            self.notify(f"{self.search_term!r} is not in this transcript.", severity="warning")
            return
        self.select(*found)

    # -- editing ---------------------------------------------------------------------------
    async def after_change(self, rebuild: bool) -> None:
        if rebuild:
            await self.rebuild()
        else:
            self.select(self.turn, self.word)

    def action_edit(self) -> None:
        if not self.segments or self.draft is None:
            return
        segment = self.segments[self.turn]
        title = f"[{format_clock(segment.start)}] {SPEAKER_NAMES[segment.speaker]}"

        async def edited(text: str | None) -> None:
            if text is None or self.draft is None:
                return
            with self.user_errors():
                before = len(self.segments)
                if self.draft.edit_text(self.turn, text):
                    await self.after_change(rebuild=len(self.segments) != before)

        if not self.draft.editable:
            with self.user_errors():
                self.draft.edit_text(self.turn, segment.text)  # raises the read-only message
            return
        self.app.push_screen(EditTurn(title, segment.text), edited)

    async def action_speaker(self) -> None:
        if not self.segments or self.draft is None:
            return
        current = self.segments[self.turn].speaker
        following = SPEAKER_CYCLE[(SPEAKER_CYCLE.index(current) + 1) % len(SPEAKER_CYCLE)]
        with self.user_errors():
            self.draft.set_speaker(self.turn, following)
            await self.after_change(rebuild=False)

    async def action_split(self) -> None:
        if not self.segments or self.draft is None:
            return
        with self.user_errors():
            self.draft.split(self.turn, self.word or 0)
            self.word = 0
            self.turn += 1
            await self.after_change(rebuild=True)

    async def action_merge(self) -> None:
        if not self.segments or self.draft is None:
            return
        with self.user_errors():
            self.draft.merge(self.turn)
            await self.after_change(rebuild=True)

    async def action_mark(self, mark: str) -> None:
        if not self.segments or self.draft is None:
            return
        with self.user_errors():
            before = len(self.segments)
            index = self.draft.insert_mark(self.cursor_time(), mark)
            self.turn = index
            await self.after_change(rebuild=len(self.segments) != before)

    def action_save(self) -> None:
        if self.draft is None:
            return
        with self.user_errors():
            revision = save_review(self.study, self.draft)
            self.notify(f"Saved revision {revision}.")
        self.update_bars()

    def action_leave(self) -> None:
        self.stop_playback()
        if self.draft is None or not self.draft.dirty:
            self.dismiss()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.dismiss()

        count = len(self.draft.changes)
        self.app.push_screen(Confirm(f"Leave without saving {count} change(s)?"), answered)

    # -- playing ---------------------------------------------------------------------------
    def action_play(self) -> None:
        if not self.segments:
            return
        segment = self.segments[self.turn]
        with self.user_errors():
            path, start = recording_for(self.study, self.interview, segment.start)
            self.toggle_playback(Path(path), start, start + (segment.end - segment.start))


def _plain(word: str) -> str:
    return word.strip(string.punctuation + "“”‘’").casefold()


def find_next(
    segments: list[Segment],
    term: str,
    turn: int,
    word: int | None,  # type: ignore[type-arg]
) -> tuple[int, int] | None:
    """The next (turn, word) where `term` (one or more words) starts, after the cursor; wraps."""
    wanted = [_plain(t) for t in term.split() if _plain(t)]
    if not wanted:
        return None
    positions: list[tuple[int, int]] = []
    for i, segment in enumerate(segments):
        words = [_plain(w.word) for w in words_of(segment)]
        for j in range(len(words) - len(wanted) + 1):
            if all(
                wanted[k] in words[j + k] if k == len(wanted) - 1 else wanted[k] == words[j + k]
                for k in range(len(wanted))
            ):
                positions.append((i, j))
    here = (turn, word if word is not None else -1)
    following = [p for p in positions if p > here] or positions
    return following[0] if following else None
