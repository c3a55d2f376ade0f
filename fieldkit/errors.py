"""The error family every face shows as one line: what went wrong, and how to fix it."""

from __future__ import annotations


class FieldkitError(Exception):
    """A problem the user can fix. Faces print `error: <message> (<hint>)`, never a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.rstrip(".")
        if not self.hint:
            return f"{text}."
        hint = self.hint
        if not hint.startswith("fieldkit"):  # a command keeps its lower case
            hint = hint[0].upper() + hint[1:]
        return f"{text}. {hint}"


class NotAStudyError(FieldkitError):
    """The folder given with --study (or $FIELDKIT_STUDY, or the current folder) holds no study."""


class StudyConfigError(FieldkitError):
    """study.toml is missing a key, has a wrong type or cannot be parsed."""


class ScheduleError(FieldkitError):
    """An interview schedule is malformed; `problems` holds one `FILE:LINE: message` per issue."""

    def __init__(self, message: str, hint: str = "", problems: list[str] | None = None) -> None:
        super().__init__(message, hint)
        self.problems = problems or []


class UnknownParticipantError(FieldkitError):
    """No participant has that ID."""


class ConsentError(FieldkitError):
    """The participant has no current consent, so nothing may be recorded."""


class AudioError(FieldkitError):
    """Capture, playback or an audio file went wrong."""


class DiskSpaceError(AudioError):
    """The disk is full or below the safety margin."""


class TranscriptionError(FieldkitError):
    """The model is missing or corrupt, or the engine failed."""


class WorkflowError(FieldkitError):
    """An illegal transition in a transcript's approval workflow."""
