"""The keys of the screen the user came from, and the guarded-term rule in two lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

GUARD_RULE = (
    "Guarded terms (e.g. recovery): never say one before the participant does. Press r when "
    "the participant raises it; the banner then shows the follow-up probe to ask (u once asked)."
)


def key_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding that has a description."""
    rows: list[tuple[str, str]] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        keys = binding.key_display or " / ".join(k.strip() for k in binding.key.split(","))
        rows.append((keys, binding.tooltip or binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark", "close", "Close help")]

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.help_title = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for keys, what in [*self.rows, ("ctrl+p", "Command palette (every action by name)")]:
            table.add_row(keys, what)
        with VerticalScroll(classes="dialog-box", id="help-box") as box:
            box.border_title = f"Keys — {self.help_title}"
            box.border_subtitle = "Escape closes"
            yield Static(table, id="help-keys")
            yield Static(Text(GUARD_RULE, style="italic"), id="help-guard")

    def action_close(self) -> None:
        self.dismiss(None)
