"""The live guard: transcribe each channel in near real time during a two-channel recording.

Blocks arrive from the recorder's `on_audio` hand-off (never the capture thread). Every few seconds
a chunk goes to an engine in its own process. Chunks overlap by a second, so a word cut at a chunk's
end is heard whole in the next one: a chunk judges only the words that start before the next chunk
does and leaves the rest to it (see `_words_to_judge`); the last chunk, sent when the guard closes,
judges all of its words. Its words come back, each word is given to the speaker whose
channel is louder at that moment (each microphone also hears the other person, more quietly), and
the guard rule judges them: the participant saying a locked term raises it; the interviewer saying
it first is a breach, shown as a visible warning.

The recording always comes first: the queue to the engine is short, and when the machine cannot
keep up the oldest chunk is dropped and the guard says it is behind. Nothing here can block or
slow capture.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fieldkit.core.guard import GuardEvent, GuardTracker
from fieldkit.core.models import Speaker, Word
from fieldkit.crypto.passphrase import environment_without_passphrase
from fieldkit.transcribe.live_engine import receive, send

ENGINE_RATE = 16000
CHUNK_S = 5.0
OVERLAP_S = 1.0
MAX_WAITING_CHUNKS = 2  # beyond this the guard is behind: drop the oldest chunk
ONE_SIGNAL_MESSAGE = (
    "live guard: both channels carry the same sound (one microphone?), so it cannot tell who "
    "speaks: terms are noted, never raised or warned about"
)


@dataclass(frozen=True)
class LiveStatus:
    """What the guard says about itself: ready, behind (with seconds skipped), or failed."""

    state: str  # "starting" | "listening" | "behind" | "failed" | "stopped"
    message: str
    skipped_s: float = 0.0


class LiveGuard:
    """Feeds the guard rule from live audio. Start it, feed it blocks, close it."""

    def __init__(
        self,
        tracker: GuardTracker,
        model_dir: Path,
        channel_map: Sequence[str],
        samplerate: int,
        vocabulary: Sequence[str] = (),
        offset_s: float = 0.0,
        on_event: Callable[[GuardEvent], None] | None = None,
        on_status: Callable[[LiveStatus], None] | None = None,
    ) -> None:
        if len(channel_map) != 2:
            raise ValueError("the live guard needs a two-channel recording")
        self.tracker = tracker
        self.speakers = tuple(Speaker(name) for name in channel_map)
        self.samplerate = samplerate
        self.offset_s = offset_s
        self.on_event = on_event or (lambda event: None)
        self.on_status = on_status or (lambda status: None)
        self._command = [
            sys.executable,
            "-m",
            "fieldkit.transcribe.live_engine",
            str(model_dir),
            *vocabulary,
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self._buffer_start: float | None = None
        self._chunks: dict[int, _Chunk] = {}
        self._next_chunk = 0
        self._waiting = 0
        self._heard = [_Heard(), _Heard()]
        self._skipped_s = 0.0
        self._one_signal = False  # both channels carry one signal: nobody can be told apart
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_results, daemon=True)
        self._writer = threading.Thread(target=self._write_jobs, daemon=True)
        self._closing = False
        self.status = LiveStatus("starting", "live guard: loading the model")

    def start(self) -> None:
        # The engine needs no study key: it reads no file of the study, only the audio chunks
        # sent over its pipe. Nor does it get the passphrase from our environment.
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the engine's chatter could hold speech: not kept
            env=environment_without_passphrase(),
        )
        self._reader.start()
        self._writer.start()

    def _write_jobs(self) -> None:
        assert self._process is not None and self._process.stdin is not None
        while (job := self._jobs.get()) is not None:
            try:
                send(self._process.stdin, job)
            except (BrokenPipeError, OSError):
                return
        with contextlib.suppress(OSError):
            self._process.stdin.close()

    # -- audio in ---------------------------------------------------------------------------
    def feed(self, block: np.ndarray, at: float) -> None:
        """A (frames, 2) block whose first frame is at `at` seconds of the recording."""
        if self._buffer_start is None:
            self._buffer_start = at
        self._buffer.append(_as_float(block))
        self._buffered += len(block)
        if self._buffered >= CHUNK_S * self.samplerate:
            self._send_chunk()

    def _send_chunk(self, last: bool = False) -> None:
        audio = np.concatenate(self._buffer)
        start = self._buffer_start or 0.0
        keep = int(OVERLAP_S * self.samplerate)
        self._buffer = [audio[-keep:]]
        self._buffered = keep
        self._buffer_start = start + (len(audio) - keep) / self.samplerate
        # The next chunk starts here and hears whole what this one cuts off at its end.
        judge_until = float("inf") if last else self.offset_s + self._buffer_start
        mono16k = _to_engine_rate(audio, self.samplerate)
        if not self._one_signal and _same_signal(mono16k):
            self._one_signal = True
            self._set_status(LiveStatus(self.status.state, ONE_SIGNAL_MESSAGE))
        if self._one_signal:  # one microphone on both channels: listen once, to the louder
            louder = int(np.argmax(np.square(mono16k).sum(axis=0)))
            channels = [mono16k[:, louder], None]
        else:
            channels = [mono16k[:, c] if _has_own_speech(mono16k, c) else None for c in range(2)]
        with self._lock:
            if self._jobs.qsize() >= MAX_WAITING_CHUNKS:  # not counting the one in the engine
                self._drop_oldest()
            chunk_id = self._next_chunk
            self._next_chunk += 1
            self._chunks[chunk_id] = _Chunk(
                self.offset_s + start, mono16k, judge_until, self._one_signal
            )
            self._waiting += 1
        self._jobs.put((chunk_id, self.offset_s + start, channels))

    def _send_rest(self) -> None:
        """The audio after the last full chunk (more than its overlap) as the final chunk."""
        if self._buffer_start is not None and self._buffered > OVERLAP_S * self.samplerate:
            self._send_chunk(last=True)

    def _drop_oldest(self) -> None:
        """The engine cannot keep up: skip audio for the guard (never for the recording)."""
        with contextlib.suppress(queue.Empty):
            dropped = self._jobs.get_nowait()
            self._chunks.pop(dropped[0], None)
            self._waiting -= 1
            self._skipped_s += CHUNK_S - OVERLAP_S
            self._set_status(
                LiveStatus(
                    "behind",
                    f"live guard is behind: skipped {self._skipped_s:.0f} s of audio "
                    "(the recording is unaffected)",
                    self._skipped_s,
                )
            )

    # -- words out --------------------------------------------------------------------------
    def _read_results(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while True:
            try:
                message = receive(self._process.stdout)
            except (EOFError, OSError, ValueError):
                message = None
            if message is None:
                if self.status.state not in ("stopped", "failed") and not self._closing:
                    self._set_status(LiveStatus("failed", "live guard stopped unexpectedly"))
                return
            kind, payload = message
            if kind == "ready":
                message = ONE_SIGNAL_MESSAGE if self._one_signal else "live guard: listening"
                self._set_status(LiveStatus("listening", message))
            elif kind == "failed":
                self._set_status(LiveStatus("failed", f"live guard stopped: {payload}"))
            elif kind == "words":
                self._judge(*payload)

    def _judge(self, chunk_id: int, words_per_channel: list[list[RawWord]]) -> None:
        with self._lock:
            chunk = self._chunks.pop(chunk_id, None)
            self._waiting = max(0, self._waiting - 1)
        if chunk is None:
            return
        from fieldkit.transcribe.speakers import channel_energy, loudest_channel

        hop = 0.02
        energy = channel_energy(chunk.audio, ENGINE_RATE, hop)
        own: list[Word] = []
        for channel, raw_words in enumerate(words_per_channel):
            fresh, self._heard[channel] = _words_to_judge(
                raw_words, self._heard[channel], chunk.judge_until
            )
            if chunk.one_signal:  # who said it is unknown: a mention, never a raise or a breach
                own += [Word(s, e, text, p, Speaker.UNKNOWN) for s, e, text, p in fresh]
                continue
            own += [
                Word(s, e, text, p, self.speakers[channel])
                for s, e, text, p in fresh
                if loudest_channel(energy, s - chunk.start_at, e - chunk.start_at, hop) == channel
            ]
        # Both people's words in the order they were said, one speaker's run at a time, so an
        # interviewer's follow-up is never judged before the participant's earlier raise.
        own.sort(key=lambda w: w.start)
        for run in _runs_by_speaker(own):
            self._observe(run, run[0].speaker)

    def _observe(self, words: list[Word], speaker: Speaker) -> None:
        text, at = _text_and_first_term_time(words, self.tracker)
        with self._lock:
            events = self.tracker.observe(text, speaker, at, source="live")
        for event in events:
            self.on_event(event)

    @property
    def pending_chunks(self) -> int:
        """Chunks sent to the engine whose words have not come back yet."""
        return self._waiting

    def apply(self, event: GuardEvent) -> None:
        """Tell the live guard about an event from elsewhere (the interviewer pressed `r`)."""
        with self._lock:
            self.tracker.apply(event)

    def _set_status(self, status: LiveStatus) -> None:
        self.status = status
        self.on_status(status)

    def close(self, drain_s: float = 0.0) -> None:
        """Stop the engine. With drain_s, first send the audio not yet sent and give the engine
        that long to finish the queued chunks."""
        deadline = time.monotonic() + drain_s
        if drain_s > 0 and self.status.state not in ("failed", "stopped"):
            self._send_rest()
        while self.pending_chunks and time.monotonic() < deadline:
            time.sleep(0.1)
        self._closing = True
        self._jobs.put(None)
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=2)
        self._set_status(LiveStatus("stopped", "live guard: stopped"))


@dataclass(frozen=True)
class _Chunk:
    start_at: float  # seconds of the recording (offset included)
    audio: np.ndarray  # (frames, 2) at ENGINE_RATE
    judge_until: float  # words starting from here on are left to the next chunk
    one_signal: bool = False  # both channels carried one signal: its words have no speaker


RawWord = tuple[float, float, str, float]  # (start, end, text, probability) from the engine


@dataclass(frozen=True)
class _Heard:
    """How far one channel has been judged: up to `until`; `tail` holds the words judged that
    run into the next chunk's overlap (lower-cased, letters only), which it may hear again."""

    until: float = float("-inf")
    tail: frozenset[str] = frozenset()


