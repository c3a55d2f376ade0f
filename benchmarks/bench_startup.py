"""How fast does fieldkit start? Figures only: nothing passes or fails.

Times, from process start to exit (or, for the app, to the queue's last row on the screen):

* `python -c "import click"` — the floor every click program pays, the yardstick for the goal
  "`fieldkit --help` within 2.5× of it";
* `fieldkit --help` (run as `python -m fieldkit --help`);
* `fieldkit participant list` on the demo study (with its transcripts);
* the app's first paint of the queue on the same (plain) study, started with `fieldkit --study DIR`
  in a fresh tmux server (120×40, a real terminal) and timed until the queue's last row shows.

Two ways Python may find fieldkit's own code, each timed:

* **bytecode cached** — as after `pip install` (which compiles every module): the first run
  writes the bytecode (into a temporary folder, PYTHONPYCACHEPREFIX), later runs read it;
* **compiled from source** — every run compiles fieldkit's modules again, as when
  PYTHONDONTWRITEBYTECODE=1 is set (this development environment sets it) or the install
  folder is read-only without bytecode. Installed libraries keep their own bytecode either way.

Every command runs with this interpreter directly (not through a shell wrapper such as pyenv's
shims, which add ~20 ms to each). The commands take turns, round after round (the machine is
shared: taking turns spreads other work over all of them); medians count.

    python benchmarks/bench_startup.py [--runs 15] [--app-runs 9]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fieldkit.services.demo import build_demo_study  # noqa: E402

LAST_ROW = "INTSTA004-CLIN"  # the queue's last participant: the table is filled
TIMEOUT_S = 60.0
POLL_S = 0.005
CLICK = 'python -c "import click"'
HELP = "fieldkit --help"
LIST = "fieldkit participant list"
APP = "app: first paint of the queue"
_servers = itertools.count()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command, each way")
    parser.add_argument("--app-runs", type=int, default=9, help="starts of the app, each way")
    return parser.parse_args()


def environments(scratch: Path) -> dict[str, dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    base["PYTHONPATH"] = str(REPO_ROOT)
    cached = {**base, "PYTHONPYCACHEPREFIX": str(scratch / "bytecode")}
    from_source = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
    from_source.pop("PYTHONPYCACHEPREFIX", None)
    return {"bytecode cached": cached, "compiled from source": from_source}


def time_command(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the command until it has exited (its output thrown away)."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def time_to_first_paint(study: Path, env: dict[str, str]) -> float:
    """Seconds from launching the app in a new tmux server until the queue's last row shows."""
    socket = f"fk-startup-{os.getpid()}-{next(_servers)}"  # a server of its own each time
    command = f"{sys.executable} -m fieldkit --study {study}"
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    # tmux hands the new window its server's environment: the server starts with ours.
    started = time.perf_counter()
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "40", command], env=env, check=True
    )
    screen = ""
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, check=False
            ).stdout
            if LAST_ROW in screen:
                return time.perf_counter() - started
            time.sleep(POLL_S)
        raise RuntimeError(f"the queue never appeared:\n{screen}")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)


def describe(times: list[float]) -> str:
    median, low, high = (1000 * t for t in (statistics.median(times), min(times), max(times)))
    return f"median {median:4.0f} ms  (min {low:.0f}, max {high:.0f})"


def measure(
    study: Path, envs: dict[str, dict[str, str]], runs: int, app_runs: int
) -> dict[str, dict[str, list[float]]]:
    python = sys.executable
    commands = {
        CLICK: [python, "-c", "import click"],
        HELP: [python, "-m", "fieldkit", "--help"],
        LIST: [python, "-m", "fieldkit", "--study", str(study), "participant", "list"],
    }
    times: dict[str, dict[str, list[float]]] = {way: {} for way in envs}
    for env in envs.values():  # warm the file cache, and write the bytecode where it is kept
        for argv in commands.values():
            time_command(argv, env)
    for _ in range(runs):
        for way, env in envs.items():
            for name, argv in commands.items():
                times[way].setdefault(name, []).append(time_command(argv, env))
    if shutil.which("tmux") is None:
        print("tmux not found: the app's first paint is not timed (apt-get install tmux)")
        return times
    for env in envs.values():
        time_to_first_paint(study, env)  # warm-up (and the app's bytecode)
    for _ in range(app_runs):
        for way, env in envs.items():
            times[way].setdefault(APP, []).append(time_to_first_paint(study, env))
    return times


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="fk-startup-") as folder:
        scratch = Path(folder)
        study = scratch / "demo"
        build_demo_study(study, transcripts=True).close()
        load_before = os.getloadavg()[0]
        times = measure(study, environments(scratch), args.runs, args.app_runs)
        load_after = os.getloadavg()[0]
    print(
        f"{os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after; "
        f"{args.runs} runs of each command and {args.app_runs} starts of the app, each way"
    )
    width = max(len(name) for name in (CLICK, HELP, LIST, APP)) + 2
    for way, measured in times.items():
        print(f"{way}:")
        for name, samples in measured.items():
            print(f"  {name:<{width}}{describe(samples)}")
        ratio = statistics.median(measured[HELP]) / statistics.median(measured[CLICK])
        print(f"  {'':<{width}}--help takes {ratio:.1f}× `import click` (goal: ≤ 2.5×)")


if __name__ == "__main__":
    main()
