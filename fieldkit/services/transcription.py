"""Transcription jobs: a queue in the database, worked off by a separate process.

The engine (faster-whisper) runs only in the worker process
(`python -m fieldkit.workers.transcription`), so a crash of the engine cannot take the app, a
recording or any saved data with it. The queue survives restarts: a job left "running" by a dead
worker is queued again (by the next worker, or by the app), until it has taken down its worker
three times: then it fails with a message instead of crashing workers forever. Interviews of a
participant who withdrew consent are never transcribed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.core.audit import AuditReport
from fieldkit.core.models import ConsentStatus, InterviewStatus, Segment
from fieldkit.core.workflow import TranscriptState
from fieldkit.crypto.handoff import KEY_ON_STDIN, send_key
from fieldkit.crypto.passphrase import environment_without_passphrase
from fieldkit.errors import ConsentError, FieldkitError
from fieldkit.private import open_private, private_mkdir
from fieldkit.processes import still_running
from fieldkit.services.interviews import check_wave
from fieldkit.services.participants import get_participant
from fieldkit.services.study import Study, now_iso
from fieldkit.store.parts import TranscriptPart, TranscriptParts
from fieldkit.store.repo import (
    InterviewRow,
    Interviews,
    JobRow,
    Jobs,
    RecordingRow,
    Recordings,
    Transcripts,
)

if TYPE_CHECKING:
    from fieldkit.transcribe.engine import EngineOptions, StretchDone, StretchRules
    from fieldkit.transcribe.models import ModelInfo

log = logging.getLogger("fieldkit.worker")

WORKER_LOG = "transcribe.log"
WORKER_LOCK = ".transcribe.lock"  # held by the worker that works off the queue; holds its PID
WORKER_BUSY_EXIT = 75  # the worker's exit status when another worker already holds the queue
MAX_WORKER_CRASHES = 3  # a job that took down this many workers fails instead of retrying
TRANSCRIBABLE = (InterviewStatus.ENDED, InterviewStatus.INTERRUPTED)


def model_choice(study: Study, model: str | None) -> tuple[str, Path]:
    """The model to use: --model, else the study's default; validated, never downloaded."""
    from fieldkit.transcribe.models import resolve_model

    settings = study.config.transcription
    return resolve_model(model, settings.models, settings.model)


def available_models(study: Study) -> list[ModelInfo]:
    """The bundled model and the study's configured model folders, each checked."""
    from fieldkit.transcribe.models import list_models

    settings = study.config.transcription
    return list_models(settings.models, settings.model)


def get_job(study: Study, job_id: int) -> JobRow:
    return Jobs(study.db).get(job_id)


def jobs_waiting(study: Study) -> bool:
    return bool(Jobs(study.db).with_status("queued"))


def interviews_with_active_jobs(study: Study) -> set[int]:
    """Interviews whose transcription is queued or running."""
    return {job.interview_id for job in Jobs(study.db).with_status("queued", "running")}


def machine_transcript(study: Study, interview_id: int) -> list[Segment]:
    """Revision 0, as the model wrote it (empty if there is none yet)."""
    row = Transcripts(study.db).revision(interview_id, 0)
    return Transcripts(study.db).segments(row.id) if row else []


def transcript_state(study: Study, interview_id: int) -> str:
    """What `fieldkit interviews` shows: none, queued, transcribing 40%, failed, then the
    transcript's review and approval state (needs review, reviewed, sent to participant …)."""
    from fieldkit.services.approval import stored_state  # approval builds on this module

    approval = stored_state(study, interview_id)
    if approval is not None:
        return approval
    if Transcripts(study.db).for_interview(interview_id):
        return TranscriptState.NEEDS_REVIEW.value  # transcribed; nobody has signed it off yet
    job = Jobs(study.db).latest_for(interview_id)
    if job is None:
        return "none"
    if job.status == "running":
        return f"transcribing {int((job.progress or 0) * 100)}%"
    return job.status


def require_transcribable(study: Study, interview: InterviewRow) -> None:
    """A withdrawn participant's interviews are never transcribed (their consent is gone)."""
    participant = get_participant(study, interview.participant_id)
    if (
        participant.status is ConsentStatus.WITHDRAWN
        or interview.status is InterviewStatus.WITHDRAWN
    ):
        raise ConsentError(
            f"participant {participant.id} has withdrawn consent: their interviews are not "
            "transcribed",
            "nothing was queued",
        )


