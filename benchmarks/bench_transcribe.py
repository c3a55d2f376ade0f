"""Transcription benchmark: fieldkit's transcribe_recording against faster-whisper called directly.

Builds (or takes) a long two-channel interview with a known reference transcript, then runs each
variant in its own subprocess (so peak memory, ru_maxrss, is per variant):

  fieldkit     transcribe_recording(): batched mixdown + speakers + separate channels at crosstalk
  fieldkit-mixdown  the same without a channel map (mixdown only: the like-for-like overhead)
  fw-batched   faster-whisper BatchedInferencePipeline on the same audio and model (mono mixdown)
  fw-sequential faster-whisper WhisperModel.transcribe, plain sequential (beam 5), for accuracy
  (also available: fieldkit-sequential, fieldkit with EngineOptions(batched=False))

and reports real-time factor, word error rate against the reference, peak memory, speaker accuracy
(fieldkit) and fieldkit's overhead over fw-batched. Never run as a pass/fail test.

    python benchmarks/bench_transcribe.py                 # 30-minute synthesized interview
    python benchmarks/bench_transcribe.py --minutes 5 --variants fieldkit,fw-batched
    python benchmarks/bench_transcribe.py --audio REC.wav --reference REF.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("fieldkit-cli", "fieldkit", "fieldkit-mixdown", "fw-batched", "fw-sequential")
CHANNEL_MAP = ("interviewer", "participant")

QUESTIONS = [
    "Can you tell me a little about how your week has been?",
    "What did a usual day on the unit look like for you?",
    "How did you first hear about the community care unit?",
    "Who do you talk to when things get difficult?",
    "What was it like when you arrived here for the first time?",
    "Could you say more about that?",
    "How did the staff respond when you asked for help?",
    "What would you change about the way the groups are run?",
    "How do you spend your evenings at the moment?",
    "What does a good day look like for you now?",
    "Was there anything that surprised you about the programme?",
    "How do you feel about going back home?",
    "What has been the hardest part of the last month?",
    "Tell me about the people you share the house with.",
    "How often do you see your family these days?",
]
ANSWERS = [
    "Honestly it has been a mixed week, some days were better than others.",
    "I usually wake up early and make a cup of tea before the morning group starts.",
    "My doctor mentioned it after I had been in hospital for a few weeks.",
    "Mostly my sister, she calls me every evening after work.",
    "At first I felt nervous because I did not know anyone here.",
    "The peer support worker sat with me and explained how everything works.",
    "They listened to me and we made a plan together for the weekend.",
    "I would like the groups to be a bit smaller so that everyone gets a chance to speak.",
    "I watch the news and sometimes I go for a walk around the garden.",
    "A good day is when I can cook a meal and sleep through the night.",
    "I was surprised how much the cooking classes helped my confidence.",
    "I am looking forward to it but I am also a little worried about being alone.",
    "Sleeping has been difficult, and the medication makes me tired in the morning.",
    "There are four of us and we take turns cleaning the kitchen.",
    "My brother visits on Sundays and sometimes brings my niece along.",
    "I think my recovery has been slow but steady over the last few months.",
    "The nurses were kind, although the paperwork took a long time.",
    "We talk about what we want to do after we leave, like finding work or volunteering.",
    "I started painting again, which I had not done since school.",
    "When I feel anxious I try the breathing exercises they taught us.",
]
BACKCHANNELS = ["Yes, I see.", "Right, okay.", "Mm, that makes sense.", "Sure."]


# --- building the interview --------------------------------------------------------------------


def interview_turns(minutes: float, seed: int = 7) -> list[tuple[str, str, float]]:
    """Alternating question/answer turns, roughly `minutes` long, with occasional crosstalk."""
    rng = random.Random(seed)
    turns: list[tuple[str, str, float]] = []
    seconds = 0.0
    while seconds < minutes * 60:
        turns.append(("interviewer", rng.choice(QUESTIONS), rng.uniform(0.5, 1.2)))
        answer = " ".join(rng.sample(ANSWERS, rng.randint(1, 3)))
        turns.append(("participant", answer, rng.uniform(0.5, 1.2)))
        if rng.random() < 0.15:  # the interviewer chimes in before the participant has finished
            turns.append(("interviewer", rng.choice(BACKCHANNELS), -rng.uniform(0.8, 1.5)))
        seconds += 4 + len(answer.split()) * 0.4 + 2.5  # rough espeak durations at 150 wpm
    return turns


def build_interview(minutes: float, folder: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Synthesize the interview; a second pass corrects the length estimate of the first."""
    from tests.speech import two_speaker_wav

    audio = folder / f"interview_{minutes:g}min.wav"
    planned = minutes
    for _ in range(2):
        timings = two_speaker_wav(interview_turns(planned), audio)
        actual = timings[-1].end / 60
        if actual >= minutes * 0.97:
            break
        planned *= minutes / actual
    reference = [t.__dict__ for t in timings]
    (folder / f"interview_{minutes:g}min.json").write_text(json.dumps(reference))
    return audio, reference


