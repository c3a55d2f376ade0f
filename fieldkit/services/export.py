"""Exports for qualitative-analysis software.

Only transcripts ready for analysis (approved) are exported. By default the latest de-identified
revision of each; with `identified=True` (the CLI confirms first) the latest revision that is not
de-identified, written to the audit log. The key (placeholder → original) is never read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.core.schedule import Schedule, load_schedule
from fieldkit.core.turns import build_turns
from fieldkit.core.wording import counted
from fieldkit.errors import FieldkitError, ScheduleError
from fieldkit.export.turns import TIMESTAMP_PLACEMENTS, ExportTranscript, Timestamps, place_topics
from fieldkit.private import private_mkdir
from fieldkit.services.deid import (
    analysis_interviews,
    approved_text,
    latest_deidentified,
    leftover_identifiers,
)
from fieldkit.services.participants import get_participant
from fieldkit.services.study import Study, now_iso
from fieldkit.store.deid_repo import Exports
from fieldkit.store.repo import (
    Events,
    InterviewRow,
    Interviews,
    Participants,
    TranscriptRow,
    Transcripts,
)

FORMATS = ("nvivo-docx", "nvivo-txt", "qdpx", "csv", "json")
SOFTWARE = {
    "nvivo-docx": "NVivo (and any word processor)",
    "nvivo-txt": "NVivo media transcript import",
    "qdpx": "ATLAS.ti, MAXQDA, NVivo (REFI-QDA project)",
    "csv": "R, pandas, spreadsheets",
    "json": "scripts",
}
TIMED_TEXT_FORMATS = ("nvivo-docx", "qdpx")  # where --timestamps places the time in the text


@dataclass(frozen=True)
class ExportResult:
    format: str
    out_dir: Path
    files: list[Path]
    transcripts: list[ExportTranscript]
    identified: bool
    notes: list[str] = field(default_factory=list)  # skipped transcripts, leftover identifiers


def default_out_dir(study: Study, today: dt.date | None = None) -> Path:
    """Where an export goes unless told: <study>/exports/analysis-YYYY-MM-DD."""
    return study.paths.exports / f"analysis-{(today or dt.date.today()).isoformat()}"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise FieldkitError(
            f"unknown export format {fmt!r}", f"choose one of: {', '.join(FORMATS)}"
        )
    return fmt


def check_timestamps(fmt: str, timestamps: str | None) -> Timestamps:
    """Where the time goes in each turn's text: "after" the speaker's label (the default) or
    "none". Only the formats whose turns are lines of text take it."""
    if timestamps is None:
        return "after"
    if fmt not in TIMED_TEXT_FORMATS:
        raise FieldkitError(
            f"--timestamps only applies to {' and '.join(TIMED_TEXT_FORMATS)}",
            f"leave it out: {fmt} keeps each turn's times in their own column",
        )
    for placement in TIMESTAMP_PLACEMENTS:
        if timestamps == placement:
            return placement
    raise FieldkitError(
        f"unknown --timestamps {timestamps!r}", f"choose one of: {', '.join(TIMESTAMP_PLACEMENTS)}"
    )


def export(
    study: Study,
    fmt: str,
    out_dir: Path,
    participant_ids: Sequence[str] = (),
    identified: bool = False,
    timestamps: str | None = None,
    interview_ids: Sequence[int] = (),
) -> ExportResult:
    """Write the chosen transcripts to `out_dir` in `fmt`. Nothing is written if any check fails
    (unknown participant, nothing to export, a file that would be overwritten). `timestamps`:
    see check_timestamps. `interview_ids` narrows the choice to those interviews (the app
    exports the highlighted transcript, one wave of one participant)."""
    check_format(fmt)
    placement = check_timestamps(fmt, timestamps)
    _check_out_dir(out_dir)
    chosen, notes = choose_transcripts(study, participant_ids, identified, interview_ids)
    transcripts = [_export_transcript(study, i, row, identified) for i, row in chosen]
    if not identified:
        notes += _leftover_notes(study, chosen)
    planned = _planned_files(fmt, transcripts)
    clashes = [p.name for p in planned if (out_dir / p).exists()]
    if clashes:
        raise FieldkitError(
            f"{out_dir} already holds {', '.join(clashes[:3])}"
            + (f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""),
            "exports never overwrite: choose an empty or new folder",
        )
    private_mkdir(out_dir, parents=True, exist_ok=True)
    files = _write(study, fmt, out_dir, transcripts, placement)
    _record(study, fmt, out_dir, chosen, files, identified)
    return ExportResult(fmt, out_dir, files, transcripts, identified, notes)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise FieldkitError(f"{out_dir} is a file, not a folder", "name a folder for the export")


def choose_transcripts(
    study: Study,
    participant_ids: Sequence[str],
    identified: bool,
    interview_ids: Sequence[int] = (),
) -> tuple[list[tuple[InterviewRow, TranscriptRow]], list[str]]:
    """(interview, revision) pairs to export, and notes on what was skipped and why."""
    ready = analysis_interviews(study)
    named = [get_participant(study, pid).id for pid in participant_ids]
    for pid in named:
        if not any(i.participant_id == pid for i in ready):
            raise FieldkitError(
                f"participant {pid} has no approved transcript to export",
                "see fieldkit approval status",
            )
    candidates = [i for i in ready if not named or i.participant_id in named]
    if interview_ids:
        _check_ready(study, interview_ids, ready)
        candidates = [i for i in candidates if i.id in interview_ids]
        named = [i.participant_id for i in candidates]  # a transcript asked for is never skipped
    chosen: list[tuple[InterviewRow, TranscriptRow]] = []
    notes: list[str] = []
    for interview in candidates:
        row = (
            approved_text(study, interview) if identified else latest_deidentified(study, interview)
        )
        if row is not None:
            chosen.append((interview, row))
            continue
        message = f"{interview.participant_id} ({interview.wave}) is not de-identified yet"
        if named:
            raise FieldkitError(message, f"fieldkit deidentify {interview.participant_id}")
        notes.append(f"skipped {message}: fieldkit deidentify {interview.participant_id}")
    if not chosen:
        raise FieldkitError(
            "nothing to export: no approved, de-identified transcripts",
            "de-identify approved transcripts first (fieldkit deidentify PID)",
        )
    return chosen, notes


def _check_ready(study: Study, interview_ids: Sequence[int], ready: Sequence[InterviewRow]) -> None:
    ready_ids = {i.id for i in ready}
    for interview_id in interview_ids:
        if interview_id in ready_ids:
            continue
        found = [i for i in Interviews(study.db).all() if i.id == interview_id]
        what = f"{found[0].participant_id} ({found[0].wave})" if found else "that interview"
        raise FieldkitError(
            f"the transcript of {what} is not approved, so it cannot be exported yet",
            "export it once the participant has approved it",
        )


def _schedule_for(study: Study, interview: InterviewRow) -> Schedule | None:
    try:
        if interview.schedule_path:
            path = study.paths.absolute(interview.schedule_path)
            if path.is_file():
                return load_schedule(path)
        return study.schedule()
    except ScheduleError:
        return None  # headings are a convenience: an export still works without them


def topic_markers(study: Study, interview: InterviewRow) -> list[tuple[float, str]]:
    """(time, topic title) of each question marker of the interview."""
    schedule = _schedule_for(study, interview)
    titles = {t.id: t.title for t in schedule.topics} if schedule else {}
    return [
        (event.at, titles.get(event.topic_id, event.topic_id))
        for event in Events(study.db).for_interview(interview.id, "question")
        if event.topic_id
    ]


def _export_transcript(
    study: Study, interview: InterviewRow, row: TranscriptRow, identified: bool
) -> ExportTranscript:
    participant = Participants(study.db).get(interview.participant_id)
    assert participant is not None
    segments = Transcripts(study.db).segments(row.id)
    turns = build_turns(segments)
    return ExportTranscript(
        participant_id=participant.id,
        wave=interview.wave,
        site=participant.site,
        role=participant.role,
        revision=row.revision,
        identified=identified,
        duration_s=interview.duration_s,
        turns=turns,
        topics=place_topics(turns, topic_markers(study, interview)),
    )


def _leftover_notes(study: Study, chosen: list[tuple[InterviewRow, TranscriptRow]]) -> list[str]:
    notes = []
    for interview, row in chosen:
        left = leftover_identifiers(study, Transcripts(study.db).segments(row.id))
        if left:
            notes.append(
                f"warning: {interview.participant_id} ({interview.wave}) still contains "
                f"{counted(len(left), 'listed identifier')} (rejected, or listed after it was "
                f"de-identified): check it, or run fieldkit deidentify {interview.participant_id}"
            )
    return notes


def _planned_files(fmt: str, transcripts: Sequence[ExportTranscript]) -> list[Path]:
    from fieldkit.export.tabular import file_stem

    if fmt == "nvivo-docx":
        return [Path(f"{t.name}.docx") for t in transcripts]
    if fmt == "nvivo-txt":
        return [Path(f"{t.name}.txt") for t in transcripts]
    if fmt == "qdpx":
        stem = "fieldkit-project" + ("_IDENTIFIED" if transcripts[0].identified else "")
        return [Path(f"{stem}.qdpx")]
    return [Path(f"{file_stem(transcripts)}.{fmt}")]


def _write(
    study: Study,
    fmt: str,
    out_dir: Path,
    transcripts: Sequence[ExportTranscript],
    timestamps: Timestamps,
) -> list[Path]:
    from fieldkit.export import nvivo, qdpx, tabular

    paths = [out_dir / p for p in _planned_files(fmt, transcripts)]
    if fmt == "nvivo-docx":
        return [nvivo.write_docx(t, p, timestamps) for t, p in zip(transcripts, paths, strict=True)]
    if fmt == "nvivo-txt":
        return [nvivo.write_txt(t, p) for t, p in zip(transcripts, paths, strict=True)]
    if fmt == "qdpx":
        title = study.config.title
        return [qdpx.write_qdpx(title, transcripts, paths[0], study.actor, timestamps)]
    if fmt == "csv":
        return [tabular.write_csv(transcripts, paths[0])]
    return [tabular.write_json(transcripts, paths[0])]


def _record(
    study: Study,
    fmt: str,
    out_dir: Path,
    chosen: list[tuple[InterviewRow, TranscriptRow]],
    files: list[Path],
    identified: bool,
) -> None:
    listed = [
        {"participant": i.participant_id, "wave": i.wave, "revision": r.revision} for i, r in chosen
    ]
    # Which file holds which transcript, so a withdrawal deletes exactly those files (by path):
    # one file each (NVivo documents), or one file for all.
    one_each = fmt in ("nvivo-docx", "nvivo-txt") and len(files) == len(chosen)
    held = [
        {**entry, "files": [files[n].name] if one_each else [f.name for f in files]}
        for n, entry in enumerate(listed)
    ]
    with study.transaction():
        Exports(study.db).add(
            now_iso(),
            study.actor,
            fmt,
            str(out_dir.resolve()),
            identified,
            held,
            [f.name for f in files],
        )
        study.audit(
            "identified export" if identified else "export",
            format=fmt,
            out_dir=str(out_dir.resolve()),
            transcripts=listed,
            files=len(files),
        )
