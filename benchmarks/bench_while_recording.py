"""How long after the end of a recording is its transcript ready, with and without transcribing
while recording, and is it the same transcript?

Builds interviews of each length by tiling the shipped demo interview (audio/demo-interview.flac,
two channels, ~92 s; see audio/README.md), cut at the end of a turn near the length asked for.
Each is recorded into a fresh demo study through the real command, `fieldkit record PID --input
FILE` (run in a small driver process that only notes moments; the virtual microphone's pace is
set with fieldkit's $FIELDKIT_INPUT_SPEED, meant for tests and benchmarks; 1 = real time), twice:

  * `while_recording = true`: `fieldkit record` waits for the transcript and exits;
  * `while_recording = false` (as before): `fieldkit transcribe PID` is started as soon as
    `fieldkit record` has exited.

Measured: seconds from the end of the recording (the recorder stopped: the driver notes the
moment `fieldkit record` goes on to end the interview) until `fieldkit interviews` would show
"needs review" (the bench polls the same service every 0.1 s); the "transcript ready N s" that
`fieldkit record` prints; the word error rate of the while-recording transcript against the
offline one (same audio: both recordings are compared sample by sample) and of each against the
script the demo was synthesized from; how many stretches the background transcriber stored
("parts") and how much audio was left after the last of them for the job ("tail"). A stretch is
cut only once 300 s are buffered (transcribe/stretches.py), so the tail is 40-300 s whatever the
length. Figures only, never pass/fail.

Faster than real time (`--speed 8`) the background transcriber has an eighth of the time a real
interview gives it, so a tail it has not caught up with shows up here first; the live guard is
off by default then (it would have to judge eight times as much speech at once), on in real time.

    python benchmarks/bench_while_recording.py --minutes 5 --speed 1
    python benchmarks/bench_while_recording.py --minutes 30,60 --speed 8 --off-speed 20 \
        [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEMO_AUDIO = ROOT / "audio" / "demo-interview.flac"
DEMO_TIMELINE = ROOT / "audio" / "demo-interview.timeline.json"
GAP_S = 1.0  # silence between two copies of the demo interview
TAIL_S = 0.8  # kept after the last whole turn
POLL_S = 0.1


# -- the interviews ----------------------------------------------------------------------------


def build_interview(minutes: float, folder: Path) -> tuple[Path, list[str]]:
    """The demo interview tiled to about `minutes` (cut after the last turn that fits), as a
    16 kHz two-channel WAV, and the script's words in the order they are said."""
    import numpy as np
    import soundfile

    path = folder / f"tiled_{minutes:g}min.wav"
    audio, rate = soundfile.read(DEMO_AUDIO, dtype="int16", always_2d=True)
    turns = json.loads(DEMO_TIMELINE.read_text())["turns"]
    period = len(audio) / rate + GAP_S
    target = minutes * 60
    said: list[tuple[float, str]] = []
    end_s = 0.0
    copy = 0
    while copy * period < target:
        for turn in turns:
            start, end = copy * period + turn["start"], copy * period + turn["end"]
            if end + TAIL_S > target:
                break
            said.append((start, turn["text"]))
            end_s = end
        copy += 1
    gap = np.zeros((round(GAP_S * rate), audio.shape[1]), dtype=np.int16)
    tiled = np.concatenate([np.concatenate([audio, gap])] * copy)[: round((end_s + TAIL_S) * rate)]
    if not path.exists():
        soundfile.write(path, tiled, rate, subtype="PCM_16")
    words = [word for _, text in sorted(said) for word in normalise(text)]
    return path, words


def normalise(text: str) -> list[str]:
    from benchmarks.bench_transcribe import normalise as words_of

    return words_of(text)


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    from benchmarks.bench_transcribe import word_error_rate as wer

    return wer(reference, hypothesis)


# -- a study to record into --------------------------------------------------------------------


