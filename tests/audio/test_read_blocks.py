"""read_blocks, the one function that reads a recording's samples (issue 12): a time range,
streamed in blocks, from WAV through libsndfile and from anything else through PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.audio.reader import read_audio, read_blocks
from fieldkit.errors import AudioError

from .conftest import dominant_frequency


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 s of 16 kHz stereo noise, a different signal on each channel."""
    path = tmp_path_factory.mktemp("blocks") / "long.wav"
    noise = np.random.default_rng(1).normal(0, 0.1, (40 * 16000, 2)).astype(np.float32)
    sf.write(path, noise, 16000, subtype="PCM_16")
    return path


def test_blocks_of_a_range_are_that_range_of_the_file(long_wav: Path) -> None:
    whole, rate = sf.read(str(long_wav), dtype="float32", always_2d=True)
    with read_blocks(long_wav, start=3.25, end=31.5, block_s=4.0) as blocks:
        assert (blocks.samplerate, blocks.channels) == (16000, 2)
        parts = list(blocks)
    assert all(len(p) <= 4 * 16000 for p in parts) and len(parts) == 8
    assert np.array_equal(np.concatenate(parts), whole[int(3.25 * rate) : int(31.5 * rate)])


def test_blocks_from_a_start_to_the_end(long_wav: Path) -> None:
    whole, rate = sf.read(str(long_wav), dtype="float32", always_2d=True)
    parts = list(read_blocks(long_wav, start=30.0))
    assert np.array_equal(np.concatenate(parts), whole[30 * rate :])
    assert list(read_blocks(long_wav, start=50.0)) == []


@pytest.mark.parametrize("extension", ["flac", "mp3", "m4a"])
def test_resampled_blocks_keep_the_signal_and_the_range(
    encoded_tones: dict[str, Path], extension: str
) -> None:
    with read_blocks(
        encoded_tones[extension], start=0.5, end=1.5, samplerate=16000, block_s=0.25
    ) as blocks:
        parts = list(blocks)
    assert all(len(p) <= 0.25 * 16000 + 2048 for p in parts)  # a decoder frame over at most
    samples = np.concatenate(parts)
    assert samples.shape == (16000, 2) and samples.dtype == np.float32
    assert dominant_frequency(samples[:, 0], 16000) == pytest.approx(440, abs=2)
    assert dominant_frequency(samples[:, 1], 16000) == pytest.approx(880, abs=2)


def test_read_audio_is_the_blocks_joined(long_wav: Path) -> None:
    samples, rate = read_audio(long_wav, 10.0, 12.0)
    joined = np.concatenate(list(read_blocks(long_wav, 10.0, 12.0, block_s=0.5)))
    assert rate == 16000 and np.array_equal(samples, joined)


def test_a_missing_or_broken_file_is_refused_before_any_block(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        read_blocks(tmp_path / "gone.wav")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(AudioError, match=r"cannot read notes\.wav"):
        read_blocks(text)