def interviews_to_transcribe(
    study: Study, participant_ids: Sequence[str], everything: bool, wave: str | None
) -> list[InterviewRow]:
    """The named participants' interviews (in `wave`, else their latest), or all that need it.
    A named participant who withdrew consent is refused; with `everything`, a withdrawn
    participant's interviews are included so that `enqueue` can say why it skips them."""
    if wave:
        check_wave(study, wave)
    repo = Interviews(study.db)
    if not participant_ids and not everything:
        raise FieldkitError(
            "name participants to transcribe, or use --all", "e.g. fieldkit transcribe --all"
        )
    chosen: list[InterviewRow] = []
    for pid in participant_ids:
        participant = get_participant(study, pid)
        rows = [r for r in repo.for_participant(participant.id) if not wave or r.wave == wave]
        for row in rows:
            require_transcribable(study, row)
        rows = [r for r in rows if r.status in TRANSCRIBABLE]
        if not rows:
            where = f" in wave {wave!r}" if wave else ""
            raise FieldkitError(
                f"participant {participant.id} has no ended interview{where}",
                "record or import one first",
            )
        chosen.append(rows[-1])
    if everything:
        needing = [
            r
            for r in repo.all()
            if r.status in (*TRANSCRIBABLE, InterviewStatus.WITHDRAWN)
            and (not wave or r.wave == wave)
            and not Transcripts(study.db).for_interview(r.id)
        ]
        chosen += [r for r in needing if r.id not in {c.id for c in chosen}]
    return chosen


def enqueue(study: Study, interview: InterviewRow, model: str | None = None) -> JobRow | None:
    """Queue a transcription job; None if the interview already has one queued, running or done.
    Refused (ConsentError) for a participant who withdrew consent."""
    require_transcribable(study, interview)
    name, folder = model_choice(study, model)  # refuse an unusable model before queueing
    # The job names a known model by name, and any other model by its folder, so the worker
    # (another process, maybe another day) finds the same one.
    known = {"tiny.en", *study.config.transcription.models}
    name = name if name in known and model in (None, name) else str(folder.resolve())
    if not Recordings(study.db).for_interview(interview.id):
        raise FieldkitError(
            f"interview {interview.participant_id} ({interview.wave}) has no recording",
            "record or import the audio first",
        )
    jobs = Jobs(study.db)
    existing = jobs.latest_for(interview.id)
    if existing and existing.status in ("queued", "running"):
        return existing
    if Transcripts(study.db).for_interview(interview.id):
        return None  # the machine transcript is kept forever; it is never replaced
    with study.transaction():
        require_transcribable(study, Interviews(study.db).get(interview.id))
        job_id = jobs.add(interview.id, name, now_iso())
        study.audit("transcription queued", interview.participant_id, interview.id, model=name)
    return jobs.get(job_id)


def _worker_gone(job: JobRow) -> bool:
    """The worker holding a running job has died (the same boot-time-aware check that tells a
    live recording from one a crash cut off)."""
    started = dt.datetime.fromisoformat(job.started_at).timestamp() if job.started_at else None
    return not still_running(job.worker_pid, started)


def crash_message(crashes: int) -> str:
    return (
        f"transcription failed: the worker stopped {crashes} times while transcribing this "
        "interview (a crash, or not enough memory); see logs/transcribe.log, and run "
        "fieldkit transcribe again to retry"
    )


def requeue_stale_jobs(study: Study) -> int:
    """Jobs a dead worker left "running" go back to the queue (resume after a crash or restart);
    one that has now taken down MAX_WORKER_CRASHES workers fails with a message instead. Cheap
    when nothing is stale (one read); the move itself is checked and made under the write lock.
    Returns how many jobs were queued again."""
    if not any(_worker_gone(job) for job in Jobs(study.db).with_status("running")):
        return 0
    requeued = 0
    with study.transaction():
        for job in Jobs(study.db).with_status("running"):
            if not _worker_gone(job):
                continue
            interview = Interviews(study.db).get(job.interview_id)
            crashes = (job.crashes or 0) + 1
            if crashes >= MAX_WORKER_CRASHES:
                message = crash_message(crashes)
                Jobs(study.db).update(
                    job.id,
                    status="failed",
                    crashes=crashes,
                    message=message,
                    worker_pid=None,
                    finished_at=now_iso(),
                )
                study.audit(
                    "transcription failed",
                    interview.participant_id,
                    interview.id,
                    reason=message,
                )
                continue
            Jobs(study.db).update(
                job.id, status="queued", progress=0.0, worker_pid=None, crashes=crashes
            )
            study.audit(
                "transcription queued again: its worker stopped",
                interview.participant_id,
                interview.id,
                crashes=crashes,
            )
            requeued += 1
    return requeued


