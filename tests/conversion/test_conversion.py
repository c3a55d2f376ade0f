"""`fieldkit encrypt` and `fieldkit decrypt` on a real study: the demo with its transcripts and
five recordings, plus a spoken WAV imported (espeak-ng). Encrypted, everything works with the
passphrase from the environment and no file of the study folder holds a plain database, plain
audio or a word that was said; decrypted again, it works without one. And what the commands
refuse, and that refusing changes nothing."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.crypto import keys
from fieldkit.private import CONVERSION_FOLDER
from fieldkit.services.conversion import ConversionUnfinishedError, PlannedRecording, encrypt_study
from fieldkit.services.study import now_iso, open_study
from fieldkit.store.repo import Jobs, Recordings
from tests import speech
from tests.conftest import CliRun
from tests.conversion.study import (
    SPOKEN,
    Templates,
    content,
    plain_leftovers,
    run_child,
    state_of,
)
from tests.encrypted import (
    PASSPHRASE,
    SQLITE_HEADER,
    recovery_key_in,
    study_files,
    use_fast_kdf,
)

IMPORTED_SENTENCE = "The lighthouse keeper painted seventeen bicycles turquoise on Wednesday."
IMPORTED_WORDS = ("lighthouse", "seventeen", "bicycles", "turquoise")


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_kdf(monkeypatch)


def run(cli: CliRun, *args: object, input: str | None = None) -> tuple[str, str]:
    result = cli(*args, input=input)
    assert result.exit_code == 0, (args, result.stderr)
    return str(result.stdout), str(result.stderr)


def fails(cli: CliRun, *args: object) -> str:
    result = cli(*args)
    assert result.exit_code == 1, (args, result.stdout)
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return str(result.stderr)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the study folder and its bytes: "nothing was changed" is this, unchanged.
    A plain database by its content (its header's change counter and journal mode may move);
    SQLite's -wal and -shm come and go with connections, so they are left out."""
    files = {
        str(p.relative_to(root)): p.read_bytes()
        for p in study_files(root)
        if p.name not in ("fieldkit.db-wal", "fieldkit.db-shm")
    }
    if files["fieldkit.db"].startswith(SQLITE_HEADER):
        conn = sqlite3.connect(root / "fieldkit.db")
        files["fieldkit.db"] = "\n".join(conn.iterdump()).encode()
        conn.close()
    return files


