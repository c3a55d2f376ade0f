"""Reading and importing recordings made elsewhere (handheld recorders): WAV, FLAC, MP3, M4A."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fieldkit.audio.importer import import_audio_file
from fieldkit.audio.reader import inspect_audio, read_audio
from fieldkit.errors import AudioError

from .conftest import dominant_frequency

FORMATS = ["wav", "flac", "mp3", "m4a"]


@pytest.mark.parametrize("extension", FORMATS)
def test_inspect_reports_rate_channels_and_duration(
    encoded_tones: dict[str, Path], extension: str
) -> None:
    info = inspect_audio(encoded_tones[extension])

    assert (info.samplerate, info.channels) == (44100, 2)
    assert info.duration_s == pytest.approx(2.0, abs=0.06)  # lossy codecs pad a few ms
    assert info.frames == pytest.approx(88200, abs=0.06 * 44100)
    assert info.format


@pytest.mark.parametrize("extension", FORMATS)
def test_read_a_range_resampled_keeps_the_signal(
    encoded_tones: dict[str, Path], extension: str
) -> None:
    samples, rate = read_audio(encoded_tones[extension], start=0.5, end=1.5, samplerate=16000)

    assert rate == 16000 and samples.dtype == np.float32
    assert samples.shape == (16000, 2)
    assert dominant_frequency(samples[:, 0], rate) == pytest.approx(440, abs=2)
    assert dominant_frequency(samples[:, 1], rate) == pytest.approx(880, abs=2)
    assert np.abs(samples).max() == pytest.approx(0.5, abs=0.1)


def test_read_a_range_at_the_native_rate_is_exact(tone_wav: Path) -> None:
    whole, rate = read_audio(tone_wav)
    part, _ = read_audio(tone_wav, start=0.25, end=0.5)

    assert rate == 44100 and whole.shape == (88200, 2)
    assert np.array_equal(part, whole[11025:22050])


@pytest.mark.parametrize("extension", FORMATS)
def test_import_copies_into_the_study_and_never_overwrites(
    encoded_tones: dict[str, Path], extension: str, tmp_path: Path
) -> None:
    source = encoded_tones[extension]
    study_audio = tmp_path / "audio"

    first, info = import_audio_file(source, study_audio, "P01-w1")
    second, _ = import_audio_file(source, study_audio, "P01-w1")

    assert first == study_audio / f"P01-w1.{extension}"
    assert second == study_audio / f"P01-w1-2.{extension}"
    assert first.read_bytes() == second.read_bytes() == source.read_bytes()
    assert info.path == first and info.duration_s == pytest.approx(2.0, abs=0.06)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"this is a consent form, not audio\n" * 40, "cannot read notes.m4a"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(8), "cannot read notes.m4a"),
    ],
)
def test_unreadable_files_are_refused_and_nothing_is_copied(
    content: bytes, reason: str, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.m4a"
    bad.write_bytes(content)
    study_audio = tmp_path / "audio"

    with pytest.raises(AudioError, match=reason) as caught:
        import_audio_file(bad, study_audio, "P02-w1")
    assert "ffmpeg" in caught.value.hint
    assert not study_audio.exists() or not any(study_audio.iterdir())


def test_a_missing_file_is_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        inspect_audio(tmp_path / "gone.wav")