# -- the worker side -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    participant_id: str
    wave: str
    ok: bool
    message: str
    audio_s: float = 0.0
    segments: int = 0
    words: int = 0
    seconds: float = 0.0


def shown_percent_changed(written: float, fraction: float) -> bool:
    """Whether a job's progress is worth writing: when the whole percent the queue shows has
    moved. At most 100 small writes a job, and never one dropped: the engine reports in bursts
    (a batch of segments at once, then nothing while it decodes the next), and a time throttle
    kept only the first value of each burst, so the queue lagged a whole batch behind (0 % until
    done on a short interview)."""
    return int(fraction * 100) != int(written * 100)


def run_job(
    study: Study,
    job: JobRow,
    cancel: threading.Event | None = None,
    *,
    rules: StretchRules | None = None,
) -> JobOutcome:
    """Transcribe every recording of the job's interview and store the machine transcript.

    Each stretch is stored as a transcript part as soon as it is decoded, so a job that runs
    again (after a crash, a cancel or a failure) resumes after the last one stored. `rules`
    (tests) changes where recordings are cut into stretches.
    """
    interview = Interviews(study.db).get(job.interview_id)
    try:
        require_transcribable(study, interview)
    except ConsentError:
        message = "not transcribed: the participant withdrew consent"
        _fail(study, job, interview, message)
        return JobOutcome(job.id, interview.participant_id, interview.wave, False, message)
    started = time.monotonic()
    recordings = Recordings(study.db).for_interview(interview.id)
    total = sum(r.duration_s or 0.0 for r in recordings) or 1.0
    try:
        segments, channels = _transcribe_recordings(study, job, recordings, total, cancel, rules)
        with study.transaction():
            # Consent may have been withdrawn while the engine ran: then nothing is stored.
            require_transcribable(study, Interviews(study.db).get(interview.id))
            store_machine_transcript(study, interview, segments, job.model or "", channels)
            TranscriptParts(study.db).delete_for([rec.id for rec in recordings])
            Jobs(study.db).update(job.id, status="done", progress=1.0, finished_at=now_iso())
            study.audit(
                "transcribed",
                interview.participant_id,
                interview.id,
                model=job.model,
                segments=len(segments),
            )
    except ConsentError:
        message = "not transcribed: the participant withdrew consent"
        _fail(study, job, interview, message)
        return JobOutcome(job.id, interview.participant_id, interview.wave, False, message)
    except FieldkitError as error:
        _fail(study, job, interview, error.one_line())
        return JobOutcome(job.id, interview.participant_id, interview.wave, False, error.one_line())
    except Exception as error:  # the engine must not take the queue down with it
        message = f"transcription failed: {type(error).__name__}"
        _fail(study, job, interview, message)
        return JobOutcome(job.id, interview.participant_id, interview.wave, False, message)
    words = sum(len(s.words) for s in segments)
    return JobOutcome(
        job.id,
        interview.participant_id,
        interview.wave,
        True,
        "done",
        audio_s=total,
        segments=len(segments),
        words=words,
        seconds=time.monotonic() - started,
    )


