"""Is a process still running? Used to tell a live recording or worker from one a crash left."""

from __future__ import annotations

import os


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def boot_time() -> float | None:
    """When this machine last started (seconds since the epoch), where the system says (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def still_running(pid: int | None, started_epoch: float | None) -> bool:
    """A process we started is still running: its PID exists and the machine has not restarted
    since (after a power loss the same PID may belong to something else)."""
    booted = boot_time()
    if started_epoch is not None and booted is not None and booted > started_epoch:
        return False
    return process_alive(pid)
