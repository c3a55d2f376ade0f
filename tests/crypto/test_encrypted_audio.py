"""Recordings of an encrypted study are encrypted streams from their first byte: captured from the
sound server or --input, imported (WAV, FLAC, MP3), read back for playback in memory only,
recovered after kill -9 (≤ 2 s lost), a tampered chunk reported in one line with the audio
before it kept, a full disk and a withdrawal handled as with WAV — and plain studies unchanged.

The passphrase comes from the environment, as a script would give it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.audio.capture import CaptureSettings, LevelReading, Recorder
from fieldkit.audio.encrypted import decrypt_recording_file, encrypt_recording_file
from fieldkit.audio.reader import inspect_audio, read_audio
from fieldkit.audio.recording_files import recording_format
from fieldkit.crypto.keys import DataKey
from fieldkit.crypto.stream import MAGIC, EncryptedAudioReader, check_recording
from fieldkit.errors import AudioError
from fieldkit.services.participants import withdraw_consent
from fieldkit.services.playback import interview_audio
from fieldkit.services.recording import begin_recording, capture_settings, finish_interview
from fieldkit.services.study import Study, open_study
from fieldkit.store.repo import Interviews, Recordings
from tests.conftest import REPO_ROOT, CliRun
from tests.disks import fill_disk, small_disk
from tests.encrypted import PASSPHRASE, use_fast_kdf

PID = "INTSTA002-CLIN"  # consented in the demo study
OTHER = "INTSTA003-PEER"
THIRD = "INTSTA001-PEER"
RATE = 16000
PLAIN_HEADERS = (b"RIFF", b"fLaC", b"ID3", b"OggS", b"\xff\xfb", b"\xff\xf3")


@pytest.fixture(autouse=True)
def passphrase_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_kdf(monkeypatch)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)


def demo(cli: CliRun, root: Path, *extra: str) -> Path:
    result = cli("demo", "--no-app", "--empty", *extra, "--dir", root)
    assert result.exit_code == 0, result.stderr
    config = root / "study.toml"  # about recording: the live guard's model would only slow it
    config.write_text(config.read_text().replace("live_guard = true", "live_guard = false"))
    return root


@pytest.fixture
def root(tmp_path: Path, cli: CliRun) -> Path:
    return demo(cli, tmp_path / "enc", "--encrypt")


@pytest.fixture
def plain_root(tmp_path: Path, cli: CliRun) -> Path:
    return demo(cli, tmp_path / "plain")


@pytest.fixture
def study(root: Path) -> Iterator[Study]:
    opened = open_study(root, passphrase=lambda: PASSPHRASE)
    yield opened
    opened.close()


def noise(path: Path, seconds: float, channels: int = 2, samplerate: int = RATE) -> Path:
    """16-bit noise: every block differs, so where audio landed (and that it is exact) shows."""
    rng = np.random.default_rng(len(path.name))
    samples = rng.integers(-12000, 12000, (round(seconds * samplerate), channels), dtype=np.int16)
    sf.write(path, samples, samplerate, subtype="PCM_16")
    return path


def int16_of(path: Path) -> np.ndarray:
    data, _ = sf.read(path, dtype="int16", always_2d=True)
    return np.asarray(data)


def decrypted_int16(path: Path, key: DataKey | None) -> np.ndarray:
    assert key is not None
    with EncryptedAudioReader(path, key) as reader:
        return reader.read(dtype="int16")


def assert_encrypted_file(path: Path) -> None:
    head = path.read_bytes()[:16]
    assert path.suffix == ".fka", path
    assert head.startswith(MAGIC), path
    assert not any(head.startswith(magic) for magic in PLAIN_HEADERS), path
    assert path.stat().st_mode & 0o777 == 0o600


def audio_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "audio").iterdir() if p.is_file())


def recording_rows(study: Study) -> list[dict[str, object]]:
    return list(study.db["recordings"].rows)


# -- capture -----------------------------------------------------------------------------------


def test_recording_from_input_is_an_encrypted_stream_holding_exactly_the_audio(
    root: Path, cli: CliRun, tmp_path: Path, study: Study
) -> None:
    source = noise(tmp_path / "interview.wav", 2.0)
    result = cli("record", PID, "--input", source, "--study", root)
    assert result.exit_code == 0, result.stderr
    recording = Path(result.stdout.splitlines()[-1])
    assert recording.parent == root / "audio"
    assert audio_files(root) == [recording]
    assert_encrypted_file(recording)
    assert np.array_equal(decrypted_int16(recording, study.data_key), int16_of(source))
    assert check_recording(recording, study.data_key).ending == "complete"  # type: ignore[arg-type]
    [row] = Recordings(study.db).for_interview(1)
    assert row.path == "audio/" + recording.name and row.duration_s == pytest.approx(2.0)
    # Readers that know the key see ordinary audio; without it, one clear error.
    info = inspect_audio(recording, key=study.data_key)
    assert (info.samplerate, info.channels, info.duration_s) == (RATE, 2, pytest.approx(2.0))
    with pytest.raises(AudioError, match="encrypted recording"):
        read_audio(recording)


def test_recording_from_the_sound_server_is_encrypted_and_meters_and_hand_off_still_work(
    sound_server: object, study: Study, tmp_path: Path
) -> None:
    t = np.arange(round(1.5 * 48000)) / 48000
    tone = tmp_path / "tone48.wav"
    sf.write(tone, np.stack([0.5 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 48000)
    levels: list[LevelReading] = []
    handed: list[np.ndarray] = []
    settings = capture_settings(study, channels=2, samplerate=48000)
    session = begin_recording(
        study, PID, None, settings, on_level=levels.append, on_audio=lambda b, _at: handed.append(b)
    )
    deadline = time.monotonic() + 10
    while session.recorder.stats.callbacks == 0:
        assert time.monotonic() < deadline, "no audio callback from the sound server"
        time.sleep(0.02)
    subprocess.run(
        ["paplay", "--device=fk_null", str(tone)],
        env=sound_server.client_env(),  # type: ignore[attr-defined]
        check=True,
        timeout=20,
    )
    time.sleep(0.3)
    result = session.stop()
    finish_interview(study, session)

    assert_encrypted_file(result.path)
    recorded, rate = read_audio(result.path, key=study.data_key)
    assert rate == 48000 and len(recorded) == result.frames
    loud = np.flatnonzero(np.abs(recorded[:, 0]) > 0.05)
    assert (loud[-1] - loud[0]) / rate == pytest.approx(1.5, abs=0.15)  # the whole tone arrived
    assert max(reading.rms_dbfs[0] for reading in levels) == pytest.approx(-9.0, abs=1.0)
    # The live guard's feed gets what was recorded, as before.
    deadline = time.monotonic() + 10
    while sum(len(b) for b in handed) < result.frames:
        assert time.monotonic() < deadline, "on_audio fell behind"
        time.sleep(0.02)
    assert np.allclose(np.concatenate(handed), recorded, atol=1e-6)


def test_audio_written_before_a_pause_reaches_the_disk_within_two_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync ≤ 2 s also while nothing new is written (paused): a power loss then loses ≤ 2 s."""
    key = DataKey.generate()
    synced: list[tuple[float, int]] = []
    target = tmp_path / "paused.fka"
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        asked_at = time.monotonic()  # a slow disk must not count against the writer
        real_fsync(fd)
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(target):
            synced.append((asked_at, os.fstat(fd).st_size))

    monkeypatch.setattr(os, "fsync", fsync)
    settings = CaptureSettings(input_file=noise(tmp_path / "in.wav", 20.0, channels=1))
    recorder = Recorder(target, settings, file_format=recording_format(key))
    recorder.start()
    while recorder.recorded_seconds < 0.5:
        time.sleep(0.01)
    recorder.pause()
    paused_at = time.monotonic()
    size_when_paused = target.stat().st_size
    deadline = paused_at + 10
    while not any(size >= size_when_paused for _, size in synced):
        assert time.monotonic() < deadline, "the audio before the pause was never synced"
        time.sleep(0.05)
    first_sync = next(at for at, size in synced if size >= size_when_paused)
    assert first_sync - paused_at <= 2.5
    recorder.stop()