def _transcribe_recordings(
    study: Study,
    job: JobRow,
    recordings: Sequence[RecordingRow],
    total: float,
    cancel: threading.Event | None,
    rules: StretchRules | None,
) -> tuple[list[Segment], int]:
    """The interview's segments (interview time) and channel count, recording by recording,
    each resumed after its stored parts; every stretch decoded is stored as a part at once."""
    from fieldkit.services.while_recording import take_over
    from fieldkit.transcribe.engine import transcribe_recording

    model_dir, options, rules = stretch_settings(study, job.model, rules)
    progress = _ProgressWriter(study, job.id, total)
    segments: list[Segment] = []
    channels = 1
    for rec in recordings:
        length = rec.duration_s or 0.0
        settings = parts_key(model_dir, options, rec.channel_map, rules)
        # A transcriber that worked while the recording was made stops here (it decodes at
        # the lowest priority); its stretches are stored, and this job goes on after them.
        take_over(study, rec.id)
        parts = _parts_to_resume(study, rec.id, settings)
        resume_s = parts[-1].end_s if parts else 0.0
        if parts:  # times only, never text: how much was left for this job
            log.info(
                "recording %s: %d stretch(es) stored, resuming at %.1f of %.1f s",
                rec.id,
                len(parts),
                resume_s,
                length,
            )
        recorded = [segment for part in parts for segment in part.segments]
        ahead = min(resume_s, length)
        result = transcribe_recording(
            study.paths.absolute(rec.path),
            model_dir,
            channel_map=rec.channel_map or None,
            options=options,
            on_progress=lambda f, ahead=ahead, rest=length - ahead: progress(ahead + f * rest),
            cancel=cancel,
            start_s=resume_s,
            rules=rules,
            on_stretch=functools.partial(store_part, study, rec.id, settings),
            key=study.data_key,  # an encrypted study's recordings are decrypted in memory
        )
        recorded += result.segments
        segments += [_shifted(s, rec.offset_s) for s in recorded]
        channels = max(channels, result.channels)
        progress.done_s += length
    return segments, channels


STRETCH_RULES_ENV = "FIELDKIT_STRETCH_RULES"  # tests and benchmarks: "min_s=15,max_s=40"


def stretch_settings(
    study: Study, model: str | None, rules: StretchRules | None = None
) -> tuple[Path, EngineOptions, StretchRules]:
    """The model folder, engine options and stretch rules a recording of the study is decoded
    with: one place, so a job and the transcriber working while the interview is recorded
    decode alike (and store their parts under the same `parts_key`)."""
    from fieldkit.transcribe.engine import EngineOptions

    _, model_dir = model_choice(study, model)
    options = EngineOptions(vocabulary=vocabulary(study))
    return model_dir, options, rules or stretch_rules(options)


def stretch_rules(options: EngineOptions) -> StretchRules:
    """The default stretch rules for the engine's options. $FIELDKIT_STRETCH_RULES may shorten
    the stretches (`min_s=15,max_s=40`), so tests and benchmarks see several stretches in a short
    recording; every process of a run must then see the same value."""
    from dataclasses import replace

    from fieldkit.transcribe.engine import StretchRules

    rules = StretchRules.for_options(options)
    text = os.environ.get(STRETCH_RULES_ENV, "").strip()
    if not text:
        return rules
    try:
        changes = {
            name.strip(): float(value)
            for name, value in (item.split("=", 1) for item in text.split(",") if item.strip())
        }
        if not set(changes) <= {"min_s", "max_s", "pause_s"}:
            raise ValueError(f"only min_s, max_s and pause_s can be set, not {sorted(changes)}")
        return replace(
            rules,
            min_s=changes.get("min_s", rules.min_s),
            max_s=changes.get("max_s", rules.max_s),
            pause_s=changes.get("pause_s", rules.pause_s),
        )
    except ValueError as error:
        raise FieldkitError(
            f"${STRETCH_RULES_ENV} is not valid ({error})", "e.g. min_s=15,max_s=40, or unset it"
        ) from None


class _ProgressWriter:
    """The job's progress, written whenever the percent the queue shows moves."""

    def __init__(self, study: Study, job_id: int, total_s: float) -> None:
        self.study, self.job_id, self.total_s = study, job_id, total_s
        self.done_s = 0.0  # seconds of the recordings before the current one
        self.written = 0.0

    def __call__(self, seconds_in_recording: float) -> None:
        fraction = min(0.99, (self.done_s + seconds_in_recording) / self.total_s)
        if shown_percent_changed(self.written, fraction):
            self.written = fraction
            Jobs(self.study.db).update(self.job_id, progress=fraction)


def _parts_to_resume(study: Study, recording_id: int, settings: str) -> list[TranscriptPart]:
    """The recording's stored parts decoded with these settings; parts decoded otherwise go."""
    with study.transaction():
        TranscriptParts(study.db).delete_other_settings(recording_id, settings)
    return TranscriptParts(study.db).for_recording(recording_id, settings)