def _plain(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())


def _words_to_judge(
    raw_words: Sequence[RawWord], heard: _Heard, judge_until: float
) -> tuple[list[RawWord], _Heard]:
    """The words of one channel's chunk still to be judged, and how far the channel is heard.

    - A word starting at or after `judge_until` lies in the overlap with the next chunk, which
      hears it whole ("re-" here is "recovery" there): it is left to that chunk.
    - A word heard with the previous chunk comes again at the start of this one, often cut
      ("covery") or squeezed in time: it is a repeat when its middle lies before `heard.until`,
      or when it starts before then and says the same as a word judged there.
    """
    fresh = [
        word
        for word in raw_words
        if word[0] < judge_until
        and (word[0] + word[1]) / 2 >= heard.until
        and not (word[0] < heard.until and _plain(word[2]) in heard.tail)
    ]
    until = max([heard.until, *(word[1] for word in fresh)])
    tail = frozenset(_plain(word[2]) for word in fresh if word[1] > judge_until)
    return fresh, _Heard(until, tail)


def _as_float(block: np.ndarray) -> np.ndarray:
    """Recorder blocks are float32 in [-1, 1]; accept 16-bit integers too."""
    if np.issubdtype(block.dtype, np.integer):
        return block.astype(np.float32) / 32768.0
    return block.astype(np.float32, copy=False)


