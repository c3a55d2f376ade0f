"""Transcription worker start-up: how long from starting the process until it is ready to decode.

Makes a throw-away study with one short interview queued (20 s of the demo interview), then
starts the real worker (`python -m fieldkit.workers.transcription`) several times. A small
bootstrap marks the moment the engine is handed its first stretch (the model is loaded, the job
claimed, the audio open) and stops the worker there, so the figure is the fixed cost alone:

  ready       process start (as seen by this script) → first stretch handed to the engine
  of which    interpreter + imports, opening the study, loading the model (in the child)
  whole job   the same worker run to the end (decoding 20 s and storing the transcript)

Also prints the load average, since on a shared machine that decides most of the figure.
Never a pass/fail test.

    python benchmarks/bench_worker_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Runs the worker's main() with timestamps at each phase, and leaves at the first stretch.
BOOTSTRAP = """
import json, os, sys, time
marks = {"python": time.time()}
import fieldkit.transcribe.loading as loading
real_load = loading.load_model
def timed_load(*args, **kwargs):
    marks["model load starts"] = time.time()
    model = real_load(*args, **kwargs)
    marks["model loaded"] = time.time()
    return model
loading.load_model = timed_load
import fieldkit.services.study as study_service
real_open = study_service.open_study
def timed_open(*args, **kwargs):
    marks["imports done"] = time.time()
    opened = real_open(*args, **kwargs)
    marks["study open"] = time.time()
    return opened
study_service.open_study = timed_open
from fieldkit.transcribe.engine import StretchTranscriber
def ready(self, *args, **kwargs):
    marks["ready"] = time.time()
    print("MARKS " + json.dumps(marks), flush=True)
    os._exit(0)
StretchTranscriber.transcribe_stretch = ready
from fieldkit.workers.transcription import main
sys.exit(main(sys.argv[1:]))
"""


def make_study(folder: Path) -> Path:
    """A study with one 20-second two-channel interview queued for transcription."""
    import soundfile as sf

    from fieldkit.paths import shipped_demo_audio
    from fieldkit.services.demo import build_demo_study
    from fieldkit.services.recording import import_recording
    from fieldkit.services.study import open_study
    from fieldkit.services.transcription import enqueue

    root = folder / "study"
    build_demo_study(root)
    audio, rate = sf.read(str(shipped_demo_audio("demo-interview.flac")), dtype="int16")
    clip = folder / "clip.wav"
    sf.write(clip, audio[: 20 * rate], rate, subtype="PCM_16")
    study = open_study(root)
    enqueue(study, import_recording(study, "INTSTA001-PEER", clip))
    return root


def run_ready(template: Path, scratch: Path) -> dict[str, float]:
    study = fresh_copy(template, scratch)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.time()
    output = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, "--study", str(study)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    marks = json.loads(next(line for line in output.splitlines() if line.startswith("MARKS "))[6:])
    return {name: marks[name] - started for name in marks}


def run_whole(template: Path, scratch: Path) -> float:
    study = fresh_copy(template, scratch)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.time()
    command = [sys.executable, "-m", "fieldkit.workers.transcription", "--study", str(study)]
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.time() - started


def fresh_copy(template: Path, scratch: Path) -> Path:
    target = scratch / "run"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fk-worker-") as folder:
        scratch = Path(folder)
        template = make_study(scratch)
        run_ready(template, scratch)  # warm the file cache once
        load = os.getloadavg()
        ready = [run_ready(template, scratch) for _ in range(args.runs)]
        whole = [run_whole(template, scratch) for _ in range(args.runs)]
        after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load average {load[0]:.2f}, then {after[0]:.2f}")
    for phase in ("python", "imports done", "study open", "model load starts", "model loaded"):
        values = [r[phase] for r in ready if phase in r]
        print(f"  {phase:<20} {statistics.median(values) * 1000:6.0f} ms (median)")
    values = [r["ready"] for r in ready]
    print(
        f"ready to decode: median {statistics.median(values):.2f} s, "
        f"best {min(values):.2f} s, worst {max(values):.2f} s ({args.runs} runs)"
    )
    print(f"whole job (20 s of audio, stored): median {statistics.median(whole):.2f} s")


if __name__ == "__main__":
    main()