def parts_key(
    model_dir: Path, options: EngineOptions, channel_map: Sequence[str], rules: StretchRules
) -> str:
    """What a part was decoded with: a part is reused only by a job that would decode the same
    (a transcriber working while the interview is recorded stores its parts under this key too,
    and the job that runs at the end resumes after them)."""
    import hashlib
    import json
    from dataclasses import asdict

    from fieldkit import __version__

    settings = {
        "fieldkit": __version__,
        "model": str(model_dir),
        "options": asdict(options),
        "channel_map": list(channel_map),
        "rules": asdict(rules),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def store_part(study: Study, recording_id: int, key: str, done: StretchDone) -> None:
    """Store one decoded stretch of a recording (its segments in recording time) at once."""
    with study.transaction():
        TranscriptParts(study.db).add(
            recording_id, done.start_s, done.end_s, key, done.segments, now_iso()
        )


def store_machine_transcript(
    study: Study, interview: InterviewRow, segments: Sequence[Segment], model: str, channels: int
) -> None:
    """Store revision 0, the machine transcript, which is never changed afterwards."""
    speakers_known = bool(segments) and all(s.speaker.value != "unknown" for s in segments)
    with study.transaction():
        Transcripts(study.db).add(
            interview.id,
            revision=0,
            kind="machine",
            segments=segments,
            created_at=now_iso(),
            created_by="fieldkit",
            model=model,
            duration_s=interview.duration_s,
            channels=channels,
            speakers_known=int(speakers_known),
        )


def _fail(study: Study, job: JobRow, interview: InterviewRow, message: str) -> None:
    with study.transaction():
        Jobs(study.db).update(job.id, status="failed", message=message, finished_at=now_iso())
        study.audit("transcription failed", interview.participant_id, interview.id, reason=message)


def _shifted(segment: Segment, offset: float) -> Segment:
    """Recording time → interview time."""
    if not offset:
        return segment
    from dataclasses import replace

    return replace(
        segment,
        start=segment.start + offset,
        end=segment.end + offset,
        words=tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in segment.words),
    )


def vocabulary(study: Study) -> tuple[str, ...]:
    """The study's guarded terms and domain words, given to the model as hotwords."""
    words = [*study.config.guarded_terms, *study.config.transcription.vocabulary]
    return tuple(dict.fromkeys(words))


def run_pending(
    study: Study,
    on_outcome: Callable[[JobOutcome], None] | None = None,
    *,
    rules: StretchRules | None = None,
) -> int:
    """Work off the queue until it is empty. Returns how many jobs ran."""
    requeue_stale_jobs(study)
    count = 0
    while True:
        queued = Jobs(study.db).with_status("queued")
        if not queued:
            return count
        job = queued[0]
        if not Jobs(study.db).claim(job.id, os.getpid(), now_iso()):
            continue
        try:
            outcome = run_job(study, Jobs(study.db).get(job.id), rules=rules)
        except (KeyboardInterrupt, SystemExit):
            # Stopped on purpose (Ctrl-C on `fieldkit transcribe`, the app quitting): the job
            # goes back to the queue as it was, and does not count as a crash.
            Jobs(study.db).release(job.id, os.getpid())
            raise
        count += 1
        if on_outcome:
            on_outcome(outcome)


# -- the app/CLI side ------------------------------------------------------------------------


def start_worker(study: Study, detached: bool = False) -> subprocess.Popen[bytes]:
    """Start the worker process; its log (job IDs and errors only, never text) goes to the study.
    A `detached` worker runs in a session of its own: Ctrl-C in the terminal that started it
    does not stop it (it finishes the queue, then exits)."""
    log_dir = study.root / "logs"
    private_mkdir(log_dir, exist_ok=True)
    log = open_private(log_dir / WORKER_LOG, "ab")
    command = [sys.executable, "-m", "fieldkit.workers.transcription", "--study", str(study.root)]
    key = study.data_key
    if key is not None:
        command.append(KEY_ON_STDIN)  # the key itself goes over the pipe
    try:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=log,
            stdin=subprocess.PIPE if key is not None else subprocess.DEVNULL,
            env=environment_without_passphrase(),
            start_new_session=detached,
        )
    finally:
        log.close()
    if key is not None:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a worker that died at once logs why
            send_key(process.stdin, key)
    return process


WORKER_RESTART_S = 3.0  # no worker holding the queue for this long: start one again


