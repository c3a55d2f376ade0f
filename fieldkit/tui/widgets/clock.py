"""Elapsed interview time against the schedule's target, e.g. "12:04 / 35:00"."""

from __future__ import annotations

from textual.widgets import Static

from fieldkit.core.guard import format_clock


class InterviewClock(Static):
    """Shows elapsed / target; gets the class `-over` (a warning colour) past the target."""

    def __init__(self, target_s: float, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.target_s = target_s
        self.elapsed_s = 0.0

    def show(self, elapsed_s: float) -> None:
        self.elapsed_s = elapsed_s
        over = self.target_s > 0 and elapsed_s > self.target_s
        self.set_class(over, "-over")
        target = format_clock(self.target_s) if self.target_s > 0 else "no target"
        suffix = "  over time" if over else ""
        self.update(f"⏱ {format_clock(elapsed_s)} / {target}{suffix}")
