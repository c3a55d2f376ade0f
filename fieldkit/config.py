"""study.toml: the study's settings, read and validated into a typed StudyConfig."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from fieldkit.errors import StudyConfigError
from fieldkit.names import SAFE_NAME_RULE, check_safe_name, closest, is_safe_name, suggest
from fieldkit.private import write_private_text

DEFAULT_SCHEDULE = "ccu-staff-commencement.yaml"
DEFAULT_ID_TEMPLATE = "INTSTA{number:03d}-{role}"


@dataclass(frozen=True)
class RecordingSettings:
    samplerate: int = 16000
    channels: int = 2
    channel_map: tuple[str, ...] = ("interviewer", "participant")
    disk_margin_mb: int = 500
    # An audio file recorded from instead of a microphone (a virtual microphone): the demo
    # study's synthesized interview, or a rehearsal. "" (the default): the sound card.
    input: str = ""

    def input_file(self, study_root: Path) -> Path | None:
        """`input` as a path (a relative one is in the study folder), or None: a microphone."""
        if not self.input:
            return None
        path = Path(self.input).expanduser()
        return path if path.is_absolute() else study_root / path

    def checked_input_file(self, study_root: Path) -> Path | None:
        """`input_file`, refused in one line when the file is not there (checked when a
        recording starts, not when the study opens: a study is reviewed without it)."""
        path = self.input_file(study_root)
        if path is not None and not path.is_file():
            raise StudyConfigError(
                f"study.toml's [recording] input names {path}, which is not there",
                "restore the file, or take the input line out of study.toml to record from "
                "the microphone",
            )
        return path


@dataclass(frozen=True)
class TranscriptionSettings:
    model: str = "tiny.en"
    models: dict[str, str] = field(default_factory=dict)  # name -> local CTranslate2 folder
    vocabulary: tuple[str, ...] = ("peer support worker", "CCU", "community care unit")
    live_guard: bool = True
    while_recording: bool = True  # transcribe each finished part while the interview goes on


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
    interviewers: tuple[str, ...] = ()  # names for the methods paragraph
    guarded_terms: tuple[str, ...] = ("recovery",)
    schedule: str = f"schedules/{DEFAULT_SCHEDULE}"
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    transcription: TranscriptionSettings = field(default_factory=TranscriptionSettings)
    approval: ApprovalSettings = field(default_factory=ApprovalSettings)
    # Anything later issues add (approval policy, de-identification) rides along untouched.
    extra: dict[str, Any] = field(default_factory=dict)

    def participant_id(self, number: int, role: str, site: str) -> str:
        # load_config has checked the template makes safe IDs; checked again because an ID
        # becomes part of file names.
        return check_safe_name(
            self.id_template.format(number=number, role=role, site=site), "participant ID"
        )


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
            "interviewers": list(config.interviewers),
            "participant_id_template": config.id_template,
            "schedule": config.schedule,
        },
        "roles": dict(config.role_labels),
        "guard": {"terms": list(config.guarded_terms)},
        "recording": _recording_table(config.recording),
        "transcription": {
            "model": config.transcription.model,
            "vocabulary": list(config.transcription.vocabulary),
            "live_guard": config.transcription.live_guard,
            "while_recording": config.transcription.while_recording,
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


def _recording_table(settings: RecordingSettings) -> dict[str, Any]:
    table: dict[str, Any] = {
        "samplerate": settings.samplerate,
        "channels": settings.channels,
        "channel_map": list(settings.channel_map),
        "disk_margin_mb": settings.disk_margin_mb,
    }
    if not settings.channel_map:  # one channel, speaker not named: the key is left out
        del table["channel_map"]
    if settings.input:  # most studies record from a microphone: the key is left out
        table["input"] = settings.input
    return table


def write_config(path: Path, config: StudyConfig) -> None:
    write_private_text(path, config_to_toml(config))


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


# The keys each known table may hold. A key not listed is a mistake (often a typo such as
# `response-days`) and is refused with a suggestion: silently ignoring it would quietly apply the
# default instead ("keep" rather than "delete" for withdrawn data).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "study": (
        "title",
        "ethics_reference",
        "sites",
        "roles",
        "waves",
        "interviewers",
        "participant_id_template",
        "schedule",
    ),
    "roles": (),  # role code -> label; the codes are checked against study.roles
    "guard": ("terms",),
    "recording": ("samplerate", "channels", "channel_map", "disk_margin_mb", "input"),
    "transcription": ("model", "models", "vocabulary", "live_guard", "while_recording"),
    "approval": ("response_days", "no_response_counts_as_approval", "withdrawn_data", "cover_note"),
}
SPEAKERS = ("interviewer", "participant")


def _parse(raw: dict[str, Any], path: Path) -> StudyConfig:
    reader = _Reader(raw, path)
    _check_top_level(reader)
    study = reader.table("study")
    title = reader.string(study, "study.title")
    sites = reader.names(study, "study.sites", ("Site 1", "Site 2"))
    roles = reader.names(study, "study.roles", ("PEER", "CLIN"))
    waves = reader.names(study, "study.waves", ("commencement", "follow-up"))
    for wave in waves:
        if not is_safe_name(wave):
            raise reader.problem(
                "study.waves", f"has {wave!r}: a wave name may hold {SAFE_NAME_RULE}"
            )
    template = reader.string(study, "study.participant_id_template", DEFAULT_ID_TEMPLATE)
    _check_template(reader, template, sites, roles)
    guard = reader.table("guard", required=False)
    known = set(KNOWN_KEYS)
    return StudyConfig(
        title=title,
        ethics_reference=reader.string(study, "study.ethics_reference", ""),
        sites=sites,
        roles=roles,
        role_labels=_role_labels(reader, roles),
        id_template=template,
        waves=waves,
        interviewers=reader.strings(study, "study.interviewers", ()),
        guarded_terms=reader.strings(guard, "guard.terms", ("recovery",)),
        schedule=reader.string(study, "study.schedule", f"schedules/{DEFAULT_SCHEDULE}"),
        recording=_recording(reader),
        transcription=_transcription(reader),
        approval=_approval(reader),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _check_top_level(reader: _Reader) -> None:
    """Tables fieldkit does not know ride along untouched (later versions add some), but a
    near-miss of a known table, or a known key outside its table, is a mistake."""
    owner = {key: table for table, keys in KNOWN_KEYS.items() for key in keys}
    for key, value in reader.raw.items():
        if key in KNOWN_KEYS:
            continue
        if not isinstance(value, dict) and key in owner:
            raise reader.problem(key, f"belongs inside the [{owner[key]}] table")
        # A stricter cutoff than for keys: a new table (say [encryption]) must not be taken
        # for a misspelt known one ([transcription]).
        if closest(key, KNOWN_KEYS, cutoff=0.75) is not None:
            raise StudyConfigError(
                f"{reader.path}: unknown table [{key}]{suggest(key, tuple(KNOWN_KEYS))}",
                "edit study.toml and try again",
            )


def _role_labels(reader: _Reader, roles: tuple[str, ...]) -> dict[str, str]:
    labels = reader.mapping(reader.raw, "roles")
    for code, label in labels.items():
        if code not in roles:
            raise StudyConfigError(
                f"{reader.path}: [roles] names {code!r}, which is not in study.roles"
                f"{suggest(code, roles)}",
                "edit study.toml and try again",
            )
        if not isinstance(label, str):
            raise reader.problem(f"roles.{code}", "must be a string")
    return dict(labels)


def _recording(reader: _Reader) -> RecordingSettings:
    table = reader.table("recording", required=False)
    channels = reader.integer(table, "recording.channels", 2)
    if channels not in (1, 2):
        raise reader.problem("recording.channels", "must be 1 or 2")
    default_map = SPEAKERS if channels == 2 else ()
    channel_map = reader.strings(table, "recording.channel_map", default_map)
    _check_channel_map(reader, channel_map, channels, "channel_map" in table)
    settings = RecordingSettings(
        samplerate=reader.integer(table, "recording.samplerate", 16000),
        channels=channels,
        channel_map=channel_map,
        disk_margin_mb=reader.integer(table, "recording.disk_margin_mb", 500),
        input=reader.string(table, "recording.input", ""),
    )
    if settings.samplerate not in (16000, 44100, 48000):
        raise reader.problem("recording.samplerate", "must be 16000, 44100 or 48000")
    if settings.disk_margin_mb < 0:
        raise reader.problem("recording.disk_margin_mb", "must be 0 or more (megabytes)")
    if "input" in table and not settings.input.strip():
        raise reader.problem(
            "recording.input", "must name an audio file (or be left out to use a microphone)"
        )
    if "\0" in settings.input:
        raise reader.problem("recording.input", "must be a file's path")
    return settings


def _check_channel_map(
    reader: _Reader, channel_map: tuple[str, ...], channels: int, given: bool
) -> None:
    """Two channels: interviewer and participant once each, in the order of the channels.
    One channel: the one speaker it carries (or, when the key is left out, nobody in particular)."""
    for name in channel_map:
        if name not in SPEAKERS:
            raise StudyConfigError(
                f"{reader.path}: recording.channel_map names unknown speaker {name!r}"
                f"{suggest(name, SPEAKERS)}",
                "edit study.toml and try again",
            )
    if channels == 2 and sorted(channel_map) != sorted(SPEAKERS):
        raise reader.problem(
            "recording.channel_map",
            'must name "interviewer" and "participant" once each for 2 channels '
            '(e.g. ["interviewer", "participant"])',
        )
    if channels == 1 and given and len(channel_map) != 1:
        raise reader.problem(
            "recording.channel_map",
            'must name one speaker for 1 channel (["interviewer"] or ["participant"]), '
            "or be left out",
        )


def _transcription(reader: _Reader) -> TranscriptionSettings:
    table = reader.table("transcription", required=False)
    models = reader.mapping(table, "transcription.models")
    for name, folder in models.items():
        if not isinstance(folder, str):
            raise reader.problem(f"transcription.models.{name}", "must be a folder (a string)")
    return TranscriptionSettings(
        model=reader.string(table, "transcription.model", "tiny.en"),
        models=dict(models),
        vocabulary=reader.strings(
            table, "transcription.vocabulary", TranscriptionSettings.vocabulary
        ),
        live_guard=reader.boolean(table, "transcription.live_guard", True),
        while_recording=reader.boolean(table, "transcription.while_recording", True),
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
    fields = _template_fields(reader, "approval.cover_note", settings.cover_note)
    unknown = fields - COVER_NOTE_FIELDS
    if unknown:
        raise reader.problem(
            "approval.cover_note",
            f"uses unknown {'field' if len(unknown) == 1 else 'fields'} "
            f"{', '.join(sorted(unknown))}: "
            "only {participant}, {wave}, {deadline} and {study}",
        )
    sample = dict.fromkeys(COVER_NOTE_FIELDS, "x")
    _format_sample(reader, "approval.cover_note", settings.cover_note, sample)
    return settings


def _template_fields(reader: _Reader, key: str, template: str) -> set[str]:
    """The {names} a format template uses ("" for a positional {})."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise reader.problem(key, f"is not a valid template ({exc})") from None


