"""fieldkit record, devices, recover, import-audio."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import numpy as np

from fieldkit.audio.capture import LevelReading
from fieldkit.cli.common import with_study
from fieldkit.core.guard import GuardEvent
from fieldkit.errors import FieldkitError
from fieldkit.services.interviews import stored_tracker
from fieldkit.services.live_guard import LiveGuard, LiveStatus, guard_line
from fieldkit.services.recording import (
    RecordingSession,
    begin_recording,
    capture_settings,
    finish_interview,
    import_recording,
    input_devices,
    recover_interrupted,
    start_live_guard,
)
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow


def format_clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class LevelLine:
    """A one-line live meter on stderr when it is a terminal (at most a few redraws a second)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, reading: LevelReading) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.25:
            return
        self.last = now
        meters = " ".join(
            f"{db:6.1f} dBFS{' CLIP' if c else ''}"
            for db, c in zip(reading.rms_dbfs, reading.clipping, strict=True)
        )
        click.echo(f"\r{format_clock(reading.at)}  {meters}   ", nl=False, err=True)

    def clear(self) -> None:
        if self.enabled:
            click.echo("\r" + " " * 60 + "\r", nl=False, err=True)


LIVE_DRAIN_S = 8.0  # after recording, let the live guard judge the last chunks


class LiveFeed:
    """Routes recorded audio to the live guard (once it runs) and prints its events."""

    def __init__(self, meter: LevelLine) -> None:
        self.guard: LiveGuard | None = None
        self.meter = meter

    def feed(self, block: np.ndarray, at: float) -> None:
        if self.guard is not None:
            self.guard.feed(block, at)

    def on_event(self, event: GuardEvent) -> None:
        line = guard_line(event)
        if line:
            self.meter.clear()
            click.echo(line)

    def on_status(self, status: LiveStatus) -> None:
        if status.state in ("behind", "failed"):
            self.meter.clear()
            click.echo(status.message, err=True)

    def close(self, session: RecordingSession) -> None:
        if self.guard is None:
            return
        # After a withdrawal the guard hears nothing more of what was said.
        withdrawn = session.result is not None and session.result.stop_reason == "withdrawn"
        self.guard.close(drain_s=0.0 if withdrawn else LIVE_DRAIN_S)


class TranscriptWait:
    """With `while_recording` on, `fieldkit record` stays until the transcript is stored: most
    of it was decoded while recording, the worker decodes the tail. It says "transcript ready"
    (and how long after the recording ended), then exits. Ctrl-C while waiting leaves the
    worker to finish in the background."""

    def __init__(self, study: Study, interview: InterviewRow, job_id: int) -> None:
        self.study, self.interview, self.job_id = study, interview, job_id

    @classmethod
    def start(cls, study: Study, interview: InterviewRow) -> TranscriptWait | None:
        """Queue the interview and start a worker (one that Ctrl-C does not stop); None when
        nothing is to be transcribed now (setting off, withdrawn, nothing recorded)."""
        from fieldkit.services.transcription import queue_transcript_now

        if not study.config.transcription.while_recording:
            return None
        try:
            job = queue_transcript_now(study, interview)
        except FieldkitError as error:
            click.echo(f"warning: not transcribed: {error.one_line()}", err=True)
            return None
        return None if job is None else cls(study, interview, job.id)

    def wait(self, stopped_at: float) -> None:
        from fieldkit.services.transcription import follow_job

        who = self.interview.participant_id
        click.echo("transcribing the rest of the interview…", err=True)
        try:
            job = follow_job(self.study, self.job_id)
        except KeyboardInterrupt:
            click.echo(
                "\nthe transcript is finished in the background (`fieldkit interviews` shows "
                "when); the recording is kept",
                err=True,
            )
            sys.exit(130)
        if job.status != "done":
            click.echo(f"error: {job.message}; the recording is kept", err=True)
            sys.exit(1)
        took = time.monotonic() - stopped_at
        click.echo(
            f"transcript ready {took:.1f} s after the recording ended: "
            f"fieldkit transcript show {who}",
            err=True,
        )


