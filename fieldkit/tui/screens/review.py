"""The review screen: check a transcript against the audio and correct it.

Turns with their times; ↑/↓ choose a turn and ←/→ a word (the word cursor is "the cursor's time"
for marks and splits). Space plays from the cursor's word and the cursor follows the words as
they are heard (a 10/s timer reads the playback's position); moving the cursor while playing
moves the playback with it. Every change goes into a draft, kept in the study database every
few seconds (offered again if the app closed before saving); Ctrl+S saves it as a revision.
Opening the audio runs in a thread worker that posts a message; the handlers change state."""

from __future__ import annotations

import bisect
import string
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Header, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from fieldkit.core.diff import words_of
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Segment, Speaker
from fieldkit.core.turns import speaker_label
from fieldkit.core.wording import counted
from fieldkit.services.playback import SPEEDS, step_speed
from fieldkit.services.review import (
    ReviewDraft,
    discard_draft,
    draft_for,
    keep_draft,
    kept_draft,
    low_probability_words,
    question_markers,
    restore_draft,
    save_review,
    speaker_choices,
    unsure_count,
)
from fieldkit.store.repo import InterviewRow
from fieldkit.tui.hints import as_sentence
from fieldkit.tui.playing import TurnPlayer
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.modals import Confirm, TextPrompt
from fieldkit.tui.widgets.footer import KeysFooter
from fieldkit.tui.widgets.review_turns import ReviewTurns

FOLLOW_EVERY_S = 0.1  # how often the cursor catches up with the audio while it plays
DRAFT_EVERY_S = 3.0  # how often unsaved edits are kept in the study database
SKIP_S = 5.0  # [ and ] skip this far


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
    EditTurn Label { width: 100%; color: $text-muted; }  /* wraps, not cut off at 80 columns */
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


class ChooseSpeaker(ModalScreen[Speaker | None]):
    """Who is speaking in this turn: the two people first, "Unknown speaker" last. ↑/↓ and
    Enter, or 1–3; Escape keeps the speaker as it is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("1", "pick(0)", show=False),
        Binding("2", "pick(1)", show=False),
        Binding("3", "pick(2)", show=False),
    ]

    def __init__(self, choices: list[tuple[Speaker, str]], current: Speaker) -> None:
        super().__init__(classes="dialog")
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(f"{n}  {label}" + ("  (now)" if speaker is self.current else ""), id=speaker)
            for n, (speaker, label) in enumerate(self.choices, start=1)
        ]
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Who is speaking?"
            yield OptionList(*options, id="speaker-choice")
            yield Label("↑/↓ then Enter, or 1–3 · Escape cancels", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(Speaker(event.option.id))

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            self.dismiss(self.choices[index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class RestoreDraft(ModalScreen[bool]):
    """Unsaved edits were kept from last time: r (or Enter, or Escape) restores them, d discards
    them. Escape restores: nothing is lost by a stray key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r,enter,escape", "answer(True)", "Restore"),
        Binding("d", "answer(False)", "Discard"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, classes="dialog-question")
            yield Label("r / Enter: restore · d: discard", classes="dialog-hint")

    def action_answer(self, restore: bool) -> None:
        self.dismiss(restore)


