"""fieldkit transcribe, transcript show, audit, models."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time

import click

from fieldkit.cli.common import echo_json, with_study
from fieldkit.core.guard import format_clock
from fieldkit.core.turns import build_turns, speaker_label
from fieldkit.errors import ConsentError, FieldkitError
from fieldkit.services.study import Study
from fieldkit.services.transcription import (
    MAX_WORKER_CRASHES,
    WORKER_BUSY_EXIT,
    audit_interview,
    available_models,
    enqueue,
    get_job,
    interviews_to_transcribe,
    load_transcript,
    machine_transcript,
    running_worker_pid,
    start_worker,
    stop_worker,
)
from fieldkit.store.repo import InterviewRow, JobRow

POLL_S = 0.3
WORKER_EXIT_S = 15.0
BUSY_RETRY_S = 2.0  # while another worker holds the queue, look again this often


@click.command("transcribe")
@click.argument("participant_ids", nargs=-1, metavar="[PID]...")
@click.option("--all", "everything", is_flag=True, help="Every ended, untranscribed interview.")
@click.option("--wave", metavar="W", help="Only interviews in this wave.")
@click.option("--model", metavar="M", help="Model name (fieldkit models) or a local model folder.")
@with_study
def transcribe_command(
    study: Study,
    participant_ids: tuple[str, ...],
    everything: bool,
    wave: str | None,
    model: str | None,
) -> None:
    """Transcribe interviews locally (in a worker process), with a progress bar."""
    chosen = interviews_to_transcribe(study, participant_ids, everything, wave)
    jobs: dict[int, InterviewRow] = {}
    for interview in chosen:
        try:
            job = enqueue(study, interview, model)
        except ConsentError as error:  # only --all gets here: a named one was refused before
            click.echo(f"{interview.participant_id} {interview.wave}: {error.message}")
            continue
        if job is None:
            click.echo(f"{interview.participant_id} {interview.wave}: already transcribed")
        else:
            jobs[job.id] = interview
    if not jobs:
        if not chosen:
            click.echo("nothing to transcribe")
        return
    failed = _follow(study, jobs)
    if failed:
        sys.exit(1)


class WorkerWatch:
    """Our worker process, started again when it exits while our jobs still wait.

    A worker that exits with WORKER_BUSY_EXIT found another one working off the queue (the app's,
    or a second `fieldkit transcribe`): that one does our jobs too, so we wait for it, and look
    again every few seconds in case it goes. Any other exit is a stopped worker: the next one
    queues its job again (failing it after MAX_WORKER_CRASHES), but a worker that keeps stopping
    without any job moving on is an error."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self.process = start_worker(study)
        self.started = time.monotonic()
        self.stops_without_progress = 0
        self.told_waiting = False

    def check(self, progressed: bool) -> None:
        if progressed:
            self.stops_without_progress = 0
        code = self.process.poll()
        if code is None:
            return
        if code == WORKER_BUSY_EXIT:
            self._tell_waiting()
            if time.monotonic() - self.started < BUSY_RETRY_S:
                return
        else:
            self.stops_without_progress += 1
            if self.stops_without_progress > MAX_WORKER_CRASHES + 1:
                raise FieldkitError(
                    "the transcription worker keeps stopping",
                    f"see {self.study.root / 'logs' / 'transcribe.log'}",
                )
        self.process = start_worker(self.study)
        self.started = time.monotonic()

    def _tell_waiting(self) -> None:
        if self.told_waiting:
            return
        self.told_waiting = True
        pid = running_worker_pid(self.study)
        which = f" (PID {pid})" if pid and pid > 0 else ""
        click.echo(
            f"another transcription worker{which} is working off the queue: waiting for it",
            err=True,
        )


def _follow(study: Study, jobs: dict[int, InterviewRow]) -> int:
    """Run the worker and show progress until every job has finished; return how many failed."""
    total = sum(i.duration_s or 0.0 for i in jobs.values()) or float(len(jobs))
    weight = {jid: (i.duration_s or 0.0) or 1.0 for jid, i in jobs.items()}
    watch = WorkerWatch(study)
    pending, failed = set(jobs), 0
    summaries: list[str] = []
    try:
        with click.progressbar(
            length=int(total * 10),
            label="transcribing",
            file=sys.stderr if sys.stderr.isatty() else io.StringIO(),  # a bar only on a terminal
            show_eta=True,
        ) as bar:
            shown = 0
            seen = {jid: (None, None) for jid in jobs}
            while pending:
                time.sleep(POLL_S)
                rows = {jid: get_job(study, jid) for jid in jobs}
                for jid in sorted(pending):
                    row = rows[jid]
                    if row.status in ("done", "failed"):
                        pending.discard(jid)
                        failed += row.status == "failed"
                        summaries.append(_summary(study, jobs[jid], row))
                done = sum(
                    weight[j] * (1.0 if j not in pending else (rows[j].progress or 0)) for j in jobs
                )
                bar.update(int(done * 10) - shown)
                shown = int(done * 10)
                now_seen = {jid: (row.status, row.crashes) for jid, row in rows.items()}
                progressed, seen = now_seen != seen, now_seen
                if pending:
                    watch.check(progressed)
    except KeyboardInterrupt:
        stop_worker(watch.process)
        click.echo("\nstopped; unfinished jobs stay queued and resume next time", err=True)
        sys.exit(130)
    # The worker leaves once the queue is empty: wait for it, so no process outlives the command.
    with contextlib.suppress(subprocess.TimeoutExpired):
        watch.process.wait(timeout=WORKER_EXIT_S)
    for line in summaries:
        click.echo(line)
    return failed