# -- import ------------------------------------------------------------------------------------


@pytest.fixture
def opened_for_writing(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file a test opens for writing through os.open (the importer's and the encrypted
    writer's only way to make a file)."""
    seen: list[Path] = []
    real_open = os.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def spy(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & writing and isinstance(path, str | os.PathLike):
            seen.append(Path(os.fsdecode(path)))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    return seen


@pytest.mark.parametrize("extension", ["wav", "flac", "mp3"])
def test_imported_audio_is_encrypted_as_it_is_copied_in(
    root: Path,
    cli: CliRun,
    tmp_path: Path,
    study: Study,
    ffmpeg: str,
    extension: str,
    opened_for_writing: list[Path],
) -> None:
    wav = noise(tmp_path / "handheld.wav", 3.0)
    source = wav
    if extension != "wav":
        source = tmp_path / f"handheld.{extension}"
        subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-i", wav, source], check=True)
    opened_for_writing.clear()
    result = cli("import-audio", PID, source, "--study", root)
    assert result.exit_code == 0, result.stderr

    [copied] = audio_files(root)
    assert copied.name == f"{PID}_commencement.fka"
    assert_encrypted_file(copied)
    # Not even for a moment was another file made in the audio folder.
    assert [p for p in opened_for_writing if p.parent == root / "audio"] == [copied]
    assert source.read_bytes()[:64] not in copied.read_bytes()
    [row] = Recordings(study.db).for_interview(1)
    assert row.source == "import" and row.duration_s == pytest.approx(3.0, abs=0.06)
    if extension == "mp3":  # lossy: the decoded sound, not the same samples
        decoded, rate = read_audio(copied, key=study.data_key)
        assert rate == RATE and len(decoded) == pytest.approx(3 * RATE, abs=0.06 * RATE)
    else:  # lossless sources are kept sample for sample
        assert np.array_equal(decrypted_int16(copied, study.data_key), int16_of(wav))


def test_an_import_that_cannot_be_read_leaves_nothing(
    root: Path, cli: CliRun, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3" + os.urandom(4000))
    result = cli("import-audio", PID, broken, "--study", root)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1
    assert audio_files(root) == []


def test_an_encrypted_recording_of_another_study_is_refused_on_import(
    root: Path, cli: CliRun, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign.fka"
    encrypt_recording_file(noise(tmp_path / "x.wav", 0.5), foreign, DataKey.generate())
    result = cli("import-audio", PID, foreign, "--study", root)
    assert result.exit_code == 1
    assert "encrypted recording" in result.stderr and len(result.stderr.splitlines()) == 1
    assert audio_files(root) == []


# -- playback ----------------------------------------------------------------------------------


def test_playback_reads_encrypted_audio_into_memory_and_writes_nothing(
    root: Path, cli: CliRun, tmp_path: Path, study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = noise(tmp_path / "handheld.wav", 4.0)
    assert cli("import-audio", PID, source, "--study", root).exit_code == 0
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    before = {p: p.stat().st_size for p in audio_files(root)}

    audio = interview_audio(study, 1)
    assert study.data_key is not None and study.data_key.secret.hex() not in repr(audio)
    samples = audio.read(1.0, 2.5)
    expected = int16_of(source)[RATE : round(2.5 * RATE)].astype(np.float32) / 32768
    assert np.array_equal(samples, expected)
    assert list(temp.iterdir()) == []
    assert {p: p.stat().st_size for p in audio_files(root)} == before


# -- crash, tampering, disk, withdrawal ----------------------------------------------------------


def fieldkit_process(root: Path, *args: object) -> subprocess.Popen[str]:
    """`fieldkit --study ROOT ARGS…` in its own process; the passphrase from the environment."""
    command = [sys.executable, "-m", "fieldkit", "--study", str(root), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def frames_on_disk(path: Path, key: DataKey) -> int:
    """Frames in the complete chunks of a recording being written (length fields only)."""
    if not path.is_file():
        return 0
    try:
        with EncryptedAudioReader(path, key) as reader:
            return reader.frames
    except AudioError:  # the header is not complete yet
        return 0


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def recording_being_written(study: Study) -> Path:
    wait_for("the recording to be registered", lambda: bool(recording_rows(study)))
    return study.root / str(recording_rows(study)[0]["path"])


def test_kill_9_mid_recording_then_recovery_keeps_everything_that_reached_the_disk(
    root: Path, cli: CliRun, tmp_path: Path, study: Study
) -> None:
    source = noise(tmp_path / "long.wav", 30.0)
    recorder = fieldkit_process(root, "record", PID, "--input", source)
    try:
        path = recording_being_written(study)
        key = study.data_key
        assert key is not None
        wait_for("2 s of audio", lambda: frames_on_disk(path, key) >= 2 * RATE)
        observed = frames_on_disk(path, key)
        os.kill(recorder.pid, signal.SIGKILL)
        recorder.wait(timeout=10)
    finally:
        if recorder.poll() is None:
            recorder.kill()
        recorder.communicate(timeout=10)

    result = cli("recover", "--study", root)  # any start of fieldkit recovers, and says so
    assert result.exit_code == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"note: recovered an interrupted recording of {PID} (commencement)")
    assert f"audio/{path.name}" in line
    check = check_recording(path, key)
    assert check.ending == "cut-off"
    assert observed <= check.frames <= observed + 3 * RATE  # nothing that reached the disk lost
    kept = decrypted_int16(path, key)
    assert np.array_equal(kept, int16_of(source)[: len(kept)])  # exactly what was heard
    row = Recordings(study.db).get(int(recording_rows(study)[0]["id"]))  # type: ignore[call-overload]
    assert row.status == "interrupted"
    assert row.duration_s == pytest.approx(check.duration_s, abs=0.001)
    assert Interviews(study.db).get(row.interview_id).status.value == "interrupted"
    assert cli("recover", "--study", root).stdout.strip() == "nothing to recover"


def as_if_interrupted(study: Study, row_id: int) -> None:
    """As if the laptop lost power mid-recording: the row still says "recording" (its PID now
    some live process's after a restart, its start before the boot)."""
    Recordings(study.db).update(
        row_id, status="recording", pid=os.getpid(), started_at="2000-01-01T00:00:00+00:00"
    )
    study.db["interviews"].update(1, {"status": "in progress"})


def flip_a_byte_in_chunk(path: Path, key: DataKey, index: int) -> None:
    with EncryptedAudioReader(path, key) as reader:
        chunk = reader.chunks[index]
    with path.open("r+b") as handle:
        handle.seek(chunk.offset + 4 + chunk.length // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_a_tampered_chunk_is_one_line_and_the_audio_before_it_is_kept(
    root: Path, cli: CliRun, tmp_path: Path, study: Study
) -> None:
    source = noise(tmp_path / "interview.wav", 3.0)
    assert cli("record", PID, "--input", source, "--study", root).exit_code == 0
    [row] = Recordings(study.db).for_interview(1)
    path = root / row.path
    key = study.data_key
    assert key is not None
    flip_a_byte_in_chunk(path, key, 12)  # 0.1 s blocks: chunk 12 starts at 1.2 s
    as_if_interrupted(study, row.id)

    result = cli("interviews", "--study", root)  # any start of fieldkit recovers, and says so
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    assert "chunk 12 at 1.2 s fails authentication" in warnings[0]
    assert "the 1.2 s before it are kept" in warnings[0]
    assert "Traceback" not in result.stderr
    recovered = Recordings(study.db).get(row.id)
    assert recovered.status == "interrupted" and recovered.duration_s == pytest.approx(1.2)
    # The kept part still plays; the file is left as it is, for inspection.
    kept = interview_audio(study, 1).read(0.0, 1.2)
    assert np.array_equal(kept, int16_of(source)[: round(1.2 * RATE)].astype(np.float32) / 32768)


def test_a_recording_tampered_from_its_first_chunk_keeps_nothing_and_says_so(
    root: Path, cli: CliRun, tmp_path: Path, study: Study
) -> None:
    from fieldkit.services.recording import recover_interrupted

    source = noise(tmp_path / "interview.wav", 1.0)
    assert cli("record", PID, "--input", source, "--study", root).exit_code == 0
    [row] = Recordings(study.db).for_interview(1)
    assert study.data_key is not None
    flip_a_byte_in_chunk(root / row.path, study.data_key, 0)
    Recordings(study.db).update(row.id, status="recording", pid=2**22 + 7, started_at=None)
    [found] = recover_interrupted(study)
    assert found.duration_s == 0.0 and not found.repaired
    assert "chunk 0 at 0.0 s fails authentication" in found.problem
    assert "\n" not in found.problem
    assert Recordings(study.db).get(row.id).stop_reason == (
        "interrupted; part of the file fails authentication"
    )


def test_a_withdrawal_stops_an_encrypted_recording_with_what_was_said_kept(
    root: Path, study: Study, tmp_path: Path
) -> None:
    settings = capture_settings(study, input_file=noise(tmp_path / "long.wav", 30.0))
    session = begin_recording(study, PID, None, settings)
    wait_for("audio", lambda: session.recorder.recorded_seconds >= 1.0)
    other = open_study(root, passphrase=lambda: PASSPHRASE)
    withdraw_consent(other, PID)
    other.close()
    stopped = threading.Event()
    threading.Thread(target=lambda: (session.wait(), stopped.set()), daemon=True).start()
    assert stopped.wait(10)
    assert session.result is not None and session.result.stop_reason == "withdrawn"
    assert study.data_key is not None
    check = check_recording(session.path, study.data_key)
    assert check.ending == "complete" and check.frames == session.result.frames


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "tiny-disk", "3m") as disk:
        yield disk


def test_a_disk_filling_up_mid_recording_stops_it_with_the_seconds_kept(
    tiny_disk: Path, cli: CliRun, tmp_path: Path
) -> None:
    root = demo(cli, tiny_disk / "study", "--encrypt")
    config = root / "study.toml"
    config.write_text(config.read_text().replace("disk_margin_mb = 500", "disk_margin_mb = 0"))
    study = open_study(root, passphrase=lambda: PASSPHRASE)
    key = study.data_key
    assert key is not None
    recorder = fieldkit_process(root, "record", PID, "--input", noise(tmp_path / "l.wav", 30.0))
    try:
        path = recording_being_written(study)
        wait_for("some audio", lambda: frames_on_disk(path, key) >= 0.5 * RATE)
        filler = fill_disk(tiny_disk)
        _, stderr = recorder.communicate(timeout=30)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.communicate(timeout=10)
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if "disk is full" in line]
    assert "recording stopped because the disk is full" in line
    kept = check_recording(path, key)
    assert kept.ending in ("complete", "cut-off") and kept.frames >= 0.5 * RATE
    assert f"({kept.duration_s:.1f} s) is kept" in line
    filler.unlink()
    rows = json.loads(cli("interviews", "--json", "--study", root).stdout)
    assert [r["recordings"] for r in rows] == [[str(path.relative_to(root))]]
    [row] = Recordings(study.db).for_interview(1)
    assert row.duration_s == pytest.approx(kept.duration_s, abs=0.01)
    study.close()


# -- plain studies, and converting files -------------------------------------------------------


def test_plain_studies_still_record_and_import_plain_files(
    plain_root: Path, cli: CliRun, tmp_path: Path
) -> None:
    source = noise(tmp_path / "interview.wav", 1.0)
    recorded = cli("record", PID, "--input", source, "--study", plain_root)
    assert recorded.exit_code == 0, recorded.stderr
    path = Path(recorded.stdout.splitlines()[-1])
    assert path.suffix == ".wav" and path.read_bytes()[:4] == b"RIFF"
    assert np.array_equal(int16_of(path), int16_of(source))
    imported = cli("import-audio", OTHER, source, "--study", plain_root)
    assert imported.exit_code == 0, imported.stderr
    copy = plain_root / "audio" / f"{OTHER}_commencement.wav"
    assert copy.read_bytes() == source.read_bytes()  # a byte-for-byte copy, as before


def test_a_recording_file_converts_to_encrypted_and_back_bit_for_bit(tmp_path: Path) -> None:
    key = DataKey.generate()
    source = noise(tmp_path / "plain.wav", 2.5)
    encrypted = tmp_path / "enc.fka"
    info = encrypt_recording_file(source, encrypted, key)
    assert (info.samplerate, info.channels, info.frames) == (RATE, 2, round(2.5 * RATE))
    assert_encrypted_file(encrypted)
    back = tmp_path / "back.wav"
    decrypt_recording_file(encrypted, back, key)
    assert back.read_bytes()[:4] == b"RIFF" and back.stat().st_mode & 0o777 == 0o600
    assert np.array_equal(int16_of(back), int16_of(source))
    with pytest.raises(AudioError, match="never overwritten"):
        decrypt_recording_file(encrypted, back, key)
    with pytest.raises(AudioError, match="never overwritten"):
        encrypt_recording_file(source, encrypted, key)
    assert check_recording(encrypted, key).ending == "complete"


def test_finer_than_16_bit_sources_keep_their_resolution(tmp_path: Path) -> None:
    key = DataKey.generate()
    rng = np.random.default_rng(3)
    fine = rng.uniform(-0.5, 0.5, (RATE, 1)).astype(np.float32)
    source = tmp_path / "fine.flac"
    sf.write(source, fine, RATE, subtype="PCM_24")
    encrypt_recording_file(source, tmp_path / "fine.fka", key)
    decoded, _ = read_audio(tmp_path / "fine.fka", key=key)
    original, _ = sf.read(source, dtype="float32", always_2d=True)
    assert np.array_equal(decoded, original)


def test_a_conversion_that_fails_leaves_no_file(tmp_path: Path) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("no sound here")
    with pytest.raises(AudioError):
        encrypt_recording_file(not_audio, tmp_path / "out.fka", DataKey.generate())
    assert not (tmp_path / "out.fka").exists()
