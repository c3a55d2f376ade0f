"""The transcription worker process: `python -m fieldkit.workers.transcription --study DIR`.

Works off the study's job queue and exits when it is empty. It logs job IDs and failures only,
never transcript text. Only one worker runs per study (a lock file), so the app and the CLI can
both start one safely.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import sys
from pathlib import Path

LOCK_FILE = ".transcribe.lock"
log = logging.getLogger("fieldkit.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldkit.workers.transcription")
    parser.add_argument("--study", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker[%(process)d] %(message)s")
    os.environ["HF_HUB_OFFLINE"] = "1"

    from fieldkit.errors import FieldkitError
    from fieldkit.services.study import open_study
    from fieldkit.services.transcription import JobOutcome, run_pending

    def report(outcome: JobOutcome) -> None:
        state = "done" if outcome.ok else f"failed: {outcome.message}"
        log.info("job %s (%s %s) %s", outcome.job_id, outcome.participant_id, outcome.wave, state)

    try:
        study = open_study(args.study, actor="fieldkit-worker")
    except FieldkitError as error:
        log.error("%s", error.one_line())
        return 1
    lock_path = study.root / LOCK_FILE
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another worker is running for this study")
            return 0
        ran = run_pending(study, on_outcome=report)
        log.info("queue empty after %d job(s)", ran)
    return 0


if __name__ == "__main__":
    sys.exit(main())
