"""The schedule's topics: the current one marked, covered ones ticked."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fieldkit.core.schedule import Topic


class TopicList(Static):
    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.marks: dict[str, str] = {}  # topic id -> the mark shown: ▸ current, ✓ covered

    def show(self, topics: Sequence[Topic], covered: set[str], current_id: str) -> None:
        # A grid keeps wrapped titles indented under their own text, not under the tick.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1, no_wrap=True)
        grid.add_column(ratio=1)
        for number, topic in enumerate(topics, start=1):
            current = topic.id == current_id
            mark = "▸" if current else ("✓" if topic.id in covered else " ")
            self.marks[topic.id] = mark
            style = "bold" if current else ("dim" if topic.id in covered else "")
            title = Text(f"{number}. {topic.title}", style=style)
            if topic.target_minutes:
                title.append(f" ({topic.target_minutes:g} min)", style="dim")
            grid.add_row(Text(mark, style="bold"), title)
        self.update(grid)