def queue_transcript_now(study: Study, interview: InterviewRow) -> JobRow | None:
    """Queue an interview that has just ended and start a worker for it at once, in a session
    of its own (Ctrl-C in the recorder's terminal does not stop it). None when there is
    nothing to transcribe: consent withdrawn, or nothing recorded."""
    from fieldkit.services.interviews import has_audio

    if interview.status is InterviewStatus.WITHDRAWN or not has_audio(study, interview.id):
        return None
    job = enqueue(study, interview)
    if job is not None and job.status == "queued":
        start_worker(study, detached=True)
    return job


def follow_job(study: Study, job_id: int, poll_s: float = 0.1) -> JobRow:
    """Wait until a job is done or has failed. If no worker holds the queue while the job still
    waits (one stopped, or none was started), a new one is started, up to a few times."""
    starts = 0
    last_seen = time.monotonic()
    while True:
        job = Jobs(study.db).get(job_id)
        if job.status in ("done", "failed"):
            return job
        if running_worker_pid(study) is not None:
            last_seen = time.monotonic()
        elif time.monotonic() - last_seen > WORKER_RESTART_S:
            starts += 1
            if starts > MAX_WORKER_CRASHES + 1:
                raise FieldkitError(
                    "the transcription worker keeps stopping",
                    f"see {study.root / 'logs' / WORKER_LOG}",
                )
            start_worker(study, detached=True)
            last_seen = time.monotonic()
        time.sleep(poll_s)


def running_worker_pid(study: Study) -> int | None:
    """The PID of the worker that holds the queue now, if one does (it writes its PID into the
    lock file it holds)."""
    import fcntl

    path = study.root / WORKER_LOCK
    try:
        with path.open("r+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: a worker is at work
                text = lock.read().strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(lock, fcntl.LOCK_UN)
    except OSError:
        return None
    return None


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


# -- reading transcripts ---------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptView:
    participant_id: str
    wave: str
    duration_s: float | None
    revision: int
    kind: str
    segments: list[Segment]

    def to_json(self) -> dict[str, object]:
        return {
            "participant": self.participant_id,
            "wave": self.wave,
            "duration_s": self.duration_s,
            "revision": self.revision,
            "kind": self.kind,
            "segments": [
                {
                    "start": round(s.start, 2),
                    "end": round(s.end, 2),
                    "speaker": s.speaker.value,
                    "text": s.text,
                    "words": [
                        {
                            "start": round(w.start, 2),
                            "end": round(w.end, 2),
                            "word": w.word,
                            "probability": round(w.probability, 3),
                        }
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }


def find_interview(study: Study, participant_id: str, wave: str | None) -> InterviewRow:
    """The participant's interview in `wave`, else their latest one."""
    participant = get_participant(study, participant_id)
    rows = Interviews(study.db).for_participant(participant.id)
    if wave:
        check_wave(study, wave)
        rows = [r for r in rows if r.wave == wave]
    if not rows:
        where = f" in wave {wave!r}" if wave else ""
        raise FieldkitError(f"participant {participant.id} has no interview{where}", "record one")
    return rows[-1]


def load_transcript(
    study: Study, participant_id: str, wave: str | None = None, revision: int | None = None
) -> TranscriptView:
    interview = find_interview(study, participant_id, wave)
    repo = Transcripts(study.db)
    row = repo.revision(interview.id, revision)
    if row is None:
        if revision is not None and repo.for_interview(interview.id):
            raise FieldkitError(
                f"transcript of {interview.participant_id} has no revision {revision}",
                f"see fieldkit transcript history {interview.participant_id}",
            )
        state = transcript_state(study, interview.id)
        raise FieldkitError(
            f"interview {interview.participant_id} ({interview.wave}) has no transcript yet "
            f"({state})",
            f"run: fieldkit transcribe {interview.participant_id}",
        )
    return TranscriptView(
        participant_id=interview.participant_id,
        wave=interview.wave,
        duration_s=interview.duration_s,
        revision=row.revision,
        kind=row.kind,
        segments=repo.segments(row.id),
    )


def audit_interview(study: Study, participant_id: str, wave: str | None = None) -> AuditReport:
    """The guarded-term audit of the latest transcript, compared with the live guard events."""
    from fieldkit.core.audit import audit_transcript
    from fieldkit.services.interviews import guard_events

    view = load_transcript(study, participant_id, wave)
    interview = find_interview(study, participant_id, view.wave)
    terms = study.schedule().guarded_terms
    return audit_transcript(terms, view.segments, guard_events(study, interview.id))
