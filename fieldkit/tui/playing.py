"""Playing an interview's audio from a screen (the review and de-identification screens share it).

The audio comes through `fieldkit.services.playback` only. Opening the output device can take a
moment, so it happens in a thread worker that only posts a message; the handlers keep the one
`Playback` the screen may have running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from fieldkit.core.guard import format_clock
from fieldkit.errors import FieldkitError
from fieldkit.services.playback import NORMAL_SPEED, InterviewAudio, interview_audio, play
from fieldkit.tui.hints import as_sentence

if TYPE_CHECKING:
    from fieldkit.audio.playback import Playback  # numpy and PortAudio load only to play
    from fieldkit.store.repo import InterviewRow

PLAY_PAD_S = 2.0  # seconds of context either side of a turn played on its own


class PlaybackStarted(Message):
    def __init__(self, playback: Playback, start: float) -> None:
        super().__init__()
        self.playback = playback
        self.start = start


class PlaybackFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class TurnPlayer:
    """Mixin for a FieldkitScreen: `toggle_playback(interview, start, end)` plays a turn (with
    context either side) or stops; `start_playback(interview, at)` plays on from a moment."""

    playback: Playback | None = None
    playback_speed: float = NORMAL_SPEED

    @property
    def playing(self) -> bool:
        return self.playback is not None and self.playback.active

    def toggle_playback(self, interview: InterviewRow, start: float, end: float) -> None:
        if self.playing:
            self.stop_playback()
            self.notify("Stopped.")  # type: ignore[attr-defined]
            return
        self.start_playback(interview, max(0.0, start - PLAY_PAD_S), end + PLAY_PAD_S)

    def start_playback(
        self, interview: InterviewRow, start: float, end: float | None = None
    ) -> None:
        with self.user_errors():  # type: ignore[attr-defined]
            audio = interview_audio(self.study, interview.id)  # type: ignore[attr-defined]
            self.open_playback(audio, start, end, self.playback_speed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playback")
    def open_playback(
        self, audio: InterviewAudio, start: float, end: float | None, speed: float
    ) -> None:
        try:
            playback = play(audio, start, end, speed)
        except FieldkitError as error:
            self.post_message(PlaybackFailed(as_sentence(error.one_line())))  # type: ignore[attr-defined]
            return
        except Exception as error:  # an audio library failure must not take the screen down
            message = f"Cannot play the audio: {type(error).__name__}"
            self.post_message(PlaybackFailed(message))  # type: ignore[attr-defined]
            return
        if get_current_worker().is_cancelled:  # the screen closed (or asked again) meanwhile
            playback.stop()
            return
        self.post_message(PlaybackStarted(playback, start))  # type: ignore[attr-defined]

    def on_playback_started(self, message: PlaybackStarted) -> None:
        self.stop_playback()
        self.playback = message.playback
        self.notify(  # type: ignore[attr-defined]
            f"Playing {format_clock(message.start)} at {message.playback.speed:g}×. Space stops."
        )

    def on_playback_failed(self, message: PlaybackFailed) -> None:
        self.notify(message.message, severity="error", timeout=8)  # type: ignore[attr-defined]

    def stop_playback(self) -> None:
        if self.playback is not None:
            self.playback.stop()
            self.playback = None

    def on_unmount(self) -> None:
        self.stop_playback()
