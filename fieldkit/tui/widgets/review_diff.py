"""A returned participant's copy beside what was sent, one row per turn so the two sides line up:
on the left what was sent, with the words the participant deleted in red and struck through; on
the right what came back, with the words they added in green and underlined (so a change shows
without colour too). Turns that did not change (TurnRow) are dimmed; those that did are
DiffRows, and `go_to` brings one into view."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from fieldkit.core.diff import Change
from fieldkit.core.guard import format_clock
from fieldkit.services.approval.copies import TurnDiff

DELETED_STYLE = "bold red strike"
ADDED_STYLE = "bold green underline"
SENT_TITLE = "What was sent"
RETURNED_TITLE = "What came back"


def _heading(turn: TurnDiff) -> Text:
    return Text(f"[{format_clock(turn.start)}] {turn.label}: ", style="dim")


def sent_side(turn: TurnDiff) -> Text:
    text = _heading(turn)
    for op in turn.ops:
        if op.change is Change.INSERT:
            continue
        text.append(op.text, style=DELETED_STYLE if op.change is Change.DELETE else "")
        text.append(" ")
    return text


def returned_side(turn: TurnDiff) -> Text:
    text = _heading(turn)
    for op in turn.ops:
        if op.change is Change.DELETE:
            continue
        text.append(op.text, style=ADDED_STYLE if op.change is Change.INSERT else "")
        text.append(" ")
    return text


class TurnRow(Horizontal):
    """One turn: sent on the left, returned on the right, as tall as the longer side."""

    DEFAULT_CSS = """
    TurnRow { height: auto; margin: 0 0 1 0; }
    TurnRow > Static { width: 1fr; padding: 0 1; }
    TurnRow.-unchanged > Static { color: $text-muted; }
    TurnRow.-changed { border-left: outer $warning 50%; }
    TurnRow.-current { border-left: outer $warning; background: $boost; }
    """

    def __init__(self, turn: TurnDiff) -> None:
        super().__init__(classes="-changed" if turn.changed else "-unchanged")
        self.turn = turn

    def compose(self) -> ComposeResult:
        yield Static(sent_side(self.turn), classes="diff-sent")
        yield Static(returned_side(self.turn), classes="diff-returned")


class DiffRow(TurnRow):
    """A turn the participant changed."""


class SideBySideDiff(Vertical):
    """Every turn of the copy, aligned, under a fixed pair of titles; `changes` are the rows of
    the turns that changed."""

    DEFAULT_CSS = """
    SideBySideDiff { height: 1fr; border: round $primary 50%; }
    SideBySideDiff > .diff-titles { height: 1; }
    SideBySideDiff > .diff-titles > Static { width: 1fr; padding: 0 1; text-style: bold; }
    SideBySideDiff > #diff-body { height: 1fr; }
    """

    def __init__(self, turns: tuple[TurnDiff, ...], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.turns = turns
        self.changes: list[DiffRow] = []

    @property
    def changed(self) -> list[TurnDiff]:
        return [t for t in self.turns if t.changed]

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#diff-body", VerticalScroll)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="diff-titles"):
            yield Static(SENT_TITLE)
            yield Static(RETURNED_TITLE)
        with VerticalScroll(id="diff-body"):
            if not self.changed:
                yield Static("The participant returned it without changes.", classes="diff-none")
            for turn in self.turns:
                if turn.changed:
                    row = DiffRow(turn)
                    self.changes.append(row)
                    yield row
                else:
                    yield TurnRow(turn)

    def go_to(self, index: int) -> DiffRow | None:
        """Highlight change number `index` (0-based) and scroll it to the top of the view."""
        if not self.changes:
            return None
        for row in self.changes:
            row.remove_class("-current")
        row = self.changes[index % len(self.changes)]
        row.add_class("-current")
        self.body.scroll_to_widget(row, animate=False, top=True)
        return row
