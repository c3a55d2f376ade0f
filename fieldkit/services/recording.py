"""Recording an interview: register first, capture crash-safely, recover what a crash cut off.

A recording's row is written (status "recording", with our process ID) before the first sample,
so the next start of fieldkit finds a recording that a crash or kill -9 interrupted, repairs the
file and registers it as an interrupted interview. Files are never overwritten.

An encrypted study's recordings — captured or imported — are encrypted streams (.fka) from their
first byte: no plain audio is ever written into the study, not even for a moment.

Only one recording per participant runs at a time (the check and the row are one transaction),
and a recording watches the participant's consent in the database: withdrawn consent stops it
within a second, whichever process or face recorded the withdrawal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fieldkit.audio.capture import CaptureSettings, LevelReading, Recorder, RecordingResult
from fieldkit.audio.devices import InputDevice
from fieldkit.audio.recording_files import (
    RecoveredFile,
    holds_no_audio,
    recording_format,
    recover_recording_file,
)
from fieldkit.core.guard import GuardEvent, GuardTracker
from fieldkit.core.models import ConsentStatus, InterviewStatus, Participant
from fieldkit.core.participants import require_consent
from fieldkit.errors import AudioError, FieldkitError
from fieldkit.private import private_mkdir
from fieldkit.processes import still_running
from fieldkit.services.interviews import (
    end_interview,
    open_interview,
    recorded_seconds,
    wave_to_record,
    withdraw_open_interviews,
)
from fieldkit.services.live_guard import LiveGuard, LiveStatus
from fieldkit.services.participants import get_participant
from fieldkit.services.study import Study, now_iso
from fieldkit.services.while_recording import BackgroundTranscriber, start_for
from fieldkit.store.repo import (
    Events,
    InterviewRow,
    Interviews,
    Participants,
    RecordingRow,
    Recordings,
)

BYTES_PER_SAMPLE = 2  # PCM_16
APP = "app"  # who records: the app, or the headless command
COMMAND = "fieldkit record"
CONSENT_POLL_S = 0.5  # how often a recording looks at the participant's consent
WITHDRAW_WAIT_S = 3.0  # how long a withdrawal waits to see a recording stop
WITHDRAWN_MESSAGE = "recording stopped because the participant withdrew consent"
# Tests and benchmarks of long interviews: a virtual microphone (--input) plays its file this
# many times faster than real time. Never set for a user's recording.
INPUT_SPEED_ENV = "FIELDKIT_INPUT_SPEED"

# The recordings this process is capturing now, by (database, row id): a row that carries our
# own process ID is live only if it is one of these (a row whose registration failed is not).
_capturing_here: set[tuple[str, int]] = set()
_capturing_lock = threading.Lock()


def _capture_key(study: Study, recording_id: int) -> tuple[str, int]:
    return (str(study.paths.database), recording_id)


def is_live(study: Study, row: RecordingRow) -> bool:
    """The recording process of a row marked "recording" is still at work (boot-time aware)."""
    if row.pid == os.getpid():
        with _capturing_lock:
            return _capture_key(study, row.id) in _capturing_here
    return still_running(row.pid, _epoch(row.started_at))


def recordings_in_progress(study: Study, participant_id: str) -> list[RecordingRow]:
    """The participant's recordings that a live process is capturing right now."""
    rows = Recordings(study.db).marked_recording_for_participant(participant_id)
    return [row for row in rows if is_live(study, row)]


def describe_recorder(row: RecordingRow) -> str:
    """ "the fieldkit app (PID 4242)", for a message about who holds a recording."""
    who = {APP: "the fieldkit app", COMMAND: "`fieldkit record`"}.get(
        row.recorder or "", "another fieldkit process"
    )
    return f"{who} (PID {row.pid})"


def _already_recording(participant_id: str, row: RecordingRow) -> FieldkitError:
    where = "in the app" if row.recorder == APP else "with Ctrl-C in its terminal"
    return FieldkitError(
        f"participant {participant_id} is already being recorded by {describe_recorder(row)}",
        f"only one recording per participant at a time: stop that one first ({where})",
    )


