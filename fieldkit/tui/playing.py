"""Playing a turn's audio from a screen (the review and de-identification screens share it).

Opening the output device can take a moment, so it happens in a thread worker that only posts a
message; the handlers keep the one `Playback` the screen may have running.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from fieldkit.core.guard import format_clock
from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.audio.playback import Playback  # numpy and PortAudio load only to play

PLAY_PAD_S = 2.0  # seconds of context either side of the turn


class PlaybackStarted(Message):
    def __init__(self, playback: Playback, start: float, end: float) -> None:
        super().__init__()
        self.playback = playback
        self.start = start
        self.end = end


class PlaybackFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class TurnPlayer:
    """Mixin for a Screen: `toggle_playback(path, start, end)` plays or stops one turn."""

    playback: Playback | None = None

    def toggle_playback(self, path: Path, start: float, end: float) -> None:
        if self.playback is not None and self.playback.active:
            self.stop_playback()
            self.notify("Stopped.")  # type: ignore[attr-defined]
            return
        self.open_playback(str(path), start, end)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playback")
    def open_playback(self, path: str, start: float, end: float) -> None:
        from fieldkit.audio.playback import play_range

        try:
            playback = play_range(Path(path), start, end, pad=PLAY_PAD_S)
        except FieldkitError as error:
            self.post_message(PlaybackFailed(error.one_line()))  # type: ignore[attr-defined]
            return
        except Exception as error:  # an audio library failure must not take the screen down
            message = f"cannot play the audio: {type(error).__name__}"
            self.post_message(PlaybackFailed(message))  # type: ignore[attr-defined]
            return
        self.post_message(PlaybackStarted(playback, start, end))  # type: ignore[attr-defined]

    def on_playback_started(self, message: PlaybackStarted) -> None:
        self.stop_playback()
        self.playback = message.playback
        self.notify(  # type: ignore[attr-defined]
            f"Playing {format_clock(message.start)}–{format_clock(message.end)} "
            f"(±{PLAY_PAD_S:.0f} s). Space stops."
        )

    def on_playback_failed(self, message: PlaybackFailed) -> None:
        self.notify(message.message, severity="error", timeout=8)  # type: ignore[attr-defined]

    def stop_playback(self) -> None:
        if self.playback is not None:
            self.playback.stop()
            self.playback = None

    def on_unmount(self) -> None:
        self.stop_playback()
