"""How much CPU does recording take, and does capture keep up while the machine is busy?

Records from the sound server (48 kHz stereo by default, ~20 s) with the real capture path while
other processes keep every core busy, then prints:
  * CPU used by this (the recording) process, as % of one core (getrusage: all its threads);
  * the worst gap between two capture callbacks (a block is 0.1 s, so ~0.1 s is ideal);
  * dropped input (PortAudio input_overflow count) and frames written vs. the time recorded.
Figures only: nothing passes or fails. A private PulseAudio server (tests/soundserver.py) is
started unless --use-running-server is given (then the current default input is used).

    python benchmarks/bench_recording.py [--seconds 20] [--samplerate 48000] [--channels 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--samplerate", type=int, default=48000)
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy processes")
    parser.add_argument("--use-running-server", action="store_true")
    return parser.parse_args()


def start_busy_processes(count: int, seconds: float) -> list[subprocess.Popen[bytes]]:
    """One busy-looping process per core (a separate process each: the GIL would cap threads)."""
    code = BUSY_LOOP.format(seconds=seconds)
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def play_tone_into_sink(server: object, seconds: float, folder: Path) -> subprocess.Popen[bytes]:
    """Something to record: a tone played into the null sink (its monitor is the default input)."""
    import numpy as np
    import soundfile

    tone = folder / "tone.wav"
    t = np.arange(int(48000 * seconds)) / 48000
    soundfile.write(tone, np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 48000)
    return subprocess.Popen(["paplay", str(tone)], env=server.client_env())  # type: ignore[attr-defined]


def main() -> None:
    args = parse_args()
    with ExitStack() as stack:
        # Entered first, so it is removed last: after the sound server living in it has stopped.
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fk-bench-")))
        server = None
        if not args.use_running_server:
            import soundserver

            server = stack.enter_context(soundserver.sound_server(folder / "pulse"))
        from fieldkit.audio.capture import CaptureSettings, Recorder
        from fieldkit.audio.devices import resolve_input_device

        device = resolve_input_device(None)
        settings = CaptureSettings(samplerate=args.samplerate, channels=args.channels)
        recorder = Recorder(folder / "bench.wav", settings)
        busy = start_busy_processes(args.busy, args.seconds + 10)
        player = None
        try:
            time.sleep(0.5)  # let the load settle
            recorder.start()
            while recorder.stats.callbacks == 0:
                time.sleep(0.01)
            if server is not None:
                player = play_tone_into_sink(server, args.seconds, folder)
            cpu_before, wall_before = cpu_seconds(), time.monotonic()
            frames_before = round(recorder.recorded_seconds * args.samplerate)
            result = recorder.wait(args.seconds)
            cpu_used, wall = cpu_seconds() - cpu_before, time.monotonic() - wall_before
        finally:
            for process in [*busy, *([player] if player else [])]:
                process.kill()
                process.wait()
        stats = recorder.stats
        captured = result.frames - frames_before
        print(f"device            : {device.name} (index {device.index})")
        print(f"format            : {args.samplerate} Hz, {args.channels} channel(s), PCM_16 WAV")
        print(f"load              : {args.busy} busy-loop processes on {os.cpu_count()} cores")
        print(f"recorded          : {result.duration_s:.2f} s ({result.stop_reason})")
        print(f"wall time measured: {wall:.2f} s, frames in it: {captured / args.samplerate:.2f} s")
        print(f"CPU (of one core) : {100 * cpu_used / wall:.2f} %  ({cpu_used:.3f} s CPU)")
        print(f"callbacks         : {stats.callbacks}")
        print(f"worst callback gap: {1000 * stats.max_callback_gap_s:.0f} ms")
        print(f"input overflows   : {stats.input_overflows}")


if __name__ == "__main__":
    main()
