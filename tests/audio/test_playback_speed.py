"""Playing faster and slower with the pitch kept, seeking, and the position a screen follows —
checked on the samples and, through the sound server, on what reached the output."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fieldkit.audio.capture import CaptureSettings, Recorder
from fieldkit.audio.playback import ArraySource, Playback
from fieldkit.audio.reader import read_audio
from fieldkit.audio.tempo import Tempo

from .conftest import dominant_frequency, wait_for_first_callback


def tone(seconds: float, rate: int, freq: float = 440.0, channels: int = 2) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    columns = [0.5 * np.sin(2 * np.pi * freq * (k + 1) * t) for k in range(channels)]
    return np.stack(columns, axis=1).astype(np.float32)


def stretch(samples: np.ndarray, speed: float, rate: int) -> np.ndarray:
    tempo = Tempo(speed, rate, samples.shape[1])
    blocks = [tempo.process(samples[i : i + 800]) for i in range(0, len(samples), 800)]
    return np.concatenate([*blocks, tempo.flush()])


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.mark.parametrize("speed", [0.75, 0.9, 1.1, 1.25, 1.5])
def test_tempo_changes_the_length_and_keeps_the_pitch(speed: float) -> None:
    rate = 16000
    samples = tone(4.0, rate)
    out = stretch(samples, speed, rate)
    assert len(out) / len(samples) == pytest.approx(1 / speed, rel=0.02)
    assert dominant_frequency(out[:, 0], rate) == pytest.approx(440, abs=3)
    assert dominant_frequency(out[:, 1], rate) == pytest.approx(880, abs=3)


def test_tempo_at_normal_speed_is_the_samples_themselves() -> None:
    samples = tone(0.5, 16000, channels=1)
    tempo = Tempo(1.0, 16000, 1)
    assert tempo.process(samples) is samples
    assert len(tempo.flush()) == 0


def test_faster_playback_reaches_the_output_shorter_at_the_same_pitch(
    sound_server: object, tmp_path: Path
) -> None:
    rate = 48000  # the null sink's own rate: nothing resampled on the way
    recorder = Recorder(tmp_path / "heard.wav", CaptureSettings(samplerate=rate, channels=2))
    recorder.start()
    wait_for_first_callback(recorder)
    playback = Playback(ArraySource(tone(1.5, rate), rate), start=0.0, speed=1.5)
    assert playback.wait(timeout=10)
    time.sleep(0.3)  # the sink's monitor lags the output a little
    heard, heard_rate = soundfile.read(recorder.stop().path)

    # how much tone was heard, in 10 ms windows (a gap the loaded sound server leaves between
    # two blocks does not count as tone)
    window = heard_rate // 100
    frames = len(heard) // window * window
    loudness = np.sqrt((heard[:frames, 0].reshape(-1, window) ** 2).mean(axis=1))
    loud = np.flatnonzero(loudness > 0.1)
    assert len(loud) > 0, "nothing reached the sink"
    assert len(loud) / 100 == pytest.approx(1.0, abs=0.1)  # 1.5 s played in 1 s
    span = heard[loud[0] * window : (loud[-1] + 1) * window]
    assert dominant_frequency(span[:, 0], heard_rate) == pytest.approx(440, abs=5)
    assert dominant_frequency(span[:, 1], heard_rate) == pytest.approx(880, abs=5)


def test_seek_and_speed_change_move_the_position(sound_server: object, noise_wav: Path) -> None:
    samples, rate = read_audio(noise_wav)  # 10 s
    playback = Playback(ArraySource(samples, rate), start=1.0)
    try:
        wait_until(lambda: playback.position > 1.2)
        playback.seek(6.0)
        assert playback.position == pytest.approx(6.0, abs=0.05)  # at once, not after a buffer
        wait_until(lambda: playback.position > 6.2)
        playback.seek(2.0)  # back as well as forward
        assert playback.position < 2.3
        at = playback.position
        playback.set_speed(1.5)  # goes on from what is heard now
        assert playback.speed == 1.5
        assert playback.position == pytest.approx(at, abs=0.1)
        wait_until(lambda: playback.position > at + 1.0)
    finally:
        playback.stop()
    assert not playback.active


def test_playback_ends_at_its_end_and_says_so(sound_server: object, noise_wav: Path) -> None:
    samples, rate = read_audio(noise_wav)
    playback = Playback(ArraySource(samples, rate), start=2.0, end=2.5, speed=0.75)
    assert playback.wait(timeout=10)
    assert not playback.active
    assert playback.position == pytest.approx(2.5, abs=0.01)


def test_a_source_longer_than_one_chunk_plays_on(
    sound_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audio is read a chunk at a time; crossing into the next chunk goes unnoticed."""
    from fieldkit.audio import playback as module

    monkeypatch.setattr(module, "CHUNK_S", 0.5)
    rate = 16000
    reads: list[tuple[float, float]] = []

    class Counting(ArraySource):
        def read(self, start: float, end: float) -> np.ndarray:
            reads.append((start, end))
            return super().read(start, end)

    playback = Playback(Counting(tone(2.0, rate, channels=1), rate), start=0.0, end=1.6)
    assert playback.wait(timeout=10)
    assert len(reads) >= 4
    assert all(end - start <= 0.5 + 1e-9 for start, end in reads)
    assert playback.position == pytest.approx(1.6, abs=0.01)
