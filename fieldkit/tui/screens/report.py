"""The study report in the app: a bar chart of interview durations and the report's figures.

The report is gathered in a thread worker (it audits every transcript), which posts it back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static

from fieldkit.core.report import StudyReport, report_lines
from fieldkit.errors import FieldkitError
from fieldkit.tui.hints import as_sentence
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.widgets.footer import KeysFooter

BAR = "█"
LABEL_WIDTH = 30


def duration_bars(
    interviews: Sequence[tuple[str, str, float]], width: int = 60
) -> list[tuple[str, int, float]]:
    """(label, bar length in cells, minutes) per interview; the longest fills `width`."""
    longest = max((m for _, _, m in interviews), default=0.0)
    bars = []
    for participant, wave, minutes in interviews:
        length = round(minutes / longest * width) if longest else 0
        bars.append((f"{participant} {wave}", max(length, 1 if minutes else 0), minutes))
    return bars


class DurationChart(Static):
    """Horizontal bars, one per interview, labelled with its length in minutes."""

    def __init__(
        self, interviews: Sequence[tuple[str, str, float]] = (), id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.interviews = list(interviews)

    def show(self, interviews: Sequence[tuple[str, str, float]]) -> None:
        self.interviews = list(interviews)
        self.update(self.render_bars())

    def render_bars(self) -> Text:
        if not self.interviews:
            return Text("No interviews with a recorded duration yet.", style="italic")
        width = max(10, (self.size.width or 100) - LABEL_WIDTH - 12)
        text = Text()
        for label, length, minutes in duration_bars(self.interviews, width):
            text.append(f"{label[: LABEL_WIDTH - 1]:<{LABEL_WIDTH}}", style="bold")
            text.append(BAR * length, style="cyan")
            text.append(f" {minutes:.1f} min\n")
        return text

    def on_resize(self) -> None:
        self.update(self.render_bars())


class ReportReady(Message):
    def __init__(self, report: StudyReport) -> None:
        super().__init__()
        self.report = report


class ReportFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ReportScreen(FieldkitScreen):
    # Styles kept with the screen (app.tcss is shared with screens other people are editing).
    DEFAULT_CSS = """
    #report-body { padding: 0 1; }
    #report-chart-title { text-style: bold; }
    #report-chart { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", tooltip="Gather the report again"),
        Binding("escape", "back", "Back"),
    ]
    PALETTE = (
        PaletteEntry("Refresh the report", "Gather the figures again", "refresh"),
        PaletteEntry("Back", "Leave the report", "back"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.report: StudyReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="report-body"):
            yield Static("Interview durations (minutes)", id="report-chart-title")
            yield DurationChart(id="report-chart")
            yield Static("Gathering the report …", id="report-text")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.gather()

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def gather(self) -> None:
        from fieldkit.services.report import study_report

        try:
            report = study_report(self.study)
        except FieldkitError as error:
            self.post_message(ReportFailed(as_sentence(error.one_line())))
            return
        self.post_message(ReportReady(report))

    def on_report_ready(self, message: ReportReady) -> None:
        self.report = message.report
        self.query_one(DurationChart).show(message.report.interview_minutes)
        self.query_one("#report-text", Static).update("\n".join(report_lines(message.report)))

    def on_report_failed(self, message: ReportFailed) -> None:
        self.query_one("#report-text", Static).update(message.message)
        self.notify(message.message, severity="error", timeout=8)

    def action_back(self) -> None:
        self.dismiss()
