"""Messages between workers and screens. Workers post them; handlers change state (GUIDE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from fieldkit.core.guard import GuardEvent

if TYPE_CHECKING:
    from fieldkit.audio.capture import RecordingResult
    from fieldkit.services.live_guard import LiveStatus
    from fieldkit.store.repo import InterviewRow, JobRow
    from fieldkit.tui.recording_link import RecordingLink


class GuardEventDetected(Message):
    """A guard event found off the UI thread (the live guard).

    Post it to the interview screen; its handler stores the event and refreshes the banners."""

    def __init__(self, event: GuardEvent) -> None:
        super().__init__()
        self.event = event


class InterviewChanged(Message):
    """Something in the interview session changed: the screen's widgets should redraw."""


class RecordingStarted(Message):
    """Capture has started: the screen takes the link and puts its clock on recording time."""

    def __init__(self, link: RecordingLink) -> None:
        super().__init__()
        self.link = link


class WorkerFailed(Message):
    """A worker could not do its job (no consent, no device …): one line for the user."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class RecordingStopped(Message):
    """The recorder stopped (from its writer thread): on request, or by itself (disk margin,
    device lost, end of the virtual input)."""

    def __init__(self, result: RecordingResult) -> None:
        super().__init__()
        self.result = result


class LiveGuardStatus(Message):
    """The live guard says how it is doing: listening, behind, failed, stopped."""

    def __init__(self, status: LiveStatus) -> None:
        super().__init__()
        self.status = status


class InterviewLeft(Message):
    """The recording is wound down; the screen can close. With `ended`, the interview ended too
    (and `job` is its transcription job, if one was queued; `problem` says why not)."""

    def __init__(
        self,
        ended: InterviewRow | None = None,
        job: JobRow | None = None,
        problem: str = "",
    ) -> None:
        super().__init__()
        self.ended = ended
        self.job = job
        self.problem = problem
