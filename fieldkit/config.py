"""study.toml: the study's settings, read and validated into a typed StudyConfig."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from fieldkit.errors import StudyConfigError

DEFAULT_SCHEDULE = "ccu-staff-commencement.yaml"
DEFAULT_ID_TEMPLATE = "INTSTA{number:03d}-{role}"


@dataclass(frozen=True)
class RecordingSettings:
    samplerate: int = 16000
    channels: int = 2
    channel_map: tuple[str, ...] = ("interviewer", "participant")
    disk_margin_mb: int = 500


@dataclass(frozen=True)
class TranscriptionSettings:
    model: str = "tiny.en"
    models: dict[str, str] = field(default_factory=dict)  # name -> local CTranslate2 folder
    vocabulary: tuple[str, ...] = ("peer support worker", "CCU", "community care unit")
    live_guard: bool = True


# Paragraphs are separated by blank lines; a single line break inside a paragraph is a space.
DEFAULT_COVER_NOTE = """Dear {participant},

Thank you for taking part in the {study} ({wave} interview). This is the transcript of
our conversation. Please read it. You may delete anything you would rather we did not use, and
add anything you would like to say.

Please leave the start of each turn, such as "[00:12] Interviewer:", as it is and write your
changes after it. Please also leave the document ID at the end as it is.

Please send it back to us by {deadline}. If you have no changes, you can simply tell us that you
approve it.
"""

COVER_NOTE_FIELDS = frozenset({"participant", "wave", "deadline", "study"})
WITHDRAWN_DATA_CHOICES = ("keep", "delete")


@dataclass(frozen=True)
class ApprovalSettings:
    """[approval] in study.toml: the study's policy for returning transcripts to participants."""

    response_days: int = 14
    no_response_counts_as_approval: bool = False
    withdrawn_data: str = "keep"  # keep | delete: what a withdrawal does to the interview's data
    cover_note: str = DEFAULT_COVER_NOTE


@dataclass(frozen=True)
class StudyConfig:
    title: str
    ethics_reference: str = ""
    sites: tuple[str, ...] = ("Site 1", "Site 2")
    roles: tuple[str, ...] = ("PEER", "CLIN")
    role_labels: dict[str, str] = field(default_factory=dict)
    id_template: str = DEFAULT_ID_TEMPLATE
    waves: tuple[str, ...] = ("commencement", "follow-up")
    guarded_terms: tuple[str, ...] = ("recovery",)
    schedule: str = f"schedules/{DEFAULT_SCHEDULE}"
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    transcription: TranscriptionSettings = field(default_factory=TranscriptionSettings)
    approval: ApprovalSettings = field(default_factory=ApprovalSettings)
    interviewers: tuple[str, ...] = ()  # [study] interviewers: names the methods paragraph gives
    # Anything later issues add (approval policy, de-identification) rides along untouched.
    extra: dict[str, Any] = field(default_factory=dict)

    def participant_id(self, number: int, role: str, site: str) -> str:
        return self.id_template.format(number=number, role=role, site=site)


def default_config(title: str) -> StudyConfig:
    return StudyConfig(
        title=title,
        role_labels={"PEER": "Peer support worker", "CLIN": "Clinical staff"},
    )


def config_to_toml(config: StudyConfig) -> str:
    data: dict[str, Any] = {
        "study": {
            "title": config.title,
            "ethics_reference": config.ethics_reference,
            "sites": list(config.sites),
            "roles": list(config.roles),
            "waves": list(config.waves),
            "participant_id_template": config.id_template,
            "schedule": config.schedule,
            **({"interviewers": list(config.interviewers)} if config.interviewers else {}),
        },
        "roles": dict(config.role_labels),
        "guard": {"terms": list(config.guarded_terms)},
        "recording": {
            "samplerate": config.recording.samplerate,
            "channels": config.recording.channels,
            "channel_map": list(config.recording.channel_map),
            "disk_margin_mb": config.recording.disk_margin_mb,
        },
        "transcription": {
            "model": config.transcription.model,
            "vocabulary": list(config.transcription.vocabulary),
            "live_guard": config.transcription.live_guard,
            "models": dict(config.transcription.models),
        },
        "approval": {
            "response_days": config.approval.response_days,
            "no_response_counts_as_approval": config.approval.no_response_counts_as_approval,
            "withdrawn_data": config.approval.withdrawn_data,
            "cover_note": config.approval.cover_note,
        },
    }
    data.update(config.extra)
    header = (
        "# fieldkit study settings. Edit with care: `fieldkit` checks this file on every start.\n"
        "# participant_id_template fields: {number} (one running number across roles),\n"
        "# {role} and {site}.\n\n"
    )
    return header + tomli_w.dumps(data, multiline_strings=True)


def write_config(path: Path, config: StudyConfig) -> None:
    path.write_text(config_to_toml(config), encoding="utf-8")