def capture_settings(
    study: Study,
    channels: int | None = None,
    samplerate: int | None = None,
    device: str | int | None = None,
    input_file: Path | None = None,
) -> CaptureSettings:
    """The study's recording defaults, overridden by what the user asked for."""
    rec = study.config.recording
    channels = channels or rec.channels
    if channels not in (1, 2):
        raise FieldkitError(f"cannot record {channels} channels", "use --channels 1 or 2")
    samplerate = samplerate or rec.samplerate
    if samplerate not in (16000, 44100, 48000):
        raise FieldkitError(f"unsupported sample rate {samplerate}", "use 16000, 44100 or 48000")
    if input_file is not None and not input_file.is_file():
        raise AudioError(f"input file {input_file} does not exist", "check the path")
    return CaptureSettings(
        samplerate=samplerate,
        channels=channels,
        device=device,
        input_file=input_file,
        disk_margin_bytes=rec.disk_margin_mb * 1024 * 1024,
        input_speed=_input_speed() if input_file is not None else 1.0,
    )


def _input_speed() -> float:
    text = os.environ.get(INPUT_SPEED_ENV, "").strip()
    if not text:
        return 1.0
    try:
        speed = float(text)
        if not 0 < speed <= 1000:
            raise ValueError
    except ValueError:
        raise FieldkitError(
            f"${INPUT_SPEED_ENV} must be a number above 0 (times real time), not {text!r}",
            "e.g. 4, or unset it",
        ) from None
    return speed


def input_devices() -> list[InputDevice]:
    from fieldkit.audio.devices import list_input_devices

    return list_input_devices()


def new_recording_path(study: Study, participant_id: str, wave: str) -> Path:
    """A new file name in the audio folder: .wav, or .fka in an encrypted study."""
    suffix = recording_format(study.data_key).suffix
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{participant_id}_{wave}_{stamp}"
    candidate = study.paths.audio / f"{base}{suffix}"
    number = 1
    while candidate.exists():
        number += 1
        candidate = study.paths.audio / f"{base}-{number}{suffix}"
    return study.paths.inside(candidate)  # the names in it were checked; this makes sure


@dataclass(frozen=True)
class DiskStatus:
    free_bytes: int
    hours_left: float


def disk_status(study: Study, settings: CaptureSettings) -> DiskStatus:
    """Free space in the study's audio folder, and how many hours of recording it leaves."""
    free = shutil.disk_usage(study.paths.audio).free
    usable = max(0, free - settings.disk_margin_bytes)
    per_hour = settings.samplerate * settings.channels * BYTES_PER_SAMPLE * 3600
    return DiskStatus(free_bytes=free, hours_left=usable / per_hour)


