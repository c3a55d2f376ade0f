"""Nothing recorded is lost: kill -9, Ctrl-C and a sound server that dies mid-recording, each in a
child process that records for real."""

from __future__ import annotations

import signal
import struct
import textwrap
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fieldkit.audio.writer import repair_recording
from tests.conftest import start_sound_server_or_skip

from .conftest import ChildRunner, read_json_line, wait_for_audio_on_disk

RECORD_IN_CHILD = """
    import json, sys, time
    from pathlib import Path
    from fieldkit.audio.capture import CaptureSettings, Recorder
    input_file = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    recorder = Recorder(Path(sys.argv[1]), CaptureSettings(input_file=input_file))
    recorder.start()
    while recorder.recorded_seconds == 0:
        time.sleep(0.01)
    print(json.dumps({"recording": True}), flush=True)
    try:
        result = recorder.wait()
    except KeyboardInterrupt:
        result = recorder.result
        print(json.dumps({"interrupted": True, "frames": result.frames,
                          "state": recorder.state}), flush=True)
    else:
        print(json.dumps({"stop_reason": result.stop_reason, "frames": result.frames,
                          "message": result.message}), flush=True)
"""


def child_code(target: Path, input_file: Path | None) -> str:
    args = [str(target), str(input_file) if input_file else ""]
    return f"import sys; sys.argv = ['child', *{args!r}]\n" + textwrap.dedent(RECORD_IN_CHILD)


def wav_header_frames(path: Path) -> int:
    with wave.open(str(path)) as handle:  # the strictest reader: believes the header only
        return handle.getnframes()


def test_kill_9_loses_at_most_two_seconds_and_repair_gives_a_readable_file(
    noise_wav: Path, tmp_path: Path, start_child: ChildRunner
) -> None:
    target = tmp_path / "killed.wav"
    child = start_child(child_code(target, noise_wav))
    assert read_json_line(child) == {"recording": True}
    recording_since = time.monotonic()
    # Kill once 1.5 s have reached the file (its header is current after every block), however
    # slowly a busy machine gets there.
    deadline = recording_since + 20
    while (observed := wav_header_frames(target)) < 1.5 * 16000:
        assert time.monotonic() < deadline, "the child wrote too little"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    repaired = repair_recording(target)
    kept, rate = soundfile.read(target, dtype="int16")
    source, _ = soundfile.read(noise_wav, dtype="int16")
    assert rate == 16000 and len(kept) == repaired.frames == wav_header_frames(target)
    assert observed <= repaired.frames  # nothing that had reached the file is lost
    assert np.array_equal(kept, source[: len(kept)])  # what is kept is exactly what was heard
    assert repair_recording(target).repaired is False  # idempotent


def test_ctrl_c_during_wait_leaves_a_complete_file(
    noise_wav: Path, tmp_path: Path, start_child: ChildRunner
) -> None:
    target = tmp_path / "interrupted.wav"
    child = start_child(child_code(target, noise_wav))
    read_json_line(child)
    wait_for_audio_on_disk(target, 0.55)
    child.send_signal(signal.SIGINT)
    report = read_json_line(child)
    child.wait(timeout=10)

    assert report["interrupted"] is True and report["state"] == "stopped"
    assert int(report["frames"]) >= 0.5 * 16000  # type: ignore[call-overload]
    assert wav_header_frames(target) == report["frames"]  # closed: header and data agree
    assert repair_recording(target).repaired is False


def test_sound_server_dying_mid_recording_stops_with_device_lost_and_keeps_the_audio(
    tmp_path: Path, start_child: ChildRunner
) -> None:
    # A private server: killing the session's server would break the other tests.
    server = start_sound_server_or_skip(tmp_path / "pulse")
    try:
        target = tmp_path / "lost.wav"
        child = start_child(child_code(target, None), env=server.client_env())
        read_json_line(child)
        wait_for_audio_on_disk(target, 0.55)
        server.kill()
        report = read_json_line(child, timeout=15)
    finally:
        server.stop()

    assert report["stop_reason"] == "device-lost"
    assert "everything recorded before it" in str(report["message"])
    assert int(report["frames"]) >= 0.5 * 16000  # type: ignore[call-overload]
    assert soundfile.info(target).frames == report["frames"] == wav_header_frames(target)


def test_repair_fixes_a_header_that_says_zero_bytes(noise_wav: Path, tmp_path: Path) -> None:
    # What a plain (non-updating) WAV writer leaves behind after kill -9.
    stale = tmp_path / "stale.wav"
    stale.write_bytes(noise_wav.read_bytes())
    with stale.open("r+b") as handle:
        handle.seek(4)
        handle.write(struct.pack("<I", 36))
        handle.seek(40)
        handle.write(struct.pack("<I", 0))
    assert wav_header_frames(stale) == 0

    first = repair_recording(stale)
    second = repair_recording(stale)

    assert first.repaired and not second.repaired
    assert first.frames == second.frames == 160000 == wav_header_frames(stale)
    assert first.duration_s == pytest.approx(10.0)
    assert stale.read_bytes()[44:] == noise_wav.read_bytes()[44:]  # audio untouched


def test_repair_fixes_a_header_that_claims_more_than_the_file_holds(
    noise_wav: Path, tmp_path: Path
) -> None:
    # Power loss can leave the header ahead of the data; a torn last frame is left out.
    cut = tmp_path / "cut.wav"
    cut.write_bytes(noise_wav.read_bytes()[: 44 + 2 * 16000 + 1])

    result = repair_recording(cut)

    assert result.repaired and result.frames == 16000 == wav_header_frames(cut)


def test_repair_of_something_that_is_not_a_wav_is_an_audio_error(tmp_path: Path) -> None:
    from fieldkit.errors import AudioError

    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    with pytest.raises(AudioError, match="not a WAV recording"):
        repair_recording(empty)
