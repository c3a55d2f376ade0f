"""Peak memory of offline transcription against the length of the interview.

Synthesizes two-channel interviews of each length with espeak-ng (as bench_transcribe does:
two voices, -20 dB crosstalk, some turns overlapping) and transcribes each with speakers in its
own process, reporting that process's peak resident memory (ru_maxrss), the time and the number
of stretches. Flat memory means the peak does not grow with the length. Never a pass/fail test.

    python benchmarks/bench_memory.py                      # 10, 60 and 120 minutes
    python benchmarks/bench_memory.py --minutes 10,30 --keep /tmp/interviews
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHANNEL_MAP = ("interviewer", "participant")


def measure(audio: Path) -> dict[str, Any]:
    """In the child process: load the model, transcribe, report peak memory and time."""
    from fieldkit.transcribe.engine import transcribe_recording
    from fieldkit.transcribe.loading import cached_model
    from fieldkit.transcribe.models import bundled_model_dir

    model_dir = bundled_model_dir()
    cached_model(model_dir)
    stretches: list[float] = []
    started = time.perf_counter()
    result = transcribe_recording(
        audio, model_dir, CHANNEL_MAP, on_stretch=lambda done: stretches.append(done.end_s)
    )
    seconds = time.perf_counter() - started
    return {
        "audio_s": result.duration_s,
        "seconds": seconds,
        "stretches": len(stretches),
        "words": sum(len(s.words) for s in result.segments),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def interview(minutes: float, folder: Path) -> Path:
    from benchmarks.bench_transcribe import build_interview

    path = folder / f"interview_{minutes:g}min.wav"
    if not path.exists():
        build_interview(minutes, folder)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="10,60,120")
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the interviews in")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fk-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, no GPU, "
        f"python {platform.python_version()}"
    )
    print(f"{'minutes':>8}{'peak MB':>9}{'time s':>9}{'RTF':>8}{'stretches':>11}{'load':>7}")
    for minutes in (float(m) for m in args.minutes.split(",")):
        audio = interview(minutes, folder)
        load = os.getloadavg()[0]
        command = [sys.executable, __file__, "--measure", str(audio)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        print(
            f"{row['audio_s'] / 60:>8.1f}{row['peak_mb']:>9.0f}{row['seconds']:>9.1f}"
            f"{row['seconds'] / row['audio_s']:>8.4f}{row['stretches']:>11}{load:>7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
