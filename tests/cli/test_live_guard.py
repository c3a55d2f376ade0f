"""The live guard during `fieldkit record`: real capture path (virtual microphone), real model in
its own process, events printed as they happen and stored with the interview."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fieldkit.services.demo import build_demo_study
from fieldkit.services.interviews import guard_events
from fieldkit.services.study import open_study
from fieldkit.store.repo import Interviews
from tests.conftest import CliRun
from tests.speech import two_speaker_wav

pytestmark = [
    pytest.mark.model,
    pytest.mark.usefixtures("espeak"),  # skips without espeak-ng; fails under REQUIRE_ALL
]
PID = "INTSTA001-PEER"


def record(cli: CliRun, root: Path, clip: Path) -> list[str]:
    result = cli("record", PID, "--input", clip, "--study", root)
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("guard:")]


def test_participant_raising_the_term_is_seen_live(tmp_path: Path, cli: CliRun) -> None:
    clip = tmp_path / "raised.wav"
    turns = two_speaker_wav(
        [
            ("interviewer", "What do you hope the new unit will do for people?"),
            ("participant", "I hope it helps people with their recovery at home."),
            ("interviewer", "You mentioned recovery. What does recovery mean to you?"),
        ],
        clip,
    )
    said_at = turns[1].start
    root = tmp_path / "study"
    build_demo_study(root)
    started = time.monotonic()
    lines = record(cli, root, clip)
    assert time.monotonic() - started < turns[-1].end + 15  # the guard does not hold things up
    assert lines[0].startswith("guard: recovery raised by participant at 00:0")
    study = open_study(root)
    interview = Interviews(study.db).for_participant(PID)[0]
    [raised] = [e for e in guard_events(study, interview.id) if e.kind.value == "raised"]
    assert raised.source == "live" and raised.speaker.value == "participant"
    assert said_at - 1.0 <= raised.at <= said_at + 4.0  # the word is inside the participant's turn
    assert not any("WARNING" in line for line in lines)


def test_interviewer_saying_it_first_is_a_visible_warning(tmp_path: Path, cli: CliRun) -> None:
    clip = tmp_path / "breach.wav"
    turns = two_speaker_wav(
        [
            ("interviewer", "How do you think the unit will support recovery for people?"),
            ("participant", "I think it will give them a safe place to stay."),
        ],
        clip,
    )
    root = tmp_path / "study"
    build_demo_study(root)
    lines = record(cli, root, clip)
    assert any(
        line.startswith("guard: WARNING interviewer said recovery at")
        and line.endswith("before the participant raised it")
        for line in lines
    ), lines
    assert not any("raised by participant" in line for line in lines)
    assert turns[0].start < 5