class RecordingSession:
    """One recording of an interview, on the interview clock from `offset_s` on."""

    def __init__(
        self,
        study: Study,
        interview: InterviewRow,
        settings: CaptureSettings,
        offset_s: float = 0.0,
        on_level: Callable[[LevelReading], None] | None = None,
        on_audio: Callable[[np.ndarray, float], None] | None = None,
        on_stop: Callable[[RecordingResult], None] | None = None,
        recorder_kind: str = APP,
    ) -> None:
        self.study = study
        self.interview = interview
        self.settings = settings
        self.offset_s = offset_s
        self.recorder_kind = recorder_kind
        self.path = new_recording_path(study, interview.participant_id, interview.wave)
        self.recorder = Recorder(
            self.path,
            settings,
            on_level=on_level,
            on_audio=on_audio,
            on_stop=on_stop,
            file_format=recording_format(study.data_key),
        )
        self.recording_id: int | None = None
        self.result: RecordingResult | None = None
        # Transcribes the recording as it grows (services.while_recording), if the study wants.
        self.background: BackgroundTranscriber | None = None
        self._stop_lock = threading.Lock()
        self._watch_done = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def channel_map(self) -> tuple[str, ...]:
        mapping = self.interview.channel_map or self.study.config.recording.channel_map
        return tuple(mapping[: self.settings.channels]) if self.settings.channels == 2 else ()

    def elapsed(self) -> float:
        """Interview time: where the recording started, plus what it has recorded."""
        return self.offset_s + self.recorder.recorded_seconds

    def start(self) -> None:
        private_mkdir(self.path.parent, parents=True, exist_ok=True)
        try:
            self._register()
            self.recorder.start()
        except BaseException:
            self._forget_unstarted()
            raise
        self._watcher = threading.Thread(
            target=self._watch_consent, name="fieldkit-consent-watch", daemon=True
        )
        self._watcher.start()
        assert self.recording_id is not None
        self.background = start_for(self.study, self.recording_id)

    def _register(self) -> None:
        """Check and register in one write transaction: consent is current, the interview is
        open, and nobody else is recording this participant. Then the row goes in."""
        key: tuple[str, int] | None = None
        try:
            with self.study.transaction():
                participant = self._check_recordable()
                recording_id = self._insert_row()
                key = _capture_key(self.study, recording_id)
                with _capturing_lock:  # before the commit: the row never looks orphaned
                    _capturing_here.add(key)
                self.study.audit(
                    "recording started",
                    participant.id,
                    self.interview.id,
                    file=self.path.name,
                    channels=self.settings.channels,
                    samplerate=self.settings.samplerate,
                    recorder=self.recorder_kind,
                )
        except BaseException:
            if key is not None:  # rolled back: the row is gone again
                with _capturing_lock:
                    _capturing_here.discard(key)
            raise
        self.recording_id = recording_id

    def _check_recordable(self) -> Participant:
        participant = get_participant(self.study, self.interview.participant_id)
        require_consent(participant)  # again here: consent may have changed meanwhile
        interview = Interviews(self.study.db).get(self.interview.id)
        if interview.status is not InterviewStatus.IN_PROGRESS:
            raise FieldkitError(
                f"the {interview.wave} interview of {participant.id} is {interview.status.value}",
                "nothing more can be recorded in it",
            )
        running = recordings_in_progress(self.study, participant.id)
        if running:
            raise _already_recording(participant.id, running[0])
        return participant

    def _insert_row(self) -> int:
        return Recordings(self.study.db).insert(
            interview_id=self.interview.id,
            path=self.study.paths.relative(self.path),
            samplerate=self.settings.samplerate,
            channels=self.settings.channels,
            channel_map=self.channel_map,
            source="virtual" if self.settings.input_file else "microphone",
            device=str(self.settings.input_file or self.settings.device or "default"),
            offset_s=self.offset_s,
            status="recording",
            pid=os.getpid(),
            started_at=now_iso(),
            recorder=self.recorder_kind,
        )

    def _watch_consent(self) -> None:
        """Poll the participant's consent (and the interview) in the database, on this thread's
        own connection: a withdrawal recorded by any process stops the recording."""
        try:
            while not self._watch_done.wait(CONSENT_POLL_S):
                if self.recorder.state == "stopped":
                    return
                if self._withdrawn():
                    self.recorder.interrupt("withdrawn", WITHDRAWN_MESSAGE)
                    return
        finally:
            self.study.close()

    def _withdrawn(self) -> bool:
        try:
            participant = Participants(self.study.db).get(self.interview.participant_id)
            interview = Interviews(self.study.db).get(self.interview.id)
        except Exception:  # a busy or unreadable database: ask again next time
            return False
        return (
            participant is None
            or participant.status is ConsentStatus.WITHDRAWN
            or interview.status is InterviewStatus.WITHDRAWN
        )

    def _forget_unstarted(self) -> None:
        """Capture never started: drop the row and the empty file, so no phantom is left."""
        if self.recording_id is None:
            return  # refused before anything was registered
        with _capturing_lock:
            _capturing_here.discard(_capture_key(self.study, self.recording_id))
        with self.study.transaction():
            self.study.db["recordings"].delete(self.recording_id)
            self.study.audit(
                "recording failed to start", self.interview.participant_id, self.interview.id
            )
        with contextlib.suppress(OSError):
            if self.path.exists() and holds_no_audio(self.path):
                self.path.unlink()

    def pause(self) -> None:
        self.recorder.pause()

    def resume(self) -> None:
        self.recorder.resume()

    @property
    def state(self) -> str:
        return self.recorder.state

    def wait(self, seconds: float | None = None) -> RecordingResult:
        try:
            self.recorder.wait(seconds)
        finally:
            result = self.stop()  # Ctrl-C included: everything written is kept
        return result

    def stop(self) -> RecordingResult:
        """Stop capture and register the finished file (idempotent, any thread)."""
        with self._stop_lock:
            if self.result is not None:
                return self.result
            result = self.recorder.stop()
            self.result = result
            self._watch_done.set()
            self._settle_background(result)
            if self.recording_id is not None:
                with _capturing_lock:
                    _capturing_here.discard(_capture_key(self.study, self.recording_id))
                self._register_stop(result)
            return result

    def _settle_background(self, result: RecordingResult) -> None:
        """The file is complete: the background transcriber finishes the stretches in it, or,
        after a withdrawal, stops at once."""
        background, self.background = self.background, None
        if background is None:
            return
        if result.stop_reason == "withdrawn":
            background.stop()
        else:
            background.recording_complete()

    def _register_stop(self, result: RecordingResult) -> None:
        try:
            with self.study.transaction():
                Recordings(self.study.db).update(
                    self.recording_id,  # type: ignore[arg-type]
                    status="complete",
                    duration_s=round(result.duration_s, 3),
                    stop_reason=result.stop_reason,
                    ended_at=now_iso(),
                    pid=None,
                )
                self.study.audit(
                    "recording stopped",
                    self.interview.participant_id,
                    self.interview.id,
                    file=self.path.name,
                    duration_s=round(result.duration_s, 2),
                    reason=result.stop_reason,
                )
                if result.stop_reason == "withdrawn":
                    withdraw_open_interviews(self.study, self.interview.participant_id)
        except sqlite3.Error as error:  # a full disk takes the database with it
            said = result.message or f"recording stopped after {result.duration_s:.1f} s"
            raise FieldkitError(
                f"{said}; the audio is safe in {self.study.paths.relative(self.path)}, but the "
                f"study database could not be updated ({error})",
                "free some disk space: the next start of fieldkit registers the recording",
            ) from None


