"""Child processes of an encrypted study: the transcription worker gets the data key over its
stdin pipe — never in argv or its environment — and the live guard's engine gets no key and no
passphrase at all. A real transcription job runs on an encrypted study (its recording encrypted,
decrypted by the worker in memory with the key it was handed).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fieldkit.core.guard import GuardTracker
from fieldkit.services.live_guard import LiveGuard
from fieldkit.services.study import Study, open_study
from fieldkit.services.transcription import (
    WORKER_LOG,
    enqueue,
    interviews_to_transcribe,
    start_worker,
    stop_worker,
)
from fieldkit.transcribe.models import bundled_model_dir
from tests import speech
from tests.conftest import CliRun
from tests.encrypted import PASSPHRASE, SQLITE_HEADER, files_containing, use_fast_kdf

pytestmark = pytest.mark.model
SENTENCE = "The lighthouse keeper painted the fence green on Tuesday."


@pytest.fixture(autouse=True)
def passphrase_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_kdf(monkeypatch)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def root(tmp_path: Path, cli: CliRun) -> Path:
    if not speech.espeak_available():
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path / "enc"
    assert cli("init", folder, "--encrypt").exit_code == 0
    add = cli("participant", "add", "--site", "Site 1", "--role", "PEER", "--study", folder)
    pid = add.stdout.strip().splitlines()[-1]
    assert cli("consent", pid, "--date", "2026-03-14", "--study", folder).exit_code == 0
    wav = speech.mono_wav(SENTENCE, tmp_path / "speech.wav")
    result = cli("import-audio", pid, wav, "--study", folder)
    assert result.exit_code == 0, result.stderr
    return folder


def read_proc(pid: int, name: str) -> bytes:
    """/proc/PID/NAME of a child just started: right after exec the kernel may still show it
    empty for a moment, so read until it is filled in."""
    deadline = time.monotonic() + 10
    while not (content := (Path("/proc") / str(pid) / name).read_bytes()):
        assert time.monotonic() < deadline, f"/proc/{pid}/{name} stayed empty"
        time.sleep(0.01)
    return content


def test_a_real_transcription_job_runs_on_an_encrypted_study(root: Path, cli: CliRun) -> None:
    result = cli("transcribe", "--all", "--study", root)
    assert result.exit_code == 0, result.stderr
    shown = cli("transcript", "show", "INTSTA001-PEER", "--study", root)
    assert shown.exit_code == 0, shown.stderr
    assert "painted" in shown.stdout and "Tuesday" in shown.stdout

    study = open_study(root, passphrase=lambda: PASSPHRASE)
    key_hex = study.data_key.secret.hex() if study.data_key else ""
    study.close()
    log = (root / "logs" / WORKER_LOG).read_text()
    assert "done" in log
    assert key_hex and key_hex not in log and PASSPHRASE not in log
    # The transcript is in the encrypted database only (and the audio in an encrypted stream).
    for word in ("painted", "Tuesday"):
        assert files_containing(root, word.encode()) == []
    assert files_containing(root, SQLITE_HEADER) == []


def test_the_worker_gets_the_key_over_its_pipe_only(root: Path) -> None:
    study: Study = open_study(root, passphrase=lambda: PASSPHRASE)
    assert study.data_key is not None
    key_hex = study.data_key.secret.hex().encode()
    [interview] = interviews_to_transcribe(study, [], everything=True, wave=None)
    assert enqueue(study, interview) is not None  # a job keeps the worker busy for seconds
    process = start_worker(study)
    try:
        # Popen returns after exec: this is the worker's own argv and environment.
        argv, environ = read_proc(process.pid, "cmdline"), read_proc(process.pid, "environ")
    finally:
        code = process.wait(timeout=120)
        study.close()
    assert b"--key-on-stdin" in argv
    for secret in (key_hex, PASSPHRASE.encode()):
        assert secret not in argv and secret not in environ
    assert b"FIELDKIT_PASSPHRASE" not in environ
    log = (root / "logs" / WORKER_LOG).read_text()
    assert code == 0 and "queue empty after 1 job(s)" in log, log
    assert "failed" not in log


def test_a_worker_without_the_key_says_so_in_its_log(root: Path) -> None:
    import subprocess
    import sys

    process = subprocess.run(
        [sys.executable, "-m", "fieldkit.workers.transcription", "--study", str(root)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "FIELDKIT_PASSPHRASE"},
        timeout=120,
    )
    assert process.returncode == 1
    assert "encrypted and no passphrase was given" in process.stderr


def test_the_live_guard_engine_gets_neither_key_nor_passphrase() -> None:
    guard = LiveGuard(GuardTracker([]), bundled_model_dir(), ("interviewer", "participant"), 16000)
    guard.start()
    try:
        assert guard._process is not None
        environ = read_proc(guard._process.pid, "environ")
        argv = read_proc(guard._process.pid, "cmdline")
    finally:
        guard.close()
    assert b"FIELDKIT_PASSPHRASE" not in environ and PASSPHRASE.encode() not in environ
    assert PASSPHRASE.encode() not in argv


def test_stop_worker_is_unchanged_for_plain_studies(tmp_path: Path) -> None:
    from fieldkit.services.study import init_study

    plain = init_study(tmp_path / "plain")
    process = start_worker(plain)
    assert "--key-on-stdin" not in process.args
    stop_worker(process)
    plain.close()
