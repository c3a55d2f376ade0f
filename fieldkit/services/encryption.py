"""An encrypted study's passphrases and recovery key: `fieldkit passphrase …`.

Each change rewrites keyslots.json (atomically, under the folder lock; see fieldkit.crypto.keys)
and is then written to the audit log — which slot, never a secret. The data key never changes,
so the database and recordings stay as they are.
"""

from __future__ import annotations

from pathlib import Path

from fieldkit.crypto import keys
from fieldkit.crypto.errors import CryptoError
from fieldkit.errors import FieldkitError
from fieldkit.services.study import PassphraseSource, Study, find_study


class NotEncryptedError(FieldkitError):
    """Passphrase management on a plain study."""


def require_encrypted(study: Study) -> None:
    if not study.encrypted:
        raise NotEncryptedError(
            f"the study in {study.root} is not encrypted, so it has no passphrase",
            "fieldkit init DIR --encrypt makes an encrypted study",
        )


def check_new_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to protect a slot (before anything is asked or changed)."""
    keys.check_new_passphrase(passphrase)


def check_recovery_key(text: str) -> None:
    """Refuse text that cannot be a recovery key (a typing mistake), before any file is read."""
    keys.parse_recovery_key(text)


def key_slots(root: Path) -> list[keys.SlotInfo]:
    """The study's key slots (kind, creation time, readable), without unlocking anything."""
    require_encrypted(find_study(root))
    return keys.list_slots(root)


def add_passphrase(study: Study, new_passphrase: str) -> int:
    """Another passphrase for an unlocked study (a colleague's, say); returns its slot id."""
    key = _key_of(study)
    slot_id = keys.add_passphrase(study.root, key, new_passphrase)
    _audit(study, "passphrase added", slot=slot_id)
    return slot_id


def change_passphrase(study: Study, old_passphrase: str, new_passphrase: str) -> int:
    """Re-wrap the slot `old_passphrase` opens under `new_passphrase` (same slot id)."""
    _key_of(study)
    if new_passphrase == old_passphrase:
        raise CryptoError(
            "the new passphrase is the same as the old one", "choose a different passphrase"
        )
    slot_id = keys.change_passphrase(study.root, old_passphrase, new_passphrase)
    _audit(study, "passphrase changed", slot=slot_id)
    return slot_id


def remove_passphrase(study: Study, passphrase: str) -> int:
    """Remove the slot `passphrase` opens; refused for the last passphrase."""
    _key_of(study)
    slot_id = keys.remove_passphrase(study.root, passphrase)
    _audit(study, "passphrase removed", slot=slot_id)
    return slot_id


def remove_key_slot(study: Study, slot_id: int) -> None:
    """Remove a passphrase slot by id (a forgotten or a departed colleague's passphrase)."""
    keys.remove_slot(study.root, _key_of(study), slot_id)
    _audit(study, "passphrase removed", slot=slot_id)


def reset_passphrase(
    root: Path, recovery_key: str, new_passphrase: str, actor: str | None = None
) -> tuple[Study, int]:
    """Open the study with its recovery key and add a passphrase slot for `new_passphrase`.
    The new passphrase is checked before anything is changed."""
    keys.check_new_passphrase(new_passphrase)
    study = find_study(root, actor)
    require_encrypted(study)
    study.unlock_with_recovery_key(recovery_key)
    study.db  # noqa: B018 - the key must open the database before a slot is added
    slot_id = keys.add_passphrase(study.root, _key_of(study), new_passphrase)
    _audit(study, "passphrase set with the recovery key", slot=slot_id)
    return study, slot_id


def new_recovery_key(study: Study) -> str:
    """Replace the recovery key (the old one stops working); the new one is shown once."""
    recovery_key = keys.replace_recovery_key(study.root, _key_of(study))
    _audit(study, "recovery key replaced")
    return recovery_key


def unlock_for_change(
    root: Path, passphrase: PassphraseSource, actor: str | None = None
) -> tuple[Study, str]:
    """Open an encrypted study to manage its passphrases: (the open study, the passphrase that
    opened it). A plain study is refused before the passphrase is asked for."""
    study = find_study(root, actor)
    require_encrypted(study)
    secret = passphrase()
    study.unlock(secret)
    study.db  # noqa: B018 - the key must open the database before any slot changes
    return study, secret


def _key_of(study: Study) -> keys.DataKey:
    require_encrypted(study)
    key = study.data_key
    if key is None:
        raise CryptoError(f"the study in {study.root} is still locked", "give its passphrase first")
    return key


def _audit(study: Study, action: str, **detail: object) -> None:
    with study.transaction():
        study.audit(action, **detail)