# --- scoring -------------------------------------------------------------------------------------


# Spellings that are the same words: contractions and British/American forms are not errors.
EQUIVALENT = {
    "i'm": "i am",
    "it's": "it is",
    "that's": "that is",
    "i've": "i have",
    "we're": "we are",
    "you're": "you are",
    "don't": "do not",
    "didn't": "did not",
    "can't": "cannot",
    "there's": "there is",
    "what's": "what is",
    "she's": "she is",
    "he's": "he is",
    "programme": "program",
    "okay": "ok",
    "mm": "mm",
    "mhm": "mm",
    "hmm": "mm",
}


def normalise(text: str) -> list[str]:
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " "))
    return " ".join(EQUIVALENT.get(word, word) for word in text.split()).split()


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Word-level Levenshtein distance, one numpy row at a time (exact; fast on 5000 words)."""
    import numpy as np

    vocabulary: dict[str, int] = {}
    ref = np.array([vocabulary.setdefault(w, len(vocabulary)) for w in reference], dtype=np.int64)
    hyp = np.array([vocabulary.setdefault(w, len(vocabulary)) for w in hypothesis], dtype=np.int64)
    columns = np.arange(len(hyp) + 1)
    previous = columns.copy()
    for i, word in enumerate(ref, 1):
        substitution = previous[:-1] + (hyp != word)
        deletion = previous[1:] + 1
        best = np.concatenate([[i], np.minimum(substitution, deletion)])
        # insertions: current[j] = min_k<=j (best[k] + j - k), a running minimum
        previous = np.minimum.accumulate(best - columns) + columns
    return int(previous[-1])


def word_error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    return edit_distance(reference, hypothesis) / max(1, len(reference))


def reference_words(reference: Sequence[dict[str, Any]]) -> list[str]:
    return [
        word
        for turn in sorted(reference, key=lambda t: t["start"])
        for word in normalise(turn["text"])
    ]


def speaker_accuracy(words: Sequence[dict[str, Any]], reference: Sequence[dict[str, Any]]) -> float:
    """Share of words labelled with a speaker whose turn covers the word's midpoint (±0.3 s)."""
    right = counted = 0
    for word in words:
        middle = (word["start"] + word["end"]) / 2
        expected = {t["speaker"] for t in reference if t["start"] - 0.3 <= middle <= t["end"] + 0.3}
        if expected:
            counted += 1
            right += word["speaker"] in expected
    return right / max(1, counted)


# --- variants (each runs in its own subprocess) --------------------------------------------------


