"""Playing a range of a recording through the default output (the sound server's null sink), and
checking what came out by recording the sink's monitor at the same time."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fieldkit.audio.capture import CaptureSettings, Recorder
from fieldkit.audio.playback import ArraySource, Playback
from fieldkit.audio.reader import read_audio

from .conftest import (
    ERROR_PROBE,
    ChildRunner,
    dominant_frequency,
    no_server_env,
    read_json_line,
    wait_for_first_callback,
)


def play_range(path: Path, start: float, end: float, pad: float = 0.0) -> Playback:
    """The file read into memory, then `start - pad` .. `end + pad` played from there."""
    samples, rate = read_audio(path)
    return Playback(ArraySource(samples, rate), max(0.0, start - pad), end + pad)


def test_played_range_reaches_the_output_device(
    sound_server: object, tone_48k: Path, tmp_path: Path
) -> None:
    recorder = Recorder(tmp_path / "heard.wav", CaptureSettings(samplerate=48000, channels=2))
    recorder.start()
    wait_for_first_callback(recorder)
    playback = play_range(tone_48k, start=0.25, end=0.75, pad=0.25)  # plays 0.0–1.0 s
    assert playback.active
    assert playback.wait(timeout=5)
    assert not playback.active
    time.sleep(0.3)
    result = recorder.stop()

    heard, rate = soundfile.read(result.path)
    loud_at = np.flatnonzero(np.abs(heard[:, 0]) > 0.05)
    assert len(loud_at) > 0, "nothing reached the sink"
    span = heard[loud_at[0] : loud_at[-1]]
    assert len(span) / rate == pytest.approx(1.0, abs=0.15)
    assert dominant_frequency(span[:, 0], rate) == pytest.approx(440, abs=3)
    assert dominant_frequency(span[:, 1], rate) == pytest.approx(880, abs=3)


def test_stop_ends_playback_early(sound_server: object, noise_wav: Path) -> None:
    playback = play_range(noise_wav, start=2.0, end=8.0)
    assert playback.active
    started = time.monotonic()
    playback.stop()

    assert not playback.active
    assert time.monotonic() - started < 1.0
    playback.stop()  # stopping twice is harmless


def test_a_range_outside_the_recording_is_a_clear_error(
    sound_server: object, tone_wav: Path
) -> None:
    from fieldkit.errors import AudioError

    with pytest.raises(AudioError, match="nothing to play"):
        play_range(tone_wav, start=30.0, end=40.0)


def test_no_output_device_is_a_clear_error(tmp_path: Path, start_child: ChildRunner) -> None:
    child = start_child(
        ERROR_PROBE
        + """
    import numpy as np
    from fieldkit.audio.playback import ArraySource, Playback
    source = ArraySource(np.zeros((16000, 1), dtype=np.float32), 16000)
    print(json.dumps(probe(lambda: Playback(source, 0.0, 1.0))))
    """,
        env=no_server_env(tmp_path),
    )
    report = read_json_line(child)

    assert report["message"] == "no audio output device found"
    assert "headphones or speakers" in str(report["hint"])
