"""The transcript on the review screen: one block per speaker turn with its time, the words the
model was unsure of highlighted, a word cursor (which follows the audio while it plays), and the
schedule's questions between turns."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from fieldkit.core.diff import words_of
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Segment, Speaker
from fieldkit.core.turns import speaker_label
from fieldkit.services.review import LOW_PROBABILITY, QuestionMarker

UNSURE_STYLE = "bold underline yellow"
CURSOR_STYLE = "reverse bold"
PLAYING_STYLE = "bold black on green"  # the word being heard


def turn_text(
    segment: Segment, cursor: int | None, participant_id: str = "", playing: bool = False
) -> Text:
    """The turn as the reviewer sees it: time and speaker, then its words."""
    text = Text()
    text.append(f"[{format_clock(segment.start)}] ", style="dim")
    text.append(speaker_label(segment.speaker, participant_id), style="bold")
    text.append("\n")
    words = words_of(segment)
    if not words:
        text.append("(empty)", style="dim italic")
    for index, word in enumerate(words):
        if index:
            text.append(" ")
        style = ""
        if word.probability < LOW_PROBABILITY:
            style = UNSURE_STYLE
        if index == cursor:
            style = PLAYING_STYLE if playing else f"{style} {CURSOR_STYLE}".strip()
        text.append(word.word, style=style)
    return text


class TurnView(Static):
    """One speaker turn."""

    DEFAULT_CSS = """
    TurnView {
        padding: 0 1;
        margin: 0 0 1 0;
    }
    TurnView.-selected {
        background: $boost;
        border-left: thick $accent;
    }
    TurnView.-participant {
        color: $text;
    }
    TurnView.-interviewer {
        color: $text-muted;
    }
    """

    def __init__(self, index: int, segment: Segment, participant_id: str) -> None:
        text = turn_text(segment, None, participant_id)
        super().__init__(text, id=f"turn-{index}", classes="turn")
        self.index = index
        self.participant_id = participant_id
        self.add_class(f"-{segment.speaker.value}")

    def show(self, segment: Segment, cursor: int | None, playing: bool = False) -> None:
        self.set_class(cursor is not None, "-selected")
        for speaker in Speaker:
            self.set_class(segment.speaker is speaker, f"-{speaker.value}")
        self.update(turn_text(segment, cursor, self.participant_id, playing))


class QuestionLine(Static):
    """A question from the schedule, where the interviewer moved to it."""

    DEFAULT_CSS = """
    QuestionLine {
        padding: 0 1;
        color: $primary;
        text-style: italic;
    }
    """


class ReviewTurns(VerticalScroll):
    """Every turn of the draft, with question markers between them. The screen's keys move
    through it, so it takes no focus (it would swallow ↑/↓ to scroll)."""

    can_focus = False

    DEFAULT_CSS = """
    ReviewTurns {
        height: 1fr;
        border: round $primary 50%;
    }
    """

    def __init__(self, participant_id: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.participant_id = participant_id
        self.turns: list[TurnView] = []
        self.selected = 0

    async def rebuild(self, segments: Sequence[Segment], markers: Sequence[QuestionMarker]) -> None:
        """Mount the turns again (after a split, merge or inserted turn)."""
        await self.remove_children()
        widgets: list[Static] = []
        pending = sorted(markers, key=lambda m: m.at)
        self.turns = []
        for index, segment in enumerate(segments):
            while pending and pending[0].at <= segment.start + 0.5:
                marker = pending.pop(0)
                widgets.append(QuestionLine(f"── ? [{format_clock(marker.at)}] {marker.label}"))
            turn = TurnView(index, segment, self.participant_id)
            self.turns.append(turn)
            widgets.append(turn)
        widgets += [QuestionLine(f"── ? [{format_clock(m.at)}] {m.label}") for m in pending]
        await self.mount_all(widgets)

    def show(
        self, segments: Sequence[Segment], turn: int, word: int | None, playing: bool = False
    ) -> None:
        """Redraw the previously selected turn and the newly selected one."""
        for index in {self.selected, turn}:
            if 0 <= index < len(self.turns) and index < len(segments):
                cursor = word if index == turn else None
                self.turns[index].show(segments[index], cursor, playing and index == turn)
        self.selected = turn
        if 0 <= turn < len(self.turns):
            self.scroll_to_widget(self.turns[turn], animate=False)

    def redraw(self, segments: Sequence[Segment], index: int, word: int | None) -> None:
        if 0 <= index < len(self.turns):
            self.turns[index].show(segments[index], word)
