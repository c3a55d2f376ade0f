"""Encrypted recordings: round trips, seeking, tampering, torn tails, fsync cadence, file modes."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fieldkit.crypto import stream
from fieldkit.crypto.errors import AudioAuthenticationError, EncryptedAudioError
from fieldkit.crypto.keys import DataKey
from fieldkit.crypto.stream import (
    PREAMBLE_BYTES,
    EncryptedAudioReader,
    EncryptedAudioWriter,
    check_recording,
    is_encrypted_recording,
    recover_recording,
)
from fieldkit.errors import AudioError

RATE = 48000
BLOCK = RATE // 10  # 0.1 s, as capture delivers it


def noise(seconds: float, channels: int = 2, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-20000, 20000, (round(seconds * RATE), channels), dtype=np.int16)


def record(path: Path, key: DataKey, audio: np.ndarray, finish: bool = True) -> None:
    writer = EncryptedAudioWriter(path, key, RATE, audio.shape[1])
    for start in range(0, len(audio), BLOCK):
        writer.write(audio[start : start + BLOCK])
    if finish:
        writer.close()
    else:
        os.close(writer._fd)  # the process died: no final chunk


def chunk_offset(path: Path, key: DataKey, index: int) -> int:
    with EncryptedAudioReader(path, key) as reader:
        return reader.chunks[index].offset


@pytest.fixture
def audio() -> np.ndarray:
    return noise(3.0)


@pytest.fixture
def recording(tmp_path: Path, data_key: DataKey, audio: np.ndarray) -> Path:
    path = tmp_path / "interview.fka"
    record(path, data_key, audio)
    return path


# -- round trips ---------------------------------------------------------------------------------


def test_round_trip_int16_stereo(recording: Path, data_key: DataKey, audio: np.ndarray) -> None:
    with EncryptedAudioReader(recording, data_key) as reader:
        assert (reader.samplerate, reader.channels, reader.frames) == (RATE, 2, len(audio))
        assert reader.duration_s == pytest.approx(3.0)
        assert len(reader.chunks) == 31  # 30 blocks and the final chunk
        assert reader.ending() == "complete"
        assert np.array_equal(reader.read(dtype="int16"), audio)
        as_float = reader.read()
    assert as_float.dtype == np.float32
    assert np.array_equal(as_float, audio.astype(np.float32) / 32768)
    samples, rate = stream.read_encrypted_audio(recording, data_key, 1.0, 2.0, dtype="int16")
    assert rate == RATE and np.array_equal(samples, audio[RATE : 2 * RATE])


def test_round_trip_mono_float_and_float32_format(tmp_path: Path, data_key: DataKey) -> None:
    mono = np.sin(np.linspace(0, 200, RATE)).astype(np.float32) * 0.5
    path = tmp_path / "mono.fka"
    with EncryptedAudioWriter(path, data_key, RATE, 1) as writer:
        writer.write(mono)  # 1-D mono is fine
    with EncryptedAudioReader(path, data_key) as reader:
        back = reader.read(dtype="int16")[:, 0]
    assert np.array_equal(back, np.round(mono * 32767).astype(np.int16))

    exact = tmp_path / "float.fka"
    with EncryptedAudioWriter(exact, data_key, RATE, 1, sample_format="float32") as writer:
        writer.write(mono.reshape(-1, 1))
    with EncryptedAudioReader(exact, data_key) as reader:
        assert np.array_equal(reader.read()[:, 0], mono)


def test_long_blocks_are_split_into_chunks_of_at_most_one_second(
    tmp_path: Path, data_key: DataKey
) -> None:
    path = tmp_path / "import.fka"
    long_block = noise(2.5)
    with EncryptedAudioWriter(path, data_key, RATE, 2) as writer:
        writer.write(long_block)
        assert writer.frames == len(long_block)
    with EncryptedAudioReader(path, data_key) as reader:
        assert [c.frames for c in reader.chunks] == [RATE, RATE, RATE // 2, 0]
        assert np.array_equal(reader.read(dtype="int16"), long_block)


def test_wrong_shapes_and_types_are_refused(tmp_path: Path, data_key: DataKey) -> None:
    with EncryptedAudioWriter(tmp_path / "a.fka", data_key, RATE, 2) as writer:
        with pytest.raises(EncryptedAudioError, match="does not fit 2 channel"):
            writer.write(np.zeros((10, 3), dtype=np.int16))
        with pytest.raises(EncryptedAudioError, match="int32"):
            writer.write(np.zeros((10, 2), dtype=np.int32))
    with pytest.raises(EncryptedAudioError, match="no longer being written"):
        writer.write(np.zeros((10, 2), dtype=np.int16))


def test_the_file_shows_nothing_of_the_audio(recording: Path, audio: np.ndarray) -> None:
    raw = recording.read_bytes()
    assert raw.startswith(b"FKENCAUD") and b"RIFF" not in raw[:64] and b"fLaC" not in raw[:64]
    assert audio[BLOCK : BLOCK + 8].tobytes() not in raw
    assert is_encrypted_recording(recording)
    assert not is_encrypted_recording(recording.with_suffix(".missing"))


def test_the_file_is_owner_only_and_never_overwritten(
    tmp_path: Path, data_key: DataKey, umask_022: None
) -> None:
    path = tmp_path / "new.fka"
    with EncryptedAudioWriter(path, data_key, RATE, 2) as writer:
        writer.write(noise(0.1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    with pytest.raises(EncryptedAudioError, match="never overwritten"):
        EncryptedAudioWriter(path, data_key, RATE, 2)
    assert path.read_bytes() == before


def test_encrypted_audio_errors_are_audio_errors() -> None:
    assert issubclass(AudioAuthenticationError, AudioError)


# -- seeking -------------------------------------------------------------------------------------


def test_seeking_decrypts_only_the_chunks_asked_for(
    recording: Path, data_key: DataKey, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EncryptedAudioReader(recording, data_key) as reader:
        decrypted: list[bytes] = []
        real = reader._decrypt_raw

        def counting(nonce: bytes, ciphertext: bytes) -> bytes | None:
            decrypted.append(nonce)
            return real(nonce, ciphertext)

        monkeypatch.setattr(reader, "_decrypt_raw", counting)
        part = reader.read(1.05, 1.28, dtype="int16")
        assert np.array_equal(part, audio[round(1.05 * RATE) : round(1.28 * RATE)])
        assert len(decrypted) == 3  # chunks 10, 11 and 12 of 30
        assert reader.chunk_at(round(1.05 * RATE)) == 10
        blocks = list(reader.iter_blocks(RATE, RATE + BLOCK // 2, dtype="int16"))
        assert [len(b) for b in blocks] == [BLOCK // 2]
        assert reader.read(5.0, 6.0).shape == (0, 2)  # past the end: nothing


READ_WATCHING_OPENS = """
import json, os, sys
from pathlib import Path
from fieldkit.crypto.keys import DataKey
from fieldkit.crypto.stream import EncryptedAudioReader, check_recording