@pytest.mark.usefixtures("espeak")
def test_encrypt_a_real_study_then_decrypt_it(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    spoken = speech.mono_wav(IMPORTED_SENTENCE, tmp_path / "spoken.wav")
    run(cli, "import-audio", "INTSTA001-PEER", spoken, "--study", root)
    assert (root / "audio" / "INTSTA001-PEER_commencement.wav").read_bytes()[:4] == b"RIFF"
    before = content(root)
    assert before.recordings == 6

    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    out, err = run(cli, "encrypt", "--study", root)
    recovery_key = recovery_key_in(out)
    exports = sorted(str(p.relative_to(root)) for p in (root / "exports").rglob("*") if p.is_file())
    assert exports and all(name in err for name in exports)  # named as staying plain

    # The encrypted study, whole, with the passphrase from the environment.
    assert state_of(root) == "encrypted"
    assert content(root, PASSPHRASE) == before  # participants, transcripts, every sample
    listing, _ = run(cli, "participant", "list", "--study", root)
    assert "INTSTA006-PEER" in listing and "INTSTA001-PEER" in listing
    shown, _ = run(cli, "transcript", "show", "INTSTA010-PEER", "--study", root)
    assert "Riverton" in shown
    report = json.loads(run(cli, "report", "--json", "--study", root)[0])
    assert report["participants"]["interviewed"] == 6
    assert "recovery: 5 of 5 transcripts" in run(cli, "terms", "recovery", "--study", root)[0]
    keys.unlock_with_recovery_key(root, recovery_key)

    # Nothing plain is left in the folder but the exports the command named.
    assert not (root / CONVERSION_FOLDER).exists()
    assert plain_leftovers(root, SPOKEN + IMPORTED_WORDS) == {}
    samples, _ = sf.read(spoken, dtype="int16")
    loudest = int(np.argmax(np.abs(samples)))
    stretch = samples[loudest : loudest + 64].tobytes()
    assert [p for p in study_files(root) if stretch in p.read_bytes()] == []

    # ... and back: plain, without a passphrase.
    out, _ = run(cli, "decrypt", "--yes", "--study", root)
    assert "the study is plain now" in out
    monkeypatch.delenv("FIELDKIT_PASSPHRASE")
    assert state_of(root) == "plain"
    assert content(root) == before
    assert "INTSTA010-PEER" in run(cli, "participant", "list", "--study", root)[0]
    assert "Riverton" in run(cli, "transcript", "show", "INTSTA010-PEER", "--study", root)[0]
    assert sorted(p.suffix for p in (root / "audio").iterdir()) == [".wav"] * 6
    assert not (root / "keyslots.json").exists() and not (root / CONVERSION_FOLDER).exists()
    actions = [e["action"] for e in open_study(root).db["audit_log"].rows]
    assert actions[-2:] == ["study encrypted", "study decrypted"]


def test_the_passphrase_is_asked_twice_on_a_terminal(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.delenv("FIELDKIT_PASSPHRASE", raising=False)
    monkeypatch.setattr("fieldkit.crypto.passphrase.stdin_is_terminal", lambda: True)
    answers = iter([PASSPHRASE, "a typo here", PASSPHRASE, PASSPHRASE])
    monkeypatch.setattr("getpass.getpass", lambda prompt="", stream=None: next(answers))
    out, err = run(cli, "encrypt", "--study", root)
    assert "The two passphrases differ; try again" in err
    recovery_key_in(out)
    assert state_of(root) == "encrypted"


def test_decrypt_asks_first(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = conversion_templates.copy("encrypted", tmp_path / "study")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    before = snapshot(root)
    assert "Add --yes" in fails(cli, "decrypt", "--study", root)  # no terminal to ask on
    monkeypatch.setattr("fieldkit.cli.conversion.stdin_is_terminal", lambda: True)
    result = cli("decrypt", "--study", root, input="n\n")
    assert result.exit_code == 1 and "nothing was changed" in result.stdout
    assert snapshot(root) == before
    out, _ = run(cli, "decrypt", "--study", root, input="y\n")
    assert "the study is plain now" in out


def test_wrong_passphrase_or_none_changes_nothing(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encrypted = conversion_templates.copy("encrypted", tmp_path / "encrypted")
    plain = conversion_templates.copy("plain", tmp_path / "plain")
    before = snapshot(encrypted), snapshot(plain)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "not the passphrase at all")
    assert "wrong passphrase" in fails(cli, "decrypt", "--yes", "--study", encrypted)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "short")
    assert "shorter than" in fails(cli, "encrypt", "--study", plain)
    monkeypatch.delenv("FIELDKIT_PASSPHRASE")
    assert "no terminal" in fails(cli, "encrypt", "--study", plain)
    assert (snapshot(encrypted), snapshot(plain)) == before


def test_converting_twice_is_refused(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    encrypted = conversion_templates.copy("encrypted", tmp_path / "encrypted")
    plain = conversion_templates.copy("plain", tmp_path / "plain")
    assert "already encrypted" in fails(cli, "encrypt", "--study", encrypted)
    assert "not encrypted" in fails(cli, "decrypt", "--yes", "--study", plain)


def test_refused_while_the_study_is_open_elsewhere(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app (or any other fieldkit) holding the database: refused, nothing changed."""
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    before = snapshot(root)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from fieldkit.services.study import open_study; "
            "s = open_study(Path(sys.argv[1])); s.db.execute('select 1').fetchall(); "
            "print('open', flush=True); time.sleep(60)",
            str(root),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert "open in another fieldkit" in fails(cli, "encrypt", "--study", root)
        assert snapshot(root) == before
    finally:
        holder.kill()
        holder.wait()
    run(cli, "encrypt", "--study", root)  # once it is closed


@pytest.fixture
def live_process() -> Iterator[int]:
    """A process that stays alive: stands in for a recorder or a transcription worker."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def test_refused_while_recording_or_transcribing(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
    live_process: int,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    study = open_study(root)
    [first] = Recordings(study.db).for_interview(1)
    with study.transaction():
        Recordings(study.db).update(first.id, status="recording", pid=live_process)
    study.close()
    before = snapshot(root)
    assert "a recording is being made" in fails(cli, "encrypt", "--study", root)
    assert snapshot(root) == before

    study = open_study(root)
    with study.transaction():
        Recordings(study.db).update(first.id, status="complete", pid=None)
        job = Jobs(study.db).add(2, "tiny.en", now_iso())
        study.db["jobs"].update(job, {"status": "running", "worker_pid": live_process})
    study.close()
    before = snapshot(root)
    assert "being transcribed" in fails(cli, "encrypt", "--study", root)
    assert snapshot(root) == before


def test_opening_the_study_while_it_is_converted_is_refused(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
) -> None:
    """A running conversion holds its working folder's lock: every other fieldkit is told so
    (at once, in one line) rather than opening a study that is about to change under it."""
    root = conversion_templates.copy("plain", tmp_path / "study")
    work = root / CONVERSION_FOLDER
    work.mkdir(mode=0o700)
    (work / "journal.json").write_text(
        json.dumps(
            {
                "format": "fieldkit-conversion",
                "version": 1,
                "direction": "encrypt",
                "pid": 4242,
                "started": now_iso(),
                "recordings": [],
            }
        )
    )
    fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        error = fails(cli, "participant", "list", "--study", root)
        assert "being encrypted right now (process 4242)" in error
    finally:
        os.close(fd)
    # The converter gone (its lock with it): the study opens, and says what is left to do.
    result = cli("participant", "list", "--study", root)
    assert result.exit_code == 0 and "Run `fieldkit encrypt` again" in result.stderr


def test_a_missing_recording_is_kept_as_it_was(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    lost = root / "audio" / "INTSTA007-CLIN_commencement.flac"
    lost.unlink()
    stray = root / "audio" / "not-a-recording.wav"
    stray.write_bytes((root / "audio" / "INTSTA006-PEER_commencement.flac").read_bytes())
    _out, err = run(cli, "encrypt", "--study", root)
    assert "audio/INTSTA007-CLIN_commencement.flac" in err  # missing, listed as it was
    assert "audio/not-a-recording.wav" in err  # not the study's: named as staying plain
    study = open_study(root, passphrase=lambda: PASSPHRASE)
    paths = sorted(r["path"] for r in study.db["recordings"].rows)
    study.close()
    assert "audio/INTSTA007-CLIN_commencement.flac" in paths
    assert sum(p.endswith(".fka") for p in paths) == 4


def test_a_recording_that_cannot_be_read_stops_it_and_changes_nothing(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    broken = root / "audio" / "INTSTA009-CLIN_commencement.flac"
    broken.write_bytes(broken.read_bytes()[:4096])  # cut short: libsndfile gives up on it
    before = snapshot(root)
    error = fails(cli, "encrypt", "--study", root)
    assert "cannot encrypt recording audio/INTSTA009-CLIN_commencement.flac" in error
    assert "nothing was changed" in error
    assert snapshot(root) == before
    conn = sqlite3.connect(root / "fieldkit.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # as fieldkit keeps it
    conn.close()


def test_working_files_are_owner_only(
    conversion_templates: Templates,
    tmp_path: Path,
) -> None:
    """Under umask 022, whatever the conversion leaves when stopped before the switch is
    0600/0700; and `.conversion/` is one of fieldkit's folders, tightened on opening."""
    root = conversion_templates.copy("plain", tmp_path / "study")
    previous = os.umask(0o022)
    try:
        crashed = run_child("encrypt", "--study", root, crash_at="database-built")
    finally:
        os.umask(previous)
    assert crashed.returncode != 0
    work = root / CONVERSION_FOLDER
    made = [work, *work.rglob("*"), *(root / "audio").glob("*.fka")]
    assert len(made) >= 8
    modes = {str(p.relative_to(root)): oct(p.stat().st_mode & 0o777) for p in made}
    assert set(modes.values()) <= {"0o600", "0o700"}, modes
    (work / "journal.json").chmod(0o644)
    work.chmod(0o755)
    open_study(root).close()
    assert oct(work.stat().st_mode & 0o777) == "0o700"
    assert oct((work / "journal.json").stat().st_mode & 0o777) == "0o600"


def test_refused_at_once_when_the_disk_cannot_hold_the_new_copies(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The five FLAC files decode to ~30 MB of samples: with 5 MB free it would fail part-way."""
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("fieldkit.storage.free_bytes", lambda folder: 5 * 1024 * 1024)
    before = snapshot(root)
    error = fails(cli, "encrypt", "--study", root)
    assert "not enough free space to encrypt the study" in error and "5.0 MB is free" in error
    assert snapshot(root) == before and not (root / CONVERSION_FOLDER).exists()


def test_the_passphrase_from_a_file(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    monkeypatch.delenv("FIELDKIT_PASSPHRASE", raising=False)
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    out, _ = run(cli, "encrypt", "--study", root, "--passphrase-file", secret)
    recovery_key_in(out)
    assert (
        "INTSTA006-PEER"
        in run(cli, "participant", "list", "--study", root, "--passphrase-file", secret)[0]
    )
    run(cli, "decrypt", "--yes", "--study", root, "--passphrase-file", secret)
    assert state_of(root) == "plain"


def test_ctrl_c_part_way_takes_it_all_back(
    conversion_templates: Templates,
    tmp_path: Path,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    before = snapshot(root)

    def interrupt_at_the_third(done: int, total: int, recording: PlannedRecording) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encrypt_study(open_study(root), PASSPHRASE, print, progress=interrupt_at_the_third)
    assert snapshot(root) == before
    assert state_of(root) == "plain"


def test_a_failure_after_the_switch_leaves_the_new_study_and_a_rerun_finishes(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The terminal went away as the recovery key was printed: the study is encrypted already;
    the error says so, and the re-run removes the plain copies and shows a new recovery key."""
    root = conversion_templates.copy("plain", tmp_path / "study")

    def terminal_gone(recovery_key: str) -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(ConversionUnfinishedError, match="is encrypted now, but removing"):
        encrypt_study(open_study(root), PASSPHRASE, terminal_gone)
    assert state_of(root) == "encrypted"
    assert list((root / "audio").glob("*.flac"))  # the plain copies are still there
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    out, err = run(cli, "encrypt", "--study", root)
    assert "finished an interrupted `fieldkit encrypt`" in err
    keys.unlock_with_recovery_key(root, recovery_key_in(out))
    assert not list((root / "audio").glob("*.flac")) and plain_leftovers(root) == {}
