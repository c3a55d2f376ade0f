"""A study's data key and the key slots that guard it.

Every encrypted study has one random 256-bit **data key**; the database and every recording are
encrypted with keys derived from it. The data key is never stored in the clear: the study folder
holds `keyslots.json`, a list of **slots**, each the data key wrapped (ChaCha20-Poly1305) under a
key derived from

* a **passphrase** — Argon2id, with parameters calibrated to take ~0.5 s on the machine that made
  the slot; parameters and salt are stored in the slot, so any machine can open it; or
* the **recovery key** — 160 random bits shown once at creation as 36 base32 characters in groups
  of four (the last four are a checksum that catches typing mistakes). Being random, it needs no
  slow KDF: HKDF-SHA256 with a per-slot salt.

Policy:
* At least one passphrase slot always remains: removing the last one is refused. The recovery slot
  does not count, because the recovery key is meant to be kept away from the laptop; a study that
  only the recovery key opens could not be opened in the field.
* There is exactly one recovery slot. `replace_recovery_key` makes a new one (the old key stops
  working).
* Changing or removing a passphrase does not change the data key. Someone who copied the old slot
  file and knows the old passphrase can still derive the data key; only re-encrypting the study
  helps against that.

What helps when the slot file is damaged: each slot is opened on its own, so a damaged passphrase
slot still leaves the other passphrases and the recovery key working (then set a new passphrase);
a damaged recovery slot leaves the passphrases working (then make a new recovery key). If the file
is missing or cannot be parsed at all, nothing in the study can open it — not even the recovery key,
whose slot lives in the same file — and only a backup copy of `keyslots.json` helps. The file holds
no secret in the clear, so backing it up with the study is safe.

The file is written atomically (temporary file, fsync, rename, fsync of the folder) with mode 0600,
under an exclusive lock on the study folder so two terminals cannot lose each other's changes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

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
from fieldkit.crypto.files import folder_lock, write_private_atomically

SLOTS_FILE = "keyslots.json"
FILE_FORMAT = "fieldkit-keyslots"
FILE_VERSION = 1
DATA_KEY_BYTES = 32
MIN_PASSPHRASE_CHARS = 8

_CIPHER = "chacha20-poly1305"
_NONCE_BYTES = 12
_SALT_BYTES = 16
_RECOVERY_RANDOM_BYTES = 20  # 160 bits: 32 base32 characters
_RECOVERY_CHECK_CHARS = 4  # 20 bits of checksum
_RECOVERY_GROUP = 4
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Characters people confuse with base32 letters: read them as what they were meant to be.
_RECOVERY_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})

SlotKind = Literal["passphrase", "recovery"]


# -- the data key ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataKey:
    """The study's 256-bit data key. Its repr never shows the secret (tracebacks, logs)."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != DATA_KEY_BYTES:
            raise ValueError(f"a data key is {DATA_KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return "DataKey(<secret>)"

    @classmethod
    def generate(cls) -> DataKey:
        return cls(os.urandom(DATA_KEY_BYTES))

    def derive(self, purpose: str, salt: bytes = b"", length: int = 32) -> bytes:
        """A separate key for one use (the database, one recording …): HKDF-SHA256."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        info = b"fieldkit/" + purpose.encode("ascii")
        return HKDF(hashes.SHA256(), length, salt or None, info).derive(self.secret)

    def sqlcipher_key(self) -> str:
        """The raw-key literal for SQLCipher: `PRAGMA key = "x'…'"` (64 hex digits, which skips
        SQLCipher's own passphrase KDF). A key derived for the database alone."""
        return f"x'{self.derive('sqlcipher-database').hex()}'"


def key_check_value(key: DataKey) -> bytes:
    """A one-way fingerprint of the data key, stored in the slot file: tells whether a key is this
    study's without opening the database (and without revealing anything about the key)."""
    return key.derive("key-check")


# -- KDF parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Argon2Params:
    iterations: int
    memory_kib: int
    lanes: int

    def as_json(self) -> dict[str, int]:
        return {"iterations": self.iterations, "memory_kib": self.memory_kib, "lanes": self.lanes}


# 256 MiB and 4 lanes (RFC 9106 suggests ≥ 64 MiB, 4 lanes); iterations are calibrated.
DEFAULT_MEMORY_KIB = 256 * 1024
DEFAULT_LANES = 4
MIN_ITERATIONS = 3
MAX_ITERATIONS = 64
TARGET_SECONDS = 0.5
# Bounds accepted when reading a slot: anything outside is damage, not a slow-down to wait out.
_MAX_MEMORY_KIB = 4 * 1024 * 1024
_MAX_READ_ITERATIONS = 1000
_MAX_LANES = 64

_calibrated: Argon2Params | None = None


def calibrate_argon2(
    target_s: float = TARGET_SECONDS,
    memory_kib: int = DEFAULT_MEMORY_KIB,
    lanes: int = DEFAULT_LANES,
) -> Argon2Params:
    """Argon2id parameters that take about `target_s` here: memory and lanes fixed, iterations
    from a timed probe (at least MIN_ITERATIONS).

    The probe's CPU time, spread over the cores its lanes can use, estimates what it takes on an
    idle machine; so other programs keeping the cores busy do not make the slot weaker."""
    probe = Argon2Params(2, memory_kib, lanes)
    wall, cpu = time.perf_counter(), time.process_time()
    _argon2id(b"calibration", os.urandom(_SALT_BYTES), probe)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    parallel = max(1, min(lanes, os.cpu_count() or 1))
    per_pass = min(wall, cpu / parallel) / probe.iterations
    iterations = round(target_s / per_pass) if per_pass > 0 else MAX_ITERATIONS
    return Argon2Params(max(MIN_ITERATIONS, min(MAX_ITERATIONS, iterations)), memory_kib, lanes)


def default_argon2_params() -> Argon2Params:
    """Parameters for new passphrase slots: calibrated once per process."""
    global _calibrated
    if _calibrated is None:
        _calibrated = calibrate_argon2()
    return _calibrated


def _argon2id(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    return Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(secret)


def _hkdf(secret: bytes, salt: bytes, purpose: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt, b"fieldkit/" + purpose).derive(secret)


def passphrase_bytes(passphrase: str) -> bytes:
    """Unicode-normalised (NFC), so an accented letter typed on another keyboard still matches."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase.strip()) == 0:
        raise WeakPassphraseError("the passphrase is empty", "choose a passphrase")
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphraseError(
            f"the passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters",
            "choose a longer one: several words are easy to remember and hard to guess",
        )


# -- the recovery key --------------------------------------------------------------------------


def _recovery_checksum(random_part: bytes) -> str:
    digest = hashlib.sha256(b"fieldkit recovery key" + random_part).digest()
    return base64.b32encode(digest[:5]).decode("ascii")[:_RECOVERY_CHECK_CHARS]


def format_recovery_key(random_part: bytes) -> str:
    """`XXXX-XXXX-…` (9 groups of 4): 32 characters of key, then 4 of checksum."""
    body = base64.b32encode(random_part).decode("ascii") + _recovery_checksum(random_part)
    groups = [body[i : i + _RECOVERY_GROUP] for i in range(0, len(body), _RECOVERY_GROUP)]
    return "-".join(groups)


def parse_recovery_key(text: str) -> bytes:
    """The 20 random bytes of a typed recovery key. Spaces, dashes and case do not matter;
    0/1/8 are read as O/I/B. A wrong, missing or extra character is an InvalidRecoveryKeyError."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").translate(
        _RECOVERY_LOOKALIKES
    )
    body_chars = _RECOVERY_RANDOM_BYTES * 8 // 5
    hint = "type it again exactly as it was printed: 9 groups of 4 letters and digits"
    if len(cleaned) != body_chars + _RECOVERY_CHECK_CHARS:
        raise InvalidRecoveryKeyError(
            f"that is not a recovery key: it has {len(cleaned)} letters and digits, not "
            f"{body_chars + _RECOVERY_CHECK_CHARS}",
            hint,
        )
    if any(ch not in _BASE32 for ch in cleaned):
        raise InvalidRecoveryKeyError(
            "that is not a recovery key: it holds a character a recovery key never has", hint
        )
    random_part = base64.b32decode(cleaned[:body_chars])
    if not hmac.compare_digest(cleaned[body_chars:], _recovery_checksum(random_part)):
        raise InvalidRecoveryKeyError(
            "that recovery key has a typing mistake (its last group does not match the rest)",
            hint,
        )
    return random_part


# -- slots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotInfo:
    """What `list_slots` tells about a slot: never anything secret."""

    id: int
    kind: str
    created: str
    readable: bool
    problem: str = ""
    kdf: str = ""


@dataclass(frozen=True)
class NewStudyKeys:
    data_key: DataKey
    recovery_key: str  # show it once, then forget it


@dataclass
class _SlotFile:
    key_check: bytes
    slots: list[Any]  # parsed JSON; a damaged slot may be anything


def slots_path(folder: Path) -> Path:
    return Path(folder) / SLOTS_FILE


def has_key_slots(folder: Path) -> bool:
    """Whether the folder is an encrypted study (it has a key slot file, readable or not)."""
    return slots_path(folder).exists()


def create_key_slots(
    folder: Path, passphrase: str, kdf: Argon2Params | None = None
) -> NewStudyKeys:
    """Start encryption for a study folder: a new data key, one passphrase slot and the recovery
    slot. Refused when the folder already has a key slot file."""
    check_new_passphrase(passphrase)
    folder = Path(folder)
    key = DataKey.generate()
    recovery_random = os.urandom(_RECOVERY_RANDOM_BYTES)
    slots = [
        _passphrase_slot(1, key, passphrase, kdf or default_argon2_params()),
        _recovery_slot(2, key, recovery_random),
    ]
    with _locked(folder):
        if has_key_slots(folder):
            raise KeySlotsExistError(
                f"{folder} already has key slots ({SLOTS_FILE}): it is already encrypted",
                "manage its passphrases with `fieldkit passphrase`",
            )
        _save(folder, _SlotFile(key_check_value(key), slots))
    return NewStudyKeys(key, format_recovery_key(recovery_random))


def unlock(folder: Path, passphrase: str) -> DataKey:
    """The data key, from the passphrase. Reads keyslots.json only (the database stays closed)."""
    key, _slot_id = _unlock_passphrase_slot(_load(folder), folder, passphrase)
    return key


def unlock_with_recovery_key(folder: Path, recovery_key: str) -> DataKey:
    random_part = parse_recovery_key(recovery_key)  # a typo is reported before any file is read
    slot_file = _load(folder)
    slot = next((s for s in slot_file.slots if _field(s, "type") == "recovery"), None)
    if slot is None:
        raise KeySlotsDamagedError(
            f"{slots_path(folder)} has no recovery slot",
            "open the study with a passphrase, then make a new recovery key",
        )
    try:
        wrapped = _parse_slot(slot)
    except ValueError as error:
        raise KeySlotsDamagedError(
            f"the recovery slot in {slots_path(folder)} is damaged ({error})",
            "open the study with a passphrase, then make a new recovery key",
        ) from error
    wrapping_key = _hkdf(random_part, wrapped.salt, b"recovery-slot")
    secret = _unwrap(wrapping_key, wrapped)
    if secret is None:
        raise WrongRecoveryKeyError(
            "that recovery key does not open this study",
            "check that it is the key printed when this study was encrypted",
        )
    return _checked(DataKey(secret), slot_file, folder)


def verify_data_key(folder: Path, key: DataKey) -> bool:
    """Whether `key` is this study's data key, from the slot file alone (no database, no KDF)."""
    return hmac.compare_digest(_load(folder).key_check, key_check_value(key))


def add_passphrase(
    folder: Path, key: DataKey, new_passphrase: str, kdf: Argon2Params | None = None
) -> int:
    """A new passphrase slot (for a colleague, or after opening with the recovery key); returns
    its slot id. `key` must be this study's data key (from unlock or the recovery key)."""
    check_new_passphrase(new_passphrase)
    params = kdf or default_argon2_params()
    with _locked(folder):
        slot_file = _load(folder)
        _require_study_key(key, slot_file, folder)
        slot_id = _next_id(slot_file)
        slot_file.slots.append(_passphrase_slot(slot_id, key, new_passphrase, params))
        _save(folder, slot_file)
    return slot_id


def change_passphrase(
    folder: Path, old_passphrase: str, new_passphrase: str, kdf: Argon2Params | None = None
) -> int:
    """Re-wrap the slot the old passphrase opens under the new one (same slot id, new salt)."""
    check_new_passphrase(new_passphrase)
    params = kdf or default_argon2_params()
    with _locked(folder):
        slot_file = _load(folder)
        key, slot_id = _unlock_passphrase_slot(slot_file, folder, old_passphrase)
        replacement = _passphrase_slot(slot_id, key, new_passphrase, params)
        slot_file.slots = [
            replacement if _field(s, "id") == slot_id else s for s in slot_file.slots
        ]
        _save(folder, slot_file)
    return slot_id


def remove_passphrase(folder: Path, passphrase: str) -> int:
    """Remove the slot this passphrase opens (proving it is known); returns its id. Refused
    when it is the last passphrase slot."""
    with _locked(folder):
        slot_file = _load(folder)
        _key, slot_id = _unlock_passphrase_slot(slot_file, folder, passphrase)
        _remove(slot_file, slot_id)
        _save(folder, slot_file)
    return slot_id


def remove_slot(folder: Path, key: DataKey, slot_id: int) -> None:
    """Remove a passphrase slot by id (e.g. a forgotten passphrase, after opening the study with
    another passphrase or the recovery key). Refused for the last passphrase slot and for the
    recovery slot (replace that with `replace_recovery_key`)."""
    with _locked(folder):
        slot_file = _load(folder)
        _require_study_key(key, slot_file, folder)
        _remove(slot_file, slot_id)
        _save(folder, slot_file)


def replace_recovery_key(folder: Path, key: DataKey) -> str:
    """A new recovery key (shown once); the previous one stops opening the study."""
    with _locked(folder):
        slot_file = _load(folder)
        _require_study_key(key, slot_file, folder)
        recovery_random = os.urandom(_RECOVERY_RANDOM_BYTES)
        others = [s for s in slot_file.slots if _field(s, "type") != "recovery"]
        slot_file.slots = [*others, _recovery_slot(_next_id(slot_file), key, recovery_random)]
        _save(folder, slot_file)
    return format_recovery_key(recovery_random)


def list_slots(folder: Path) -> list[SlotInfo]:
    """Every slot with its kind, creation time and whether it can be read (no KDF is run)."""
    infos = []
    for position, slot in enumerate(_load(folder).slots):
        slot_id = _field(slot, "id")
        try:
            wrapped = _parse_slot(slot)
        except ValueError as error:
            infos.append(
                SlotInfo(
                    id=slot_id if isinstance(slot_id, int) else -position,
                    kind=str(_field(slot, "type") or "?"),
                    created=str(_field(slot, "created") or ""),
                    readable=False,
                    problem=str(error),
                )
            )
            continue
        infos.append(
            SlotInfo(wrapped.id, wrapped.kind, wrapped.created, True, kdf=wrapped.kdf_summary)
        )
    return infos


# -- inside ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WrappedSlot:
    id: int
    kind: SlotKind
    created: str
    salt: bytes
    argon2: Argon2Params | None
    nonce: bytes
    wrapped_key: bytes
    aad: bytes

    @property
    def kdf_summary(self) -> str:
        if self.argon2 is None:
            return "hkdf-sha256"
        p = self.argon2
        return f"argon2id t={p.iterations} m={p.memory_kib // 1024}MiB p={p.lanes}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _slot_aad(kind: str, kdf: dict[str, Any]) -> bytes:
    # The wrapped key is bound to its slot's kind and KDF settings.
    return json.dumps(
        {"format": FILE_FORMAT, "version": FILE_VERSION, "type": kind, "kdf": kdf},
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def _wrap(wrapping_key: bytes, key: DataKey, aad: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    nonce = os.urandom(_NONCE_BYTES)
    return nonce, ChaCha20Poly1305(wrapping_key).encrypt(nonce, key.secret, aad)


def _unwrap(wrapping_key: bytes, slot: _WrappedSlot) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    try:
        return ChaCha20Poly1305(wrapping_key).decrypt(slot.nonce, slot.wrapped_key, slot.aad)
    except InvalidTag:
        return None


def _passphrase_slot(
    slot_id: int, key: DataKey, passphrase: str, params: Argon2Params
) -> dict[str, Any]:
    salt = os.urandom(_SALT_BYTES)
    kdf = {"name": "argon2id", "salt": _b64(salt), **params.as_json()}
    nonce, wrapped = _wrap(
        _argon2id(passphrase_bytes(passphrase), salt, params), key, _slot_aad("passphrase", kdf)
    )
    return _slot_json(slot_id, "passphrase", kdf, nonce, wrapped)


def _recovery_slot(slot_id: int, key: DataKey, recovery_random: bytes) -> dict[str, Any]:
    salt = os.urandom(_SALT_BYTES)
    kdf = {"name": "hkdf-sha256", "salt": _b64(salt)}
    wrapping_key = _hkdf(recovery_random, salt, b"recovery-slot")
    nonce, wrapped = _wrap(wrapping_key, key, _slot_aad("recovery", kdf))
    return _slot_json(slot_id, "recovery", kdf, nonce, wrapped)


def _slot_json(
    slot_id: int, kind: SlotKind, kdf: dict[str, Any], nonce: bytes, wrapped: bytes
) -> dict[str, Any]:
    return {
        "id": slot_id,
        "type": kind,
        "created": _now(),
        "kdf": kdf,
        "cipher": _CIPHER,
        "nonce": _b64(nonce),
        "wrapped_key": _b64(wrapped),
    }


def _parse_slot(slot: object) -> _WrappedSlot:
    """A slot's fields, checked; ValueError says what is wrong."""
    if not isinstance(slot, dict):
        raise ValueError("not a slot")
    slot_id, kind, kdf = slot.get("id"), slot.get("type"), slot.get("kdf")
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        raise ValueError("no slot id")
    if kind not in ("passphrase", "recovery"):
        raise ValueError(f"unknown slot type {kind!r}")
    if slot.get("cipher") != _CIPHER:
        raise ValueError(f"unknown cipher {slot.get('cipher')!r}")
    if not isinstance(kdf, dict):
        raise ValueError("no key derivation settings")
    salt = _decode_b64(kdf.get("salt"), "salt", _SALT_BYTES)
    nonce = _decode_b64(slot.get("nonce"), "nonce", _NONCE_BYTES)
    wrapped = _decode_b64(slot.get("wrapped_key"), "wrapped key", DATA_KEY_BYTES + 16)
    argon2 = _parse_argon2(kdf) if kind == "passphrase" else None
    if kind == "recovery" and kdf.get("name") != "hkdf-sha256":
        raise ValueError(f"unknown key derivation {kdf.get('name')!r}")
    created = slot.get("created", "")
    return _WrappedSlot(
        id=slot_id,
        kind=kind,
        created=created if isinstance(created, str) else "",
        salt=salt,
        argon2=argon2,
        nonce=nonce,
        wrapped_key=wrapped,
        aad=_slot_aad(kind, kdf),
    )


def _parse_argon2(kdf: dict[str, Any]) -> Argon2Params:
    if kdf.get("name") != "argon2id":
        raise ValueError(f"unknown key derivation {kdf.get('name')!r}")
    values = [kdf.get(name) for name in ("iterations", "memory_kib", "lanes")]
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        raise ValueError("Argon2id settings are not whole numbers")
    params = Argon2Params(*numbers)
    if not (
        1 <= params.iterations <= _MAX_READ_ITERATIONS
        and 1 <= params.lanes <= _MAX_LANES
        and 8 * params.lanes <= params.memory_kib <= _MAX_MEMORY_KIB
    ):
        raise ValueError("Argon2id settings are out of range")
    return params


def _decode_b64(value: object, name: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"no {name}")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"its {name} is not valid base64") from error
    if len(data) != length:
        raise ValueError(f"its {name} has {len(data)} bytes, not {length}")
    return data


def _unlock_passphrase_slot(
    slot_file: _SlotFile, folder: Path, passphrase: str
) -> tuple[DataKey, int]:
    """Try every passphrase slot; (data key, slot id) of the one that opens."""
    secret_bytes = passphrase_bytes(passphrase)
    damaged = 0
    readable = 0
    for slot in slot_file.slots:
        if _field(slot, "type") != "passphrase":
            continue
        try:
            wrapped = _parse_slot(slot)
        except ValueError:
            damaged += 1
            continue
        readable += 1
        assert wrapped.argon2 is not None
        secret = _unwrap(_argon2id(secret_bytes, wrapped.salt, wrapped.argon2), wrapped)
        if secret is not None:
            return _checked(DataKey(secret), slot_file, folder), wrapped.id
    if damaged:
        raise PassphraseSlotDamagedError(
            f"wrong passphrase, or its slot is damaged: {damaged} of {damaged + readable} "
            f"passphrase slots in {slots_path(folder)} cannot be read",
            "the recovery key still opens the study; then set a new passphrase",
        )
    raise WrongPassphraseError(
        "wrong passphrase for this study",
        "try again; if it is lost (or you are sure it is right and its slot may be damaged), "
        "the recovery key opens the study",
    )


def _checked(key: DataKey, slot_file: _SlotFile, folder: Path) -> DataKey:
    if not hmac.compare_digest(slot_file.key_check, key_check_value(key)):
        raise KeySlotsDamagedError(
            f"{slots_path(folder)} is inconsistent: the key does not match the file's key check",
            "restore keyslots.json from a backup of the study folder",
        )
    return key


def _require_study_key(key: DataKey, slot_file: _SlotFile, folder: Path) -> None:
    if not hmac.compare_digest(slot_file.key_check, key_check_value(key)):
        raise CryptoError(
            f"the key given is not the data key of the study in {folder}",
            "open the study with its passphrase or recovery key first",
        )


def _remove(slot_file: _SlotFile, slot_id: int) -> None:
    target = next((s for s in slot_file.slots if _field(s, "id") == slot_id), None)
    if target is None:
        raise NoSuchSlotError(f"there is no key slot {slot_id}", "see the list of slots")
    if _field(target, "type") == "recovery":
        raise SlotRemovalRefusedError(
            "the recovery slot cannot be removed", "make a new recovery key instead"
        )
    # Only slots that can be read count: a damaged one would open nothing.
    others = [s for s in slot_file.slots if s is not target and _readable_passphrase_slot(s)]
    if not others:
        raise LastPassphraseError(
            "this is the study's last passphrase; removing it is refused",
            "add another passphrase first, or change this one",
        )
    slot_file.slots = [s for s in slot_file.slots if s is not target]


def _field(slot: object, name: str) -> object:
    """A field of a slot that may be damaged (not even a JSON object)."""
    return slot.get(name) if isinstance(slot, dict) else None


def _readable_passphrase_slot(slot: object) -> bool:
    if _field(slot, "type") != "passphrase":
        return False
    try:
        _parse_slot(slot)
    except ValueError:
        return False
    return True


def _next_id(slot_file: _SlotFile) -> int:
    ids = [_field(s, "id") for s in slot_file.slots]
    return max([i for i in ids if isinstance(i, int)], default=0) + 1


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Changes to one study's slots happen one at a time (two terminals, two threads)."""
    if not Path(folder).is_dir():
        raise CryptoError(f"{folder} is not a folder", "give the study folder")
    with folder_lock(Path(folder)):
        yield


def _load(folder: Path) -> _SlotFile:
    path = slots_path(folder)
    restore = "restore keyslots.json from a backup of the study folder"
    try:
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise KeySlotsMissingError(
            f"{path} is missing: it holds the only wrapped copies of the study's key, so neither "
            "a passphrase nor the recovery key can open the study without it",
            restore,
        ) from error
    except OSError as error:
        raise KeySlotsDamagedError(f"cannot read {path}: {error.strerror}", restore) from error
    try:
        document = json.loads(raw.decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise ValueError("not a fieldkit key slot file")
        if isinstance(document.get("version"), int) and document["version"] > FILE_VERSION:
            raise KeySlotsDamagedError(
                f"{path} was written by a newer fieldkit (format {document['version']})",
                "update fieldkit to open this study",
            )
        if document.get("version") != FILE_VERSION:
            raise ValueError(f"unknown format version {document.get('version')!r}")
        key_check = _decode_b64(document.get("key_check"), "key check", 32)
        slots = document.get("slots")
        if not isinstance(slots, list):
            raise ValueError("no list of slots")
    except (ValueError, UnicodeDecodeError) as error:
        raise KeySlotsDamagedError(
            f"{path} is damaged ({error}); the recovery key's slot is in this file too, so "
            "nothing can open the study until it is restored",
            restore,
        ) from error
    return _SlotFile(key_check, slots)  # unreadable slots are kept as they are, never rewritten


def _save(folder: Path, slot_file: _SlotFile) -> None:
    document = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "key_check": _b64(slot_file.key_check),
        "slots": slot_file.slots,
    }
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    write_private_atomically(slots_path(folder), data)
