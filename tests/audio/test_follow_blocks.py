"""follow_blocks: reading a recording while the recorder's writer (in a thread here, another
process in use) is still appending to it — a crash-safe WAV by its size, an encrypted stream by
re-indexing its chunks — gives exactly what read_blocks gives for the finished file."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fieldkit.audio.encrypted import EncryptedRecordingWriter
from fieldkit.audio.reader import follow_blocks, read_blocks
from fieldkit.audio.writer import CrashSafeWavWriter
from fieldkit.crypto.errors import AudioAuthenticationError
from fieldkit.crypto.keys import DataKey

KEY = DataKey(bytes(range(32)))
Writer = Callable[[Path, int], CrashSafeWavWriter | EncryptedRecordingWriter]
WRITERS: dict[str, Writer] = {
    "wav": lambda path, rate: CrashSafeWavWriter(path, rate, 2),
    "encrypted": lambda path, rate: EncryptedRecordingWriter(path, KEY, rate, 2),
}


def capture(seconds: float, rate: int) -> np.ndarray:
    return (np.random.default_rng(7).normal(0, 3000, (int(seconds * rate), 2))).astype(np.int16)


class SlowRecorder:
    """Writes capture blocks of 0.1 s into a new recording, a little slower than a machine can."""

    def __init__(self, writer: CrashSafeWavWriter | EncryptedRecordingWriter, audio: np.ndarray):
        self.writer, self.audio = writer, audio
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        block = self.writer.samplerate // 10
        for start in range(0, len(self.audio), block):
            self.writer.write(self.audio[start : start + block])
            time.sleep(0.002)
        self.writer.close()
        self.done.set()

    def __enter__(self) -> SlowRecorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join()


@pytest.mark.parametrize("kind", WRITERS)
@pytest.mark.parametrize("rate", [16000, 48000])
def test_following_a_growing_recording_reads_what_the_finished_file_holds(
    tmp_path: Path, kind: str, rate: int
) -> None:
    path = tmp_path / f"growing-{kind}"
    key = KEY if kind == "encrypted" else None
    with (
        SlowRecorder(WRITERS[kind](path, rate), capture(6.0, rate)) as recorder,
        follow_blocks(
            path, recorder.done.is_set, samplerate=16000, key=key, block_s=0.7, poll_s=0.02
        ) as blocks,
    ):
        followed = list(blocks)
        assert (blocks.samplerate, blocks.channels) == (16000, 2)
    assert len(followed) > 3  # handed over as the file grew
    with read_blocks(path, samplerate=16000, key=key) as blocks:
        finished = np.concatenate(list(blocks))
    assert np.array_equal(np.concatenate(followed), finished)


@pytest.mark.parametrize("kind", WRITERS)
def test_following_from_a_time_reads_from_there(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"resumed-{kind}"
    key = KEY if kind == "encrypted" else None
    with SlowRecorder(WRITERS[kind](path, 16000), capture(3.0, 16000)) as recorder:
        followed = list(follow_blocks(path, recorder.done.is_set, start=1.25, key=key, poll_s=0.02))
    with read_blocks(path, start=1.25, key=key) as blocks:
        assert np.array_equal(np.concatenate(followed), np.concatenate(list(blocks)))


def test_a_torn_last_frame_waits_for_the_rest(tmp_path: Path) -> None:
    """A half-written frame (or chunk) is not handed over until it is whole."""
    path = tmp_path / "torn.wav"
    writer = CrashSafeWavWriter(path, 16000, 2)
    writer.write(capture(1.0, 16000))
    with path.open("ab") as raw:
        raw.write(b"\x01\x02\x03")  # three bytes of a four-byte frame
    blocks = follow_blocks(path, lambda: True, poll_s=0.01)
    assert sum(len(block) for block in blocks) == 16000


def test_an_altered_chunk_ends_the_blocks_with_an_error(tmp_path: Path) -> None:
    """As read_blocks: the audio before the damage, then AudioAuthenticationError."""
    path = tmp_path / "altered.fka"
    with EncryptedRecordingWriter(path, KEY, 16000, 2) as writer:
        for _ in range(10):
            writer.write(capture(0.1, 16000))
    data = bytearray(path.read_bytes())
    data[-200] ^= 0xFF  # inside an audio chunk near the end
    path.write_bytes(bytes(data))
    got: list[np.ndarray] = []
    with pytest.raises(AudioAuthenticationError):
        for block in follow_blocks(path, lambda: True, key=KEY, block_s=0.1, poll_s=0.01):
            got.append(block)
    assert 0 < sum(len(block) for block in got) < 16000


def test_waits_for_the_header_of_a_file_just_created(tmp_path: Path) -> None:
    made = tmp_path / "made.wav"
    with CrashSafeWavWriter(made, 16000, 2) as writer:
        writer.write(capture(0.5, 16000))
    path = tmp_path / "new.wav"
    path.touch()  # the recorder has made the file but not yet written its header
    done = threading.Event()

    def write_it() -> None:
        time.sleep(0.2)
        with path.open("r+b") as file:
            file.write(made.read_bytes()[:30])  # part of the header
            file.flush()
            time.sleep(0.1)
            file.write(made.read_bytes()[30:])
        done.set()

    thread = threading.Thread(target=write_it)
    thread.start()
    try:
        blocks = follow_blocks(path, done.is_set, poll_s=0.02)
        assert sum(len(block) for block in blocks) == 8000
    finally:
        thread.join()
