"""Two channels that carry one signal are transcribed once, with no speakers (issue 9, item 16).

A mono recorder's file copied to both channels, or one stereo recorder hearing everybody, looks
like both people talking at once the whole time; it used to come out once per channel.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.core.models import Speaker
from fieldkit.transcribe.engine import transcribe_recording
from fieldkit.transcribe.speakers import channel_energy, same_signal

from .conftest import CHANNEL_MAP, Transcribed

RATE = 16000
SENTENCES = (
    "We spoke about the garden and the cooking group on Tuesday. "
    "Then my sister came over for dinner."
)


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts with pauses: enough of speech's on/off shape for the energy test."""
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, 0.1, int(seconds * RATE)).astype(np.float32)
    envelope = (np.sin(np.arange(len(samples)) / RATE * 2 * np.pi * 0.7) > -0.2).astype(np.float32)
    return samples * envelope


def energy_of(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return channel_energy(np.stack([left, right], axis=1), RATE)


def test_a_copy_is_the_same_signal() -> None:
    voice = speech_like(6)
    assert same_signal(energy_of(voice, voice))


def test_a_copy_at_another_gain_or_polarity_is_the_same_signal() -> None:
    voice = speech_like(6)
    assert same_signal(energy_of(voice, voice * 0.5))  # -6 dB
    assert same_signal(energy_of(voice * 0.4, -voice))


def test_a_slightly_delayed_noisy_copy_is_the_same_signal() -> None:
    voice = speech_like(6)
    noise = np.random.default_rng(3).normal(0.0, 0.002, len(voice)).astype(np.float32)
    delayed = np.concatenate([np.zeros(8, np.float32), voice[:-8]]) * 0.7 + noise
    assert same_signal(energy_of(voice, delayed))


def test_two_people_on_their_own_microphones_are_not_the_same_signal() -> None:
    first, second = speech_like(6, seed=1), speech_like(6, seed=2)
    first[: 3 * RATE] = 0  # turns: the first person speaks in the second half only
    second[3 * RATE :] = 0
    bleed = 10 ** (-20 / 20)
    assert not same_signal(energy_of(first + bleed * second, second + bleed * first))


def test_one_voice_and_its_quieter_bleed_is_not_the_same_signal() -> None:
    # One person talking on their lapel microphone, the other microphone hearing them at -20 dB:
    # the louder channel already takes every word, and its speaker label is worth keeping.
    voice = speech_like(6)
    assert not same_signal(energy_of(voice, voice * 0.1))


def test_silence_or_one_empty_channel_is_not_the_same_signal() -> None:
    silence = np.zeros(6 * RATE, np.float32)
    assert not same_signal(energy_of(silence, silence))
    assert not same_signal(energy_of(speech_like(6), silence))


@pytest.fixture(scope="module")
def mono_voice(needs_speech: None, speech_dir: Path) -> np.ndarray:
    from tests.speech import mono_wav

    audio, _ = sf.read(mono_wav(SENTENCES, speech_dir / "identical-source.wav"), dtype="float32")
    return np.asarray(audio)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.mark.model
@pytest.mark.parametrize("right_gain", [1.0, 0.5], ids=["copied", "quieter-right"])
def test_identical_channels_are_transcribed_once_with_unknown_speakers(
    mono_voice: np.ndarray, tmp_path: Path, model_dir: Path, right_gain: float
) -> None:
    path = tmp_path / "both.wav"
    sf.write(path, np.stack([mono_voice, mono_voice * right_gain], axis=1), RATE)
    result = transcribe_recording(path, model_dir, CHANNEL_MAP)
    said = [w for s in result.segments for w in words(s.text)]
    assert said.count("garden") == 1, said
    assert said.count("dinner") == 1, said
    assert {s.speaker for s in result.segments} == {Speaker.UNKNOWN}
    assert result.identical_channels
    assert result.channels == 2


@pytest.mark.model
def test_a_real_two_channel_interview_is_not_taken_for_one_signal(
    transcribed_interview: Transcribed,
) -> None:
    result = transcribed_interview.result
    assert not result.identical_channels
    assert {s.speaker for s in result.segments} >= {Speaker.INTERVIEWER, Speaker.PARTICIPANT}


def test_real_speech_one_voice_per_channel_is_not_the_same_signal(shared_testdata: Path) -> None:
    from fieldkit.audio.reader import read_audio

    stereo, _ = read_audio(shared_testdata / "stereo_diarization.wav", samplerate=RATE)
    assert not same_signal(energy_of(stereo[:, 0], stereo[:, 1]))
    speech = read_audio(shared_testdata / "jfk.flac", samplerate=RATE)[0][:, 0]
    assert same_signal(energy_of(speech, speech * 0.5))
