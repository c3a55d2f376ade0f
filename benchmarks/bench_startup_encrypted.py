"""What does encryption add to the app's start? Figures only: nothing passes or fails.

The demo study with its transcripts, once plain and once converted with `fieldkit encrypt`
(real key derivation: Argon2id calibrated on this machine, as a user's study gets it), so both
hold the same data. Each run starts `fieldkit --study DIR` in a fresh tmux server (120×40, a real
terminal) and times from the launch until the queue's last row is on the screen — the first
paint of the queue with its data. The encrypted study's passphrase comes from
$FIELDKIT_PASSPHRASE, so its key derivation is part of the time. Runs alternate between the two
studies (the machine is shared: alternating spreads other work over both); medians count.

Also timed on their own, in this process: unlocking the key slot (Argon2id: wall and CPU time;
its 4 lanes run on as many cores as there are, so on a quiet machine CPU time exceeds wall time,
and wall time grows when other work holds the cores) and opening the database plain vs
SQLCipher.

`--iterations N` makes the slot with N Argon2id passes (256 MiB, 4 lanes) instead of the
calibrated number, to see what another setting would cost.

    python benchmarks/bench_startup_encrypted.py [--runs 9] [--iterations N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench_startup import time_to_first_paint as first_paint_in_tmux  # noqa: E402

from fieldkit.crypto import keys  # noqa: E402
from fieldkit.services.conversion import encrypt_study  # noqa: E402
from fieldkit.services.demo import build_demo_study  # noqa: E402
from fieldkit.services.study import open_study  # noqa: E402
from fieldkit.store.db import open_database  # noqa: E402

PASSPHRASE = "benchmark passphrase, not a secret"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="starts per study")
    parser.add_argument(
        "--iterations", type=int, help="Argon2id passes for the slot (default: calibrated)"
    )
    return parser.parse_args()


def make_studies(folder: Path, iterations: int | None) -> tuple[Path, Path]:
    if iterations is not None:  # instead of calibrating (see keys.default_argon2_params)
        keys._calibrated = keys.Argon2Params(
            iterations, keys.DEFAULT_MEMORY_KIB, keys.DEFAULT_LANES
        )
    plain, encrypted = folder / "plain", folder / "encrypted"
    build_demo_study(plain, transcripts=True).close()
    shutil.copytree(plain, encrypted)
    encrypt_study(open_study(encrypted), PASSPHRASE, lambda _recovery_key: None)
    return plain, encrypted


def time_to_first_paint(study: Path) -> float:
    """Seconds from launching the app in a new tmux server until the queue's last row shows,
    the passphrase given in the environment."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FIELDKIT_PASSPHRASE": PASSPHRASE}
    return first_paint_in_tmux(study, env)


def time_unlock(study: Path, runs: int) -> tuple[list[float], list[float]]:
    """(wall times, CPU times) of unlocking the passphrase slot."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        keys.unlock(study, PASSPHRASE)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall, cpu


def time_open_database(study: Path, key: keys.DataKey | None, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        open_database(study / "fieldkit.db", key=key).conn.close()
        times.append(time.perf_counter() - started)
    return times


def describe(times: list[float]) -> str:
    median, low, high = (1000 * t for t in (statistics.median(times), min(times), max(times)))
    return f"median {median:.0f} ms  (min {low:.0f}, max {high:.0f})"


def describe_us(times: list[float]) -> str:
    median, low, high = (1e6 * t for t in (statistics.median(times), min(times), max(times)))
    return f"median {median:.0f} µs  (min {low:.0f}, max {high:.0f})"


def main() -> None:
    args = parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed (apt-get install tmux)")
    with tempfile.TemporaryDirectory(prefix="fk-startup-") as scratch:
        plain, encrypted = make_studies(Path(scratch), args.iterations)
        slot = next(s for s in keys.list_slots(encrypted) if s.kind == "passphrase")
        how = "as given" if args.iterations else "calibrated here"
        print(f"key slot: {slot.kdf}  ({how}; load average {os.getloadavg()[0]:.1f})")
        time_to_first_paint(plain)  # warm the file cache and Python's bytecode
        first_paint: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for _ in range(args.runs):
            first_paint["plain"].append(time_to_first_paint(plain))
            first_paint["encrypted"].append(time_to_first_paint(encrypted))
        unlock, unlock_cpu = time_unlock(encrypted, args.runs)
        key = keys.unlock(encrypted, PASSPHRASE)
        open_plain = time_open_database(plain, None, args.runs)
        open_encrypted = time_open_database(encrypted, key, args.runs)
        load = os.getloadavg()[0]
    extra = statistics.median(first_paint["encrypted"]) - statistics.median(first_paint["plain"])
    print(f"app start to first paint of the queue, {args.runs} runs each (load average {load:.1f})")
    print(f"  plain study      {describe(first_paint['plain'])}")
    print(f"  encrypted study  {describe(first_paint['encrypted'])}")
    print(f"  encryption adds  {1000 * extra:+.0f} ms (median vs median; goal: at most +700 ms)")
    print(f"unlocking the key slot (Argon2id)  {describe(unlock)}")
    print(f"  ... its CPU time                 {describe(unlock_cpu)}")
    print(f"opening the database, plain        {describe_us(open_plain)}")
    print(f"opening the database, SQLCipher    {describe_us(open_encrypted)}")


if __name__ == "__main__":
    main()
