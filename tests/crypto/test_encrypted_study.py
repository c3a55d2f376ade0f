"""Encrypted studies end to end on the command line: init --encrypt, everyday commands with the
passphrase from the environment or a file, what is on disk, and every way opening can fail."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.crypto import keys
from fieldkit.crypto.keys import DataKey
from fieldkit.services.interviews import InterviewSession, end_interview
from fieldkit.services.study import StudyLockedError, find_study, open_study
from fieldkit.store.db import DatabaseKeyError, NotAFieldkitDatabaseError, open_database
from tests.conftest import REPO_ROOT, CliRun
from tests.encrypted import (
    PASSPHRASE,
    SQLITE_HEADER,
    files_containing,
    recovery_key_in,
    study_files,
    use_fast_kdf,
)

NOTE = "quixotic marmalade hedgehog"  # a field note no other text holds
IDENTIFIER = "Zorbinwick Infirmary"  # typed into the identifier list


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_kdf(monkeypatch)


@pytest.fixture
def with_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def root(tmp_path: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An encrypted study made with `fieldkit init --encrypt`; the passphrase then unset."""
    folder = tmp_path / "enc"
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    result = cli("init", folder, "--encrypt", "--title", "Encrypted study")
    assert result.exit_code == 0, result.stderr
    monkeypatch.delenv("FIELDKIT_PASSPHRASE")
    return folder


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret" / "passphrase.txt"
    path.parent.mkdir()
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)
    return path


