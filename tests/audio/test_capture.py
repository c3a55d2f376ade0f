"""Recording through the real capture path: PortAudio on a user-space PulseAudio server, and the
virtual microphone (which feeds the very same callback → queue → writer path)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fieldkit.audio.capture import CaptureSettings, LevelReading, Recorder
from fieldkit.errors import AudioError, DiskSpaceError

from .conftest import dominant_frequency, wait_for_first_callback


def test_a_tone_played_into_the_sink_is_in_the_recording_of_its_monitor(
    sound_server: object, tone_48k: Path, tmp_path: Path
) -> None:
    levels: list[LevelReading] = []
    recorder = Recorder(
        tmp_path / "loopback.wav", CaptureSettings(samplerate=48000, channels=2), levels.append
    )
    recorder.start()
    wait_for_first_callback(recorder)
    subprocess.run(
        ["paplay", "--device=fk_null", str(tone_48k)],
        env=sound_server.client_env(),  # type: ignore[attr-defined]
        check=True,
        timeout=20,
    )
    time.sleep(0.3)
    result = recorder.stop()

    recorded, rate = soundfile.read(result.path)
    assert result.stop_reason == "requested" and result.frames == len(recorded)
    assert recorded.shape[1] == 2 and rate == 48000
    loud_at = np.flatnonzero(np.abs(recorded[:, 0]) > 0.05)
    loud = recorded[loud_at[0] : loud_at[-1]]
    assert len(loud) == pytest.approx(1.5 * rate, abs=0.1 * rate)  # the whole tone arrived
    # Left and right keep their own signal (one speaker per channel stays apart).
    assert dominant_frequency(loud[:, 0], rate) == pytest.approx(440, abs=2)
    assert dominant_frequency(loud[:, 1], rate) == pytest.approx(880, abs=2)
    # The meter saw the tone (0.5 full scale → −9 dBFS RMS) and never called it clipping.
    loudest = max(reading.rms_dbfs[0] for reading in levels)
    assert loudest == pytest.approx(-9.0, abs=1.0)
    assert not any(any(reading.clipping) for reading in levels)


def test_level_readings_come_about_ten_times_a_second_and_track_silence(
    sound_server: object, tmp_path: Path
) -> None:
    levels: list[LevelReading] = []
    recorder = Recorder(tmp_path / "quiet.wav", CaptureSettings(), on_level=levels.append)
    recorder.start()
    result = recorder.wait(1.5)

    assert result.stop_reason == "duration" and result.duration_s == pytest.approx(1.5)
    assert 12 <= len(levels) <= 18
    assert levels[-1].rms_dbfs[0] < -50
    assert levels[-1].silent_for[0] == pytest.approx(1.5, abs=0.15)


def test_wait_stops_after_exactly_the_requested_seconds(noise_wav: Path, tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "exact.wav", CaptureSettings(input_file=noise_wav))
    recorder.start()
    result = recorder.wait(1.0)

    assert result.stop_reason == "duration"
    assert result.frames == 16000 == soundfile.info(result.path).frames
    assert recorder.state == "stopped"


def test_virtual_microphone_plays_in_real_time_and_gives_the_whole_file(
    tone_wav: Path, tmp_path: Path
) -> None:
    # 2 s at 44.1 kHz stereo → recorded as 16 kHz mono: resampled and mixed on the way.
    recorder = Recorder(tmp_path / "virtual.wav", CaptureSettings(input_file=tone_wav))
    started = time.monotonic()
    recorder.start()
    result = recorder.wait()
    elapsed = time.monotonic() - started

    assert result.stop_reason == "end-of-input"
    assert 1.9 <= elapsed <= 2.6  # paced by the clock, not as fast as possible
    assert result.duration_s == pytest.approx(2.0, abs=0.05)
    recorded, rate = soundfile.read(result.path)
    assert rate == 16000 and recorded.ndim == 1
    assert dominant_frequency(recorded, rate) == pytest.approx(440, abs=2)


def test_virtual_microphone_keeps_two_channels_apart(tone_wav: Path, tmp_path: Path) -> None:
    settings = CaptureSettings(samplerate=16000, channels=2, input_file=tone_wav)
    recorder = Recorder(tmp_path / "two.wav", settings)
    recorder.start()
    result = recorder.wait()

    recorded, rate = soundfile.read(result.path)
    assert recorded.shape == (result.frames, 2)
    assert dominant_frequency(recorded[:, 0], rate) == pytest.approx(440, abs=2)
    assert dominant_frequency(recorded[:, 1], rate) == pytest.approx(880, abs=2)


def test_audio_while_paused_is_not_written(noise_wav: Path, tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "paused.wav", CaptureSettings(input_file=noise_wav))
    recorder.start()
    time.sleep(0.6)
    recorder.pause()
    paused_at = recorder.recorded_seconds
    time.sleep(0.8)
    assert recorder.state == "paused"
    assert recorder.recorded_seconds <= paused_at + 0.1  # at most the block in flight
    recorder.resume()
    time.sleep(0.6)
    result = recorder.stop()

    source, _ = soundfile.read(noise_wav, dtype="int16")
    recorded, _ = soundfile.read(result.path, dtype="int16")
    assert result.duration_s == pytest.approx(1.2, abs=0.25)  # 2 s of input minus the pause
    # The recording is the input's start, sample for sample, then the input after the pause:
    # the ~0.8 s spoken while paused is missing (the virtual mic's 0.1 s blocks make a clean cut).
    cut = int(np.flatnonzero(recorded != source[: len(recorded)])[0])
    assert cut % 1600 == 0 and cut / 16000 == pytest.approx(paused_at, abs=0.15)
    resumed = next(
        start
        for start in range(cut, len(source), 1600)
        if np.array_equal(recorded[cut : cut + 1600], source[start : start + 1600])
    )
    assert (resumed - cut) / 16000 == pytest.approx(0.8, abs=0.15)
    assert np.array_equal(recorded[cut:], source[resumed : resumed + len(recorded) - cut])


def test_a_slow_on_audio_consumer_does_not_slow_capture(tone_wav: Path, tmp_path: Path) -> None:
    seen: list[float] = []

    def slow_consumer(block: np.ndarray, at: float) -> None:
        seen.append(at)
        time.sleep(0.3)  # e.g. a live transcription step

    recorder = Recorder(
        tmp_path / "slow.wav", CaptureSettings(input_file=tone_wav), on_audio=slow_consumer
    )
    started = time.monotonic()
    recorder.start()
    result = recorder.wait()

    assert time.monotonic() - started < 2.6
    assert result.duration_s == pytest.approx(2.0, abs=0.05)
    assert seen[:2] == [0.0, 0.1]  # blocks arrive tagged with their recording time


def test_cancel_event_stops_the_recording(noise_wav: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    recorder = Recorder(tmp_path / "c.wav", CaptureSettings(input_file=noise_wav), cancel=cancel)
    recorder.start()
    threading.Timer(0.5, cancel.set).start()
    result = recorder.wait()

    assert result.stop_reason == "requested"
    assert 0.3 <= result.duration_s <= 0.8
    assert soundfile.info(result.path).frames == result.frames


def test_an_existing_recording_is_never_overwritten(noise_wav: Path, tmp_path: Path) -> None:
    target = tmp_path / "existing.wav"
    shutil.copy(noise_wav, target)
    before = target.read_bytes()

    with pytest.raises(AudioError, match="already exists; recordings are never overwritten"):
        Recorder(target, CaptureSettings(input_file=noise_wav)).start()
    assert target.read_bytes() == before


def test_not_enough_disk_at_start_refuses_before_creating_a_file(
    sound_server: object, tmp_path: Path
) -> None:
    huge_margin = shutil.disk_usage(tmp_path).free * 2
    target = tmp_path / "nope.wav"

    with pytest.raises(DiskSpaceError, match="not enough free disk space") as caught:
        Recorder(target, CaptureSettings(disk_margin_bytes=huge_margin)).start()
    assert "free some space" in caught.value.hint
    assert not target.exists()


def test_recording_stops_cleanly_when_free_disk_nears_the_margin(
    sound_server: object, tmp_path: Path
) -> None:
    # Start with 4 MB above what the margin (plus 2 s of 48 kHz stereo) needs, then let
    # "something else" fill 8 MB of the disk: the next check (once a second) must stop us.
    head_room = 2 * 48000 * 2 * 2 + 4 * 1024 * 1024
    margin = shutil.disk_usage(tmp_path).free - head_room
    settings = CaptureSettings(samplerate=48000, channels=2, disk_margin_bytes=margin)
    recorder = Recorder(tmp_path / "disk.wav", settings)
    recorder.start()
    (tmp_path / "filler.bin").write_bytes(bytes(8 * 1024 * 1024))
    result = recorder.wait(10)

    assert result.stop_reason == "disk"
    assert "below the safety margin" in result.message and "is kept" in result.message
    assert result.duration_s < 3.0
    assert soundfile.info(result.path).frames == result.frames


def test_bogus_device_is_a_clear_error_and_leaves_no_file(
    sound_server: object, tmp_path: Path
) -> None:
    target = tmp_path / "bogus.wav"

    with pytest.raises(AudioError, match="no input device matching 'Blue Yeti'"):
        Recorder(target, CaptureSettings(device="Blue Yeti")).start()
    assert not target.exists()


def test_unsupported_settings_are_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="unsupported channel count 3"):
        Recorder(tmp_path / "x.wav", CaptureSettings(channels=3))
    with pytest.raises(AudioError, match="unsupported sample rate 1000 Hz"):
        Recorder(tmp_path / "x.wav", CaptureSettings(samplerate=1000))


def test_pause_before_start_is_an_error(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "x.wav", CaptureSettings())

    assert recorder.state == "idle"
    with pytest.raises(AudioError, match="cannot pause"):
        recorder.pause()
