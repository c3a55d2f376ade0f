"""Transcribing an interview while it is being recorded (`[transcription] while_recording`).

Each recording gets a background transcriber: a process of its own
(`python -m fieldkit.workers.while_recording`), started by the recording session, that follows
the recording file as it grows, cuts it into stretches with the same StretchCutter and rules as a
transcription job, decodes each finished stretch with the same engine, model and options, and
stores it at once as a transcript part under the job's own `parts_key`. When the interview ends,
the job (the ordinary worker) stops the background transcriber and resumes after its last part:
only the tail is left to decode. Nothing here changes what is transcribed, only when.

**Why it follows the file instead of being fed over a pipe.** The recording file is already
written crash-safely, block by block, and is the one copy of the audio that matters, so reading it
back costs the recorder nothing: no extra copy, no queue, no hand-off thread in the process that
captures. The transcriber can fall behind for as long as it likes (a busy machine, a model loading)
without any buffer to bound or any audio to drop, and it catches up from the file; a pipe would
have had to either block capture, hold an unbounded backlog in memory, or drop audio — and a
dropped frame would make the stretches, and so the transcript, differ from an offline run. It is
also decoupled in both directions: if the recorder is killed, the file is final and the
transcriber finishes the stretches in it; if the transcriber is killed, the recording goes on and
the job does the rest. (`audio.reader.follow_blocks` reads a growing crash-safe WAV by its size,
and a growing encrypted stream by re-indexing its chunks; both give exactly what reading the
finished file gives.)

**Capture always wins.** The transcriber lowers its own priority before it does anything else
(SCHED_IDLE: it runs only on CPU time nobody else wants; nice 19 where that is refused), so it
cannot delay the capture thread, the writer or the live guard's engine, and a busy machine simply
makes it fall behind. It loads the model only when the first stretch is cut (five minutes in), so a
short recording costs it nothing but reading. The recorder tells it that the recording is over by
closing the pipe it holds (which is also what a crash of the recorder does); an encrypted study's
key goes over that pipe as its first line, never in argv or the environment.

**What it leaves to the job.** It decodes only stretches the cutter closes at a pause (so their
boundaries are where an offline job puts them, and the job's transcript equals an offline one);
the last stretch, which ends where the recording ends, is always the job's. A job that starts
while the transcriber is still at work stops it (`take_over`) so that no stretch is decoded twice.

**Consent.** A withdrawal stops the recording, and the recording session then stops its
transcriber at once; the transcriber also checks consent under the write lock before it stores a
part, so nothing is stored for a participant who has withdrawn.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from fieldkit.core.models import Segment
from fieldkit.crypto.handoff import KEY_ON_STDIN, send_key
from fieldkit.crypto.passphrase import environment_without_passphrase
from fieldkit.errors import ConsentError
from fieldkit.private import open_private, private_mkdir, private_opener
from fieldkit.services.study import Study
from fieldkit.store.repo import Interviews, Recordings

if TYPE_CHECKING:
    from fieldkit.transcribe.engine import StretchTranscriber
    from fieldkit.transcribe.options import EngineOptions
    from fieldkit.transcribe.stretches import Stretch

log = logging.getLogger("fieldkit.while_recording")

LOCK_PREFIX = ".transcribe-recording-"  # + recording id + ".lock", held by its transcriber
TAKE_OVER_WAIT_S = 5.0  # a transcriber told to stop is gone within this (then it is killed)
BUSY_EXIT = 75  # the exit status of a second transcriber for one recording


def wanted(study: Study) -> bool:
    return study.config.transcription.while_recording


# -- the recorder's side ---------------------------------------------------------------------


class BackgroundTranscriber:
    """The background transcriber of one recording, as the recording session sees it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @classmethod
    def start(cls, study: Study, recording_id: int) -> BackgroundTranscriber:
        """Start it (it lowers its own priority at once). Its log (recording ids, stretch times
        and errors, never text) goes to the study's transcription log."""
        from fieldkit.services.transcription import WORKER_LOG

        log_dir = study.root / "logs"
        private_mkdir(log_dir, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "fieldkit.workers.while_recording",
            "--study",
            str(study.root),
            "--recording",
            str(recording_id),
        ]
        key = study.data_key
        if key is not None:
            command.append(KEY_ON_STDIN)  # the key itself goes over the pipe
        with open_private(log_dir / WORKER_LOG, "ab") as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,  # closed when the recording is over (or we die)
                stdout=log_file,
                stderr=log_file,
                env=environment_without_passphrase(),
            )
        if key is not None:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):  # one that died at once logs why
                send_key(process.stdin, key, keep_open=True)
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def recording_complete(self) -> None:
        """The file is final: it decodes the stretches still in it, then exits (or the job
        stops it first)."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def stop(self) -> None:
        """Stop it now (consent was withdrawn): what it stored stays, nothing more is stored."""
        self.recording_complete()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()


def start_for(study: Study, recording_id: int) -> BackgroundTranscriber | None:
    """Start the background transcriber of a recording that has just started, if the study
    wants one. Never raises: without it the job transcribes everything at the end, as before."""
    if not wanted(study):
        return None
    try:
        return BackgroundTranscriber.start(study, recording_id)
    except Exception as error:
        log.warning("no transcription while recording %s: %s", recording_id, error)
        return None


# -- whoever transcribes the recording afterwards ----------------------------------------------


def lock_path(study: Study, recording_id: int) -> Path:
    return study.root / f"{LOCK_PREFIX}{recording_id}.lock"


def take_over(study: Study, recording_id: int, wait_s: float = TAKE_OVER_WAIT_S) -> bool:
    """Stop the recording's background transcriber, if one is at work, and wait until it is
    gone: its stored stretches are final, a stretch it was decoding is dropped (the caller
    decodes it). Returns whether one was running."""
    path = lock_path(study, recording_id)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    with os.fdopen(fd, "r+") as lock:
        running = not _try_lock(lock)
        if running:
            _stop_holder(lock, wait_s)
        path.unlink(missing_ok=True)  # ours now: no transcriber of this recording is left
    return running


def stop_all(study: Study) -> int:
    """Stop every background transcriber of the study (before the study is converted, which
    they would otherwise write to). Returns how many were running."""
    stopped = 0
    for path in study.root.glob(f"{LOCK_PREFIX}*.lock"):
        number = path.name[len(LOCK_PREFIX) : -len(".lock")]
        if number.isdigit():
            stopped += take_over(study, int(number))
    return stopped


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _stop_holder(lock: IO[str], wait_s: float) -> None:
    """Terminate the process holding the lock (its PID is in the file) and wait for the lock.
    SIGTERM's default action ends it at once, mid-decode (a stored part is a committed
    transaction; one being stored is rolled back by SQLite)."""
    deadline = time.monotonic() + wait_s
    signalled: int | None = None
    while not _try_lock(lock):
        if signalled is None:
            signalled = _signal_holder(lock, signal.SIGTERM)
        elif time.monotonic() > deadline:
            _signal_holder(lock, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.01)


def _signal_holder(lock: IO[str], signum: int) -> int | None:
    lock.seek(0)
    text = lock.read().strip()
    if not text.isdigit():
        return None  # it has the lock but has not written its PID yet: look again
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(text), signum)
    return int(text)


# -- the background transcriber itself (fieldkit.workers.while_recording) ----------------------


@contextlib.contextmanager
def holding_lock(study: Study, recording_id: int) -> Iterator[bool]:
    """Hold the recording's lock for as long as this transcriber works (False: another one
    holds it). The lock file holds our PID, for `take_over`."""
    path = lock_path(study, recording_id)
    fd = private_opener(path, os.O_RDWR | os.O_CREAT)
    with os.fdopen(fd, "r+") as lock:
        if not _try_lock(lock):
            yield False
            return
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield True
        finally:
            path.unlink(missing_ok=True)  # still ours: nobody can have taken it meanwhile


def transcribe_while_recorded(
    study: Study,
    recording_id: int,
    finished: Callable[[], bool],
    poll_s: float | None = None,
) -> int:
    """Follow a recording as it is written and store each stretch the cutter closes, decoded
    as a job would decode it, until the file is final (`finished()`: the recorder has closed it,
    or died) and every closed stretch in it is stored. The last stretch, which runs to the end
    of the recording, is left to the job. Returns how many stretches were stored."""
    from fieldkit.audio.reader import FOLLOW_POLL_S, follow_blocks
    from fieldkit.services.transcription import parts_key, stretch_settings
    from fieldkit.transcribe.options import SAMPLERATE
    from fieldkit.transcribe.stretches import StretchCutter

    recording = Recordings(study.db).get(recording_id)
    model_dir, options, rules = stretch_settings(study, None)
    settings = parts_key(model_dir, options, recording.channel_map, rules)
    store = _PartStore(study, recording_id, recording.interview_id, settings)
    if not store.still_wanted():
        return 0
    start_s = store.resume_s()
    cutter = StretchCutter(rules, start_s)
    decode = _LazyDecoder(model_dir, recording.channel_map, options)
    path = study.paths.absolute(recording.path)
    with follow_blocks(
        path,
        finished,
        start=start_s,
        samplerate=SAMPLERATE,
        key=study.data_key,
        poll_s=poll_s or FOLLOW_POLL_S,
    ) as blocks:
        for block in blocks:
            for stretch in cutter.feed(block):
                if not (store.still_wanted() and store.add(stretch, decode(stretch))):
                    return store.stored
    return store.stored


class _LazyDecoder:
    """The engine, loaded when the first stretch comes (a short recording never needs it)."""

    def __init__(
        self, model_dir: Path, channel_map: tuple[str, ...], options: EngineOptions
    ) -> None:
        self.model_dir, self.channel_map, self.options = model_dir, channel_map, options
        self.transcriber: StretchTranscriber | None = None

    def __call__(self, stretch: Stretch) -> list[Segment]:
        from fieldkit.transcribe.engine import StretchTranscriber

        if self.transcriber is None:
            self.transcriber = StretchTranscriber(
                self.model_dir, self.channel_map or None, self.options
            )
        return self.transcriber.transcribe_stretch(stretch.samples, stretch.offset_s)


class _PartStore:
    """Stores a recording's stretches as transcript parts, each under the write lock after
    checking that the participant still consents."""

    def __init__(self, study: Study, recording_id: int, interview_id: int, settings: str) -> None:
        self.study, self.recording_id, self.interview_id = study, recording_id, interview_id
        self.settings = settings
        self.stored = 0

    def resume_s(self) -> float:
        """Where the parts already stored end (a transcriber started again goes on there)."""
        from fieldkit.store.parts import TranscriptParts

        parts = TranscriptParts(self.study.db).for_recording(self.recording_id, self.settings)
        return parts[-1].end_s if parts else 0.0

    def still_wanted(self) -> bool:
        """Whether stretches of this recording are still ours to store (see `_refusal`)."""
        reason = self._refusal()
        if reason:
            log.info("recording %s: %s, stopping", self.recording_id, reason)
        return not reason

    def _refusal(self) -> str:
        """Why nothing more may be stored, or "": the participant withdrew consent, or the
        interview's job has started (it took the recording over: a part stored now could
        duplicate one it decodes) or is done (its transcript is final, the parts are gone).
        Asked again under the write lock before each part is stored."""
        from fieldkit.services.transcription import require_transcribable
        from fieldkit.store.repo import Jobs, Transcripts

        try:
            require_transcribable(self.study, Interviews(self.study.db).get(self.interview_id))
        except ConsentError:
            return "consent withdrawn"
        job = Jobs(self.study.db).latest_for(self.interview_id)
        if job is not None and job.status in ("running", "done"):
            return f"its transcription job is {job.status}"
        if Transcripts(self.study.db).for_interview(self.interview_id):
            return "the interview is transcribed"
        return ""

    def add(self, stretch: Stretch, segments: list[Segment]) -> bool:
        """Store the stretch; False (nothing stored) if it is no longer ours to store: consent
        was withdrawn meanwhile, or the job has taken over."""
        from fieldkit.services.study import now_iso
        from fieldkit.store.parts import TranscriptParts

        with self.study.transaction():
            reason = self._refusal()
            if reason:
                log.info("recording %s: %s, stopping", self.recording_id, reason)
                return False
            TranscriptParts(self.study.db).add(
                self.recording_id,
                stretch.offset_s,
                stretch.end_s,
                self.settings,
                segments,
                now_iso(),
            )
        self.stored += 1
        log.info(
            "recording %s: stretch %.1f-%.1f s stored",
            self.recording_id,
            stretch.offset_s,
            stretch.end_s,
        )
        return True
