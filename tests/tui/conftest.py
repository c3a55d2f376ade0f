"""Fixtures for the app tests: a demo study in tmp_path and helpers to read what the app shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Static

from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study
from fieldkit.tui.app import FieldkitApp

SIZE = (120, 40)


@pytest.fixture
def tui_study(tmp_path: Path) -> Iterator[Study]:
    """The demo study: five participants, four with consent on different days."""
    study = build_demo_study(tmp_path / "demo-study", actor="tester")
    yield study
    study.close()


@pytest.fixture
def app(tui_study: Study) -> FieldkitApp:
    return FieldkitApp(tui_study)


def shown(app: App[None], selector: str) -> str:
    """The text a Static currently shows."""
    return str(app.screen.query_one(selector, Static).content)


def notifications(app: App[None]) -> list[tuple[str, str]]:
    """(severity, message) of every notification the app has shown and not yet expired."""
    return [(n.severity, n.message) for n in app._notifications]