def _summary(study: Study, interview: InterviewRow, job: JobRow) -> str:
    name = f"{interview.participant_id} {interview.wave}"
    if job.status == "failed":
        return f"{name}: failed: {job.message}"
    segments = machine_transcript(study, interview.id)
    words = sum(len(s.words) for s in segments)
    speakers = sorted({s.speaker.value for s in segments}) or ["-"]
    took = ""
    if job.started_at and job.finished_at:
        from datetime import datetime

        seconds = (
            datetime.fromisoformat(job.finished_at) - datetime.fromisoformat(job.started_at)
        ).total_seconds()
        took = f" in {seconds:.0f} s"
    audio = format_clock(interview.duration_s or 0.0)
    return (
        f"{name}: {audio} of audio → {len(segments)} segments, {words} words "
        f"({', '.join(speakers)}){took}, model {job.model}"
    )


@click.group("transcript")
def transcript_group() -> None:
    """Read transcripts."""


@transcript_group.command("show")
@click.argument("participant_id", metavar="PID")
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@click.option("--revision", type=int, metavar="N", help="Revision (0 = machine transcript).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def transcript_show(
    study: Study, participant_id: str, wave: str | None, revision: int | None, as_json: bool
) -> None:
    """Print a transcript as speaker turns with timestamps."""
    view = load_transcript(study, participant_id, wave, revision)
    if as_json:
        echo_json(view.to_json())
        return
    click.echo(f"# {view.participant_id} · {view.wave} · revision {view.revision} ({view.kind})")
    for turn in build_turns(view.segments):
        label = speaker_label(turn.speaker, view.participant_id)
        click.echo(f"[{format_clock(turn.start)}] {label}: {turn.text}")


@transcript_group.command("history")
@click.argument("participant_id", metavar="PID")
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def transcript_history(study: Study, participant_id: str, wave: str | None, as_json: bool) -> None:
    """Every revision: who made it, when, and what changed (revision 0 = machine transcript)."""
    from fieldkit.services.revisions import revision_history
    from fieldkit.services.transcription import find_interview

    interview = find_interview(study, participant_id, wave)
    history = revision_history(study, interview)
    if as_json:
        echo_json([h.to_json() for h in history])
        return
    if not history:
        raise FieldkitError(
            f"interview {interview.participant_id} ({interview.wave}) has no transcript yet",
            f"run: fieldkit transcribe {interview.participant_id}",
        )
    click.echo(f"# {interview.participant_id} · {interview.wave}")
    for h in history:
        click.echo(
            f"{h.revision:>3}  {h.created_at}  {h.kind:<12} {h.created_by or '-':<16} {h.summary}"
        )
    click.echo(f"see one: fieldkit transcript show {interview.participant_id} --revision N")


@click.command("audit")
@click.argument("participant_id", metavar="PID")
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def audit_command(study: Study, participant_id: str, wave: str | None, as_json: bool) -> None:
    """Check the transcript against the guarded-term rule (a report: exit 0 even with breaches)."""
    report = audit_interview(study, participant_id, wave)
    if as_json:
        echo_json(report.to_json())
        return
    for note in report.notes:
        click.echo(f"note: {note}")
    for term in report.terms:
        if term.first_used_at is None:
            click.echo(f"{term.term}: never said")
            continue
        who = term.first_used_by or "an unattributed speaker"
        click.echo(f"{term.term}: first said by {who} at {format_clock(term.first_used_at)}")
        for v in term.violations:
            click.echo(
                f"  BREACH at {format_clock(v.at)}: interviewer said it first — “{v.context}”"
            )
        if term.raised_at is not None:
            asked = (
                f"asked at {format_clock(term.follow_up_at)}"
                if term.follow_up_asked and term.follow_up_at is not None
                else "not asked"
            )
            click.echo(f"  follow-up probe: {asked}")
        if term.live is not None:
            click.echo(f"  live guard: {term.live.summary}")
        click.echo(f"  uses: {len(term.uses)}")


@click.command("models")
@with_study
def models_command(study: Study) -> None:
    """List the local transcription models; * marks the default."""
    for info in available_models(study):
        mark = "*" if info.is_default else " "
        state = "ok" if info.problem is None else f"unusable: {info.problem}"
        click.echo(f"{mark} {info.name:<12} {info.path}  ({state})")


COMMANDS = [transcribe_command, transcript_group, audit_command, models_command]