def fieldkit(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, stdin not a terminal (what a script sees)."""
    environment = {k: v for k, v in os.environ.items() if k != "FIELDKIT_PASSPHRASE"}
    environment["PYTHONPATH"] = str(REPO_ROOT)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=120,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in study_files(root)}


# -- init --------------------------------------------------------------------------------------


def test_init_encrypt_makes_an_encrypted_study_and_shows_the_recovery_key(
    tmp_path: Path, cli: CliRun, with_passphrase: None
) -> None:
    folder = tmp_path / "enc"
    result = cli("init", folder, "--encrypt")
    assert result.exit_code == 0, result.stderr
    recovery_key = recovery_key_in(result.stdout)
    assert "apart from this laptop" in result.stdout
    assert "created encrypted study" in result.stdout

    slots = folder / "keyslots.json"
    assert stat.S_IMODE(slots.stat().st_mode) == 0o600
    assert not (folder / "fieldkit.db").read_bytes().startswith(SQLITE_HEADER)
    study = find_study(folder)
    assert study.encrypted and study.locked
    # The recovery key printed is the study's: it opens the same data key as the passphrase.
    assert keys.unlock_with_recovery_key(folder, recovery_key) == keys.unlock(folder, PASSPHRASE)
    # Nothing secret in study.toml, nor anywhere in the folder in the clear.
    key_hex = keys.unlock(folder, PASSPHRASE).secret.hex()
    for secret in (PASSPHRASE, recovery_key, recovery_key.replace("-", ""), key_hex):
        assert files_containing(folder, secret.encode()) == []
    assert "encrypt" not in (folder / "study.toml").read_text().lower()


def test_init_encrypt_without_a_passphrase_or_terminal_is_one_line_and_makes_nothing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "enc"
    result = fieldkit("init", folder, "--encrypt")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "no terminal" in result.stderr and "FIELDKIT_PASSPHRASE" in result.stderr
    assert not folder.exists()


def test_init_encrypt_refuses_a_short_passphrase(tmp_path: Path, cli: CliRun) -> None:
    short = tmp_path / "short.txt"
    short.write_text("abc\n")
    result = cli("init", tmp_path / "enc", "--encrypt", "--passphrase-file", short)
    assert result.exit_code == 1
    assert "shorter than" in result.stderr
    assert not (tmp_path / "enc").exists()


def test_a_passphrase_file_without_encrypt_is_refused(
    tmp_path: Path, cli: CliRun, passphrase_file: Path
) -> None:
    result = cli("init", tmp_path / "plain", "--passphrase-file", passphrase_file)
    assert result.exit_code == 1
    assert "--encrypt" in result.stderr
    assert not (tmp_path / "plain").exists()


def test_plain_init_refuses_a_folder_with_key_slots(tmp_path: Path, cli: CliRun) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "keyslots.json").write_text("{}")
    result = cli("init", folder)
    assert result.exit_code == 1 and "already holds a study" in result.stderr


# -- everyday commands -------------------------------------------------------------------------


def add_participant(cli: CliRun, root: Path, *extra: object) -> str:
    result = cli(
        "participant", "add", "--site", "Site 1", "--role", "PEER", "--study", root, *extra
    )
    assert result.exit_code == 0, result.stderr
    return str(result.stdout.strip().splitlines()[-1])


def test_commands_work_with_the_passphrase_from_the_environment(
    root: Path, cli: CliRun, with_passphrase: None
) -> None:
    pid = add_participant(cli, root)
    assert cli("consent", pid, "--date", "2026-03-14", "--study", root).exit_code == 0
    result = cli("identifiers", "add", IDENTIFIER, "--category", "organisation", "--study", root)
    assert result.exit_code == 0, result.stderr

    study = open_study(root, passphrase=lambda: PASSPHRASE)
    session = InterviewSession.start(study, pid)
    session.note(NOTE)
    end_interview(study, session.interview.id)

    listed = json.loads(cli("participant", "list", "--json", "--study", root).stdout)
    assert [(p["id"], p["status"]) for p in listed] == [(pid, "consented")]
    interviews = json.loads(cli("interviews", "--json", "--study", root).stdout)
    assert [i["participant"] for i in interviews] == [pid]
    report = cli("report", "--json", "--study", root)
    assert report.exit_code == 0, report.stderr
    assert cli("identifiers", "list", "--study", root).stdout.count(IDENTIFIER) == 1

    # While a connection is open (the WAL live) and after closing it: no plain SQLite file, and
    # neither the note nor the identifier in any file of the study folder.
    for moment in ("open", "closed"):
        for path in study_files(root):
            assert SQLITE_HEADER not in path.read_bytes(), (moment, path)
        assert files_containing(root, NOTE.encode()) == [], moment
        assert files_containing(root, IDENTIFIER.encode()) == [], moment
        study.close()


def test_commands_take_a_passphrase_file_before_or_after_their_name(
    root: Path, cli: CliRun, passphrase_file: Path
) -> None:
    first = add_participant(cli, root, "--passphrase-file", passphrase_file)
    result = cli(
        "--passphrase-file",
        passphrase_file,
        "--study",
        root,
        "participant",
        "add",
        "--site",
        "Site 2",
        "--role",
        "CLIN",
    )
    assert result.exit_code == 0, result.stderr
    listed = cli("participant", "list", "--study", root, "--passphrase-file", passphrase_file)
    assert first in listed.stdout and "INTSTA002-CLIN" in listed.stdout


def test_the_passphrase_file_wins_over_the_environment(
    root: Path, cli: CliRun, passphrase_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "not the passphrase at all")
    result = cli("participant", "list", "--study", root, "--passphrase-file", passphrase_file)
    assert result.exit_code == 0, result.stderr


def test_plain_studies_never_ask(tmp_path: Path, cli: CliRun) -> None:
    folder = tmp_path / "plain"
    assert fieldkit("init", folder).returncode == 0
    result = fieldkit("participant", "list", "--study", folder)  # no terminal, no passphrase
    assert result.returncode == 0, result.stderr
    assert not (folder / "keyslots.json").exists()
    assert (folder / "fieldkit.db").read_bytes().startswith(SQLITE_HEADER)
    assert not find_study(folder).encrypted


# -- failures: one line, non-zero, nothing changed ---------------------------------------------


def assert_one_error_line(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def test_a_wrong_passphrase_changes_nothing(root: Path) -> None:
    before = snapshot(root)
    assert not (root / "fieldkit.db-wal").exists() and not (root / "fieldkit.db-shm").exists()
    result = fieldkit(
        "participant",
        "add",
        "--site",
        "Site 1",
        "--role",
        "PEER",
        "--study",
        root,
        env={"FIELDKIT_PASSPHRASE": "wrong horse battery"},
    )
    assert_one_error_line(result, "wrong passphrase", "fieldkit passphrase reset")
    assert snapshot(root) == before  # byte for byte; no -wal or -shm appeared


def test_no_passphrase_and_no_terminal_is_one_line(root: Path) -> None:
    before = snapshot(root)
    result = fieldkit("participant", "list", "--study", root)
    assert_one_error_line(result, "encrypted", "no terminal", "--passphrase-file")
    assert snapshot(root) == before


def test_a_missing_passphrase_file_is_one_line(root: Path, tmp_path: Path) -> None:
    result = fieldkit("participant", "list", "--study", root, "--passphrase-file", tmp_path / "no")
    assert_one_error_line(result, "does not exist")


def test_a_missing_key_slot_file_says_the_study_is_encrypted_and_what_helps(root: Path) -> None:
    (root / "keyslots.json").unlink()
    before = snapshot(root)
    result = fieldkit(
        "participant", "list", "--study", root, env={"FIELDKIT_PASSPHRASE": PASSPHRASE}
    )
    assert_one_error_line(result, "encrypted", "keyslots.json is missing", "backup")
    assert snapshot(root) == before


def test_a_damaged_key_slot_file_says_so_and_what_helps(root: Path) -> None:
    (root / "keyslots.json").write_text('{"format": "fieldkit-keysl')
    before = snapshot(root)
    result = fieldkit(
        "participant", "list", "--study", root, env={"FIELDKIT_PASSPHRASE": PASSPHRASE}
    )
    assert_one_error_line(result, "keyslots.json is damaged", "backup")
    assert snapshot(root) == before


def test_a_damaged_passphrase_slot_points_to_the_recovery_key(root: Path) -> None:
    document = json.loads((root / "keyslots.json").read_text())
    document["slots"][0]["nonce"] = "not base64!"
    (root / "keyslots.json").write_text(json.dumps(document))
    result = fieldkit(
        "participant", "list", "--study", root, env={"FIELDKIT_PASSPHRASE": PASSPHRASE}
    )
    assert_one_error_line(result, "slot is damaged", "recovery key", "fieldkit passphrase reset")


def test_key_slots_of_another_study_do_not_open_the_database(
    root: Path, tmp_path: Path, cli: CliRun, with_passphrase: None
) -> None:
    other = tmp_path / "other"
    assert cli("init", other, "--encrypt").exit_code == 0
    (root / "keyslots.json").write_bytes((other / "keyslots.json").read_bytes())
    before = snapshot(root)
    result = fieldkit(
        "participant", "list", "--study", root, env={"FIELDKIT_PASSPHRASE": PASSPHRASE}
    )
    assert_one_error_line(result, "do not belong together")
    assert snapshot(root) == before


# -- the study object and the store ------------------------------------------------------------


def test_a_locked_study_opens_no_database(root: Path) -> None:
    study = find_study(root)
    with pytest.raises(StudyLockedError):
        study.db  # noqa: B018
    with pytest.raises(StudyLockedError, match="no passphrase was given"):
        open_study(root)


def test_a_key_handed_over_opens_the_study_and_a_foreign_key_is_refused(root: Path) -> None:
    key = keys.unlock(root, PASSPHRASE)
    study = open_study(root, key=key)
    assert study.data_key == key and not study.locked
    study.close()
    with pytest.raises(Exception, match="does not belong to the study"):
        open_study(root, key=DataKey.generate())
    assert "secret" not in repr(study) and key.secret.hex() not in repr(study)


def test_a_wrong_key_fails_on_first_read_and_leaves_the_file_alone(root: Path) -> None:
    database = root / "fieldkit.db"
    before = database.read_bytes()
    with pytest.raises(DatabaseKeyError, match="do not belong together"):
        open_database(database, key=DataKey.generate())
    with pytest.raises(NotAFieldkitDatabaseError):  # the study knows from its key slots
        open_database(database)
    assert database.read_bytes() == before
    assert not (root / "fieldkit.db-wal").exists() and not (root / "fieldkit.db-shm").exists()


def test_sqlite_errors_on_an_encrypted_study_are_sqlite3_errors(root: Path) -> None:
    import sqlite3

    study = open_study(root, passphrase=lambda: PASSPHRASE)
    with pytest.raises(sqlite3.OperationalError) as caught:
        study.db.execute("SELECT * FROM no_such_table")
    assert caught.value.sqlite_errorcode == sqlite3.SQLITE_ERROR
    with pytest.raises(sqlite3.IntegrityError):
        study.db.execute("INSERT INTO participants (id) VALUES (NULL)")
    study.close()


def test_a_failed_encrypted_init_takes_back_its_key_slots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit.errors import FieldkitError
    from fieldkit.services import study as study_service

    folder = tmp_path / "enc"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's")

    def no_room(path: Path, key: DataKey | None = None) -> None:
        raise FieldkitError("the disk is full", "free some space")

    monkeypatch.setattr(study_service, "create_database", no_room)
    with pytest.raises(FieldkitError, match="disk is full"):
        study_service.init_encrypted_study(folder, lambda: PASSPHRASE)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_demo_encrypt_makes_an_encrypted_demo_and_plain_stays_plain(
    tmp_path: Path, cli: CliRun, with_passphrase: None
) -> None:
    result = cli("demo", "--encrypt", "--no-app", "--empty", "--dir", tmp_path / "enc-demo")
    assert result.exit_code == 0, result.stderr
    recovery_key_in(result.stdout)
    assert find_study(tmp_path / "enc-demo").encrypted
    assert not (tmp_path / "enc-demo" / "fieldkit.db").read_bytes().startswith(SQLITE_HEADER)

    result = cli("demo", "--no-app", "--empty", "--dir", tmp_path / "plain-demo")
    assert result.exit_code == 0, result.stderr
    assert not find_study(tmp_path / "plain-demo").encrypted


def test_a_passphrase_file_others_can_read_gets_a_note(
    root: Path, cli: CliRun, passphrase_file: Path
) -> None:
    passphrase_file.chmod(0o644)
    result = cli("participant", "list", "--study", root, "--passphrase-file", passphrase_file)
    assert result.exit_code == 0
    assert "can be read by other users" in result.stderr and "chmod 600" in result.stderr
    passphrase_file.chmod(0o600)
    result = cli("participant", "list", "--study", root, "--passphrase-file", passphrase_file)
    assert result.exit_code == 0 and result.stderr == ""
