"""One recording as the interview screen sees it: the recording session, its live guard, and the
callbacks that carry their news from background threads to the screen.

The recorder calls back from its writer thread, the live guard from its reader thread. Rare news
(a stop, a guard event, a guard status) is posted as a message, which is thread-safe and never
blocks the caller. Levels arrive ~10 times a second: the newest reading simply replaces the last in
`latest_level`, and a UI timer draws whatever is there, so a busy screen can never build a backlog.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from textual.message_pump import MessagePump

from fieldkit.audio.capture import LevelReading, RecordingResult
from fieldkit.core.guard import GuardEvent
from fieldkit.errors import FieldkitError
from fieldkit.services.interviews import recorded_seconds, stored_tracker
from fieldkit.services.live_guard import LiveGuard, LiveStatus
from fieldkit.services.recording import RecordingSession, capture_settings, start_live_guard
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow
from fieldkit.tui.messages import GuardEventDetected, LiveGuardStatus, RecordingStopped


def recorded_offset(study: Study, interview: InterviewRow) -> float:
    """Where a new recording starts on the interview clock: after everything recorded so far."""
    return recorded_seconds(study, interview.id)


class RecordingLink:
    """Start it from a worker thread; stop it from any thread (idempotent, serialised)."""

    def __init__(self, screen: MessagePump) -> None:
        self.screen = screen
        self.session: RecordingSession | None = None
        self.guard: LiveGuard | None = None
        self.latest_level: LevelReading | None = None
        self.guard_note = ""  # why there is no live guard ("mono recording" …), if there is none
        self._lock = threading.Lock()
        self._stopped = False

    # -- starting (worker thread) -------------------------------------------------------------
    def start(self, study: Study, interview: InterviewRow, input_file: Path | None) -> None:
        """Start capture; raises FieldkitError (no consent, no device …) with nothing left over."""
        settings = capture_settings(study, input_file=input_file)
        session = RecordingSession(
            study,
            interview,
            settings,
            offset_s=recorded_offset(study, interview),
            on_level=self.on_level,
            on_audio=self.on_audio,
            on_stop=self.on_stop,
        )
        self.session = session  # before start(): on_stop may come at once (an empty input)
        try:
            session.start()
        except BaseException:
            self.session = None
            raise

    def start_guard(self, study: Study) -> None:
        """Start the live guard for a two-channel recording, with its own guard tracker. Never
        raises: a guard that cannot start is reported as a status, and the recording goes on."""
        session = self.session
        if session is None:
            return
        try:
            tracker = stored_tracker(study, session.interview)
            guard = start_live_guard(
                study, session, tracker, self.on_guard_event, self.on_guard_status, store=False
            )
        except FieldkitError as error:
            self.on_guard_status(LiveStatus("failed", f"live guard off: {error.one_line()}"))
            return
        except Exception as error:  # the guard must never stand in the recording's way
            self.on_guard_status(LiveStatus("failed", f"live guard could not start: {error}"))
            return
        if guard is None:
            self.guard_note = self._why_no_guard(study, session)
            return
        with self._lock:
            if not self._stopped:
                self.guard = guard
                return
        guard.close()  # the recording was stopped while the guard was starting

    @staticmethod
    def _why_no_guard(study: Study, session: RecordingSession) -> str:
        if not study.config.transcription.live_guard:
            return "off in study.toml"
        if session.settings.channels != 2:
            return "off (mono recording)"
        return "off (no guarded terms)"

    # -- callbacks (background threads) -------------------------------------------------------
    def on_level(self, reading: LevelReading) -> None:
        self.latest_level = reading  # replaced, never queued

    def on_audio(self, block: np.ndarray, at: float) -> None:
        guard = self.guard  # the guard starts after the recording: early blocks pass it by
        if guard is not None:
            guard.feed(block, at)

    def on_stop(self, result: RecordingResult) -> None:
        self.screen.post_message(RecordingStopped(result))

    def on_guard_event(self, event: GuardEvent) -> None:
        self.screen.post_message(GuardEventDetected(event))

    def on_guard_status(self, status: LiveStatus) -> None:
        self.screen.post_message(LiveGuardStatus(status))

    # -- state and stopping --------------------------------------------------------------------
    @property
    def state(self) -> str:
        """idle (not started) | recording | paused | stopped."""
        return self.session.state if self.session is not None else "idle"

    @property
    def capturing(self) -> bool:
        return self.state in ("recording", "paused")

    def apply(self, event: GuardEvent) -> None:
        """Keep the live guard in step with a key press (r / u)."""
        guard = self.guard
        if guard is not None:
            guard.apply(event)

    def stop(self, drain_s: float = 0.0) -> RecordingResult | None:
        """Stop capture (the file is registered complete), then close the live guard, giving it
        up to `drain_s` to judge the audio it already has. Blocks: call it off the UI thread."""
        with self._lock:
            self._stopped = True
            result = self.session.stop() if self.session is not None else None
            guard, self.guard = self.guard, None
        if guard is not None:
            guard.close(drain_s=drain_s)
        return result