@click.command("record")
@click.argument("participant_id", metavar="PID")
@click.option(
    "--seconds", type=click.FloatRange(min=0.1), help="Stop after N seconds (default: Ctrl-C)."
)
@click.option(
    "--device", metavar="D", help="Input device: index or part of its name (see fieldkit devices)."
)
@click.option(
    "--channels", type=click.IntRange(1, 2), help="1 (mono) or 2 (one microphone per speaker)."
)
@click.option(
    "--samplerate", type=click.Choice(["16000", "44100", "48000"]), help="Sample rate in Hz."
)
@click.option("--wave", metavar="W", help="Interview wave (default: the participant's next one).")
@click.option(
    "--input",
    "input_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record from this audio file as a virtual microphone, in real time (default: the "
    "study's [recording] input, if study.toml names one).",
)
@with_study
def record_command(
    study: Study,
    participant_id: str,
    seconds: float | None,
    device: str | None,
    channels: int | None,
    samplerate: str | None,
    wave: str | None,
    input_file: Path | None,
) -> None:
    """Record an interview with PID until --seconds, the end of --input, or Ctrl-C."""
    if input_file is None and device is None:  # the study's own virtual microphone, if any
        input_file = study.config.recording.checked_input_file(study.root)
    settings = capture_settings(
        study,
        channels=channels,
        samplerate=int(samplerate) if samplerate else None,
        device=int(device) if device and device.isdigit() else device,
        input_file=input_file,
    )
    meter = LevelLine()
    live = LiveFeed(meter)
    session = begin_recording(
        study, participant_id, wave, settings, on_level=meter, on_audio=live.feed
    )
    click.echo(
        f"recording {session.interview.participant_id} ({session.interview.wave}) → "
        f"{study.paths.relative(session.path)}; Ctrl-C stops",
        err=True,
    )
    live.guard = start_live_guard(
        study, session, stored_tracker(study, session.interview), live.on_event, live.on_status
    )
    try:
        try:
            result = session.wait(seconds)
        except KeyboardInterrupt:
            result = session.stop()
    except BaseException:
        meter.clear()
        live.close(session)
        raise
    stopped_at = time.monotonic()
    meter.clear()
    ended = finish_interview(study, session)
    # The tail of the transcript is decoded while the live guard judges its last chunk.
    transcript = TranscriptWait.start(study, ended)
    live.close(session)
    if result.message:
        click.echo(f"warning: {result.message}", err=True)
    click.echo(f"duration: {format_clock(result.duration_s)} ({result.duration_s:.1f} s)")
    click.echo(str(result.path))
    if transcript is not None:
        transcript.wait(stopped_at)


@click.command("devices")
def devices_command() -> None:
    """List audio input devices; * marks the default."""
    for device in input_devices():
        mark = "*" if device.is_default else " "
        click.echo(
            f"{mark} {device.index:>3}  {device.name}  "
            f"({device.max_channels} ch, {device.default_samplerate:.0f} Hz)"
        )


@click.command("recover")
@with_study
def recover_command(study: Study) -> None:
    """Find recordings a crash cut off, repair them and register them as interrupted."""
    recovered = recover_interrupted(study)
    for item in recovered:
        state = "damaged" if item.problem else "repaired" if item.repaired else "intact"
        queued = "; queued for transcription" if item.queued else ""
        click.echo(
            f"recovered {item.path}: {item.duration_s:.1f} s "
            f"({item.participant_id}, {item.wave}; {state}){queued}"
        )
        if item.problem:  # an encrypted recording altered after it was written
            click.echo(f"warning: {item.problem}", err=True)
    if not recovered:
        click.echo("nothing to recover")


@click.command("import-audio")
@click.argument("participant_id", metavar="PID")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wave", metavar="W", help="Interview wave (default: the participant's next one).")
@click.option(
    "--channel-map",
    metavar="MAP",
    help="Who is on which channel of a stereo file (default: interviewer,participant).",
)
@with_study
def import_audio_command(
    study: Study, participant_id: str, file: Path, wave: str | None, channel_map: str | None
) -> None:
    """Register a recording made on another device (WAV, FLAC, MP3, M4A …) as an interview."""
    interview = import_recording(study, participant_id, file, wave, channel_map)
    minutes = (interview.duration_s or 0) / 60
    click.echo(
        f"imported {file.name}: interview {interview.participant_id} ({interview.wave}), "
        f"{minutes:.1f} min"
    )


COMMANDS = [record_command, devices_command, recover_command, import_audio_command]
