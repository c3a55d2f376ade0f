"""fieldkit init is all or nothing, and never replaces or removes a file of the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.errors import FieldkitError
from fieldkit.services import study as study_service
from fieldkit.services.study import init_study, open_study


def test_init_keeps_a_schedule_already_in_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "s"
    (root / "schedules").mkdir(parents=True)
    own = root / "schedules" / "ccu-staff-commencement.yaml"
    own.write_text("# the team's edited copy\n", encoding="utf-8")
    init_study(root, title="T", actor="tester").close()
    assert own.read_text(encoding="utf-8") == "# the team's edited copy\n"


def test_a_failed_init_takes_back_only_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "s"
    root.mkdir()
    (root / "notes.txt").write_text("the user's", encoding="utf-8")

    def no_room(path: Path) -> None:
        raise FieldkitError("the disk is full", "free some space")

    monkeypatch.setattr(study_service, "create_database", no_room)
    with pytest.raises(FieldkitError, match="disk is full"):
        init_study(root, title="T", actor="tester")
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    monkeypatch.undo()
    init_study(root, title="T", actor="tester").close()  # a second init starts afresh
    assert open_study(root).config.title == "T"
