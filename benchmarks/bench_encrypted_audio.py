"""What does encrypting a study's audio cost? (issue 10 §3) Figures only: nothing passes or fails.

1. Recording CPU: the real capture path (Recorder, PortAudio on a private PulseAudio server, a
   tone played into the null sink) at 48 kHz stereo, writing crash-safe WAV vs the encrypted
   stream, in alternating rounds. Reported as % of one core: the whole recording process
   (getrusage; PortAudio's and PulseAudio's client threads included) and the writer thread alone
   (/proc/self/task/TID/stat: where the WAV writing or the encryption happens). Goal: ≤ 1 % of one
   core more with encryption.
2. Transcription: a synthesized 10-minute two-channel interview (16 kHz, as fieldkit records),
   transcribed by the engine as a plain WAV and as an encrypted recording, alternating; also the
   read alone (decode/decrypt + resample into memory). Goal: within 3 %.

The machine's load average is printed with the figures (the machine may be shared).

    python benchmarks/bench_encrypted_audio.py [--record-seconds 20] [--rounds 3]
        [--minutes 10] [--transcribe-rounds 2] [--skip-recording] [--skip-transcription]
        [--audio INTERVIEW.wav]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record-seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="recording rounds per format")
    parser.add_argument("--minutes", type=float, default=10.0, help="interview length")
    parser.add_argument("--transcribe-rounds", type=int, default=2)
    parser.add_argument("--audio", type=Path, help="a two-channel interview to use instead")
    parser.add_argument("--skip-recording", action="store_true")
    parser.add_argument("--skip-transcription", action="store_true")
    return parser.parse_args()


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu(native_id: int) -> float:
    """CPU seconds a thread of this process has used (utime + stime from /proc)."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# -- 1. recording ----------------------------------------------------------------------------


def record_once(folder: Path, name: str, seconds: float, file_format: Any) -> dict[str, float]:
    from fieldkit.audio.capture import CaptureSettings, Recorder

    settings = CaptureSettings(samplerate=48000, channels=2, disk_margin_bytes=0)
    recorder = Recorder(folder / name, settings, file_format=file_format)
    recorder.start()
    while recorder.stats.callbacks == 0:
        time.sleep(0.01)
    writer = recorder._writer_thread
    assert writer is not None and writer.native_id is not None
    cpu, wall, writer_cpu = process_cpu(), time.monotonic(), thread_cpu(writer.native_id)
    while recorder.recorded_seconds < seconds:
        time.sleep(0.05)
    writer_used = thread_cpu(writer.native_id) - writer_cpu
    used, elapsed = process_cpu() - cpu, time.monotonic() - wall
    result = recorder.stop()
    (folder / name).unlink()
    return {
        "process": 100 * used / elapsed,
        "writer": 100 * writer_used / elapsed,
        "recorded": result.duration_s,
    }


def bench_recording(args: argparse.Namespace, stack: ExitStack, folder: Path) -> None:
    import numpy as np
    import soundfile
    import soundserver  # tests/soundserver.py

    from fieldkit.audio.recording_files import PLAIN_WAV, recording_format
    from fieldkit.crypto.keys import DataKey

    server = stack.enter_context(soundserver.sound_server(folder / "pulse"))
    total = (args.record_seconds + 3) * args.rounds * 2 + 10
    t = np.arange(int(48000 * total)) / 48000
    tone = folder / "tone.wav"
    soundfile.write(tone, np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 48000)
    player = subprocess.Popen(["paplay", str(tone)], env=server.client_env())
    formats = {"plain WAV": PLAIN_WAV, "encrypted": recording_format(DataKey.generate())}
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in formats}
    print(f"recording, before: {load_line()}")
    try:
        for number in range(args.rounds):
            for label, file_format in formats.items():
                name = f"round{number}{file_format.suffix}"
                figures[label].append(record_once(folder, name, args.record_seconds, file_format))
    finally:
        player.kill()
        player.wait()
    print(f"recording, after : {load_line()}")
    print(f"format            : 48000 Hz, 2 channels, {args.record_seconds:g} s x {args.rounds}")
    for label, runs in figures.items():
        process = [run["process"] for run in runs]
        writer = [run["writer"] for run in runs]
        print(
            f"{label:<18}: process {statistics.median(process):5.2f} % of a core "
            f"(runs {', '.join(f'{x:.2f}' for x in process)}); writer thread "
            f"{statistics.median(writer):5.2f} % (runs {', '.join(f'{x:.2f}' for x in writer)})"
        )
    extra = [
        enc["process"] - plain["process"]
        for plain, enc in zip(figures["plain WAV"], figures["encrypted"], strict=True)
    ]
    extra_writer = [
        enc["writer"] - plain["writer"]
        for plain, enc in zip(figures["plain WAV"], figures["encrypted"], strict=True)
    ]
    print(
        f"encryption costs  : {statistics.median(extra):+.2f} % of a core (process, median of "
        f"round differences), {statistics.median(extra_writer):+.2f} % (writer thread)"
    )