key = DataKey(bytes.fromhex(sys.stdin.readline().strip()))
path = Path(sys.argv[1])
opened_for_writing = []

def hook(event, args):
    # Every open() in this process, by Python or by os.open: none may be for writing.
    if event == "open":
        mode, flags = args[1], args[2]
        writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        if writes or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)):
            opened_for_writing.append(str(args[0]))

sys.addaudithook(hook)
with EncryptedAudioReader(path, key) as reader:
    reader.read()
    list(reader.iter_blocks(0, reader.samplerate))
check_recording(path, key)
print(json.dumps(opened_for_writing))
"""


def test_reading_writes_no_file(recording: Path, data_key: DataKey) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run(
        [sys.executable, "-c", READ_WATCHING_OPENS, str(recording)],
        input=data_key.secret.hex() + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == []


# -- what recovery keeps ------------------------------------------------------------------------


def test_complete_and_cut_off_are_told_apart(
    tmp_path: Path, data_key: DataKey, audio: np.ndarray
) -> None:
    finished, crashed = tmp_path / "finished.fka", tmp_path / "crashed.fka"
    record(finished, data_key, audio)
    record(crashed, data_key, audio, finish=False)
    done = check_recording(finished, data_key)
    assert done.complete and done.frames == len(audio) and done.chunks == 30
    assert "complete, 3.0 s" in done.message
    cut = check_recording(crashed, data_key)
    assert cut.ending == "cut-off" and cut.frames == len(audio) and cut.torn_bytes == 0
    assert "cut off" in cut.message and "3.0 s kept" in cut.message
    with EncryptedAudioReader(crashed, data_key) as reader:
        assert reader.ending() == "cut-off"
        assert np.array_equal(reader.read(dtype="int16"), audio)


def test_a_torn_tail_is_dropped_and_everything_before_is_kept(
    tmp_path: Path, data_key: DataKey, audio: np.ndarray
) -> None:
    path = tmp_path / "torn.fka"
    record(path, data_key, audio, finish=False)
    last = chunk_offset(path, data_key, 29)
    os.truncate(path, last + 4 + 1000)  # killed in the middle of writing chunk 29
    size = path.stat().st_size

    result = recover_recording(path, data_key)
    assert result.ending == "cut-off" and result.chunks == 29
    assert result.frames == 29 * BLOCK and result.torn_bytes == 1004
    assert "incomplete last block was left out" in result.message
    with EncryptedAudioReader(path, data_key) as reader:
        assert np.array_equal(reader.read(dtype="int16"), audio[: 29 * BLOCK])
    assert path.stat().st_size == size  # nothing was rewritten
    assert recover_recording(path, data_key) == result

    os.truncate(path, last + 2)  # torn inside the length field
    assert recover_recording(path, data_key).frames == 29 * BLOCK


def test_a_tampered_chunk_keeps_the_chunks_before_it(
    recording: Path, data_key: DataKey, audio: np.ndarray
) -> None:
    k = 12
    position = chunk_offset(recording, data_key, k) + 4 + 100
    raw = bytearray(recording.read_bytes())
    raw[position] ^= 0x01
    recording.write_bytes(bytes(raw))

    result = check_recording(recording, data_key)
    assert result.ending == "tampered" and result.bad_chunk == k
    assert result.frames == k * BLOCK and result.bad_at_s == pytest.approx(1.2)
    assert result.intact_after == 30 - k - 1  # later chunks are authentic but left out
    assert "chunk 12 at 1.2 s fails authentication" in result.message

    with EncryptedAudioReader(recording, data_key) as reader:
        assert np.array_equal(reader.read(0, 1.2, dtype="int16"), audio[: k * BLOCK])
        kept: list[np.ndarray] = []
        with pytest.raises(AudioAuthenticationError) as caught:
            for block in reader.iter_blocks(dtype="int16"):
                kept.append(block)
    assert caught.value.chunk == k and caught.value.at_s == pytest.approx(1.2)
    assert np.array_equal(np.concatenate(kept), audio[: k * BLOCK])
    assert "\n" not in caught.value.one_line()


def test_a_damaged_length_field_is_tampering_not_a_torn_tail(
    recording: Path, data_key: DataKey, audio: np.ndarray
) -> None:
    position = chunk_offset(recording, data_key, 5)
    raw = bytearray(recording.read_bytes())
    raw[position + 3] = 0x7F  # a length of about 2 GB
    recording.write_bytes(bytes(raw))
    result = check_recording(recording, data_key)
    assert result.ending == "tampered" and result.bad_chunk == 5 and result.frames == 5 * BLOCK
    with EncryptedAudioReader(recording, data_key) as reader:
        assert reader.damaged_at == 5
        assert np.array_equal(reader.read(0, 0.5, dtype="int16"), audio[: 5 * BLOCK])
        with pytest.raises(AudioAuthenticationError):
            reader.read()


def test_reordered_chunks_fail_authentication(recording: Path, data_key: DataKey) -> None:
    with EncryptedAudioReader(recording, data_key) as reader:
        first, second = reader.chunks[3], reader.chunks[4]
    raw = bytearray(recording.read_bytes())
    span = 4 + first.length
    a = raw[first.offset : first.offset + span]
    b = raw[second.offset : second.offset + span]
    raw[first.offset : first.offset + span], raw[second.offset : second.offset + span] = b, a
    recording.write_bytes(bytes(raw))
    result = check_recording(recording, data_key)
    assert result.ending == "tampered" and result.bad_chunk == 3


def test_audio_after_the_final_chunk_is_tampering(recording: Path, data_key: DataKey) -> None:
    with EncryptedAudioReader(recording, data_key) as reader:
        first = reader.chunks[0]
    raw = recording.read_bytes()
    recording.write_bytes(raw + raw[first.offset : first.offset + 4 + first.length])
    result = check_recording(recording, data_key)
    assert result.ending == "tampered" and result.bad_chunk == 30 and result.frames == 30 * BLOCK


@pytest.mark.parametrize("position", [20, 45, PREAMBLE_BYTES - 1], ids=["rate", "salt", "tag"])
def test_an_altered_header_is_found_before_any_audio(
    recording: Path, data_key: DataKey, position: int
) -> None:
    raw = bytearray(recording.read_bytes())
    raw[position] ^= 0x01
    recording.write_bytes(bytes(raw))
    with pytest.raises(AudioAuthenticationError, match="header"):
        EncryptedAudioReader(recording, data_key)
    result = check_recording(recording, data_key)
    assert result.ending == "unreadable" and result.frames == 0


def test_another_key_reads_nothing(recording: Path) -> None:
    with pytest.raises(AudioAuthenticationError, match="another study's key"):
        EncryptedAudioReader(recording, DataKey.generate())


def test_not_an_encrypted_recording(tmp_path: Path, data_key: DataKey) -> None:
    wav = tmp_path / "plain.wav"
    wav.write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(EncryptedAudioError, match="not an encrypted fieldkit recording"):
        check_recording(wav, data_key)
    with pytest.raises(EncryptedAudioError, match="no such file"):
        check_recording(tmp_path / "absent.fka", data_key)
    short = tmp_path / "short.fka"
    short.write_bytes(b"FKENCAUD\x01")
    with pytest.raises(EncryptedAudioError, match="no complete header"):
        check_recording(short, data_key)


# -- durability ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    yield calls


def test_fsync_at_least_every_two_seconds(
    tmp_path: Path, data_key: DataKey, fsyncs: list[int]
) -> None:
    clock = FakeClock()
    writer = EncryptedAudioWriter(tmp_path / "a.fka", data_key, RATE, 2, clock=clock)
    created = len(fsyncs)  # the header (and the folder entry) are made durable at once
    assert created >= 1
    synced_at = []
    for block in range(100):  # 10 s of audio in 0.1 s blocks, arriving in real time
        clock.now = (block + 1) * 0.1
        before = len(fsyncs)
        writer.write(noise(0.1))
        if len(fsyncs) > before:
            synced_at.append(clock.now)
    gaps = np.diff([0.0, *synced_at, clock.now])
    assert max(gaps) <= 2.0 + 1e-9 and synced_at == pytest.approx([2.0, 4.0, 6.0, 8.0, 10.0])
    clock.now = 20.0
    assert writer.sync_if_due() is True  # capture may call it while no audio comes in
    assert writer.sync_if_due() is False
    writer.close()


def test_a_failed_write_leaves_a_whole_file(
    tmp_path: Path, data_key: DataKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "full.fka"
    audio = noise(1.0)
    writer = EncryptedAudioWriter(path, data_key, RATE, 2)
    writer.write(audio[:BLOCK])
    real_write = stream.write_all

    def disk_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(stream, "write_all", disk_full)
    with pytest.raises(EncryptedAudioError, match="No space left"):
        writer.write(audio[BLOCK : 2 * BLOCK])
    monkeypatch.setattr(stream, "write_all", real_write)
    with pytest.raises(EncryptedAudioError, match="no longer being written"):
        writer.write(audio[BLOCK : 2 * BLOCK])
    writer.close()  # the final chunk still goes in (it has its own nonce)
    result = check_recording(path, data_key)
    assert result.complete and result.frames == BLOCK and result.torn_bytes == 0


def test_a_full_disk_at_creation_leaves_no_file(
    tmp_path: Path, data_key: DataKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(stream, "write_all", disk_full)
    with pytest.raises(EncryptedAudioError, match=r"cannot create .*No space left"):
        EncryptedAudioWriter(tmp_path / "a.fka", data_key, RATE, 2)
    assert list(tmp_path.iterdir()) == []