def begin_recording(
    study: Study,
    participant_id: str,
    wave: str | None,
    settings: CaptureSettings,
    on_level: Callable[[LevelReading], None] | None = None,
    on_audio: Callable[[np.ndarray, float], None] | None = None,
) -> RecordingSession:
    """Headless recording: open (or resume) the interview and start recording it. If capture
    cannot start (no device, disk full …), an interview this call opened is taken back."""
    participant = get_participant(study, participant_id)
    require_consent(participant)
    wave = wave_to_record(study, participant, wave)
    interview, opened_here = open_interview(study, participant.id, wave)
    offset = recorded_seconds(study, interview.id)
    session = RecordingSession(
        study,
        interview,
        settings,
        offset_s=offset,
        on_level=on_level,
        on_audio=on_audio,
        recorder_kind=COMMAND,
    )
    try:
        session.start()
    except BaseException:
        if opened_here:
            _take_back(study, interview)
        raise
    return session


def _take_back(study: Study, interview: InterviewRow) -> None:
    """Remove an interview opened only to record, when the recording never started (and nothing
    has been recorded in it since, by anyone)."""
    with study.transaction():
        if Recordings(study.db).for_interview(interview.id) or Events(study.db).for_interview(
            interview.id
        ):
            return  # someone else is using it meanwhile (the app, another recording)
        study.db["interviews"].delete(interview.id)
        study.audit(
            "interview start taken back: recording could not start",
            interview.participant_id,
            None,
            wave=interview.wave,
        )


def start_live_guard(
    study: Study,
    session: RecordingSession,
    tracker: GuardTracker,
    on_event: Callable[[GuardEvent], None],
    on_status: Callable[[LiveStatus], None] | None = None,
    store: bool = True,
) -> LiveGuard | None:
    """Start the live guard for a two-channel recording, if the study wants it and there are
    guarded terms. With `store`, every event it finds is stored with the interview at once
    (the app stores them itself, on its own thread, when it shows them)."""
    if not study.config.transcription.live_guard or not tracker.terms:
        return None
    if session.settings.channels != 2 or len(session.channel_map) != 2:
        return None
    from fieldkit.services.interviews import store_guard_event
    from fieldkit.services.transcription import model_choice, vocabulary

    _, model_dir = model_choice(study, None)

    def handle(event: GuardEvent) -> None:
        if store:
            store_guard_event(study, session.interview, event)
        on_event(event)

    guard = LiveGuard(
        tracker,
        model_dir,
        session.channel_map,
        session.settings.samplerate,
        vocabulary=vocabulary(study),
        offset_s=session.offset_s,
        on_event=handle,
        on_status=on_status,
    )
    guard.start()
    return guard