def _format_sample(reader: _Reader, key: str, template: str, values: dict[str, Any]) -> str:
    """Fill the template once now, so a bad format spec is found at load, not mid-command."""
    try:
        return template.format(**values)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise reader.problem(key, f"is not a valid template ({exc})") from None


def _check_template(
    reader: _Reader, template: str, sites: tuple[str, ...], roles: tuple[str, ...]
) -> None:
    """The participant-ID template must make a distinct, file-name-safe ID for every number,
    role and site: IDs become part of recording and export file names."""
    key = "study.participant_id_template"
    fields = _template_fields(reader, key, template)
    if "number" not in fields or not fields <= {"number", "role", "site"}:
        raise StudyConfigError(
            f"{reader.path}: {key} must use {{number}} and only "
            f"{{number}}, {{role}}, {{site}} (got {template!r})",
            'e.g. participant_id_template = "INTSTA{number:03d}-{role}"',
        )
    for field_name, values in (("role", roles), ("site", sites)):
        if field_name not in fields:
            continue
        for value in values:
            if not is_safe_name(value):
                raise reader.problem(
                    f"study.{field_name}s",
                    f"has {value!r}, which enters participant IDs through {{{field_name}}} in "
                    f"{key}: it may then hold {SAFE_NAME_RULE}",
                )
    for role in roles:
        for site in sites:
            first, second = (
                _format_sample(reader, key, template, {"number": n, "role": role, "site": site})
                for n in (1, 2)
            )
            if first == second:
                raise reader.problem(key, f"makes the same ID {first!r} for every number")
            if not is_safe_name(first):
                raise reader.problem(
                    key, f"makes IDs like {first!r}: an ID may hold {SAFE_NAME_RULE}"
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
        allowed = KNOWN_KEYS.get(key, ())
        for name in value:
            if allowed and name not in allowed:
                raise StudyConfigError(
                    f"{self.path}: unknown key {name!r} in [{key}]{suggest(name, allowed)}",
                    "edit study.toml and try again",
                )
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

    def names(self, table: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """A non-empty list of names a user picks from (sites, roles, waves): each once."""
        names = self.strings(table, key, default, non_empty=True)
        seen: set[str] = set()
        for name in names:
            if name.casefold() in seen:
                raise self.problem(key, f"lists {name!r} twice")
            seen.add(name.casefold())
        return names
