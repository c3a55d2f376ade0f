"""The real engine with the bundled tiny.en on speech synthesized with espeak-ng (no network)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.errors import AudioError, TranscriptionError
from fieldkit.transcribe.decoding import looks_degenerate, uncovered_speech
from fieldkit.transcribe.engine import EngineOptions, TranscriptionCancelled, transcribe_recording
from fieldkit.transcribe.live import transcribe_chunk

from .conftest import CHANNEL_MAP, Interview, Transcribed

model = pytest.mark.model


def words_of(segments: tuple[Segment, ...]) -> list[Word]:
    return sorted((w for s in segments for w in s.words), key=lambda w: w.start)


def plain(text: str) -> str:
    return re.sub(r"[^a-z']", "", text.lower())


@model
def test_recovery_is_heard_and_attributed_to_the_participant(
    transcribed_interview: Transcribed, interview: Interview
) -> None:
    words = words_of(transcribed_interview.result.segments)
    recovery = [w for w in words if plain(w.word) == "recovery"]
    assert len(recovery) == 1
    assert recovery[0].speaker == Speaker.PARTICIPANT
    turn = next(t for t in interview.turns if "recovery" in t.text)
    assert turn.start <= recovery[0].start <= turn.end


@model
def test_every_turn_starts_near_where_it_was_placed_with_its_speaker(
    transcribed_interview: Transcribed, interview: Interview
) -> None:
    words = words_of(transcribed_interview.result.segments)
    for turn in interview.turns:
        opening = {plain(w) for w in turn.text.split()[:3]}
        near = [
            w
            for w in words
            if abs(w.start - turn.start) <= 1.0
            and plain(w.word) in opening
            and w.speaker == turn.speaker
        ]
        assert near, f"no {turn.speaker} word of {sorted(opening)} within 1 s of {turn.start}"


@model
def test_words_inside_single_speaker_turns_are_attributed_right(
    transcribed_interview: Transcribed, interview: Interview
) -> None:
    right = total = 0
    for word in words_of(transcribed_interview.result.segments):
        middle = (word.start + word.end) / 2
        owners = {t.speaker for t in interview.turns if t.start - 0.2 <= middle <= t.end + 0.2}
        if len(owners) == 1:
            total += 1
            right += word.speaker in owners
    assert total >= 60
    assert right / total >= 0.95


@model
def test_crosstalk_keeps_both_voices(
    transcribed_interview: Transcribed, interview: Interview
) -> None:
    overlap_turn = next(t for t in interview.turns if "important" in t.text)
    spoken = [
        (plain(w.word), w.speaker)
        for w in words_of(transcribed_interview.result.segments)
        if overlap_turn.start - 1.5 <= w.start <= overlap_turn.end
    ]
    assert ("important", Speaker.INTERVIEWER) in spoken
    assert ("hopeful", Speaker.PARTICIPANT) in spoken


@model
def test_segments_are_single_speaker_ordered_and_built_from_their_words(
    transcribed_interview: Transcribed,
) -> None:
    segments = transcribed_interview.result.segments
    assert len(segments) >= len({s.speaker for s in segments}) >= 2
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    for segment in segments:
        assert segment.words
        assert {w.speaker for w in segment.words} == {segment.speaker}
        assert segment.text == " ".join(w.word for w in segment.words)
        assert segment.start <= segment.words[0].start and segment.words[-1].end <= segment.end
        assert all(0.0 <= w.probability <= 1.0 and w.start <= w.end for w in segment.words)


@model
def test_result_describes_the_recording(
    transcribed_interview: Transcribed, interview: Interview
) -> None:
    result = transcribed_interview.result
    assert result.channels == 2
    assert result.language == "en"
    assert result.model == "tiny.en"  # the bundled model's name, not its folder's ("model")
    assert result.duration_s == pytest.approx(sf.info(str(interview.path)).duration, abs=0.01)


@model
def test_progress_rises_to_one(transcribed_interview: Transcribed) -> None:
    progress = transcribed_interview.progress
    assert len(progress) >= 2
    assert progress == sorted(progress)
    assert 0.0 <= progress[0] < 1.0 and progress[-1] == 1.0


@model
def test_mono_recording_has_unknown_speakers(mono_recording: Path, model_dir: Path) -> None:
    result = transcribe_recording(mono_recording, model_dir, options=EngineOptions())
    assert result.channels == 1
    assert "garden" in plain(" ".join(s.text for s in result.segments).replace(" ", "_"))
    assert {s.speaker for s in result.segments} == {Speaker.UNKNOWN}
    assert {w.speaker for w in words_of(result.segments)} == {Speaker.UNKNOWN}


@model
def test_two_channels_without_a_channel_map_are_unknown(
    interview: Interview, model_dir: Path, whisper_model: object
) -> None:
    result = transcribe_recording(interview.path, model_dir, channel_map=None)
    assert result.channels == 2
    assert {s.speaker for s in result.segments} == {Speaker.UNKNOWN}


@model
def test_vocabulary_does_not_put_words_in_anyones_mouth(
    mono_recording: Path, model_dir: Path
) -> None:
    options = EngineOptions(vocabulary=("recovery", "peer support worker", "CCU"))
    result = transcribe_recording(mono_recording, model_dir, options=options)
    text = " ".join(s.text for s in result.segments).lower()
    assert "garden" in text
    assert "recovery" not in text and "peer support" not in text


@model
def test_cancel_raises_and_returns_nothing(interview: Interview, model_dir: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(TranscriptionCancelled) as caught:
        transcribe_recording(interview.path, model_dir, CHANNEL_MAP, cancel=cancel)
    assert isinstance(caught.value, TranscriptionError)


@model
def test_cancel_during_the_run_stops_at_the_next_segment(
    interview: Interview, model_dir: Path
) -> None:
    cancel = threading.Event()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        cancel.set()

    with pytest.raises(TranscriptionCancelled):
        transcribe_recording(
            interview.path, model_dir, CHANNEL_MAP, on_progress=progress, cancel=cancel
        )
    assert len(seen) == 1 and seen[0] < 1.0


@model
def test_a_wrong_channel_map_is_a_clear_error(interview: Interview, model_dir: Path) -> None:
    with pytest.raises(TranscriptionError, match="unknown speaker"):
        transcribe_recording(interview.path, model_dir, ("interviewer", "nurse"))
    with pytest.raises(TranscriptionError, match="two channels"):
        transcribe_recording(interview.path, model_dir, ("interviewer",))


@model
def test_unreadable_audio_is_an_audio_error(tmp_path: Path, model_dir: Path) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are notes, not sound")
    with pytest.raises(AudioError, match="cannot be read"):
        transcribe_recording(not_audio, model_dir)
    with pytest.raises(AudioError, match="does not exist"):
        transcribe_recording(tmp_path / "gone.wav", model_dir)
    three = tmp_path / "three.wav"
    sf.write(three, np.zeros((16000, 3), dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="3 channels"):
        transcribe_recording(three, model_dir)


@model
def test_a_resampled_flac_goes_through_pyav(
    interview: Interview, model_dir: Path, tmp_path: Path
) -> None:
    audio, _ = sf.read(str(interview.path), dtype="float32")
    first_turns = audio[: int(10.5 * 16000)]
    flac = tmp_path / "interview_44k.flac"
    times = np.arange(int(len(first_turns) * 44100 / 16000)) / 44100
    upsampled = np.stack(
        [np.interp(times, np.arange(len(first_turns)) / 16000, first_turns[:, c]) for c in (0, 1)],
        axis=1,
    )
    sf.write(flac, upsampled, 44100)
    result = transcribe_recording(flac, model_dir, CHANNEL_MAP)
    speakers_of = {plain(w.word): w.speaker for w in words_of(result.segments)}
    assert speakers_of.get("sunday") == Speaker.PARTICIPANT
    assert speakers_of.get("today") == Speaker.INTERVIEWER


@model
def test_transcribe_chunk_hears_a_few_seconds_of_one_channel(
    interview: Interview, whisper_model: object
) -> None:
    turn = next(t for t in interview.turns if "recovery" in t.text)
    audio, rate = sf.read(str(interview.path), dtype="float32")
    start = turn.start - 0.5
    chunk = audio[int(start * rate) : int((start + 4.0) * rate), 1]
    words = transcribe_chunk(
        whisper_model, chunk, ("recovery",), offset_s=start, speaker=Speaker.PARTICIPANT
    )
    recovery = [w for w in words if plain(w.word) == "recovery"]
    assert recovery and recovery[0].speaker == Speaker.PARTICIPANT
    assert abs(recovery[0].start - turn.start) < 2.0  # times are in the interview, not the chunk


@model
def test_transcribe_chunk_with_the_other_channel_ignores_bleed(
    interview: Interview, whisper_model: object
) -> None:
    """The participant's "recovery" bleeds into the interviewer's microphone at -20 dB."""
    turn = next(t for t in interview.turns if "recovery" in t.text)
    audio, rate = sf.read(str(interview.path), dtype="float32")
    span = slice(int((turn.start - 0.5) * rate), int((turn.start + 2.5) * rate))
    interviewer_mic, participant_mic = audio[span, 0], audio[span, 1]

    heard_alone = transcribe_chunk(whisper_model, interviewer_mic, ("recovery",))
    assert "recovery" in [plain(w.word) for w in heard_alone]  # why other_channel exists
    gated = transcribe_chunk(
        whisper_model, interviewer_mic, ("recovery",), other_channel=participant_mic
    )
    assert gated == []
    own = transcribe_chunk(
        whisper_model, participant_mic, ("recovery",), other_channel=interviewer_mic
    )
    assert "recovery" in [plain(w.word) for w in own]


@model
def test_transcribe_chunk_skips_silence_and_rejects_stereo(whisper_model: object) -> None:
    assert transcribe_chunk(whisper_model, np.zeros(16000 * 3, dtype=np.float32)) == []
    with pytest.raises(TranscriptionError, match="mono"):
        transcribe_chunk(whisper_model, np.zeros((16000, 2), dtype=np.float32))


def test_looks_degenerate_catches_repetition_loops() -> None:
    def words(text: str) -> list[Word]:
        return [Word(i, i + 0.1, token, 0.5) for i, token in enumerate(text.split())]

    assert looks_degenerate(words("the morning m -t -t -t -t -t -t"))
    assert looks_degenerate(words("we go we go we go we go home"))
    assert looks_degenerate(words("it was"), compression_ratio=3.1)
    assert not looks_degenerate(words("no no no I do not think so, no"))
    assert not looks_degenerate(words("I think my recovery has been slow but steady"))


def test_uncovered_speech_finds_a_dropped_sentence_but_not_pauses() -> None:
    speaking = np.zeros(1000, dtype=bool)  # 20 s of 20 ms hops
    speaking[50:250] = True  # 1-5 s: transcribed
    speaking[400:550] = True  # 8-11 s: speech the decoder dropped
    speaking[700:900] = True  # 14-18 s: transcribed
    words = (Word(1.0, 5.0, "one", 0.9), Word(14.0, 18.0, "two", 0.9))
    segments = (Segment(1.0, 18.0, Speaker.UNKNOWN, "one two", words),)
    assert uncovered_speech(segments, speaking, 0.02) == [(5.0, 14.0)]
    speaking[400:550] = False  # only a pause between the words
    assert uncovered_speech(segments, speaking, 0.02) == []


@model
def test_real_speech_from_the_shared_testdata(shared_testdata: Path, model_dir: Path) -> None:
    result = transcribe_recording(shared_testdata / "jfk.flac", model_dir)
    heard = " ".join(s.text for s in result.segments).lower()
    for phrase in ("my fellow americans", "ask not what your country can do for you"):
        assert phrase in re.sub(r"[^a-z ]", "", heard)


@model
def test_simultaneous_speakers_in_the_shared_testdata_are_both_kept(
    shared_testdata: Path, model_dir: Path
) -> None:
    result = transcribe_recording(
        shared_testdata / "stereo_diarization.wav", model_dir, CHANNEL_MAP
    )
    speaker_of = {plain(w.word): w.speaker for w in words_of(result.segments)}
    assert speaker_of.get("wizard") == Speaker.INTERVIEWER  # left channel
    assert speaker_of.get("horizon") == Speaker.PARTICIPANT  # right channel