def finish_interview(study: Study, session: RecordingSession) -> InterviewRow:
    """End the interview after its (last) recording; its duration is what its recordings hold.
    An interview withdrawn during the recording stays withdrawn."""
    return end_interview(study, session.interview.id)


# -- withdrawal ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoppedRecording:
    path: str
    recorder: str  # "the fieldkit app (PID 4242)"
    stopped: bool  # False: still running when the wait ran out
    kept_s: float


def wait_for_withdrawn_recordings(
    study: Study, participant_id: str, wait_s: float = WITHDRAW_WAIT_S
) -> list[StoppedRecording]:
    """After consent was withdrawn: the participant's recordings in progress (in any process)
    stop by themselves within a second; wait for them, and say what each kept."""
    running = recordings_in_progress(study, participant_id)
    deadline = time.monotonic() + wait_s
    rows = {row.id: row for row in running}
    while time.monotonic() < deadline and any(r.status == "recording" for r in rows.values()):
        time.sleep(0.1)
        rows = {row_id: Recordings(study.db).get(row_id) for row_id in rows}
    return [
        StoppedRecording(
            path=rows[row.id].path,
            recorder=describe_recorder(row),
            stopped=rows[row.id].status != "recording",
            kept_s=rows[row.id].duration_s or 0.0,
        )
        for row in running
    ]


# -- recovery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveredRecording:
    participant_id: str
    wave: str
    path: str
    duration_s: float
    repaired: bool
    # One line when the file was altered or cannot be read (the audio before the damage is kept).
    problem: str = ""
    # Queued for transcription (with `while_recording` on: what was transcribed while it was
    # recorded is kept, and the job goes on from there).
    queued: bool = False


def interrupted_recordings(study: Study) -> list[RecordingRow]:
    """Rows still marked "recording" whose recording process is gone."""
    rows = Recordings(study.db).with_status("recording")
    return [row for row in rows if not is_live(study, row)]


def _epoch(iso: str | None) -> float | None:
    return dt.datetime.fromisoformat(iso).timestamp() if iso else None


def recover_interrupted(study: Study) -> list[RecoveredRecording]:
    """Repair and register every recording a crash cut off. Safe to run at any time.

    What is kept is registered: a WAV up to its last whole frame; an encrypted recording up to
    its last complete chunk, or up to the first chunk that fails authentication (tampering is
    reported in `problem`, never raised). With `while_recording` on, an interview a crash cut
    off is queued for transcription (see `_queue_recovered`)."""
    recovered = []
    for row in interrupted_recordings(study):
        found = recover_recording_file(study.paths.absolute(row.path), study.data_key)
        duration = found.duration_s
        with study.transaction():
            Recordings(study.db).update(
                row.id,
                status="interrupted",
                duration_s=round(duration, 3),
                stop_reason=_recovery_reason(found),
                ended_at=now_iso(),
                pid=None,
            )
            interview = Interviews(study.db).get(row.interview_id)
            total = round(recorded_seconds(study, interview.id), 2)
            if interview.status is InterviewStatus.IN_PROGRESS:
                Interviews(study.db).update(
                    interview.id,
                    status=InterviewStatus.INTERRUPTED,
                    duration_s=total,
                    ended_at=now_iso(),
                )
            elif interview.status is not InterviewStatus.NOT_STARTED:
                Interviews(study.db).update(interview.id, duration_s=total)
            study.audit(
                "recording recovered after interruption",
                interview.participant_id,
                interview.id,
                file=Path(row.path).name,
                duration_s=round(duration, 2),
                repaired=found.repaired,
                outcome=found.outcome,
            )
        recovered.append(
            RecoveredRecording(
                interview.participant_id,
                interview.wave,
                row.path,
                duration,
                found.repaired,
                found.problem,
                queued=_queue_recovered(study, interview.id),
            )
        )
    return recovered