def _to_engine_rate(audio: np.ndarray, samplerate: int) -> np.ndarray:
    if samplerate == ENGINE_RATE:
        return audio
    frames = int(len(audio) * ENGINE_RATE / samplerate)
    source = np.arange(len(audio)) / samplerate
    target = np.arange(frames) / ENGINE_RATE
    return np.stack([np.interp(target, source, audio[:, c]) for c in range(2)], axis=1).astype(
        np.float32
    )


def _same_signal(audio: np.ndarray) -> bool:
    """Both channels carry one signal (a mono microphone recorded as two channels)."""
    from fieldkit.transcribe.speakers import DEFAULT_HOP_S, channel_energy, same_signal

    return same_signal(channel_energy(audio, ENGINE_RATE, DEFAULT_HOP_S), DEFAULT_HOP_S)


def _has_own_speech(audio: np.ndarray, channel: int) -> bool:
    """Skip the model for a channel that is only silence or the other person's bleed."""
    power = np.square(audio).mean(axis=0)
    own, other = power[channel], power[1 - channel]
    return bool(own > 1e-7 and own >= other * 0.25)


def _runs_by_speaker(words: list[Word]) -> list[list[Word]]:
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][0].speaker is word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def _text_and_first_term_time(words: list[Word], tracker: GuardTracker) -> tuple[str, float]:
    """Join words into text; the time is that of the first word carrying a guarded term."""
    text, starts = "", []
    for word in words:
        piece = word.word.strip()
        starts.append((len(text) + (1 if text else 0), word.start))
        text = f"{text} {piece}" if text else piece
    matches = tracker.matcher.find(text)
    if not matches:
        return text, words[0].start
    offset = matches[0].start
    at = words[0].start
    for char_at, start in starts:
        if char_at <= offset:
            at = start
    return text, at


def guard_line(event: GuardEvent) -> str | None:
    """The one-line form `fieldkit record` prints; None for events not worth a line."""
    from fieldkit.core.guard import GuardEventKind, format_clock

    at = format_clock(event.at)
    if event.kind is GuardEventKind.RAISED:
        return f"guard: {event.term} raised by {event.speaker.value} at {at}"
    if event.kind is GuardEventKind.BREACH:
        return (
            f"guard: WARNING interviewer said {event.term} at {at} before the participant raised it"
        )
    if event.kind is GuardEventKind.FOLLOWED_UP:
        return f"guard: {event.term} followed up by the interviewer at {at}"
    return None