def new_study(
    root: Path, while_recording: bool, live_guard: bool, microphone: bool = False
) -> tuple[Path, str]:
    """A fresh demo study (its schedule guards "recovery") and a consenting participant. With
    `microphone` it records from the default input device, not from the demo's audio file."""
    from fieldkit.config import write_config
    from fieldkit.services.demo import build_demo_study
    from fieldkit.services.participants import add_participant, give_consent

    study = build_demo_study(root, actor="bench")
    transcription = dataclasses.replace(
        study.config.transcription, while_recording=while_recording, live_guard=live_guard
    )
    recording = study.config.recording
    if microphone:
        recording = dataclasses.replace(recording, input="")
    study.config = dataclasses.replace(
        study.config, transcription=transcription, recording=recording
    )
    write_config(study.paths.config, study.config)
    participant = add_participant(study, "Site 1", "PEER")
    give_consent(study, participant.id, dt.date.today().isoformat(), form_version="v2.1")
    return root, participant.id


def fieldkit(study: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", "--study", str(study), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


class StatePoller:
    """Notes when the participant's interview first reads "needs review" (`fieldkit
    interviews` shows the same state), polling the study from a thread of its own."""

    def __init__(self, study: Path) -> None:
        from fieldkit.services.study import open_study

        self.study = open_study(study, actor="bench")
        self.ready_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from fieldkit.services.interviews import list_interviews

        while not self._stop.is_set():
            states = [s.transcript_state for s in list_interviews(self.study)]
            if states and states[-1] == "needs review":
                self.ready_at = time.time()
                return
            self._stop.wait(POLL_S)

    def wait(self, timeout_s: float) -> float | None:
        self._thread.join(timeout_s)
        self._stop.set()
        return self.ready_at


# -- the driver: `fieldkit record` in this process, paced, with its moments noted ----------------


def drive(out: Path, speed: float, argv: list[str]) -> None:
    """Run `fieldkit <argv>` (a record command), the virtual microphone at `speed`, and
    write to `out`: when the recording ended, the guard's events as they came (wall clock), the
    clock of the recording (wall time of recording second 0), capture statistics."""
    import fieldkit.cli.record as record
    from fieldkit.cli import main

    marks: dict[str, Any] = {"events": [], "anchor": None}
    play = os.environ.get("FK_BENCH_PLAY")  # a file to play into the sound server's sink
    players: list[subprocess.Popen[bytes]] = []
    sessions: list[Any] = []
    begin, finish = record.begin_recording, record.finish_interview
    on_event, feed = record.LiveFeed.on_event, record.LiveFeed.feed

    def began(*args: Any, **kwargs: Any) -> Any:
        sessions.append(begin(*args, **kwargs))
        return sessions[-1]

    def finished(*args: Any, **kwargs: Any) -> Any:
        marks["ended"] = time.time()
        return finish(*args, **kwargs)

    def noted_event(self: Any, event: Any) -> None:
        marks["events"].append(
            {"wall": time.time(), "at": event.at, "kind": str(event.kind), "term": event.term}
        )
        on_event(self, event)

    def noted_feed(self: Any, block: Any, at: float) -> None:
        if play and "played_at" not in marks:  # the first audio is here: play into the sink
            marks["played_at"] = time.time()
            players.append(subprocess.Popen(["paplay", play]))
        # Recording second 0 happened no later than (arrival - end of this block); the earliest
        # such bound over all blocks is the recording's clock (a late hand-off only adds).
        rate = sessions[0].settings.samplerate
        zero = time.time() - (at + len(block) / rate)
        if marks["anchor"] is None or zero < marks["anchor"]:
            marks["anchor"] = zero
        feed(self, block, at)

    if speed != 1.0:  # fieldkit's own switch for tests and benchmarks (--input only)
        os.environ["FIELDKIT_INPUT_SPEED"] = str(speed)
    record.begin_recording, record.finish_interview = began, finished
    record.LiveFeed.on_event, record.LiveFeed.feed = noted_event, noted_feed  # type: ignore[method-assign]
    code: Any = 0
    try:
        main(argv, standalone_mode=False)
    except SystemExit as exit_:
        code = exit_.code
    finally:
        for player in players:
            player.kill()
            player.wait()
        if sessions:
            stats = sessions[0].recorder.stats
            marks["stats"] = {
                "callbacks": stats.callbacks,
                "input_overflows": stats.input_overflows,
                "on_audio_dropped": stats.on_audio_dropped,
                "max_callback_gap_s": stats.max_callback_gap_s,
            }
            marks["recording"] = str(sessions[0].path)
        marks["exit"] = code
        out.write_text(json.dumps(marks))


def run_driver(
    study: Path, out: Path, speed: float, record_args: list[str], env: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    """`fieldkit record …` through the driver; its notes and what it printed on stderr."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--drive",
        str(out),
        "--speed",
        str(speed),
        "--",
        "--study",
        str(study),
        "record",
        *record_args,
    ]
    env = {**(env or os.environ), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if not out.exists():
        raise RuntimeError(f"the recording driver failed:\n{done.stderr[-3000:]}")
    return json.loads(out.read_text()), done.stderr + done.stdout


# -- one run -----------------------------------------------------------------------------------


def transcript_words(study: Path, participant: str) -> list[str]:
    shown = fieldkit(study, "transcript", "show", participant, "--json")
    segments = json.loads(shown.stdout)["segments"]
    return [w for s in sorted(segments, key=lambda s: s["start"]) for w in normalise(s["text"])]


def ready_line(output: str) -> float | None:
    for line in output.splitlines():
        if line.startswith("transcript ready "):
            return float(line.split()[2])
    return None


def record_once(
    audio: Path, folder: Path, while_recording: bool, speed: float, live_guard: bool
) -> dict[str, Any]:
    name = "on" if while_recording else "off"
    study, participant = new_study(folder / f"study-{name}", while_recording, live_guard)
    poller = StatePoller(study)
    marks, output = run_driver(
        study, folder / f"marks-{name}.json", speed, [participant, "--input", str(audio)]
    )
    if marks.get("exit") not in (0, None):
        raise RuntimeError(f"fieldkit record failed ({marks.get('exit')}):\n{output[-3000:]}")
    if not while_recording:
        started = time.time()
        done = fieldkit(study, "transcribe", participant)
        if done.returncode != 0:
            raise RuntimeError(f"fieldkit transcribe failed:\n{done.stderr[-3000:]}")
        marks["transcribe_command_s"] = time.time() - started
    ready_at = poller.wait(timeout_s=1800)
    parts, stored_until = stored_while_recording(study)
    return {
        "mode": name,
        "study": str(study),
        "participant": participant,
        "recording": marks.get("recording"),
        "after_end_s": None if ready_at is None else ready_at - marks["ended"],
        "printed_ready_s": ready_line(output),
        "parts": parts,
        "stored_until_s": stored_until,
        "words": transcript_words(study, participant),
        "transcribe_command_s": marks.get("transcribe_command_s"),
    }


def stored_while_recording(study: Path) -> tuple[int, float]:
    """How many stretches the background transcriber stored, and where the last one ends (its
    log says each, without text; the job decodes only what comes after)."""
    log = study / "logs" / "transcribe.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    ends = [
        float(line.rsplit("-", 1)[1].split()[0])
        for line in lines
        if "while-recording[" in line and ": stretch " in line
    ]
    return len(ends), max(ends, default=0.0)


def same_audio(first: str, second: str) -> bool:
    import numpy as np
    import soundfile

    a, _ = soundfile.read(first, dtype="int16")
    b, _ = soundfile.read(second, dtype="int16")
    return a.shape == b.shape and bool(np.array_equal(a, b))


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_length(
    minutes: float,
    folder: Path,
    speeds: tuple[float, float],
    live_guard: bool,
    modes: list[bool],
) -> dict[str, Any]:
    audio, script = build_interview(minutes, folder)
    import soundfile

    row: dict[str, Any] = {
        "minutes": minutes,
        "audio_s": soundfile.info(str(audio)).duration,
        "live_guard": live_guard,
        "script_words": len(script),
    }
    runs: dict[str, dict[str, Any]] = {}
    for while_recording in modes:
        load_before = load_average()
        speed = speeds[0] if while_recording else speeds[1]
        run = record_once(audio, folder / f"{minutes:g}min", while_recording, speed, live_guard)
        run["speed"] = speed
        run["load"] = f"{load_before} -> {load_average()}"
        run["tail_s"] = row["audio_s"] - run.pop("stored_until_s")
        run["wer_vs_script"] = word_error_rate(script, run["words"])
        runs[run["mode"]] = run
    if "on" in runs and "off" in runs:
        on, off = runs["on"], runs["off"]
        row["same_audio"] = same_audio(on["recording"], off["recording"])
        row["wer_on_vs_off"] = word_error_rate(off["words"], on["words"])
        row["wer_difference"] = on["wer_vs_script"] - off["wer_vs_script"]
    for run in runs.values():
        run.pop("words")
    row["runs"] = runs
    return row


def describe_machine() -> str:
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, no GPU, "
        f"python {platform.python_version()}, load average now {load_average()}"
    )


def print_row(row: dict[str, Any]) -> None:
    for mode, run in row["runs"].items():
        after = run["after_end_s"]
        printed = run["printed_ready_s"]
        print(
            f"{row['minutes']:>7g} {row['audio_s'] / 60:>7.1f} {run['speed']:>6g} {mode:>5} "
            f"{'-' if after is None else f'{after:.1f}':>10} "
            f"{'-' if printed is None else f'{printed:.1f}':>9} {run['parts']:>6} "
            f"{run['tail_s']:>7.0f} "
            f"{100 * run['wer_vs_script']:>8.2f}%  {run['load']}"
        )
    if "wer_on_vs_off" in row:
        print(
            f"{'':>7} on vs off: WER {100 * row['wer_on_vs_off']:.2f}%, WER difference "
            f"(against the script) {100 * row['wer_difference']:+.2f} points, identical audio: "
            f"{'yes' if row['same_audio'] else 'NO'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="5,30,60")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual microphone pace")
    parser.add_argument(
        "--off-speed",
        type=float,
        help="pace of the while_recording=false runs (default: --speed; nothing runs during "
        "them, so their pace does not change what is measured)",
    )
    parser.add_argument(
        "--live-guard",
        choices=["auto", "on", "off"],
        default="auto",
        help="auto: on in real time, off faster than real time",
    )
    parser.add_argument("--modes", default="on,off", help="while_recording on, off or both")
    parser.add_argument("--keep", type=Path, help="folder to keep studies and audio in")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--drive", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.drive:
        drive(args.drive, args.speed, [a for a in rest if a != "--"])
        return
    live_guard = args.speed == 1.0 if args.live_guard == "auto" else args.live_guard == "on"
    modes = [mode == "on" for mode in args.modes.split(",")]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fk-while-recording-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    if not args.json:
        print(describe_machine())
        print(
            f"{'minutes':>7} {'audio':>7} {'speed':>6} {'mode':>5} {'after end':>10} "
            f"{'printed':>9} {'parts':>6} {'tail s':>7} {'WER':>9}  load average before -> after"
        )
    for minutes in (float(m) for m in args.minutes.split(",")):
        speeds = (args.speed, args.off_speed or args.speed)
        row = bench_length(minutes, folder, speeds, live_guard, modes)
        rows.append(row)
        if not args.json:
            print_row(row)
            sys.stdout.flush()
    if args.json:
        print(json.dumps({"machine": describe_machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
