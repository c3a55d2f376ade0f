"""Cutting a recording into stretches at pauses (issue 12): numpy only, no model."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from fieldkit.transcribe.stretches import (
    Stretch,
    StretchCutter,
    StretchRules,
    cut_stretches,
    window_boundaries,
)

RATE = 16000


def talk(seconds: float, seed: int, channels: int = 2) -> np.ndarray:
    """Bursts of noise 1.5-6 s long ("sentences") with pauses of 0.3-1.2 s of silence between."""
    rng = np.random.default_rng(seed)
    pieces, total = [], 0.0
    while total < seconds:
        speech = rng.uniform(1.5, 6.0)
        pause = rng.uniform(0.3, 1.2)
        pieces.append(rng.normal(0, 0.1, (int(speech * RATE), channels)).astype(np.float32))
        pieces.append(np.zeros((int(pause * RATE), channels), np.float32))
        total += speech + pause
    return np.concatenate(pieces)[: int(seconds * RATE)]


def blocks_of(audio: np.ndarray, block_s: float) -> list[np.ndarray]:
    size = int(block_s * RATE)
    return [audio[i : i + size] for i in range(0, len(audio), size)]


def cut(audio: np.ndarray, rules: StretchRules, block_s: float = 10.0) -> list[Stretch]:
    return list(cut_stretches(blocks_of(audio, block_s), rules))


RULES = StretchRules(min_s=20, max_s=100)


def test_stretches_cover_the_audio_exactly_once_in_order() -> None:
    audio = talk(400, seed=1)
    stretches = cut(audio, RULES)
    assert len(stretches) >= 4
    assert stretches[0].start_frame == 0
    for before, after in pairwise(stretches):
        assert after.start_frame == before.start_frame + len(before.samples)
    assert np.array_equal(np.concatenate([s.samples for s in stretches]), audio)


def test_each_stretch_ends_in_a_pause_within_the_limits() -> None:
    audio = talk(400, seed=2)
    stretches = cut(audio, RULES)
    for stretch in stretches[:-1]:
        assert RULES.min_s <= stretch.duration_s <= RULES.max_s
        edge = stretch.start_frame + len(stretch.samples)
        around = audio[edge - int(0.1 * RATE) : edge + int(0.1 * RATE)]
        assert float(np.abs(around).max()) == 0.0, f"cut at {edge / RATE:.2f} s is not in a pause"


def test_the_stretches_do_not_depend_on_the_block_size() -> None:
    audio = talk(300, seed=3)
    one = cut(audio, RULES, block_s=1.0)
    other = cut(audio, RULES, block_s=7.3)
    assert [s.start_frame for s in one] == [s.start_frame for s in other]


def test_cutting_from_a_stretch_end_gives_the_same_later_stretches() -> None:
    """What a job relies on when it resumes after the last stretch it stored."""
    audio = talk(400, seed=4)
    stretches = cut(audio, RULES)
    resume = stretches[2].start_frame
    later = list(cut_stretches(blocks_of(audio[resume:], 10.0), RULES, start_s=resume / RATE))
    assert [(s.start_frame, len(s.samples)) for s in later] == [
        (s.start_frame, len(s.samples)) for s in stretches[2:]
    ]


def test_speech_without_any_pause_is_cut_at_max_s_at_the_latest() -> None:
    rng = np.random.default_rng(5)
    audio = rng.normal(0, 0.1, (250 * RATE, 1)).astype(np.float32)
    stretches = cut(audio, RULES)
    assert all(s.duration_s <= RULES.max_s for s in stretches)
    assert sum(len(s.samples) for s in stretches) == len(audio)


def test_silence_and_an_empty_input_are_handled() -> None:
    assert list(cut_stretches([], RULES)) == []
    silence = np.zeros((130 * RATE, 2), np.float32)
    stretches = cut(silence, RULES)
    assert sum(len(s.samples) for s in stretches) == len(silence)


def test_the_cutter_hands_stretches_over_as_soon_as_they_are_cut() -> None:
    """Next step (transcribing while recording) feeds a recording's blocks as they arrive."""
    cutter = StretchCutter(RULES)
    audio = talk(150, seed=6)
    ready = [cutter.feed(block) for block in blocks_of(audio, 5.0)]
    first = next(i for i, stretches in enumerate(ready) if stretches)
    assert (first + 1) * 5.0 <= RULES.max_s + 5.0  # not held back until the end
    assert cutter.finish()


def test_window_boundaries_pack_speech_like_the_pipeline() -> None:
    """Speech is packed greedily into 30 s windows, pauses left out (as the batched VAD does)."""
    hop_power = np.zeros(5000)  # 100 s of 20 ms hops
    for start in range(0, 100, 10):  # 8 s of speech every 10 s
        hop_power[start * 50 : (start + 8) * 50] = 1.0
    boundaries = window_boundaries(hop_power, 30.0)
    # each piece counts 8 s + 0.4 s padding either side = 8.8 s: three per window
    assert [(round(frame / RATE), closed) for frame, closed in boundaries] == [
        (29, 1),
        (59, 2),
        (89, 3),
    ]


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError):
        StretchRules(min_s=50, max_s=20)
