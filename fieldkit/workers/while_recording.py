"""The background transcriber of one recording:
`python -m fieldkit.workers.while_recording --study DIR --recording ID [--key-on-stdin]`.

Started by the recording session (services.while_recording explains the design). It lowers its
priority before anything else, so that capture and the live guard always come first; reads an
encrypted study's key from the first line of stdin; and takes the closing of stdin (by the
recorder, or by the recorder's death) to mean that the recording file is final. Ctrl-C in the
recorder's terminal and a hang-up are not for it: it finishes the stretches in the file, then
exits. It logs recording ids, stretch times and errors, never text.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

log = logging.getLogger("fieldkit.while_recording")


# "normal" keeps the ordinary priority. Only for the test suite: on a machine that other work
# keeps busy (CI, shared hosts) an idle-priority process gets no CPU at all, so the tests could
# never see a stretch stored while recording. A laptop in the field always runs "idle".
PRIORITY_ENV = "FIELDKIT_BACKGROUND_PRIORITY"


def give_way() -> str:
    """Run only on CPU time nobody else wants: SCHED_IDLE (Linux), else the highest nice value.
    Called first, before any thread is started: threads inherit it (the engine's included)."""
    if os.environ.get(PRIORITY_ENV, "idle") == "normal":
        return f"normal priority ({PRIORITY_ENV})"
    with contextlib.suppress(OSError):
        os.nice(19)
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        return f"nice {os.nice(0)}"
    return "idle"


def main(argv: list[str] | None = None) -> int:
    priority = give_way()
    # The recorder's terminal may send Ctrl-C or a hang-up to its whole process group: the
    # recorder stops (and closes our pipe); we finish what is in the file.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    parser = argparse.ArgumentParser(prog="fieldkit.workers.while_recording")
    parser.add_argument("--study", required=True, type=Path)
    parser.add_argument("--recording", required=True, type=int)
    parser.add_argument("--key-on-stdin", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s while-recording[%(process)d] %(message)s"
    )
    os.environ["HF_HUB_OFFLINE"] = "1"

    from fieldkit.crypto.handoff import receive_key
    from fieldkit.errors import FieldkitError
    from fieldkit.private import set_owner_only_umask
    from fieldkit.services.study import open_study
    from fieldkit.services.while_recording import (
        BUSY_EXIT,
        holding_lock,
        transcribe_while_recorded,
    )

    set_owner_only_umask()
    try:
        key = receive_key(sys.stdin.buffer) if args.key_on_stdin else None
        study = open_study(args.study, actor="fieldkit-while-recording", key=key)
    except FieldkitError as error:
        log.error("recording %s: %s", args.recording, error.one_line())
        return 1
    finished = threading.Event()
    threading.Thread(target=_wait_for_eof, args=(finished,), daemon=True).start()
    with holding_lock(study, args.recording) as held:
        if not held:
            log.info("recording %s: another transcriber follows it", args.recording)
            return BUSY_EXIT
        log.info("recording %s: transcribing while it is recorded (%s)", args.recording, priority)
        try:
            stored = transcribe_while_recorded(study, args.recording, finished.is_set)
        except FieldkitError as error:
            log.error("recording %s: %s", args.recording, error.one_line())
            return 1
        except Exception as error:  # logged without its message, which might quote speech
            log.error("recording %s: stopped by %s", args.recording, type(error).__name__)
            return 1
    log.info("recording %s: done, %d stretch(es) stored", args.recording, stored)
    return 0


def _wait_for_eof(finished: threading.Event) -> None:
    """The recorder holds our stdin open while it records; its closing (or the recorder's
    death) means the file is final."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    finished.set()


if __name__ == "__main__":
    sys.exit(main())
