"""What does encryption at rest cost? Figures only: nothing passes or fails.

* Recording: CPU time to write 48 kHz stereo int16 in 0.1 s blocks (as capture delivers them),
  encrypted (fieldkit.crypto.stream) vs plain WAV with soundfile and vs the crash-safe WAV writer
  recording uses today, as % of one core at real time. fsync is off in all three (it waits on the
  disk, it does not use the CPU); the best of several runs counts, since the machine is shared.
* Reading: decrypting a whole recording, a 10 s stretch from its middle, and checking every chunk.
* Keys: Argon2id calibration and unlock time with the calibrated settings; recovery-key unlock.

    python benchmarks/bench_crypto.py [--seconds 600] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fieldkit.audio.writer import CrashSafeWavWriter  # noqa: E402
from fieldkit.crypto import keys  # noqa: E402
from fieldkit.crypto.stream import EncryptedAudioReader, EncryptedAudioWriter  # noqa: E402

RATE, CHANNELS = 48000, 2
BLOCK = RATE // 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="audio per run")
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


def blocks_of(seconds: float) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    # A few distinct blocks reused: generating 10 min of noise would dominate the setup.
    distinct = [rng.integers(-20000, 20000, (BLOCK, CHANNELS), dtype=np.int16) for _ in range(50)]
    return [distinct[i % len(distinct)] for i in range(round(seconds * 10))]


def cpu_time(action: Callable[[], None]) -> float:
    started = time.process_time()
    action()
    return time.process_time() - started


def write_plain_soundfile(path: Path, blocks: list[np.ndarray]) -> None:
    import soundfile

    with soundfile.SoundFile(
        path, "w", samplerate=RATE, channels=CHANNELS, format="WAV", subtype="PCM_16"
    ) as out:
        for block in blocks:
            out.write(block)


def write_crash_safe_wav(path: Path, blocks: list[np.ndarray]) -> None:
    with CrashSafeWavWriter(path, RATE, CHANNELS, fsync_every_s=None) as out:
        for block in blocks:
            out.write(block)


def write_encrypted(path: Path, blocks: list[np.ndarray], key: keys.DataKey) -> None:
    with EncryptedAudioWriter(path, key, RATE, CHANNELS, fsync_every_s=None) as out:
        for block in blocks:
            out.write(block)


def best_cpu(runs: int, folder: Path, name: str, write: Callable[[Path], None]) -> float:
    times = []
    for run in range(runs):
        path = folder / f"{name}-{run}"
        times.append(cpu_time(lambda p=path: write(p)))
        if run < runs - 1:
            path.unlink()
    return min(times)


def bench_recording(args: argparse.Namespace, folder: Path, key: keys.DataKey) -> Path:
    blocks = blocks_of(args.seconds)
    audio_s = len(blocks) / 10
    print(f"recording: {audio_s:.0f} s of {RATE} Hz {CHANNELS}-channel int16 in 0.1 s blocks")
    results = {
        "plain WAV (soundfile)": best_cpu(
            args.runs, folder, "plain.wav", lambda p: write_plain_soundfile(p, blocks)
        ),
        "crash-safe WAV (today)": best_cpu(
            args.runs, folder, "safe.wav", lambda p: write_crash_safe_wav(p, blocks)
        ),
        "encrypted stream": best_cpu(
            args.runs, folder, "enc.fka", lambda p: write_encrypted(p, blocks, key)
        ),
    }
    for label, seconds in results.items():
        print(
            f"  {label:24s} {seconds:6.3f} s CPU = {100 * seconds / audio_s:6.3f} % of one core"
            f" ({1e6 * seconds / len(blocks):5.1f} µs per block)"
        )
    extra = results["encrypted stream"] - results["plain WAV (soundfile)"]
    extra_safe = results["encrypted stream"] - results["crash-safe WAV (today)"]
    print(
        f"  encryption adds {100 * extra / audio_s:+.3f} % of one core vs plain WAV, "
        f"{100 * extra_safe / audio_s:+.3f} % vs the crash-safe WAV"
    )
    return folder / f"enc.fka-{args.runs - 1}"


def bench_reading(path: Path, key: keys.DataKey) -> None:
    with EncryptedAudioReader(path, key) as reader:
        duration = reader.duration_s
        started = time.perf_counter()
        whole = reader.read()
        whole_s = time.perf_counter() - started
        started = time.perf_counter()
        reader.read(duration / 2, duration / 2 + 10)
        stretch_s = time.perf_counter() - started
    started = time.perf_counter()
    with EncryptedAudioReader(path, key) as reader:
        opened_s = time.perf_counter() - started
        reader.check()
    check_s = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6
    print(f"reading a {duration:.0f} s recording ({size_mb:.0f} MB):")
    print(f"  open + index {1000 * opened_s:7.1f} ms")
    print(
        f"  whole file   {1000 * whole_s:7.1f} ms into memory ({whole.nbytes / 1e6:.0f} MB float32)"
    )
    print(f"  10 s stretch {1000 * stretch_s:7.1f} ms")
    print(f"  check all    {1000 * check_s:7.1f} ms")


def bench_keys(folder: Path) -> None:
    started = time.perf_counter()
    params = keys.calibrate_argon2()
    calibrate_s = time.perf_counter() - started
    print(
        f"key derivation: calibrated Argon2id t={params.iterations} "
        f"m={params.memory_kib // 1024} MiB p={params.lanes} (calibration {calibrate_s:.2f} s)"
    )
    study = folder / "study"
    study.mkdir()
    created = keys.create_key_slots(study, "benchmark passphrase", kdf=params)
    unlocks, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        keys.unlock(study, "benchmark passphrase")
        unlocks.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    # Its lanes run in parallel: CPU time over the cores it can use is the time on an idle machine.
    parallel = max(1, min(params.lanes, os.cpu_count() or 1))
    print(
        f"  unlock with passphrase: median {statistics.median(unlocks):.3f} s "
        f"(min {min(unlocks):.3f}, max {max(unlocks):.3f}); CPU {statistics.median(cpu):.3f} s "
        f"= about {statistics.median(cpu) / parallel:.3f} s on an idle machine"
    )
    started = time.perf_counter()
    keys.unlock_with_recovery_key(study, created.recovery_key)
    print(f"  unlock with recovery key: {1000 * (time.perf_counter() - started):.1f} ms")


def main() -> None:
    args = parse_args()
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    key = keys.DataKey.generate()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        encrypted = bench_recording(args, folder, key)
        bench_reading(encrypted, key)
        bench_keys(folder)


if __name__ == "__main__":
    main()
