"""Field notes and markers taken during the interview, newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from fieldkit.core.guard import format_clock
from fieldkit.store.repo import EventRow


class FieldNotes(RichLog):
    """A read-only log; `entries` keeps (time, kind, text) for whoever needs the content."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, auto_scroll=True)
        self.entries: list[tuple[float, str, str]] = []
        self.border_title = "Field notes"

    def load(self, events: list[EventRow]) -> None:
        for event in events:
            if event.kind in ("note", "marker"):
                self.add(event.at, event.kind, event.text or "")

    def add(self, at: float, kind: str, text: str) -> None:
        self.entries.append((at, kind, text))
        line = Text(f"{format_clock(at)}  ", style="dim")
        if kind == "marker":
            line.append("◆ marker" + (f": {text}" if text else ""), style="bold")
        else:
            line.append(text)
        self.write(line)
