"""Key slots: create, unlock, recovery key, add/change/remove, damaged and missing slot files."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import unicodedata
from pathlib import Path

import pytest

from fieldkit.crypto import keys
from fieldkit.crypto.errors import (
    CryptoError,
    InvalidRecoveryKeyError,
    KeySlotsDamagedError,
    KeySlotsExistError,
    KeySlotsMissingError,
    LastPassphraseError,
    NoSuchSlotError,
    PassphraseSlotDamagedError,
    SlotRemovalRefusedError,
    WeakPassphraseError,
    WrongPassphraseError,
    WrongRecoveryKeyError,
)
from fieldkit.crypto.keys import DataKey, NewStudyKeys
from fieldkit.errors import FieldkitError

from .conftest import FAST_KDF, PASSPHRASE


def slot_document(folder: Path) -> dict[str, object]:
    return dict(json.loads(keys.slots_path(folder).read_text()))


def rewrite_slots(folder: Path, change: object) -> None:
    document = slot_document(folder)
    assert callable(change)
    change(document)
    keys.slots_path(folder).write_text(json.dumps(document))


# -- create and unlock ---------------------------------------------------------------------------


def test_create_then_unlock_gives_the_same_key(study_dir: Path) -> None:
    created = keys.create_key_slots(study_dir, PASSPHRASE, kdf=FAST_KDF)
    assert keys.unlock(study_dir, PASSPHRASE) == created.data_key
    assert keys.unlock_with_recovery_key(study_dir, created.recovery_key) == created.data_key
    assert keys.verify_data_key(study_dir, created.data_key)
    assert not keys.verify_data_key(study_dir, DataKey.generate())
    assert [(s.id, s.kind, s.readable) for s in keys.list_slots(study_dir)] == [
        (1, "passphrase", True),
        (2, "recovery", True),
    ]


def test_slot_file_holds_no_secret_in_the_clear(study_dir: Path) -> None:
    created = keys.create_key_slots(study_dir, PASSPHRASE, kdf=FAST_KDF)
    raw = keys.slots_path(study_dir).read_bytes()
    secret = created.data_key.secret
    for form in (secret, secret.hex().encode(), base64.b64encode(secret)):
        assert form not in raw
    assert PASSPHRASE.encode() not in raw
    assert created.recovery_key.replace("-", "").encode() not in raw


def test_slot_file_is_owner_only_under_umask_022(study_dir: Path, umask_022: None) -> None:
    created = keys.create_key_slots(study_dir, PASSPHRASE, kdf=FAST_KDF)
    assert stat.S_IMODE(keys.slots_path(study_dir).stat().st_mode) == 0o600
    keys.add_passphrase(study_dir, created.data_key, "second passphrase", kdf=FAST_KDF)
    assert stat.S_IMODE(keys.slots_path(study_dir).stat().st_mode) == 0o600
    assert sorted(p.name for p in study_dir.iterdir()) == ["keyslots.json"]  # no temporaries


def test_creating_twice_is_refused_and_keeps_the_first_slots(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    before = keys.slots_path(study_dir).read_bytes()
    with pytest.raises(KeySlotsExistError, match="already encrypted"):
        keys.create_key_slots(study_dir, "another passphrase", kdf=FAST_KDF)
    assert keys.slots_path(study_dir).read_bytes() == before


@pytest.mark.parametrize("weak", ["", "   ", "short"])
def test_a_short_passphrase_is_refused(study_dir: Path, weak: str) -> None:
    with pytest.raises(WeakPassphraseError):
        keys.create_key_slots(study_dir, weak, kdf=FAST_KDF)
    assert not keys.has_key_slots(study_dir)


def test_wrong_passphrase_is_one_line_and_changes_nothing(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    before = keys.slots_path(study_dir).read_bytes()
    with pytest.raises(WrongPassphraseError) as caught:
        keys.unlock(study_dir, "not the passphrase")
    line = caught.value.one_line()
    assert "\n" not in line and line.startswith("wrong passphrase")
    assert "recovery key" in line
    assert keys.slots_path(study_dir).read_bytes() == before


def test_a_passphrase_typed_in_another_unicode_form_still_opens(study_dir: Path) -> None:
    composed = unicodedata.normalize("NFC", "café au lait")
    created = keys.create_key_slots(study_dir, composed, kdf=FAST_KDF)
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert keys.unlock(study_dir, decomposed) == created.data_key


def test_data_key_repr_never_shows_the_secret() -> None:
    key = DataKey.generate()
    assert key.secret.hex() not in repr(key) and str(key.secret) not in repr(key)
    literal = key.sqlcipher_key()
    assert literal.startswith("x'") and literal.endswith("'") and len(literal) == 67
    assert key.secret.hex() not in literal  # the database gets its own derived key


# -- the recovery key ----------------------------------------------------------------------------


def test_recovery_key_is_nine_groups_of_four(keyed_study: NewStudyKeys) -> None:
    groups = keyed_study.recovery_key.split("-")
    assert len(groups) == 9 and all(len(g) == 4 for g in groups)
    assert all(ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for g in groups for ch in g)


def test_recovery_key_forgives_case_spaces_and_lookalikes(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    spaced = keyed_study.recovery_key.replace("-", " ").lower()
    assert keys.unlock_with_recovery_key(study_dir, spaced) == keyed_study.data_key
    confusable = keyed_study.recovery_key.replace("O", "0").replace("I", "1").replace("B", "8")
    assert keys.unlock_with_recovery_key(study_dir, confusable) == keyed_study.data_key


def test_recovery_key_typo_is_caught_by_the_checksum(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    text = keyed_study.recovery_key
    swapped = ("B" if text[0] != "B" else "C") + text[1:]
    with pytest.raises(InvalidRecoveryKeyError, match="typing mistake"):
        keys.unlock_with_recovery_key(study_dir, swapped)
    with pytest.raises(InvalidRecoveryKeyError, match="letters and digits"):
        keys.unlock_with_recovery_key(study_dir, text[:-1])
    with pytest.raises(InvalidRecoveryKeyError, match="never has"):
        keys.unlock_with_recovery_key(study_dir, "9" + text[1:])


def test_another_studys_recovery_key_is_refused(
    keyed_study: NewStudyKeys, study_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    other_keys = keys.create_key_slots(other, PASSPHRASE, kdf=FAST_KDF)
    with pytest.raises(WrongRecoveryKeyError):
        keys.unlock_with_recovery_key(study_dir, other_keys.recovery_key)


def test_replacing_the_recovery_key_retires_the_old_one(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    new = keys.replace_recovery_key(study_dir, keyed_study.data_key)
    assert keys.unlock_with_recovery_key(study_dir, new) == keyed_study.data_key
    with pytest.raises(WrongRecoveryKeyError):
        keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key)
    assert [s.kind for s in keys.list_slots(study_dir)].count("recovery") == 1


# -- add, change, remove -------------------------------------------------------------------------


def test_add_change_and_remove_passphrases(keyed_study: NewStudyKeys, study_dir: Path) -> None:
    key = keyed_study.data_key
    added = keys.add_passphrase(study_dir, key, "second passphrase", kdf=FAST_KDF)
    assert added == 3
    assert keys.unlock(study_dir, "second passphrase") == key
    assert keys.unlock(study_dir, PASSPHRASE) == key

    assert keys.change_passphrase(study_dir, PASSPHRASE, "brand new passphrase", FAST_KDF) == 1
    with pytest.raises(WrongPassphraseError):
        keys.unlock(study_dir, PASSPHRASE)
    assert keys.unlock(study_dir, "brand new passphrase") == key
    assert keys.unlock(study_dir, "second passphrase") == key

    assert keys.remove_passphrase(study_dir, "second passphrase") == added
    with pytest.raises(WrongPassphraseError):
        keys.unlock(study_dir, "second passphrase")
    assert [s.kind for s in keys.list_slots(study_dir)] == ["passphrase", "recovery"]


def test_change_with_a_wrong_old_passphrase_changes_nothing(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    before = keys.slots_path(study_dir).read_bytes()
    with pytest.raises(WrongPassphraseError):
        keys.change_passphrase(study_dir, "not the passphrase", "brand new passphrase", FAST_KDF)
    assert keys.slots_path(study_dir).read_bytes() == before


def test_removing_the_last_passphrase_is_refused_the_recovery_slot_does_not_count(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    before = keys.slots_path(study_dir).read_bytes()
    with pytest.raises(LastPassphraseError, match="last passphrase"):
        keys.remove_passphrase(study_dir, PASSPHRASE)
    with pytest.raises(LastPassphraseError):
        keys.remove_slot(study_dir, keyed_study.data_key, 1)
    with pytest.raises(SlotRemovalRefusedError, match="recovery slot"):
        keys.remove_slot(study_dir, keyed_study.data_key, 2)
    with pytest.raises(NoSuchSlotError):
        keys.remove_slot(study_dir, keyed_study.data_key, 99)
    assert keys.slots_path(study_dir).read_bytes() == before


def test_changing_slots_needs_this_studys_key(keyed_study: NewStudyKeys, study_dir: Path) -> None:
    stranger = DataKey.generate()
    with pytest.raises(CryptoError, match="not the data key"):
        keys.add_passphrase(study_dir, stranger, "second passphrase", kdf=FAST_KDF)
    with pytest.raises(CryptoError, match="not the data key"):
        keys.replace_recovery_key(study_dir, stranger)


def test_a_forgotten_passphrase_is_replaced_with_the_recovery_key(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    key = keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key)
    keys.add_passphrase(study_dir, key, "remembered this time", kdf=FAST_KDF)
    keys.remove_slot(study_dir, key, 1)  # the forgotten one
    assert keys.unlock(study_dir, "remembered this time") == keyed_study.data_key
    with pytest.raises(WrongPassphraseError):
        keys.unlock(study_dir, PASSPHRASE)


def test_concurrent_changes_lose_nothing(keyed_study: NewStudyKeys, study_dir: Path) -> None:
    # Each add is read-modify-write of the slot file; the folder lock serialises them.
    errors: list[BaseException] = []

    def add(number: int) -> None:
        try:
            keys.add_passphrase(
                study_dir, keyed_study.data_key, f"passphrase {number:03}", FAST_KDF
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(keys.list_slots(study_dir)) == 8
    for number in range(6):
        assert keys.unlock(study_dir, f"passphrase {number:03}") == keyed_study.data_key


def test_a_crash_while_saving_leaves_the_old_file(
    keyed_study: NewStudyKeys, study_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = keys.slots_path(study_dir).read_bytes()

    def power_cut(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError):
        keys.add_passphrase(study_dir, keyed_study.data_key, "second passphrase", FAST_KDF)
    monkeypatch.undo()
    assert keys.slots_path(study_dir).read_bytes() == before
    assert sorted(p.name for p in study_dir.iterdir()) == ["keyslots.json"]


def test_a_stale_temporary_from_a_killed_writer_is_cleaned_up(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    stale = study_dir / ".keyslots.json.99999.tmp"
    stale.write_text("half a file")
    keys.add_passphrase(study_dir, keyed_study.data_key, "second passphrase", FAST_KDF)
    assert not stale.exists()


# -- missing and damaged slot files --------------------------------------------------------------


def test_missing_slot_file_says_only_a_backup_helps(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    keys.slots_path(study_dir).unlink()
    for attempt in (
        lambda: keys.unlock(study_dir, PASSPHRASE),
        lambda: keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key),
        lambda: keys.verify_data_key(study_dir, keyed_study.data_key),
    ):
        with pytest.raises(KeySlotsMissingError) as caught:
            attempt()
        line = caught.value.one_line()
        assert "keyslots.json is missing" in line and "nor the recovery key" in line
        assert "Restore keyslots.json from a backup" in line


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b'{"format": "something else"}', b"\xff\xfe", b"[]"]
)
def test_unreadable_slot_file_is_damaged(
    keyed_study: NewStudyKeys, study_dir: Path, content: bytes
) -> None:
    keys.slots_path(study_dir).write_bytes(content)
    with pytest.raises(KeySlotsDamagedError) as caught:
        keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key)
    assert "is damaged" in caught.value.message and "recovery key" in caught.value.message
    assert "backup" in caught.value.hint


def test_a_slot_file_from_a_newer_fieldkit_says_so(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    rewrite_slots(study_dir, lambda d: d.update(version=2))
    with pytest.raises(KeySlotsDamagedError, match="newer fieldkit"):
        keys.unlock(study_dir, PASSPHRASE)


def test_damaged_passphrase_slot_the_recovery_key_still_opens(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    def damage(document: dict[str, list[dict[str, object]]]) -> None:
        document["slots"][0]["wrapped_key"] = "not base64 at all!"

    rewrite_slots(study_dir, damage)
    with pytest.raises(PassphraseSlotDamagedError) as caught:
        keys.unlock(study_dir, PASSPHRASE)
    assert isinstance(caught.value, WrongPassphraseError)  # counts as a failed try
    assert "1 of 1 passphrase slots" in caught.value.message
    assert "recovery key still opens" in caught.value.hint
    assert [s.readable for s in keys.list_slots(study_dir)] == [False, True]

    key = keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key)
    keys.add_passphrase(study_dir, key, "a fresh passphrase", FAST_KDF)
    # The damaged slot opens nothing, so it does not count as a passphrase that stays.
    with pytest.raises(LastPassphraseError):
        keys.remove_passphrase(study_dir, "a fresh passphrase")
    keys.remove_slot(study_dir, key, 1)
    assert keys.unlock(study_dir, "a fresh passphrase") == keyed_study.data_key


def test_altered_passphrase_ciphertext_reads_as_wrong_passphrase(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    # Authentication cannot tell an altered slot from a wrong passphrase; the hint covers both.
    def flip(document: dict[str, list[dict[str, str]]]) -> None:
        wrapped = bytearray(base64.b64decode(document["slots"][0]["wrapped_key"]))
        wrapped[0] ^= 1
        document["slots"][0]["wrapped_key"] = base64.b64encode(bytes(wrapped)).decode()

    rewrite_slots(study_dir, flip)
    with pytest.raises(WrongPassphraseError) as caught:
        keys.unlock(study_dir, PASSPHRASE)
    assert "slot may be damaged" in caught.value.hint and "recovery key" in caught.value.hint
    assert keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key)


def test_damaged_recovery_slot_passphrase_still_opens_and_a_new_key_fixes_it(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    def damage(document: dict[str, list[object]]) -> None:
        document["slots"][1] = "garbage"

    rewrite_slots(study_dir, damage)
    assert keys.unlock(study_dir, PASSPHRASE) == keyed_study.data_key
    with pytest.raises(KeySlotsDamagedError) as caught:
        keys.unlock_with_recovery_key(study_dir, keyed_study.recovery_key)
    assert "passphrase" in caught.value.hint and "new recovery key" in caught.value.hint
    new = keys.replace_recovery_key(study_dir, keyed_study.data_key)
    assert keys.unlock_with_recovery_key(study_dir, new) == keyed_study.data_key


def test_out_of_range_kdf_settings_are_damage_not_a_long_wait(
    keyed_study: NewStudyKeys, study_dir: Path
) -> None:
    def huge(document: dict[str, list[dict[str, dict[str, int]]]]) -> None:
        document["slots"][0]["kdf"]["memory_kib"] = 2**40

    rewrite_slots(study_dir, huge)
    with pytest.raises(PassphraseSlotDamagedError):
        keys.unlock(study_dir, PASSPHRASE)
    assert "out of range" in keys.list_slots(study_dir)[0].problem


def test_an_inconsistent_key_check_is_reported(keyed_study: NewStudyKeys, study_dir: Path) -> None:
    rewrite_slots(study_dir, lambda d: d.update(key_check=base64.b64encode(bytes(32)).decode()))
    with pytest.raises(KeySlotsDamagedError, match="inconsistent"):
        keys.unlock(study_dir, PASSPHRASE)


def test_every_key_error_is_a_fieldkit_error() -> None:
    for error in (WrongPassphraseError, KeySlotsMissingError, InvalidRecoveryKeyError):
        assert issubclass(error, FieldkitError)


# -- calibration ---------------------------------------------------------------------------------


def test_calibration_keeps_a_floor_and_stores_its_settings_in_the_slot(study_dir: Path) -> None:
    # Asking for almost no time still gives the minimum number of passes.
    params = keys.calibrate_argon2(target_s=0.001, memory_kib=8 * 1024, lanes=2)
    assert params.iterations == keys.MIN_ITERATIONS and params.memory_kib == 8 * 1024
    keys.create_key_slots(study_dir, PASSPHRASE, kdf=params)
    kdf = slot_document(study_dir)["slots"][0]["kdf"]  # type: ignore[index]
    assert kdf["name"] == "argon2id" and kdf["iterations"] == keys.MIN_ITERATIONS
    assert kdf["memory_kib"] == 8 * 1024 and kdf["lanes"] == 2 and len(kdf["salt"]) == 24


def test_importing_the_key_modules_loads_no_crypto_library() -> None:
    # The CLI imports these to decide what to ask; `cryptography` loads only when a key is used.
    import subprocess
    import sys

    code = (
        "import sys, fieldkit.crypto.keys, fieldkit.crypto.passphrase; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cryptography', 'numpy')))"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_folder_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="is not a folder"):
        keys.create_key_slots(tmp_path / "nowhere", PASSPHRASE, kdf=FAST_KDF)