def run_variant(
    variant: str, audio: Path, model_dir: Path, batch_size: int, repeat: int = 1
) -> dict[str, Any]:
    """Load once, transcribe `repeat` times and keep the fastest (the machine may be shared)."""
    run = _run_cli if variant == "fieldkit-cli" else _run_once
    runs = [run(variant, audio, model_dir, batch_size) for _ in range(repeat)]
    best = min(runs, key=lambda run: run["transcribe_s"])
    best["load_s"] = runs[0]["load_s"]
    # the CLI's work happens in its worker process, a child of the `fieldkit` child we start
    who = resource.RUSAGE_CHILDREN if variant == "fieldkit-cli" else resource.RUSAGE_SELF
    best["peak_mb"] = resource.getrusage(who).ru_maxrss / 1024
    best["all_s"] = [round(run["transcribe_s"], 2) for run in runs]
    return best


def _run_once(variant: str, audio: Path, model_dir: Path, batch_size: int) -> dict[str, Any]:
    from fieldkit.transcribe.engine import EngineOptions

    defaults = EngineOptions()
    os.environ["HF_HUB_OFFLINE"] = "1"
    started = time.perf_counter()
    if variant.startswith("fieldkit"):
        from fieldkit.transcribe.engine import transcribe_recording
        from fieldkit.transcribe.loading import cached_model

        options = EngineOptions(batch_size=batch_size, batched=variant != "fieldkit-sequential")
        channel_map = None if variant == "fieldkit-mixdown" else CHANNEL_MAP
        cached_model(model_dir, options)
        loaded = time.perf_counter()
        result = transcribe_recording(audio, model_dir, channel_map, options)
        words = [
            {"start": w.start, "end": w.end, "word": w.word, "speaker": str(w.speaker)}
            for segment in result.segments
            for w in segment.words
        ]
    else:
        from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

        model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")
        loaded = time.perf_counter()
        samples = decode_audio(str(audio))
        if variant == "fw-batched":
            segments, _ = BatchedInferencePipeline(model).transcribe(  # fieldkit's settings
                samples,
                batch_size=batch_size,
                beam_size=defaults.beam_size,
                word_timestamps=True,
                vad_filter=True,
                language="en",
            )
        else:  # plain sequential decoding, faster-whisper's defaults (beam 5, no VAD)
            segments, _ = model.transcribe(samples, word_timestamps=True, language="en")
        words = [
            {"start": w.start, "end": w.end, "word": w.word.strip(), "speaker": "unknown"}
            for segment in segments
            for w in segment.words or ()
        ]
    finished = time.perf_counter()
    return {
        "variant": variant,
        "load_s": loaded - started,
        "transcribe_s": finished - loaded,
        "words": words,
    }


