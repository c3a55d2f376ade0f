"""The recording bar: state and recorded time, a level meter per channel, warnings, free disk and
the live guard's status. Two lines; every widget redraws only when what it shows has changed."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from fieldkit.audio.capture import LevelReading
from fieldkit.core.guard import format_clock

FLOOR_DBFS = -60.0  # the meter's empty end; speech sits around -30 … -10
LOUD_DBFS = -6.0  # yellow from here: close to clipping
CLIP_HOLD_S = 2.0  # a clip stays flagged this long, so a 0.1 s clip is not a flicker
SILENCE_WARNING_S = 10.0
WIDE_FROM = 100  # narrower terminals get the short disk line, leaving room for warnings

STATE_LABELS = {
    "idle": ("○ not recording", "-idle"),
    "starting": ("◌ starting…", "-idle"),
    "recording": ("● REC", "-recording"),
    "paused": ("❚❚ paused", "-paused"),
    "stopped": ("■ stopped", "-stopped"),
}


class LevelMeter(Widget):
    """One channel: its name, a bar from -60 to 0 dBFS, the level in dBFS, CLIP when clipping."""

    DEFAULT_CSS = """
    LevelMeter {
        width: 1fr;
        height: 1;
        margin: 0 1 0 0;
    }
    """

    def __init__(self, label: str, id: str | None = None) -> None:
        super().__init__(id=id, classes="level-meter")
        self.label = label
        self.dbfs: float | None = None
        self.clipped_at = float("-inf")
        self.readings = 0  # how many readings it has shown (tests and the curious)

    @property
    def clipping(self) -> bool:
        return time.monotonic() - self.clipped_at < CLIP_HOLD_S

    @property
    def value_text(self) -> str:
        return "  — dBFS" if self.dbfs is None else f"{self.dbfs:4.0f} dBFS"

    def show(self, dbfs: float, clipping: bool) -> None:
        self.readings += 1
        if clipping:
            self.clipped_at = time.monotonic()
        self.dbfs = dbfs
        self.refresh()

    def relabel(self, label: str) -> None:
        self.label = label
        self.refresh()

    def render(self) -> Text:
        label = Text(f"{self.label} ", style="bold")
        value = Text(f" {self.value_text}")
        clip = Text(" CLIP", style="bold reverse red") if self.clipping else Text("")
        width = max(3, self.size.width - len(label) - len(value) - len(clip))
        level = FLOOR_DBFS if self.dbfs is None else self.dbfs
        filled = round(width * min(1.0, max(0.0, (level - FLOOR_DBFS) / -FLOOR_DBFS)))
        colour = "red" if self.clipping else ("yellow" if level > LOUD_DBFS else "green")
        bar = Text("█" * filled, style=colour) + Text("░" * (width - filled), style="dim")
        return label + bar + value + clip


def level_warnings(
    labels: Sequence[str], clipping: Sequence[bool], silent_for: Sequence[float]
) -> list[str]:
    """What the interviewer should act on: a clipping channel, a channel silent for 10 s."""
    warnings: list[str] = []
    for label, clipped, silent in zip(labels, clipping, silent_for, strict=False):
        name = f"{label} channel" if len(labels) > 1 else label
        if clipped:
            warnings.append(f"{name} clipping: lower the gain or move the microphone back")
        if silent >= SILENCE_WARNING_S:
            warnings.append(f"{name} silent for {silent:.0f} s")
    return warnings


class RecordingBar(Vertical):
    def __init__(self, labels: Sequence[str], hint: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels = list(labels)
        self.hint = hint
        self.state = "idle"
        self.warnings: list[str] = []
        self.guard_state = ""
        self.disk: tuple[int, float] | None = None  # free bytes, hours of recording they hold
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="recording-line"):
            yield Static("", id="recording-state", markup=False)
            yield Static(self.hint, id="recording-hint", markup=False)
            for index, label in enumerate(self.labels):
                yield LevelMeter(label, id=f"level-{index}")
        with Horizontal(id="recording-info"):
            yield Static("", id="recording-warning", markup=False)
            yield Static("", id="disk-status", markup=False)
            yield Static("", id="guard-status", markup=False)

    def on_mount(self) -> None:
        self.show_state("idle", None)
        self.set_meters_visible(False)

    def _set(self, selector: str, text: str) -> None:
        """Update a Static only when its text changes (the bar redraws up to 10 times a second)."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    def show_hint(self, hint: str) -> None:
        self.hint = hint
        self._set("#recording-hint", hint)

    def set_meters_visible(self, visible: bool) -> None:
        self.query_one("#recording-hint").display = not visible
        for meter in self.query(LevelMeter):
            meter.display = visible

    def relabel(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        for meter, label in zip(self.query(LevelMeter), labels, strict=False):
            meter.relabel(label)

    def show_state(self, state: str, recorded_s: float | None, detail: str = "") -> None:
        label, css_class = STATE_LABELS.get(state, (state, "-idle"))
        widget = self.query_one("#recording-state", Static)
        for _, other in STATE_LABELS.values():
            widget.set_class(other == css_class, other)
        self.state = state
        clock = f" {format_clock(recorded_s)}" if recorded_s is not None else ""
        self._set("#recording-state", f"{label}{clock}{f' · {detail}' if detail else ''}")

    def show_levels(self, reading: LevelReading) -> None:
        meters = list(self.query(LevelMeter))
        for meter, dbfs, clipping in zip(meters, reading.rms_dbfs, reading.clipping, strict=False):
            meter.show(dbfs, clipping)
        held = [meter.clipping for meter in meters]  # a clip stays flagged for a moment
        self.show_warnings(level_warnings(self.labels, held, reading.silent_for))

    def show_warnings(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.query_one("#recording-warning").set_class(bool(warnings), "-warning")
        self._set("#recording-warning", " · ".join(f"⚠ {w}" for w in warnings))

    def show_disk(self, free_bytes: int, hours_left: float) -> None:
        self.disk = (free_bytes, hours_left)
        hours = f"{hours_left:.0f} h" if hours_left >= 10 else f"{hours_left:.1f} h"
        self.query_one("#disk-status").set_class(hours_left < 1.0, "-low")
        if self.app.size.width < WIDE_FROM:
            self._set("#disk-status", f"disk {free_bytes / 1e9:.0f} GB · {hours} left")
        else:
            self._set("#disk-status", f"disk {free_bytes / 1e9:.1f} GB free · {hours} of recording")

    def on_resize(self) -> None:
        if self.disk is not None:
            self.show_disk(*self.disk)  # the long or the short line, as the width allows

    def show_guard(self, state: str, text: str) -> None:
        widget = self.query_one("#guard-status")
        for name in ("listening", "behind", "failed"):
            widget.set_class(state == name, f"-{name}")
        self.guard_state = state
        self._set("#guard-status", text)