# -- 2. transcription -------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = process_cpu(), time.perf_counter()
    action()
    return time.perf_counter() - wall, process_cpu() - cpu


def bench_transcription(args: argparse.Namespace, folder: Path) -> None:
    from fieldkit.audio.encrypted import encrypt_recording_file
    from fieldkit.audio.reader import read_audio
    from fieldkit.crypto.keys import DataKey
    from fieldkit.transcribe.engine import EngineOptions, transcribe_recording
    from fieldkit.transcribe.loading import cached_model
    from fieldkit.transcribe.models import bundled_model_dir

    plain = args.audio
    if plain is None:
        from bench_transcribe import build_interview

        started = time.monotonic()
        plain, _ = build_interview(args.minutes, folder)
        took = time.monotonic() - started
        print(f"synthesized a {args.minutes:g}-minute interview in {took:.0f} s")
    key = DataKey.generate()
    encrypted = folder / "interview.fka"
    encrypt_recording_file(plain, encrypted, key)
    inputs = {"plain WAV": (plain, None), "encrypted": (encrypted, key)}
    model_dir = bundled_model_dir()
    options = EngineOptions()
    cached_model(model_dir, options)

    reads: dict[str, list[float]] = {label: [] for label in inputs}
    for _ in range(3):
        for label, (path, path_key) in inputs.items():
            wall, _cpu = timed(
                lambda path=path, path_key=path_key: read_audio(
                    path, samplerate=16000, key=path_key
                )
            )
            reads[label].append(wall)
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in inputs}
    # A first run warms up the engine (memory, caches); it is not counted.
    transcribe_recording(plain, model_dir, ("interviewer", "participant"), options)
    print(f"transcription, before: {load_line()}")
    for _ in range(args.transcribe_rounds):
        for label, (path, path_key) in inputs.items():

            def transcribe(path: Path = path, path_key: DataKey | None = path_key) -> None:
                transcribe_recording(
                    path, model_dir, ("interviewer", "participant"), options, key=path_key
                )

            runs[label].append(timed(transcribe))
    print(f"transcription, after : {load_line()}")
    from fieldkit.audio.reader import inspect_audio

    minutes = inspect_audio(plain).duration_s / 60
    print(f"interview         : {minutes:.1f} min, 2 channels, 16 kHz ({plain.name})")
    for label in inputs:
        walls = [wall for wall, _ in runs[label]]
        cpus = [cpu for _, cpu in runs[label]]
        print(
            f"{label:<18}: transcription {min(walls):6.1f} s best "
            f"(runs {', '.join(f'{w:.1f}' for w in walls)}; CPU {min(cpus):.1f} s), "
            f"read into memory {min(reads[label]):.2f} s best"
        )
    best = {label: min(wall for wall, _ in runs[label]) for label in inputs}
    cpu = {label: min(cpu for _, cpu in runs[label]) for label in inputs}
    read_extra = min(reads["encrypted"]) - min(reads["plain WAV"])
    wall_extra = 100 * (best["encrypted"] / best["plain WAV"] - 1)
    print(
        f"encrypted vs plain: {wall_extra:+.1f} % wall time, "
        f"{100 * (cpu['encrypted'] / cpu['plain WAV'] - 1):+.1f} % CPU time (best of each); "
        f"reading {read_extra:+.3f} s = {100 * read_extra / best['plain WAV']:+.2f} % of the "
        "transcription (the only step that differs)"
    )


def main() -> None:
    args = parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fk-bench-enc-")))
        if not args.skip_recording:
            sys.path.insert(0, str(REPO_ROOT / "tests"))
            bench_recording(args, stack, folder)
        if not args.skip_transcription:
            bench_transcription(args, folder)


if __name__ == "__main__":
    main()