def _run_cli(variant: str, audio: Path, model_dir: Path, batch_size: int) -> dict[str, Any]:
    """`fieldkit transcribe` end to end on a fresh study: worker process start, model load,
    transcription and storing the transcript (the model load is inside the time here)."""
    import tempfile

    def fieldkit(*args: str) -> str:
        command = [sys.executable, "-m", "fieldkit", *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    with tempfile.TemporaryDirectory() as scratch:
        study = str(Path(scratch) / "study")
        fieldkit("init", study)
        pid = fieldkit("--study", study, "participant", "add", "--site", "Site 1", "--role", "PEER")
        pid = pid.strip().splitlines()[-1]
        fieldkit("--study", study, "consent", pid, "--date", "2026-01-01")
        fieldkit("--study", study, "import-audio", pid, str(audio))
        started = time.perf_counter()
        fieldkit("--study", study, "transcribe", pid, "--model", str(model_dir))
        finished = time.perf_counter()
        shown = json.loads(fieldkit("--study", study, "transcript", "show", pid, "--json"))
    words = [
        {"start": w["start"], "end": w["end"], "word": w["word"], "speaker": s["speaker"]}
        for s in shown["segments"]
        for w in s["words"]
    ]
    return {"variant": variant, "load_s": 0.0, "transcribe_s": finished - started, "words": words}


def spawn(
    variant: str, audio: Path, model_dir: Path, batch_size: int, repeat: int
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--run-variant",
        variant,
        "--audio",
        str(audio),
        "--model",
        str(model_dir),
        "--batch-size",
        str(batch_size),
        "--repeat",
        str(repeat),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def audio_duration(audio: Path) -> float:
    import soundfile as sf

    return sf.info(str(audio)).duration


def summarise(
    results: list[dict[str, Any]], reference: list[dict[str, Any]], duration: float
) -> None:
    ref_words = reference_words(reference)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, no GPU, "
        f"python {platform.python_version()}"
    )
    print(
        f"audio: {duration / 60:.1f} min two-channel, {len(ref_words)} reference words, "
        f"{sum(1 for t in reference if t['speaker'] == 'interviewer')} interviewer turns"
    )
    print(
        f"{'variant':<16}{'load s':>8}{'transcribe s':>14}{'RTF':>8}{'WER %':>8}"
        f"{'peak MB':>9}{'speakers %':>12}"
    )
    by_name = {}
    for result in results:
        words = sorted(result["words"], key=lambda w: w["start"])
        hyp = [token for w in words for token in normalise(w["word"])]
        wer = word_error_rate(ref_words, hyp) * 100
        speakers = (
            f"{speaker_accuracy(words, reference) * 100:.1f}"
            if result["variant"] in ("fieldkit", "fieldkit-cli")
            else "-"
        )
        by_name[result["variant"]] = result
        print(
            f"{result['variant']:<16}{result['load_s']:>8.2f}{result['transcribe_s']:>14.1f}"
            f"{result['transcribe_s'] / duration:>8.4f}{wer:>8.2f}{result['peak_mb']:>9.0f}"
            f"{speakers:>12}"
        )
    theirs = by_name.get("fw-batched", {}).get("transcribe_s")
    for name in ("fieldkit-mixdown", "fieldkit"):
        if name in by_name and theirs:
            ours = by_name[name]["transcribe_s"]
            print(f"{name} time over faster-whisper batched: {(ours / theirs - 1) * 100:+.1f} %")
    if "fieldkit-cli" in by_name and theirs:
        # end to end: the CLI's time includes starting the worker and loading the model
        direct = theirs + by_name["fw-batched"]["load_s"]
        ours = by_name["fieldkit-cli"]["transcribe_s"]
        print(
            f"fieldkit transcribe (end to end) over faster-whisper batched (load + transcribe): "
            f"{(ours / direct - 1) * 100:+.1f} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument(
        "--audio", type=Path, help="a two-channel recording instead of synthesizing"
    )
    parser.add_argument("--reference", type=Path, help="JSON list of {speaker,text,start,end}")
    parser.add_argument("--model", type=Path, help="model folder (default: bundled tiny.en)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; fastest kept")
    parser.add_argument("--keep", type=Path, help="folder to keep the interview and words in")
    parser.add_argument("--run-variant", help=argparse.SUPPRESS)
    args = parser.parse_args()

    from fieldkit.transcribe.models import resolve_model

    model_dir = resolve_model(args.model)[1]
    if args.run_variant:
        result = run_variant(args.run_variant, args.audio, model_dir, args.batch_size, args.repeat)
        print(json.dumps(result))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fk-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.audio:
        audio, reference = args.audio, json.loads(args.reference.read_text())
    else:
        started = time.perf_counter()
        audio, reference = build_interview(args.minutes, folder)
        print(f"built {audio} in {time.perf_counter() - started:.1f} s", flush=True)
    results = []
    for variant in args.variants.split(","):
        results.append(spawn(variant, audio, model_dir, args.batch_size, args.repeat))
        (folder / f"words-{variant}.json").write_text(json.dumps(results[-1]["words"]))
        print(f"  {variant}: {results[-1]['all_s']} s", flush=True)
    summarise(results, reference, audio_duration(audio))


if __name__ == "__main__":
    main()