def load_config(path: Path) -> StudyConfig:
    """Read and validate study.toml; any problem is one StudyConfigError line naming the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyConfigError(
            f"{path} is not valid TOML: {exc}", "fix the line it names, or restore a backup"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyConfigError(
            f"cannot read {path}: {exc}", "check the file exists and is text"
        ) from None
    return _parse(raw, path)


def _parse(raw: dict[str, Any], path: Path) -> StudyConfig:
    reader = _Reader(raw, path)
    study = reader.table("study")
    title = reader.string(study, "study.title")
    sites = reader.strings(study, "study.sites", default=("Site 1", "Site 2"), non_empty=True)
    roles = reader.strings(study, "study.roles", default=("PEER", "CLIN"), non_empty=True)
    waves = reader.strings(
        study, "study.waves", default=("commencement", "follow-up"), non_empty=True
    )
    template = reader.string(study, "study.participant_id_template", DEFAULT_ID_TEMPLATE)
    _check_template(template, path)
    rec = reader.table("recording", required=False)
    channel_map = reader.strings(rec, "recording.channel_map", ("interviewer", "participant"))
    recording = RecordingSettings(
        samplerate=reader.integer(rec, "recording.samplerate", 16000),
        channels=reader.integer(rec, "recording.channels", 2),
        channel_map=channel_map,
        disk_margin_mb=reader.integer(rec, "recording.disk_margin_mb", 500),
    )
    if recording.channels not in (1, 2):
        raise reader.problem("recording.channels", "must be 1 or 2")
    if recording.samplerate not in (16000, 44100, 48000):
        raise reader.problem("recording.samplerate", "must be 16000, 44100 or 48000")
    tr = reader.table("transcription", required=False)
    transcription = TranscriptionSettings(
        model=reader.string(tr, "transcription.model", "tiny.en"),
        models={k: str(v) for k, v in reader.mapping(tr, "transcription.models").items()},
        vocabulary=reader.strings(tr, "transcription.vocabulary", TranscriptionSettings.vocabulary),
        live_guard=reader.boolean(tr, "transcription.live_guard", True),
    )
    guard = reader.table("guard", required=False)
    known = {"study", "roles", "guard", "recording", "transcription", "approval"}
    return StudyConfig(
        title=title,
        ethics_reference=reader.string(study, "study.ethics_reference", ""),
        sites=sites,
        roles=roles,
        role_labels={k: str(v) for k, v in reader.mapping(raw, "roles").items()},
        id_template=template,
        waves=waves,
        guarded_terms=reader.strings(guard, "guard.terms", ("recovery",)),
        schedule=reader.string(study, "study.schedule", f"schedules/{DEFAULT_SCHEDULE}"),
        recording=recording,
        transcription=transcription,
        approval=_approval(reader),
        interviewers=reader.strings(study, "study.interviewers", ()),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _approval(reader: _Reader) -> ApprovalSettings:
    table = reader.table("approval", required=False)
    settings = ApprovalSettings(
        response_days=reader.integer(table, "approval.response_days", 14),
        no_response_counts_as_approval=reader.boolean(
            table, "approval.no_response_counts_as_approval", False
        ),
        withdrawn_data=reader.string(table, "approval.withdrawn_data", "keep"),
        cover_note=reader.string(table, "approval.cover_note", DEFAULT_COVER_NOTE),
    )
    if not 1 <= settings.response_days <= 365:
        raise reader.problem("approval.response_days", "must be between 1 and 365 days")
    if settings.withdrawn_data not in WITHDRAWN_DATA_CHOICES:
        raise reader.problem("approval.withdrawn_data", 'must be "keep" or "delete"')
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(settings.cover_note) if name}
    except ValueError as exc:
        raise reader.problem("approval.cover_note", f"is not a valid template ({exc})") from None
    unknown = fields - COVER_NOTE_FIELDS
    if unknown:
        raise reader.problem(
            "approval.cover_note",
            f"uses unknown field(s) {', '.join(sorted(unknown))}: "
            "only {participant}, {wave}, {deadline} and {study}",
        )
    return settings


def _check_template(template: str, path: Path) -> None:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if "number" not in fields or not fields <= {"number", "role", "site"}:
        raise StudyConfigError(
            f"{path}: study.participant_id_template must use {{number}} and only "
            f"{{number}}, {{role}}, {{site}} (got {template!r})",
            'e.g. participant_id_template = "INTSTA{number:03d}-{role}"',
        )


class _Reader:
    """Typed access to the raw TOML with one clear error per wrong key."""

    def __init__(self, raw: dict[str, Any], path: Path) -> None:
        self.raw = raw
        self.path = path

    def problem(self, key: str, what: str) -> StudyConfigError:
        return StudyConfigError(f"{self.path}: {key} {what}", "edit study.toml and try again")

    def table(self, key: str, required: bool = True) -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.problem(f"[{key}]", "is missing")
            return {}
        if not isinstance(value, dict):
            raise self.problem(key, "must be a table")
        return value

    def mapping(self, table: dict[str, Any], key: str) -> dict[str, Any]:
        value = table.get(key.rsplit(".", 1)[-1], {})
        if not isinstance(value, dict):
            raise self.problem(key, "must be a table")
        return value

    def string(self, table: dict[str, Any], key: str, default: str | None = None) -> str:
        value = table.get(key.rsplit(".", 1)[-1], default)
        if value is None:
            raise self.problem(key, "is missing")
        if not isinstance(value, str):
            raise self.problem(key, "must be a string")
        return value

    def integer(self, table: dict[str, Any], key: str, default: int) -> int:
        value = table.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.problem(key, "must be a whole number")
        return value

    def boolean(self, table: dict[str, Any], key: str, default: bool) -> bool:
        value = table.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.problem(key, "must be true or false")
        return value

    def strings(
        self,
        table: dict[str, Any],
        key: str,
        default: tuple[str, ...],
        non_empty: bool = False,
    ) -> tuple[str, ...]:
        value = table.get(key.rsplit(".", 1)[-1], list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.problem(key, "must be a list of non-empty strings")
        if non_empty and not value:
            raise self.problem(key, "must not be empty")
        return tuple(value)
