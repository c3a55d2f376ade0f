"""fieldkit passphrase list | add | change | remove | reset | new-recovery-key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.crypto import keys
from fieldkit.crypto.errors import WrongPassphraseError, WrongRecoveryKeyError
from fieldkit.services.study import open_study
from fieldkit.store.repo import AuditLog
from tests.conftest import CliRun
from tests.encrypted import (
    OTHER_PASSPHRASE,
    PASSPHRASE,
    files_containing,
    recovery_key_in,
    use_fast_kdf,
)

THIRD_PASSPHRASE = "yet another quiet harbour"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_kdf(monkeypatch)


def secret_file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    return tmp_path / "secrets"


@pytest.fixture
def made(tmp_path: Path, cli: CliRun, secrets: Path) -> tuple[Path, str]:
    """An encrypted study and its recovery key."""
    root = tmp_path / "enc"
    current = secret_file(secrets, "current", PASSPHRASE)
    result = cli("init", root, "--encrypt", "--passphrase-file", current)
    assert result.exit_code == 0, result.stderr
    return root, recovery_key_in(result.stdout)


@pytest.fixture
def root(made: tuple[Path, str]) -> Path:
    return made[0]


def opens(root: Path, passphrase: str) -> bool:
    try:
        keys.unlock(root, passphrase)
    except WrongPassphraseError:
        return False
    return True


def audit_actions(root: Path) -> list[str]:
    study = open_study(root, passphrase=lambda: PASSPHRASE)
    try:
        return [row["action"] for row in AuditLog(study.db).table.rows]
    finally:
        study.close()


def test_list_shows_the_slots_without_asking(root: Path, cli: CliRun) -> None:
    result = cli("passphrase", "list", "--json", "--study", root)
    assert result.exit_code == 0, result.stderr
    slots = json.loads(result.stdout)
    assert [(s["slot"], s["kind"], s["readable"]) for s in slots] == [
        (1, "passphrase", True),
        (2, "recovery", True),
    ]
    assert "slot 1  passphrase" in cli("passphrase", "list", "--study", root).stdout


def test_add_a_passphrase_then_both_open(root: Path, cli: CliRun, secrets: Path) -> None:
    new = secret_file(secrets, "new", OTHER_PASSPHRASE)
    result = cli(
        "passphrase",
        "add",
        "--new-passphrase-file",
        new,
        "--study",
        root,
        "--passphrase-file",
        secrets / "current",
    )
    assert result.exit_code == 0, result.stderr
    assert "key slot 3" in result.stdout
    assert opens(root, PASSPHRASE) and opens(root, OTHER_PASSPHRASE)
    assert "passphrase added" in audit_actions(root)
    assert files_containing(root, OTHER_PASSPHRASE.encode()) == []


def test_change_a_passphrase(
    root: Path, cli: CliRun, secrets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = secret_file(secrets, "new", OTHER_PASSPHRASE)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)  # the current one, from the environment
    result = cli("passphrase", "change", "--new-passphrase-file", new, "--study", root)
    assert result.exit_code == 0, result.stderr
    assert not opens(root, PASSPHRASE) and opens(root, OTHER_PASSPHRASE)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", OTHER_PASSPHRASE)
    assert cli("participant", "list", "--study", root).exit_code == 0


def test_change_with_a_wrong_current_passphrase_changes_nothing(
    root: Path, cli: CliRun, secrets: Path
) -> None:
    before = (root / "keyslots.json").read_bytes()
    new = secret_file(secrets, "new", OTHER_PASSPHRASE)
    result = cli(
        "passphrase",
        "change",
        "--new-passphrase-file",
        new,
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "wrong", "wrong horse battery"),
    )
    assert result.exit_code == 1 and "wrong passphrase" in result.stderr
    assert (root / "keyslots.json").read_bytes() == before


def test_the_last_passphrase_cannot_be_removed(root: Path, cli: CliRun, secrets: Path) -> None:
    before = (root / "keyslots.json").read_bytes()
    result = cli(
        "passphrase",
        "remove",
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
    )
    assert result.exit_code == 1
    assert "last passphrase" in result.stderr and "refused" in result.stderr
    assert (root / "keyslots.json").read_bytes() == before
    assert opens(root, PASSPHRASE)


def test_remove_the_passphrase_given_or_a_slot_by_number(
    root: Path, cli: CliRun, secrets: Path
) -> None:
    for passphrase in (OTHER_PASSPHRASE, THIRD_PASSPHRASE):
        new = secret_file(secrets, "new", passphrase)
        add = cli(
            "passphrase",
            "add",
            "--new-passphrase-file",
            new,
            "--study",
            root,
            "--passphrase-file",
            secret_file(secrets, "current", PASSPHRASE),
        )
        assert add.exit_code == 0, add.stderr
    # remove the one given (the other passphrase's own slot)
    result = cli(
        "passphrase",
        "remove",
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "other", OTHER_PASSPHRASE),
    )
    assert result.exit_code == 0, result.stderr
    assert not opens(root, OTHER_PASSPHRASE) and opens(root, PASSPHRASE)
    # remove another by its number (a forgotten one), proving a current one
    third_slot = 4
    result = cli(
        "passphrase",
        "remove",
        "--slot",
        str(third_slot),
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
    )
    assert result.exit_code == 0, result.stderr
    assert not opens(root, THIRD_PASSPHRASE)
    actions = audit_actions(root)
    assert actions.count("passphrase removed") == 2
    # the recovery slot is not a passphrase: never removed this way
    result = cli(
        "passphrase",
        "remove",
        "--slot",
        "2",
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
    )
    assert result.exit_code == 1 and "recovery slot cannot be removed" in result.stderr


def test_reset_with_the_recovery_key_sets_a_new_passphrase(
    made: tuple[Path, str], cli: CliRun, secrets: Path
) -> None:
    root, recovery_key = made
    result = cli(
        "passphrase",
        "reset",
        "--study",
        root,
        "--recovery-key-file",
        secret_file(secrets, "recovery", recovery_key.lower()),
        "--new-passphrase-file",
        secret_file(secrets, "new", OTHER_PASSPHRASE),
    )
    assert result.exit_code == 0, result.stderr
    assert opens(root, OTHER_PASSPHRASE)
    assert "fieldkit passphrase remove --slot" in result.stdout
    assert "passphrase set with the recovery key" in audit_actions(root)


def test_reset_refuses_a_mistyped_or_foreign_recovery_key(
    made: tuple[Path, str], cli: CliRun, secrets: Path, tmp_path: Path
) -> None:
    root, recovery_key = made
    before = (root / "keyslots.json").read_bytes()
    typo = recovery_key[:-1] + ("A" if recovery_key[-1] != "A" else "B")
    result = cli(
        "passphrase",
        "reset",
        "--study",
        root,
        "--recovery-key-file",
        secret_file(secrets, "recovery", typo),
        "--new-passphrase-file",
        secret_file(secrets, "new", OTHER_PASSPHRASE),
    )
    assert result.exit_code == 1 and "typing mistake" in result.stderr
    other = cli(
        "init",
        tmp_path / "other",
        "--encrypt",
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
    )
    result = cli(
        "passphrase",
        "reset",
        "--study",
        root,
        "--recovery-key-file",
        secret_file(secrets, "recovery", recovery_key_in(other.stdout)),
        "--new-passphrase-file",
        secret_file(secrets, "new", OTHER_PASSPHRASE),
    )
    assert result.exit_code == 1 and "does not open this study" in result.stderr
    assert (root / "keyslots.json").read_bytes() == before


def test_a_new_recovery_key_replaces_the_old_one(
    made: tuple[Path, str], cli: CliRun, secrets: Path
) -> None:
    root, old_key = made
    result = cli(
        "passphrase",
        "new-recovery-key",
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
    )
    assert result.exit_code == 0, result.stderr
    new_key = recovery_key_in(result.stdout)
    assert new_key != old_key
    with pytest.raises(WrongRecoveryKeyError):
        keys.unlock_with_recovery_key(root, old_key)
    assert keys.unlock_with_recovery_key(root, new_key) == keys.unlock(root, PASSPHRASE)
    assert "recovery key replaced" in audit_actions(root)


def test_a_new_passphrase_needs_a_file_or_a_terminal(
    root: Path, cli: CliRun, secrets: Path
) -> None:
    result = cli(
        "passphrase",
        "add",
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
    )
    assert result.exit_code == 1
    assert "no new passphrase" in result.stderr and "--new-passphrase-file" in result.stderr


def test_a_short_new_passphrase_is_refused(root: Path, cli: CliRun, secrets: Path) -> None:
    result = cli(
        "passphrase",
        "add",
        "--study",
        root,
        "--passphrase-file",
        secret_file(secrets, "current", PASSPHRASE),
        "--new-passphrase-file",
        secret_file(secrets, "new", "short"),
    )
    assert result.exit_code == 1 and "shorter than" in result.stderr


def test_a_plain_study_has_no_passphrase(tmp_path: Path, cli: CliRun, secrets: Path) -> None:
    plain = tmp_path / "plain"
    assert cli("init", plain).exit_code == 0
    for args in (("list",), ("add",), ("new-recovery-key",)):
        result = cli(
            "passphrase",
            *args,
            "--study",
            plain,
            "--passphrase-file",
            secret_file(secrets, "current", PASSPHRASE),
        )
        assert result.exit_code == 1, args
        assert "not encrypted" in result.stderr
