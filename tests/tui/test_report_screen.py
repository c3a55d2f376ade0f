"""The report screen through Pilot: the duration chart and the figures."""

from __future__ import annotations

from textual.widgets import Static

from fieldkit.services.study import Study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.report import DurationChart, ReportScreen, duration_bars
from tests.export.factory import make_interview
from tests.tui.conftest import wait_until

SIZE = (120, 40)


def test_bars_are_proportional_to_duration() -> None:
    bars = duration_bars([("P1", "commencement", 30.0), ("P2", "commencement", 40.0)], 60)
    assert bars == [("P1 commencement", 45, 30.0), ("P2 commencement", 60, 40.0)]
    assert duration_bars([], 60) == []


async def test_report_screen_shows_a_bar_per_interview(study: Study) -> None:
    for minutes, role in ((30, "PEER"), (35, "CLIN"), (40, "PEER")):
        make_interview(study, duration_s=minutes * 60, role=role)
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        screen = ReportScreen()
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.report is not None)  # gathered in a worker
        chart = screen.query_one(DurationChart)
        lines = chart.render_bars().plain.splitlines()
        assert [line.split()[0] for line in lines] == [
            "INTSTA001-PEER",
            "INTSTA002-CLIN",
            "INTSTA003-PEER",
        ]
        bars = [line.count("█") for line in lines]
        assert bars[0] < bars[1] < bars[2]
        assert bars[0] / bars[2] == pytest_approx(30 / 40)
        assert lines[2].endswith("40.0 min")
        text = str(screen.query_one("#report-text", Static).content)
        assert "mean 35.0 min (SD 5.0; median 35.0; range 30.0–40.0), n = 3" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ReportScreen))


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, abs=0.03)