class ReviewScreen(TurnPlayer, FieldkitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "turn(-1)", "Prev turn", show=False),
        Binding("down,j", "turn(1)", "Next turn", show=False),
        Binding("left,h", "word(-1)", "Prev word", show=False),
        Binding("right,l", "word(1)", "Next word", show=False),
        Binding("space", "play", "Play", tooltip="Play from the cursor's word, or pause"),
        Binding("left_square_bracket", f"skip({-SKIP_S})", "Back 5 s", key_display="[", show=False),
        Binding("right_square_bracket", f"skip({SKIP_S})", "On 5 s", key_display="]", show=False),
        Binding("less_than_sign", "speed(-1)", "Slower", key_display="<", show=False),
        Binding("greater_than_sign", "speed(1)", "Faster", key_display=">", show=False),
        Binding("e,enter", "edit", "Edit"),
        Binding("s", "speaker", "Speaker"),
        Binding("x", "split", "Split", show=False),
        Binding("m", "merge", "Merge next", show=False),
        Binding("M", "merge_previous", "Merge prev", key_display="M", show=False),
        Binding(
            "i",
            "mark('[inaudible]')",
            "[inaudible]",
            show=False,
            tooltip="Insert [inaudible] at the word cursor",
        ),
        Binding(
            "c",
            "mark('[crosstalk]')",
            "[crosstalk]",
            show=False,
            tooltip="Insert [crosstalk] at the word cursor",
        ),
        Binding("n", "next_unsure", "Unsure", tooltip="Next unsure word"),
        Binding("slash", "search", "Search", key_display="/", show=False),
        Binding("g", "search_again", "Next match", show=False),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "leave", "Back"),
    ]
    PALETTE = (
        PaletteEntry("Play or pause", "Play from the cursor's word; the cursor follows", "play"),
        PaletteEntry("Back 5 seconds", "Skip back in the audio", f"skip({-SKIP_S})"),
        PaletteEntry("On 5 seconds", "Skip forward in the audio", f"skip({SKIP_S})"),
        PaletteEntry("Play slower", "Down to 0.75×, the pitch kept", "speed(-1)"),
        PaletteEntry("Play faster", "Up to 1.5×, the pitch kept", "speed(1)"),
        PaletteEntry("Edit the turn", "Change the turn's text", "edit"),
        PaletteEntry("Change the speaker", "Interviewer, participant or unknown", "speaker"),
        PaletteEntry("Split the turn", "Split before the word cursor", "split"),
        PaletteEntry("Merge with the next turn", "Same speaker only", "merge"),
        PaletteEntry("Merge with the previous turn", "Same speaker only", "merge_previous"),
        PaletteEntry("Insert [inaudible]", "At the word cursor's time", "mark('[inaudible]')"),
        PaletteEntry("Insert [crosstalk]", "At the word cursor's time", "mark('[crosstalk]')"),
        PaletteEntry("Next unsure word", "Jump to the next low-probability word", "next_unsure"),
        PaletteEntry("Search", "Find words in the transcript", "search"),
        PaletteEntry("Save a revision", "Store the changes as a new revision", "save"),
    )
    DEFAULT_CSS = """
    #review-bar { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    #review-status { height: 1; padding: 0 1; color: $text-muted; }
    ReviewScreen.-narrow #review-status { height: 2; }
    """

    def __init__(self, interview: InterviewRow) -> None:
        super().__init__()
        self.interview = interview
        self.draft: ReviewDraft | None = None
        self.turn = 0
        self.word: int | None = 0
        self.search_term = ""
        self.kept_edits = 0  # the draft's edit count when it was last kept in the database
        self.word_starts: list[float] = []  # every word's start, in order of time …
        self.word_places: list[tuple[int, int]] = []  # … and its (turn, word)
        self.shown_playing = False
        self.shown_status = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="review-bar", markup=False)
        yield ReviewTurns(self.interview.participant_id, id="review-turns")
        yield Static("", id="review-status", markup=False)
        yield KeysFooter()

    async def on_mount(self) -> None:
        with self.user_errors():
            self.draft = draft_for(self.study, self.interview)
            self.markers = question_markers(self.study, self.interview)
        if self.draft is None:
            self.dismiss()
            return
        await self.rebuild()
        self.set_interval(FOLLOW_EVERY_S, self.follow_playback)
        self.set_interval(DRAFT_EVERY_S, self.keep_draft_now)
        self.offer_kept_draft()

    # -- drafts ----------------------------------------------------------------------------
    def offer_kept_draft(self) -> None:
        with self.user_errors():
            kept = kept_draft(self.study, self.interview)
            if kept is None:
                return
            if not kept.restorable:
                discard_draft(self.study, self.interview)
                why = (
                    f"revision {kept.latest_revision} was saved since"
                    if kept.editable
                    else "the transcript can no longer be edited"
                )
                self.notify(
                    f"{kept.describe()} were made on revision {kept.base_revision}, but {why}: "
                    "they were discarded.",
                    severity="warning",
                    timeout=12,
                )
                return

        async def answered(restore: bool | None) -> None:
            with self.user_errors():
                if not restore:
                    discard_draft(self.study, self.interview)
                    self.notify("Discarded the unsaved changes.")
                    return
                self.draft = restore_draft(self.study, self.interview)
                self.kept_edits = self.draft.edits
                await self.rebuild()
                self.notify(f"Restored {counted(len(self.draft.changes), 'unsaved change')}.")

        them = "it" if kept.changes == 1 else "them"
        question = f"This transcript has {kept.describe()}. Restore {them}?"
        self.app.push_screen(RestoreDraft(question), answered)

    def keep_draft_now(self) -> None:
        """Keep the unsaved edits in the study database if they changed since last time."""
        draft = self.draft
        if draft is None or draft.edits == self.kept_edits or not draft.editable:
            return
        with self.user_errors():
            keep_draft(self.study, draft)
            self.kept_edits = draft.edits

    # -- drawing -------------------------------------------------------------------------
    @property
    def segments(self) -> list[Segment]:
        return self.draft.segments if self.draft else []

    async def rebuild(self) -> None:
        await self.query_one(ReviewTurns).rebuild(self.segments, self.markers)
        self.turn = min(self.turn, max(0, len(self.segments) - 1))
        self.index_words()
        self.select(self.turn, self.word)

    def index_words(self) -> None:
        """Where each word starts, for following the audio (rebuilt after every change)."""
        places = [
            (word.start, i, j)
            for i, segment in enumerate(self.segments)
            for j, word in enumerate(words_of(segment))
        ]
        places.sort()
        self.word_starts = [start for start, _, _ in places]
        self.word_places = [(i, j) for _, i, j in places]

    def place_at(self, at: float) -> tuple[int, int] | None:
        """The (turn, word) being said at `at` seconds: the last word that started by then."""
        if not self.word_places:
            return None
        index = bisect.bisect_right(self.word_starts, at + 1e-6) - 1
        return self.word_places[max(0, index)]

    def select(self, turn: int, word: int | None) -> None:
        if not self.segments:
            return
        self.turn = max(0, min(turn, len(self.segments) - 1))
        count = len(words_of(self.segments[self.turn]))
        self.word = None if count == 0 else max(0, min(word or 0, count - 1))
        self.shown_playing = self.playing  # the cursor word is green while the audio plays
        self.query_one(ReviewTurns).show(self.segments, self.turn, self.word, self.shown_playing)
        self.update_bars()

    def move_to(self, turn: int, word: int | None) -> None:
        """Move the cursor; while the audio plays, it goes on from the cursor's word."""
        self.select(turn, word)
        if self.playback is not None and self.playing and self.segments:
            self.playback.seek(self.cursor_time())

    def update_bars(self) -> None:
        draft = self.draft
        if draft is None:
            return
        unsaved = f" · {counted(len(draft.changes), 'unsaved change')}" if draft.dirty else ""
        mode = "" if draft.editable else " · read only"
        self.query_one("#review-bar", Static).update(
            f"{self.interview.participant_id} · {self.interview.wave} · revision "
            f"{draft.base_revision} · {draft.state.value}{mode}{unsaved}"
        )
        self.show_status()

    def show_status(self) -> None:
        line = self.status_line()
        if line != self.shown_status:  # the timer asks 10 times a second: redraw on change only
            self.shown_status = line
            self.query_one("#review-status", Static).update(line)

    def status_line(self) -> str:
        if not self.segments:
            return "no turns"
        segment = self.segments[self.turn]
        words = words_of(segment)
        label = speaker_label(segment.speaker, self.interview.participant_id)
        where = f"turn {self.turn + 1}/{len(self.segments)} · {label}"
        if self.word is not None and words:
            word = words[self.word]
            where += (
                f" · word {word.word!r} at {format_clock(word.start)} (p={word.probability:.2f})"
            )
        where += f" · {unsure_count(self.segments, self.turn, self.word).describe()}"
        if self.playback is not None and self.playing:
            where += f" · ▶ {format_clock(self.playback.position)}"
        if self.playing or self.playback_speed != 1.0:
            where += f" · {self.playback_speed:g}×"
        return where

    def cursor_time(self) -> float:
        segment = self.segments[self.turn]
        words = words_of(segment)
        return words[self.word].start if self.word is not None and words else segment.start

    # -- moving ----------------------------------------------------------------------------
    def action_turn(self, step: int) -> None:
        self.move_to(self.turn + step, 0)

    def action_word(self, step: int) -> None:
        """One word on or back, into the next or previous turn at either end of this one."""
        if not self.segments:
            return
        word = (self.word or 0) + step
        turn = self.turn
        if word < 0 and turn > 0:
            turn -= 1
            word = max(0, len(words_of(self.segments[turn])) - 1)
        elif word >= len(words_of(self.segments[turn])) and turn + 1 < len(self.segments):
            turn, word = turn + 1, 0
        self.move_to(turn, word)

    def action_next_unsure(self) -> None:
        positions = low_probability_words(self.segments)
        here = (self.turn, self.word if self.word is not None else -1)
        following = [p for p in positions if p > here] or positions
        if not following:
            self.notify("No unsure words in this transcript.")
            return
        self.move_to(*following[0])
        self.notify(unsure_count(self.segments, self.turn, self.word).describe().capitalize())

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
        self.move_to(*found)

    # -- editing ---------------------------------------------------------------------------
    async def after_change(self, rebuild: bool) -> None:
        if rebuild:
            await self.rebuild()
        else:
            self.index_words()
            self.select(self.turn, self.word)

    def action_edit(self) -> None:
        if not self.segments or self.draft is None:
            return
        segment = self.segments[self.turn]
        label = speaker_label(segment.speaker, self.interview.participant_id)
        title = f"[{format_clock(segment.start)}] {label}"

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

    def action_speaker(self) -> None:
        if not self.segments or self.draft is None:
            return
        if not self.draft.editable:
            with self.user_errors():
                self.draft.set_speaker(self.turn, Speaker.UNKNOWN)  # raises the read-only message
            return
        turn = self.turn
        current = self.segments[turn].speaker

        async def chosen(speaker: Speaker | None) -> None:
            if speaker is None or self.draft is None:
                return
            with self.user_errors():
                if self.draft.set_speaker(turn, speaker):
                    await self.after_change(rebuild=False)

        choices = speaker_choices(self.interview.participant_id, current)
        self.app.push_screen(ChooseSpeaker(choices, current), chosen)

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

    async def action_merge_previous(self) -> None:
        if not self.segments or self.draft is None:
            return
        with self.user_errors():
            before = len(words_of(self.segments[self.turn - 1])) if self.turn > 0 else 0
            self.turn = self.draft.merge_previous(self.turn)
            self.word = before + (self.word or 0)  # the same word, now in the merged turn
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
            self.kept_edits = self.draft.edits
            self.notify(f"Saved revision {revision}.")
        self.update_bars()

    def action_leave(self) -> None:
        if self.draft is None or not self.draft.dirty:
            self.stop_playback()
            self.dismiss()
            return

        def answered(leave: bool | None) -> None:
            if leave and self.draft is not None:
                self.stop_playback()
                with self.user_errors():
                    discard_draft(self.study, self.interview)
                self.draft.changes.clear()
                self.kept_edits = self.draft.edits
                self.dismiss()

        count = len(self.draft.changes)
        self.app.push_screen(Confirm(f"Leave without saving {counted(count, 'change')}?"), answered)

    def on_unmount(self) -> None:
        # Closing the app with unsaved edits keeps them (the timer may not have run yet).
        if self.draft is not None and self.draft.dirty:
            self.keep_draft_now()

    # -- playing ---------------------------------------------------------------------------
    def action_play(self) -> None:
        """Play from the cursor's word to the end of the interview, or pause (the cursor stays
        on the word last heard, so space again goes on from there)."""
        if not self.segments:
            return
        if self.playing:
            self.stop_playback()
            self.notify(f"Paused at {format_clock(self.cursor_time())}.")
            self.select(self.turn, self.word)
            return
        self.start_playback(self.interview, self.cursor_time())

    def action_skip(self, seconds: float) -> None:
        """Skip back or on in the audio (or move the cursor that far when nothing plays)."""
        if not self.segments:
            return
        if self.playback is not None and self.playing:
            self.playback.seek(max(0.0, self.playback.position + seconds))
            place = self.place_at(self.playback.position)
        else:  # the first word at least that far on (or back)
            target = self.cursor_time() + seconds
            index = bisect.bisect_left(self.word_starts, target - 1e-6)
            if seconds < 0:
                index = bisect.bisect_right(self.word_starts, target + 1e-6) - 1
            places = self.word_places
            place = places[max(0, min(index, len(places) - 1))] if places else None
        if place is not None:
            self.select(*place)

    def action_speed(self, steps: int) -> None:
        speed = step_speed(self.playback_speed, steps)
        if speed == self.playback_speed:
            end = "slowest" if steps < 0 else "fastest"
            self.notify(f"Already at the {end} speed ({speed:g}×; {SPEEDS[0]:g}–{SPEEDS[-1]:g}×).")
            return
        self.playback_speed = speed
        if self.playback is not None and self.playing:
            self.playback.set_speed(speed)
        self.notify(f"Playing at {speed:g}× (the pitch stays the same).")
        self.update_bars()

    def follow_playback(self) -> None:
        """Move the cursor to the word being heard (10 times a second, only when it changed)."""
        playback = self.playback
        if playback is None:
            return
        if not playback.active:
            error = playback.error
            self.stop_playback()
            if error is not None:
                self.notify(as_sentence(error.one_line()), severity="error", timeout=8)
            self.select(self.turn, self.word)
            return
        place = self.place_at(playback.position)
        if place is not None and (place != (self.turn, self.word) or not self.shown_playing):
            self.select(*place)
        else:
            self.show_status()


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
