"""De-identification in the app.

- IdentifiersScreen: the study's identifier list (a adds, d deletes).
- DeidReviewScreen: the suggestions for one approved transcript, accepted (y) or rejected (n) one
  by one with the turn's audio at hand (space plays it in a thread worker, which posts a message;
  the handlers change state); Ctrl+S saves the de-identified revision once all are decided.
- open_deid_review / deidentify_participant: how the queues open it (`D`): a transcript that is
  not approved gets a notification saying why, never an empty screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static

from fieldkit.core.deid import LIST_CATEGORIES
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Segment
from fieldkit.core.turns import speaker_label
from fieldkit.core.wording import counted
from fieldkit.errors import FieldkitError
from fieldkit.services.deid import (
    DeidReview,
    accept_all,
    add_identifier,
    decide,
    finish,
    list_identifiers,
    not_ready,
    remove_identifier,
    start_review_of,
    transcripts_to_deidentify,
)
from fieldkit.store.deid_repo import SuggestionRow
from fieldkit.store.repo import InterviewRow
from fieldkit.tui.hints import as_sentence
from fieldkit.tui.playing import TurnPlayer
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.screens.modals import ChooseTerm, Confirm, TextPrompt
from fieldkit.tui.widgets.footer import KeysFooter

CONTEXT_CHARS = 70
DECISION_MARKS = {"pending": "·", "accepted": "✓ replace", "rejected": "✗ keep"}


class IdentifiersScreen(FieldkitScreen):
    # Styles kept with the screen (app.tcss is shared with screens other people are editing).
    DEFAULT_CSS = """
    #identifiers-intro { padding: 0 1; color: $text-muted; }
    #identifiers { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", tooltip="Add a name, place or organisation to the list"),
        Binding("d", "delete", "Delete", tooltip="Take the highlighted identifier off the list"),
        Binding("escape", "back", "Back"),
    ]
    PALETTE = (
        PaletteEntry("Add an identifier", "A name to find in every transcript", "add"),
        PaletteEntry("Delete the identifier", "Take it off the list", "delete"),
        PaletteEntry("Back", "Leave the identifier list", "back"),
    )

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Identifiers — names, places and organisations replaced by placeholders when an "
            "approved transcript is de-identified. Phone numbers, e-mail and street addresses "
            "and dates of birth are found without a list.",
            id="identifiers-intro",
        )
        yield DataTable(id="identifiers", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Category", "Identifier")
        self.load()

    def load(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in list_identifiers(self.study):
            table.add_row(row.category.value, row.text, key=row.text)

    def highlighted(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_add(self) -> None:
        def got_text(text: str | None) -> None:
            if not text or not text.strip():
                return

            def got_category(category: str | None) -> None:
                if category is None:
                    return
                with self.user_errors():
                    row = add_identifier(self.study, text, category)
                    self.load()
                    self.notify(f"Added {row.text!r} ({row.category.value}).")

            categories = [c.value for c in LIST_CATEGORIES]
            self.app.push_screen(ChooseTerm(f"What is {text.strip()!r}?", categories), got_category)

        self.app.push_screen(TextPrompt("Add an identifier", "e.g. a first name"), got_text)

    def action_delete(self) -> None:
        text = self.highlighted()
        if text is None:
            self.notify("The list is empty: a adds an identifier.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                with self.user_errors():
                    remove_identifier(self.study, text)
                    self.load()

        self.app.push_screen(Confirm(f"Take {text!r} off the identifier list?"), answered)

    def action_back(self) -> None:
        self.dismiss()


class DeidReviewScreen(TurnPlayer, FieldkitScreen):
    DEFAULT_CSS = """
    #deid-bar { padding: 0 1; background: $boost; }
    #deid-context { padding: 1 1; height: auto; border-bottom: solid $primary 50%; }
    #deid-suggestions { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide(True)", "Replace", tooltip="Replace it with the placeholder"),
        Binding("n", "decide(False)", "Keep", tooltip="Keep the words as said"),
        Binding("space", "play", "Play/stop", tooltip="Play the turn (2 s either side)"),
        Binding("A", "accept_rest", "Replace the rest", key_display="A"),
        Binding("ctrl+s", "save", "Save", priority=True, tooltip="Save the de-identified text"),
        Binding("escape", "back", "Back"),
    ]
    FOOTER_WIDE_ONLY = frozenset({"quit"})  # q still quits; the help lists it
    PALETTE = (
        PaletteEntry("Replace", "Accept the highlighted suggestion", "decide(True)"),
        PaletteEntry("Keep as said", "Reject the highlighted suggestion", "decide(False)"),
        PaletteEntry("Play or stop the turn", "The turn's audio, 2 s either side", "play"),
        PaletteEntry("Replace every undecided one", "Accept the rest", "accept_rest"),
        PaletteEntry("Save the de-identified text", "A new revision", "save"),
    )

    def __init__(self, interview: InterviewRow) -> None:
        super().__init__()
        self.interview = interview
        self.review: DeidReview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="deid-bar")
        yield Static("", id="deid-context")
        yield DataTable(id="deid-suggestions", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Time", "Found", "Placeholder", "Kind", "Decision")
        try:
            self.review = start_review_of(self.study, self.interview)
        except FieldkitError as error:
            self.notify(as_sentence(error.one_line()), severity="error", timeout=8)
            self.query_one("#deid-bar", Static).update(as_sentence(error.one_line()))
            return
        self.fill()
        self.move_to_pending()

    # -- what is shown ---------------------------------------------------------------------
    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for item in self.items:
            segment = self.segment_of(item)
            s = item.suggestion
            table.add_row(
                format_clock(segment.start),
                s.original,
                s.placeholder,
                s.category.value,
                DECISION_MARKS[item.decision],
                key=str(item.id),
            )
        if self.items:
            table.move_cursor(row=min(row, len(self.items) - 1))
        self.update_bar()
        self.show_context()

    @property
    def items(self) -> list[SuggestionRow]:
        return self.review.items if self.review else []

    def segment_of(self, item: SuggestionRow) -> Segment:
        assert self.review is not None
        return self.review.segments[item.suggestion.segment]

    def current(self) -> SuggestionRow | None:
        if not self.items:
            return None
        return self.items[min(self.query_one(DataTable).cursor_row, len(self.items) - 1)]

    def update_bar(self) -> None:
        review = self.review
        if review is None:
            return
        name = f"{self.interview.participant_id} · {self.interview.wave}"
        counts = (
            f"{counted(len(review.items), 'suggestion')}: {len(review.accepted)} replace, "
            f"{len(review.rejected)} keep, {len(review.pending)} undecided"
        )
        hint = "Ctrl+S saves" if not review.pending else "y replace · n keep · space plays"
        self.query_one("#deid-bar", Static).update(
            f"De-identify {name} (revision {review.source.revision}) — {counts}. {hint}."
        )

    def show_context(self) -> None:
        item = self.current()
        context = self.query_one("#deid-context", Static)
        if item is None or self.review is None:
            context.update("No identifiers found: Ctrl+S records the check as a revision.")
            return
        segment = self.review.segments[item.suggestion.segment]
        s = item.suggestion
        text = segment.text
        before = text[max(0, s.start - CONTEXT_CHARS) : s.start]
        after = text[s.end : s.end + CONTEXT_CHARS]
        speaker = speaker_label(segment.speaker, self.interview.participant_id)
        line = Text(f"[{format_clock(segment.start)}] {speaker}: ")
        line.append(before)
        line.append(s.original, style="bold reverse")
        line.append(after)
        line.append(f"\n→ {s.placeholder}", style="bold")
        context.update(line)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_context()

    def move_to_pending(self) -> None:
        pending = [i for i, item in enumerate(self.items) if item.decision == "pending"]
        cursor = self.query_one(DataTable).cursor_row
        later = [i for i in pending if i >= cursor] or pending
        if later:
            self.query_one(DataTable).move_cursor(row=later[0])
        self.show_context()

    # -- deciding --------------------------------------------------------------------------
    def action_decide(self, accept: bool) -> None:
        item = self.current()
        if item is None or self.review is None:
            return
        with self.user_errors():
            self.review = decide(self.study, self.review, item.id, accept)
            self.fill()
            self.move_to_pending()

    def action_accept_rest(self) -> None:
        if self.review is None:
            return
        with self.user_errors():
            self.review = accept_all(self.study, self.review)
            self.fill()

    def action_save(self) -> None:
        if self.review is None:
            return
        with self.user_errors():
            result = finish(self.study, self.review)
            self.notify(
                f"Saved revision {result.revision.revision} (de-identified): "
                f"{result.replaced} replaced, {result.rejected} kept."
            )
            self.stop_playback()
            self.dismiss()

    def action_back(self) -> None:
        self.stop_playback()
        self.dismiss()  # decisions are kept: coming back carries on where this left off

    # -- playing ---------------------------------------------------------------------------
    def action_play(self) -> None:
        item = self.current()
        if item is None or self.review is None:
            return
        segment = self.review.segments[item.suggestion.segment]
        self.toggle_playback(self.interview, segment.start, segment.end)


def open_deid_review(screen: FieldkitScreen, interview: InterviewRow) -> None:
    """The de-identification screen for one transcript, or a notification saying why it cannot
    be de-identified yet."""
    problem = not_ready(screen.study, interview)
    if problem is not None:
        screen.notify(as_sentence(problem.one_line()), severity="warning", timeout=10)
        return
    screen.app.push_screen(DeidReviewScreen(interview))


def deidentify_participant(screen: FieldkitScreen, participant_id: str | None) -> None:
    """`D` on the interview queue: the participant's transcript, asking which interview when
    there are several (each offered with its state)."""
    if participant_id is None:
        screen.notify("No participants yet: nothing to de-identify.")
        return
    choices = transcripts_to_deidentify(screen.study, participant_id)
    if not choices:
        screen.notify(f"{participant_id} has not been interviewed yet: nothing to de-identify.")
        return
    if len(choices) == 1:
        open_deid_review(screen, choices[0].interview)
        return
    by_label = {f"{c.interview.wave} · {c.state}": c.interview for c in choices}

    def chosen(label: str | None) -> None:
        if label is not None:
            open_deid_review(screen, by_label[label])

    question = f"De-identify which interview of {participant_id}?"
    screen.app.push_screen(ChooseTerm(question, list(by_label)), chosen)
