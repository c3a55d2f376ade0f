"""A study can record from an audio file instead of a microphone (`input` in study.toml's
[recording]); the demo study names the shipped demo interview, so re-opening it later
(`fieldkit --study DIR`, or `fieldkit record` in it) still records from the demo's virtual
microphone. A file gone since is one clear line naming study.toml, when recording starts."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from fieldkit.config import config_to_toml, default_config, load_config
from fieldkit.errors import StudyConfigError
from fieldkit.services.demo import build_demo_study, demo_interview_audio
from fieldkit.services.study import find_study
from fieldkit.store.repo import Interviews, Recordings
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from tests.conftest import CliRun
from tests.tui.conftest import shown, wait_for_notification, wait_for_screen

DEMO_INPUT = "demo-interview.flac"


def study_toml(tmp_path: Path, **recording: Any) -> Path:
    data = tomllib.loads(config_to_toml(default_config("T")))
    data["recording"].update(recording)
    path = tmp_path / "study.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


# -- the setting -----------------------------------------------------------------------------


def test_input_is_a_file_relative_to_the_study_folder_or_absolute(tmp_path: Path) -> None:
    relative = load_config(study_toml(tmp_path, input="rehearsal.wav")).recording
    assert relative.input_file(tmp_path) == tmp_path / "rehearsal.wav"
    absolute = load_config(study_toml(tmp_path, input="/data/rehearsal.wav")).recording
    assert absolute.input_file(tmp_path) == Path("/data/rehearsal.wav")
    assert load_config(study_toml(tmp_path)).recording.input_file(tmp_path) is None


def test_input_survives_being_written_back(tmp_path: Path) -> None:
    config = load_config(study_toml(tmp_path, input="demo-interview.flac"))
    assert 'input = "demo-interview.flac"' in config_to_toml(config)
    assert "input" not in config_to_toml(default_config("T"))  # a microphone: left out


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "recording.input must name an audio file"),
        ("  ", "recording.input must name an audio file"),
        (3, "recording.input must be a string"),
    ],
)
def test_an_unusable_input_is_refused_naming_the_key(
    tmp_path: Path, value: object, problem: str
) -> None:
    with pytest.raises(StudyConfigError, match=problem):
        load_config(study_toml(tmp_path, input=value))


def test_a_misspelt_input_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StudyConfigError, match="did you mean 'input'"):
        load_config(study_toml(tmp_path, inputt="demo.flac"))


# -- the demo study --------------------------------------------------------------------------


def test_the_demo_study_names_the_shipped_demo_interview(tmp_path: Path) -> None:
    study = build_demo_study(tmp_path / "demo")
    study.close()
    again = find_study(tmp_path / "demo")  # as `fieldkit --study DIR` opens it, another day
    assert again.config.recording.input_file(again.root) == demo_interview_audio().resolve()
    assert not list(again.root.glob("*.flac"))  # named, not copied: the study stays small
    again.close()


async def test_reopening_the_demo_study_records_from_the_demo_interview(tmp_path: Path) -> None:
    build_demo_study(tmp_path / "demo").close()
    study = find_study(tmp_path / "demo")
    app = FieldkitApp(study)  # no --input: the study says where to record from
    assert app.input_file == demo_interview_audio().resolve()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_screen(pilot, InterviewScreen)
        assert f"virtual microphone: {DEMO_INPUT}" in shown(app, "#recording-hint")
    study.close()


def test_fieldkit_record_in_the_demo_study_records_the_demo_interview(
    tmp_path: Path, cli: CliRun
) -> None:
    root = tmp_path / "demo"
    build_demo_study(root).close()
    result = cli("--study", root, "record", "INTSTA001-PEER", "--seconds", "1")
    assert result.exit_code == 0, result.output
    study = find_study(root)
    [interview] = Interviews(study.db).for_participant("INTSTA001-PEER")
    [recording] = Recordings(study.db).for_interview(interview.id)
    assert (recording.source, Path(recording.device or "").name) == ("virtual", DEMO_INPUT)
    study.close()


def moved_input(root: Path) -> Path:
    """The study's input file is gone (fieldkit reinstalled elsewhere, say)."""
    config = root / "study.toml"
    gone = root / "gone" / DEMO_INPUT
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(str(demo_interview_audio().resolve()), str(gone)), encoding="utf-8"
    )
    return gone


def test_fieldkit_record_says_the_input_named_in_study_toml_is_gone(
    tmp_path: Path, cli: CliRun
) -> None:
    root = tmp_path / "demo"
    build_demo_study(root).close()
    gone = moved_input(root)
    result = cli("--study", root, "record", "INTSTA001-PEER", "--seconds", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: study.toml's [recording] input names {gone}, which is not there."
    )
    assert "take the input line out of study.toml" in result.stderr


async def test_the_app_says_the_input_named_in_study_toml_is_gone(tmp_path: Path) -> None:
    build_demo_study(tmp_path / "demo").close()
    moved_input(tmp_path / "demo")
    study = find_study(tmp_path / "demo")
    app = FieldkitApp(study)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, InterviewScreen)
        await pilot.press("space")
        await wait_for_notification(pilot, "input names", "error")
        assert not screen.recording
    study.close()
