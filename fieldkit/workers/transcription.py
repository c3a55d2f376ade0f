"""The transcription worker process: `python -m fieldkit.workers.transcription --study DIR`.

Works off the study's job queue and exits when it is empty. It logs job IDs and failures only,
never transcript text. Only one worker runs per study (a lock file, which holds its PID), so the
app and the CLI can both start one safely: a second one exits at once with WORKER_BUSY_EXIT, and
whoever started it waits for the first.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

log = logging.getLogger("fieldkit.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldkit.workers.transcription")
    parser.add_argument("--study", required=True, type=Path)
    # An encrypted study's key arrives as the first line of stdin (never in argv or the env).
    parser.add_argument("--key-on-stdin", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker[%(process)d] %(message)s")
    os.environ["HF_HUB_OFFLINE"] = "1"
    # Being stopped (terminate) is not a crash: unwind, so the job in hand is queued again.
    signal.signal(signal.SIGTERM, _stop_requested)

    from fieldkit.crypto.handoff import receive_key
    from fieldkit.errors import FieldkitError
    from fieldkit.private import private_opener, set_owner_only_umask
    from fieldkit.services.study import open_study
    from fieldkit.services.transcription import (
        WORKER_BUSY_EXIT,
        WORKER_LOCK,
        JobOutcome,
        run_pending,
    )

    set_owner_only_umask()  # a second line: the study's files are made 0600 explicitly

    def report(outcome: JobOutcome) -> None:
        state = "done" if outcome.ok else f"failed: {outcome.message}"
        log.info("job %s (%s %s) %s", outcome.job_id, outcome.participant_id, outcome.wave, state)

    try:
        key = receive_key(sys.stdin.buffer) if args.key_on_stdin else None
        study = open_study(args.study, actor="fieldkit-worker", key=key)
    except FieldkitError as error:
        log.error("%s", error.one_line())
        return 1
    # Opened without truncating (0600): the file holds the running worker's PID for whoever asks.
    fd = private_opener(study.root / WORKER_LOCK, os.O_RDWR | os.O_CREAT)
    with os.fdopen(fd, "r+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another worker is running for this study")
            return WORKER_BUSY_EXIT
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        ran = run_pending(study, on_outcome=report)
        log.info("queue empty after %d job(s)", ran)
    return 0


def _stop_requested(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
