"""A returned participant's copy beside what was sent: deletions red on the left, additions
green on the right, one row per turn that changed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from fieldkit.core.diff import Change
from fieldkit.core.guard import format_clock
from fieldkit.services.approval.copies import TurnDiff

DELETED_STYLE = "bold red strike"
ADDED_STYLE = "bold green"


def sent_side(turn: TurnDiff) -> Text:
    text = Text(f"[{format_clock(turn.start)}] {turn.label}: ", style="dim")
    for op in turn.ops:
        if op.change is Change.INSERT:
            continue
        text.append(op.text + " ", style=DELETED_STYLE if op.change is Change.DELETE else "")
    return text


def returned_side(turn: TurnDiff) -> Text:
    text = Text(f"[{format_clock(turn.start)}] {turn.label}: ", style="dim")
    for op in turn.ops:
        if op.change is Change.DELETE:
            continue
        text.append(op.text + " ", style=ADDED_STYLE if op.change is Change.INSERT else "")
    return text


class DiffRow(Horizontal):
    DEFAULT_CSS = """
    .diff-row { height: auto; margin: 0 0 1 0; }
    .diff-row > Static { width: 1fr; padding: 0 1; }
    """

    def __init__(self, turn: TurnDiff) -> None:
        super().__init__(classes="diff-row")
        self.turn = turn

    def compose(self) -> ComposeResult:
        yield Static(sent_side(self.turn), classes="diff-sent")
        yield Static(returned_side(self.turn), classes="diff-returned")


class SideBySideDiff(VerticalScroll):
    DEFAULT_CSS = """
    SideBySideDiff { height: 1fr; border: round $primary 50%; }
    """

    def __init__(self, turns: tuple[TurnDiff, ...], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.changed = [t for t in turns if t.changed]

    def compose(self) -> ComposeResult:
        with Horizontal(classes="diff-row"):
            yield Static(Text("Sent", style="bold"))
            yield Static(Text("Returned", style="bold"))
        if not self.changed:
            yield Static("The participant returned it without changes.")
        for turn in self.changed:
            yield DiffRow(turn)