def _queue_recovered(study: Study, interview_id: int) -> bool:
    """An interview cut off by a crash is over (interrupted). If it was being transcribed while
    recorded, its transcription goes on: queue it (the job resumes after the stretches already
    stored). Never raises: recovery must finish whatever else happens."""
    from fieldkit.services.transcription import enqueue

    interview = Interviews(study.db).get(interview_id)
    if not study.config.transcription.while_recording:
        return False
    if interview.status is not InterviewStatus.INTERRUPTED or not interview.duration_s:
        return False
    try:
        return enqueue(study, interview) is not None
    except FieldkitError:  # no consent, no usable model …: `fieldkit transcribe` says why
        return False


def _recovery_reason(found: RecoveredFile) -> str:
    return {
        "empty": "interrupted before any audio was written",
        "tampered": "interrupted; part of the file fails authentication",
        "unreadable": "interrupted; the file cannot be read",
    }.get(found.outcome, "interrupted")


# -- import ----------------------------------------------------------------------------------


def parse_channel_map(text: str | None, channels: int, default: tuple[str, ...]) -> tuple[str, ...]:
    if channels == 1:
        return ()
    names = tuple(n.strip() for n in text.split(",")) if text else default
    allowed = {"interviewer", "participant"}
    if len(names) != 2 or set(names) != allowed:
        raise FieldkitError(
            f"channel map {text!r} must name both speakers once",
            "use --channel-map interviewer,participant or participant,interviewer",
        )
    return names


def import_recording(
    study: Study,
    participant_id: str,
    source: Path,
    wave: str | None = None,
    channel_map: str | None = None,
) -> InterviewRow:
    """Register a recording made on a handheld recorder as an ended interview."""
    from fieldkit.audio.importer import import_audio_file
    from fieldkit.audio.reader import inspect_audio

    participant = get_participant(study, participant_id)
    require_consent(participant)
    wave = wave_to_record(study, participant, wave)
    _check_wave_free(study, participant.id, wave)
    if not source.is_file():
        raise AudioError(f"cannot read {source}: no such file", "check the path")
    info = inspect_audio(source)  # unreadable → one line, nothing copied
    if info.channels > 2:
        raise AudioError(
            f"{source.name} has {info.channels} channels", "export it as mono or stereo first"
        )
    mapping = parse_channel_map(channel_map, info.channels, study.config.recording.channel_map)
    # In an encrypted study the audio is encrypted as it is copied in (never a plain copy).
    copied, info = import_audio_file(
        source, study.paths.audio, f"{participant.id}_{wave}", key=study.data_key
    )
    try:
        with study.transaction():  # checked again under the write lock
            require_consent(get_participant(study, participant.id))
            _check_wave_free(study, participant.id, wave)
            repo = Interviews(study.db)
            interview_id = repo.insert(
                participant_id=participant.id,
                wave=wave,
                status=InterviewStatus.ENDED.value,
                schedule_id=study.schedule().id,
                schedule_path=study.config.schedule,
                interviewer=study.actor,
                started_at=dt.datetime.fromtimestamp(source.stat().st_mtime)
                .astimezone()
                .isoformat(timespec="seconds"),
                ended_at=now_iso(),
                duration_s=round(info.duration_s, 2),
                channel_map=mapping,
            )
            Recordings(study.db).insert(
                interview_id=interview_id,
                path=study.paths.relative(copied),
                samplerate=info.samplerate,
                channels=info.channels,
                channel_map=mapping,
                source="import",
                device=source.name,
                offset_s=0.0,
                duration_s=round(info.duration_s, 3),
                status="complete",
                stop_reason="imported",
                started_at=now_iso(),
                ended_at=now_iso(),
            )
            study.audit(
                "audio imported",
                participant.id,
                interview_id,
                file=copied.name,
                original=source.name,
                duration_s=round(info.duration_s, 2),
            )
    except BaseException:
        copied.unlink(missing_ok=True)  # the copy is ours; the original is untouched
        raise
    return Interviews(study.db).get(interview_id)


def _check_wave_free(study: Study, participant_id: str, wave: str) -> None:
    if Interviews(study.db).find(participant_id, wave) is not None:
        raise FieldkitError(
            f"participant {participant_id} already has an interview in wave {wave!r}",
            "choose another wave with --wave",
        )
