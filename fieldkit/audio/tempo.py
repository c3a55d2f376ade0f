"""Changing the speed of speech without changing its pitch, block by block, in memory.

FFmpeg's `atempo` filter (a time-domain overlap-add that matches waveforms, in the WSOLA family)
through PyAV, which fieldkit already needs to read M4A/MP3: no new dependency, no temporary file,
no pipe. It streams: blocks go in as they are read and come out stretched, so playback can
change speed mid-way.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from fieldkit.errors import AudioError

LAYOUTS = {1: "mono", 2: "stereo"}


class Tempo:
    """Stretches float32 (frames, channels) blocks by `speed` (1.5 = 1.5 times as fast)."""

    def __init__(self, speed: float, samplerate: int, channels: int) -> None:
        if channels not in LAYOUTS:
            raise ValueError(f"tempo works on mono or stereo audio, not {channels} channels")
        self.speed = speed
        self.samplerate = samplerate
        self.channels = channels
        self._pts = 0
        self._graph: Any = None if speed == 1.0 else self._build_graph()

    def _build_graph(self) -> Any:
        av = _import_av()
        graph = av.filter.Graph()
        source = graph.add_abuffer(
            format="fltp",
            sample_rate=self.samplerate,
            layout=LAYOUTS[self.channels],
            time_base=Fraction(1, self.samplerate),
        )
        stretch = graph.add("atempo", f"{self.speed:.4f}")
        sink = graph.add("abuffersink")
        source.link_to(stretch)
        stretch.link_to(sink)
        graph.configure()
        return graph

    def process(self, block: np.ndarray) -> np.ndarray:
        """Stretch one block; the result may be shorter or empty (the filter holds a window)."""
        if self._graph is None:
            return block
        av = _import_av()
        planar = np.ascontiguousarray(block.T, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=LAYOUTS[self.channels])
        frame.sample_rate = self.samplerate
        frame.time_base = Fraction(1, self.samplerate)
        frame.pts = self._pts
        self._pts += len(block)
        self._graph.push(frame)
        return self._drain()

    def flush(self) -> np.ndarray:
        """What the filter still holds, at the end of the audio."""
        if self._graph is None:
            return np.zeros((0, self.channels), dtype=np.float32)
        self._graph.push(None)
        return self._drain()

    def _drain(self) -> np.ndarray:
        av = _import_av()
        blocks: list[np.ndarray] = []
        while True:
            try:
                frame = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                break
            blocks.append(_frames_of(frame, self.channels))
        if not blocks:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.concatenate(blocks)


def _frames_of(frame: Any, channels: int) -> np.ndarray:
    data = frame.to_ndarray()
    if frame.format.is_planar:
        return np.ascontiguousarray(data.T, dtype=np.float32)
    return np.ascontiguousarray(data.reshape(-1, channels), dtype=np.float32)


def _import_av() -> Any:
    try:
        import av
        import av.filter
    except ImportError as error:  # PyAV comes with faster-whisper; missing means a broken install
        raise AudioError(
            "cannot change the playback speed: PyAV is not installed", "pip install av"
        ) from error
    return av
