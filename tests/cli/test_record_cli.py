"""Headless recording, crash recovery and import, end to end through the CLI and a real SQLite file.

These use the virtual microphone (--input FILE), which runs through the same capture path as a
microphone; tests/audio/ covers capture from real devices on the sound server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.services.study import open_study
from tests.conftest import CliRun

PID = "INTSTA002-CLIN"  # consented in the demo study
UNCONSENTED = "INTSTA004-CLIN"


@pytest.fixture
def demo_dir(tmp_path: Path, cli: CliRun) -> Path:
    root = tmp_path / "demo"
    assert cli("demo", "--no-app", "--empty", "--dir", root).exit_code == 0
    return root


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    """3 s of a 440 Hz tone on the left, 660 Hz on the right (16 kHz stereo)."""
    t = np.arange(3 * 16000) / 16000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], axis=1)
    path = tmp_path / "tone.wav"
    sf.write(path, audio, 16000)
    return path


def interviews(cli: CliRun, demo_dir: Path) -> list[dict[str, object]]:
    return list(json.loads(cli("interviews", "--json", "--study", demo_dir).stdout))


def test_record_from_virtual_microphone(demo_dir: Path, cli: CliRun, tone: Path) -> None:
    started = time.monotonic()
    result = cli("record", PID, "--input", tone, "--seconds", "1.5", "--study", demo_dir)
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.is_file() and path.parent == demo_dir / "audio"
    info = sf.info(path)
    assert info.channels == 2 and info.samplerate == 16000
    assert info.duration == pytest.approx(1.5, abs=0.15)
    assert took >= 1.3  # real time, not as fast as possible
    [row] = interviews(cli, demo_dir)
    assert row["participant"] == PID and row["status"] == "ended"
    assert row["duration_s"] == pytest.approx(1.5, abs=0.15)
    assert row["recordings"] == [str(path.relative_to(demo_dir))]


def test_record_refuses_without_consent(demo_dir: Path, cli: CliRun, tone: Path) -> None:
    result = cli("record", UNCONSENTED, "--input", tone, "--seconds", "1", "--study", demo_dir)
    assert result.exit_code == 1
    assert "no recorded consent" in result.stderr
    assert list((demo_dir / "audio").iterdir()) == []
    assert interviews(cli, demo_dir) == []


def test_record_refuses_an_unknown_wave(demo_dir: Path, cli: CliRun, tone: Path) -> None:
    result = cli("record", PID, "--wave", "baseline", "--input", tone, "--study", demo_dir)
    assert result.exit_code == 1
    assert "unknown wave 'baseline'" in result.stderr
    assert interviews(cli, demo_dir) == []


def test_record_never_overwrites_and_starts_the_next_wave_only_when_named(
    demo_dir: Path, cli: CliRun, tone: Path
) -> None:
    args = ("record", PID, "--input", tone, "--seconds", "0.5", "--study", demo_dir)
    first = cli(*args)
    refused = cli(*args)  # the commencement interview has ended: no silent new wave
    assert refused.exit_code == 1 and "add --wave follow-up" in refused.stderr
    second = cli(*args, "--wave", "follow-up")
    assert first.exit_code == second.exit_code == 0
    assert first.stdout.splitlines()[-1] != second.stdout.splitlines()[-1]
    assert [r["wave"] for r in interviews(cli, demo_dir)] == ["commencement", "follow-up"]
    third = cli(*args)
    assert third.exit_code == 1
    assert "every wave" in third.stderr


def test_kill_9_then_recovery_keeps_the_audio(demo_dir: Path, cli: CliRun, tmp_path: Path) -> None:
    long_input = tmp_path / "long.wav"
    t = np.arange(20 * 16000) / 16000
    sf.write(long_input, 0.2 * np.sin(2 * np.pi * 300 * t), 16000)
    command = [sys.executable, "-m", "fieldkit", "--study", str(demo_dir), "record", PID]
    proc = subprocess.Popen(
        [*command, "--input", str(long_input), "--channels", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Wait for 2 s of audio on disk (however long the start takes on a busy machine), then kill.
    study = open_study(demo_dir)
    deadline = time.monotonic() + 30
    observed = 0.0
    while observed < 2.0:
        assert time.monotonic() < deadline and proc.poll() is None, "the recording did not run"
        time.sleep(0.05)
        rows = list(study.db["recordings"].rows)
        wav = demo_dir / rows[0]["path"] if rows else None
        if wav is not None and wav.is_file() and wav.stat().st_size > 44:
            observed = sf.info(wav).duration
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert study.db["recordings"].count == 1  # registered before the first sample

    result = cli("interviews", "--json", "--study", demo_dir)  # any start of fieldkit recovers
    assert "recovered an interrupted recording" in result.stderr
    [row] = json.loads(result.stdout)
    assert row["status"] == "interrupted"
    kept = sf.info(demo_dir / row["recordings"][0]).duration
    assert observed <= kept <= observed + 3.0  # what had reached the disk before the kill is kept
    assert row["duration_s"] == pytest.approx(kept, abs=0.05)
    actions = [e["action"] for e in study.db["audit_log"].rows]
    assert "recording recovered after interruption" in actions
    assert cli("recover", "--study", demo_dir).stdout.strip() == "nothing to recover"


def test_import_creates_an_ended_interview(demo_dir: Path, cli: CliRun, tone: Path) -> None:
    result = cli("import-audio", PID, tone, "--wave", "follow-up", "--study", demo_dir)
    assert result.exit_code == 0, result.output
    assert f"interview {PID} (follow-up)" in result.stdout
    [row] = interviews(cli, demo_dir)
    assert row["status"] == "ended" and row["duration_s"] == pytest.approx(3.0, abs=0.01)
    copied = demo_dir / row["recordings"][0]
    assert copied.is_file() and copied != tone and tone.is_file()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not audio at all" * 100), "cannot read"),
        (lambda p: p.write_bytes(b""), "cannot read"),
    ],
)
def test_import_of_unreadable_audio_changes_nothing(
    demo_dir: Path, cli: CliRun, tmp_path: Path, make: object, message: str
) -> None:
    bad = tmp_path / "bad.wav"
    make(bad)  # type: ignore[operator]
    result = cli("import-audio", PID, bad, "--study", demo_dir)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list((demo_dir / "audio").iterdir()) == []
    assert interviews(cli, demo_dir) == []


def test_import_rejects_a_bad_channel_map(demo_dir: Path, cli: CliRun, tone: Path) -> None:
    result = cli("import-audio", PID, tone, "--channel-map", "left,right", "--study", demo_dir)
    assert result.exit_code == 1
    assert "channel map" in result.stderr
    assert interviews(cli, demo_dir) == []


def test_a_recording_from_before_a_restart_is_recovered_even_if_its_pid_is_reused(
    demo_dir: Path, cli: CliRun, tone: Path
) -> None:
    from fieldkit.processes import boot_time
    from fieldkit.store.repo import Recordings

    assert (
        cli("record", PID, "--input", tone, "--seconds", "0.5", "--study", demo_dir).exit_code == 0
    )
    study = open_study(demo_dir)
    [row] = Recordings(study.db).for_interview(1)
    booted = boot_time()
    assert booted is not None
    # As if the laptop lost power mid-recording: the row still says "recording", and its PID
    # now belongs to a live process (ours) after the restart.
    Recordings(study.db).update(
        row.id, status="recording", pid=os.getpid(), started_at="2000-01-01T00:00:00+00:00"
    )
    study.db["interviews"].update(1, {"status": "in progress"})
    result = cli("interviews", "--study", demo_dir)
    assert "recovered an interrupted recording" in result.stderr
    assert Recordings(study.db).get(row.id).status == "interrupted"


def test_a_missing_input_device_is_one_line_and_changes_nothing(
    demo_dir: Path, cli: CliRun
) -> None:
    result = cli("record", PID, "--device", "no-such-microphone", "--study", demo_dir)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert interviews(cli, demo_dir) == []
    assert list((demo_dir / "audio").iterdir()) == []
    assert open_study(demo_dir).db["recordings"].count == 0
