"""Does capture always win? Input overflows and the live guard's latency while both cores are
busy, with transcription while recording on and off.

Builds a two-channel interview with espeak-ng (tests/speech.py) in which the interviewer ends a
question with the guarded term "recovery" at 20 points, with the participant's answers (never
the term) between them, so each of the 20 is a breach the live guard must flag. The questions
come after ~290 s of talk without the term (--lead-in): the background transcriber cuts its first
stretch when 300 s are recorded, so it has work to do while the term is said. Starts a private
PulseAudio server (tests/soundserver.py), keeps every core busy with busy-looping processes, and
records with the real command, `fieldkit record PID --channels 2 --samplerate 16000 --seconds N`,
from the default input (the null sink's monitor) while the interview is played into the sink
with `paplay` (started when the recorder's first audio arrives). The recorder runs in the driver
of bench_while_recording.py, which notes its capture statistics and the moment each guard event
reached `fieldkit record` (the moment it prints the warning; the app's banner flips on the same
event).

Latency of one breach: from the moment the end of the word "recovery" was captured (where the
word lies in the recording is found by cross-correlating the recording with the played file;
when that second of the recording was captured comes from the earliest hand-off of any block,
so the sound server's own buffering, ~0.1-0.2 s, is not counted) to the event. Reported: input
overflows (PortAudio's input_overflow flags, counted by the recorder), blocks the hand-off
dropped, the worst gap between capture callbacks, and latency p50/p95/max over the 20 breaches.
Figures only, never pass/fail.

    python benchmarks/bench_capture_under_load.py [--modes on,off] [--busy 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.bench_while_recording import (  # noqa: E402
    describe_machine,
    load_average,
    new_study,
    run_driver,
    stored_while_recording,
)

BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"
TERMS = 20
QUESTIONS = [
    "Could you tell me what you think about recovery",
    "I would like to ask you about recovery",
    "How does your team talk with people about recovery",
    "Some staff say the unit is built around recovery",
    "When you plan a week, how much time goes to recovery",
]
ANSWERS = [
    "Most days start with a handover, and then we sit down with the people who stay here.",
    "I think it is about finding a routine that works, one small step at a time.",
    "We talk a lot about hope, and about what a good day looks like for each person.",
    "It is hard to put in a few words. It changes from one person to the next.",
    "Honestly, I learned most of it from the people I support, not from training.",
    "The nurses and the peer workers plan the groups together every Monday morning.",
]


FILLER_QUESTIONS = [
    "What does a normal morning on the unit look like",
    "Who do you work with most closely",
    "What did you find hardest in your first weeks",
]


def build_interview(
    path: Path, terms: int = TERMS, lead_in_s: float = 0.0, seed: int = 12
) -> list[tuple[float, float]]:
    """The interview, and (start, end) of each question ending in the term, in seconds. The
    questions come after `lead_in_s` of talk without the term: the background transcriber cuts
    its first stretch once 300 s are recorded, so a lead-in of about that makes it decode while
    the term is said."""
    import numpy as np
    import soundfile
    from speech import two_speaker_wav

    rng = random.Random(seed)
    turns: list[tuple[str, str, float]] = []
    for index in range(terms):
        turns.append(("interviewer", QUESTIONS[index % len(QUESTIONS)], rng.uniform(0.8, 2.5)))
        turns.append(("participant", ANSWERS[index % len(ANSWERS)], rng.uniform(0.8, 2.5)))
    timings = two_speaker_wav(turns, path)
    questions = [(t.start, t.end) for t in timings if t.speaker == "interviewer"]
    if lead_in_s <= 0:
        return questions
    filler: list[tuple[str, str, float]] = []
    for index in range(round(lead_in_s / 5) + 4):  # a turn and its pause last ~6 s
        question = FILLER_QUESTIONS[index % len(FILLER_QUESTIONS)]
        filler.append(("interviewer", question, rng.uniform(0.8, 2.5)))
        filler.append(("participant", ANSWERS[index % len(ANSWERS)], rng.uniform(0.8, 2.5)))
    lead_path = path.with_name("lead-in.wav")
    lead_timings = two_speaker_wav(filler, lead_path)
    cut = next((t.end for t in lead_timings if t.end >= lead_in_s), lead_timings[-1].end) + 1.0
    lead, rate = soundfile.read(lead_path, dtype="int16", always_2d=True)
    body, _ = soundfile.read(path, dtype="int16", always_2d=True)
    lead = lead[: round(cut * rate)]
    soundfile.write(path, np.concatenate([lead, body]), rate, subtype="PCM_16")
    shift = len(lead) / rate
    return [(start + shift, end + shift) for start, end in questions]


def offset_in_recording(recording: Path, played: Path) -> float:
    """Where the played file starts in the recording (seconds), by cross-correlation."""
    import numpy as np
    import soundfile

    rec, rate = soundfile.read(recording, dtype="float32", always_2d=True)
    src, src_rate = soundfile.read(played, dtype="float32", always_2d=True)
    assert rate == src_rate, "record at the played file's rate"
    a = rec[: 40 * rate].sum(axis=1)
    b = src[: 20 * rate].sum(axis=1)
    size = 1 << (len(a) + len(b)).bit_length()
    correlation = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    return int(np.argmax(correlation[: len(a)])) / rate


def latencies(
    marks: dict[str, Any], questions: list[tuple[float, float]], offset_s: float
) -> list[float | None]:
    """Per question: seconds from the captured end of its last word to its breach event."""
    breaches = [e for e in marks["events"] if "breach" in e["kind"].lower()]
    found: list[float | None] = []
    for start, end in questions:
        in_question = [
            e for e in breaches if offset_s + start - 1.0 <= e["at"] <= offset_s + end + 1.0
        ]
        if not in_question:
            found.append(None)
            continue
        first = min(e["wall"] for e in in_question)
        found.append(first - (marks["anchor"] + offset_s + end))
    return found


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def run_mode(
    while_recording: bool,
    audio: Path,
    questions: list[tuple[float, float]],
    folder: Path,
    busy: int,
) -> dict[str, Any]:
    import soundfile

    name = "on" if while_recording else "off"
    study, participant = new_study(
        folder / f"study-{name}", while_recording, live_guard=True, microphone=True
    )
    seconds = soundfile.info(str(audio)).duration + 3.0
    load_before = load_average()
    hogs = [
        subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=seconds + 15)])
        for _ in range(busy)
    ]
    try:
        time.sleep(0.5)  # let the load settle
        args = [participant, "--channels", "2", "--samplerate", "16000", "--seconds", f"{seconds}"]
        env = {**os.environ, "FK_BENCH_PLAY": str(audio)}
        marks, output = run_driver(study, folder / f"marks-{name}.json", 1.0, args, env)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    if marks.get("exit") not in (0, None):
        raise RuntimeError(f"fieldkit record failed ({marks.get('exit')}):\n{output[-3000:]}")
    offset = offset_in_recording(Path(marks["recording"]), audio)
    found = latencies(marks, questions, offset)
    measured = [x for x in found if x is not None]
    return {
        "mode": name,
        "load": f"{load_before} -> {load_average()}",
        "busy_processes": busy,
        "stats": marks["stats"],
        "offset_s": offset,
        "breaches_found": len(measured),
        "latencies_s": found,
        "p50_s": percentile(measured, 50) if measured else None,
        "p95_s": percentile(measured, 95) if measured else None,
        "max_s": max(measured) if measured else None,
        "stretches_stored_while_recording": stored_while_recording(study)[0],
        "guard_behind": sum("live guard is behind" in line for line in output.splitlines()),
        "printed_ready": next(
            (line for line in output.splitlines() if line.startswith("transcript ready")), None
        ),
    }


def print_run(run: dict[str, Any]) -> None:
    stats = run["stats"]
    p50, p95, top = (run[k] for k in ("p50_s", "p95_s", "max_s"))
    figures = "-" if p50 is None else f"{p50:.2f} / {p95:.2f} / {top:.2f} s"
    print(
        f"while_recording {run['mode']:>3}: overflows {stats['input_overflows']}, "
        f"hand-off dropped {stats['on_audio_dropped']}, worst callback gap "
        f"{1000 * stats['max_callback_gap_s']:.0f} ms, breaches flagged "
        f"{run['breaches_found']}/{len(run['latencies_s'])}, latency p50/p95/max {figures}, "
        f"guard behind "
        f"{run['guard_behind']}x, stretches stored by the background transcriber "
        f"{run['stretches_stored_while_recording']}; load {run['load']}"
    )
    if run["printed_ready"]:
        print(f"    {run['printed_ready']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="on,off", help="while_recording on, off or both")
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy processes")
    parser.add_argument("--terms", type=int, default=TERMS, help="questions with the term")
    parser.add_argument(
        "--lead-in", type=float, default=290.0, help="seconds of talk before the first term"
    )
    parser.add_argument("--keep", type=Path, help="folder to keep studies and audio in")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        folder.mkdir(parents=True, exist_ok=True)
        import soundserver

        stack.enter_context(soundserver.sound_server(folder / "pulse"))
        audio = folder / "terms.wav"
        questions = build_interview(audio, args.terms, args.lead_in)
        import soundfile

        if not args.json:
            print(describe_machine())
            print(
                f"interview: {soundfile.info(str(audio)).duration:.0f} s, the term at the end of "
                f"{args.terms} "
                f"questions from {questions[0][0]:.0f} s on"
            )
        runs = []
        for mode in args.modes.split(","):
            run = run_mode(mode == "on", audio, questions, folder, args.busy)
            runs.append(run)
            if not args.json:
                print_run(run)
                sys.stdout.flush()
        if args.json:
            print(json.dumps({"machine": describe_machine(), "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
