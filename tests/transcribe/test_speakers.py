"""speakers.py on synthetic energy arrays: no model, no audio files."""

from __future__ import annotations

import numpy as np
import pytest

from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.transcribe.speakers import (
    attribute_words,
    channel_energy,
    overlap_regions,
    own_speech_fraction,
    own_speech_mask,
    split_by_speaker,
)

HOP = 0.02
MAP = ("interviewer", "participant")


def energy_track(seconds: float, spans: list[tuple[int, float, float, float]]) -> np.ndarray:
    """(hops, 2) RMS: each span is (channel, start, end, level); the other channel gets -20 dB."""
    energy = np.full((int(seconds / HOP), 2), 1e-5, dtype=np.float32)
    for channel, start, end, level in spans:
        hops = slice(int(start / HOP), int(end / HOP))
        energy[hops, channel] = np.maximum(energy[hops, channel], level)
        energy[hops, 1 - channel] = np.maximum(energy[hops, 1 - channel], level * 0.1)
    return energy


def word(start: float, end: float, text: str, speaker: Speaker = Speaker.UNKNOWN) -> Word:
    return Word(start, end, text, 0.9, speaker)


def test_channel_energy_is_rms_per_hop_and_channel() -> None:
    samplerate = 16000
    t = np.arange(samplerate) / samplerate
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    right = np.zeros_like(left)
    right[samplerate // 2 :] = 0.1
    energy = channel_energy(np.stack([left, right], axis=1).astype(np.float32), samplerate)
    assert energy.shape == (50, 2)
    assert energy[:, 0] == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    assert energy[:25, 1].max() == 0.0
    assert energy[25:, 1] == pytest.approx(0.1)


def test_channel_energy_pads_the_last_partial_hop_and_accepts_mono() -> None:
    energy = channel_energy(np.ones(330, dtype=np.float32), 16000)
    assert energy.shape == (2, 1)
    assert energy[0, 0] == pytest.approx(1.0)
    assert energy[1, 0] == pytest.approx(np.sqrt(10 / 320))


def test_attribute_words_labels_the_louder_channel() -> None:
    energy = energy_track(6, [(0, 0.5, 2.5, 0.3), (1, 3.0, 5.5, 0.2)])
    words = [
        word(0.6, 1.0, "how"),
        word(2.0, 2.4, "are"),
        word(3.2, 3.6, "fine"),
        word(5, 5.4, "ok"),
    ]
    labelled = attribute_words(words, energy, HOP, MAP)
    assert [w.speaker for w in labelled] == [
        Speaker.INTERVIEWER,
        Speaker.INTERVIEWER,
        Speaker.PARTICIPANT,
        Speaker.PARTICIPANT,
    ]
    assert [w.word for w in labelled] == ["how", "are", "fine", "ok"]


def test_attribute_words_follows_the_channel_map_order() -> None:
    energy = energy_track(2, [(0, 0.0, 2.0, 0.3)])
    labelled = attribute_words([word(0.5, 0.8, "hi")], energy, HOP, ("participant", "interviewer"))
    assert labelled[0].speaker == Speaker.PARTICIPANT


def test_a_word_over_digital_silence_stays_unknown() -> None:
    energy = np.zeros((100, 2), dtype=np.float32)
    assert attribute_words([word(0.5, 0.9, "thanks")], energy, HOP, MAP)[0].speaker == "unknown"


def test_a_word_past_the_end_uses_the_last_hop_instead_of_failing() -> None:
    energy = energy_track(1, [(1, 0.0, 1.0, 0.3)])
    assert attribute_words([word(1.5, 1.5, "end")], energy, HOP, MAP)[0].speaker == "participant"


def test_split_by_speaker_splits_where_the_speaker_changes_and_rebuilds_text() -> None:
    words = (
        word(1.0, 1.3, "How", Speaker.INTERVIEWER),
        word(1.3, 1.6, "are", Speaker.INTERVIEWER),
        word(1.6, 2.0, "you?", Speaker.INTERVIEWER),
        word(2.5, 2.9, "Fine,", Speaker.PARTICIPANT),
        word(2.9, 3.4, "thanks.", Speaker.PARTICIPANT),
    )
    segment = Segment(0.8, 3.6, Speaker.UNKNOWN, " How are you? Fine, thanks.", words)
    first, second = split_by_speaker([segment])
    assert (first.start, first.end, first.speaker, first.text) == (
        0.8,
        2.0,
        "interviewer",
        "How are you?",
    )
    assert (second.start, second.end, second.speaker, second.text) == (
        2.5,
        3.6,
        "participant",
        "Fine, thanks.",
    )
    assert first.words == words[:3] and second.words == words[3:]


def test_split_by_speaker_keeps_a_single_speaker_segment_whole() -> None:
    words = (
        word(0.0, 0.5, "Hello", Speaker.PARTICIPANT),
        word(0.5, 1.0, "there", Speaker.PARTICIPANT),
    )
    (segment,) = split_by_speaker([Segment(0.0, 1.2, Speaker.UNKNOWN, "Hello there", words)])
    assert (segment.speaker, segment.text, segment.end) == ("participant", "Hello there", 1.2)


def test_split_by_speaker_keeps_segments_without_words() -> None:
    empty = Segment(0.0, 1.0, Speaker.UNKNOWN, "[inaudible]")
    assert split_by_speaker([empty]) == [empty]


def test_overlap_regions_finds_crosstalk_but_not_bleed() -> None:
    # interviewer 0-4 s, participant 3-7 s: both speak 3-4 s; bleed at -20 dB elsewhere
    energy = energy_track(8, [(0, 0.0, 4.0, 0.3), (1, 3.0, 7.0, 0.3)])
    ((start, end),) = overlap_regions(energy, HOP)
    assert start == pytest.approx(3.0, abs=0.1)
    assert end == pytest.approx(4.0, abs=0.1)


def test_no_overlap_when_turns_alternate_with_bleed() -> None:
    energy = energy_track(8, [(0, 0.0, 3.0, 0.3), (1, 3.5, 7.0, 0.2), (0, 7.2, 8.0, 0.3)])
    assert overlap_regions(energy, HOP) == []


def test_a_quieter_but_real_second_voice_still_counts_as_overlap() -> None:
    energy = energy_track(6, [(0, 0.0, 5.0, 0.3), (1, 2.0, 3.0, 0.15)])  # -6 dB: not bleed
    ((start, end),) = overlap_regions(energy, HOP)
    assert (start, end) == (pytest.approx(2.0, abs=0.1), pytest.approx(3.0, abs=0.1))


def test_overlap_regions_drops_blips_and_merges_close_spans() -> None:
    energy = energy_track(
        10,
        [
            (0, 0.0, 10.0, 0.3),
            (1, 1.0, 1.1, 0.3),  # 0.1 s blip: too short
            (1, 4.0, 4.6, 0.3),
            (1, 4.9, 5.5, 0.3),  # 0.3 s apart: merged with the previous span
        ],
    )
    ((start, end),) = overlap_regions(energy, HOP)
    assert start == pytest.approx(4.0, abs=0.1)
    assert end == pytest.approx(5.5, abs=0.1)


def test_overlap_regions_of_mono_is_empty() -> None:
    assert overlap_regions(np.ones((100, 1), dtype=np.float32), HOP) == []


def test_own_speech_fraction_ignores_the_pause_after_a_word() -> None:
    energy = energy_track(4, [(0, 0.0, 1.0, 0.3), (1, 2.0, 3.0, 0.3)])
    mask = own_speech_mask(energy, HOP)
    assert own_speech_fraction(mask, 0, 0.8, 1.6, HOP) == 1.0  # speech then silence
    assert own_speech_fraction(mask, 0, 2.2, 2.8, HOP) == 0.0  # only bleed on channel 0
    assert own_speech_fraction(mask, 1, 1.3, 1.7, HOP) == 0.0  # nobody speaks
