"""What can go wrong with keys, passphrases and encrypted recordings, as one-line FieldkitErrors."""

from __future__ import annotations

from fieldkit.errors import AudioError, FieldkitError


class CryptoError(FieldkitError):
    """A problem with a study's encryption: its key slots, a passphrase or a recovery key."""


class WrongPassphraseError(CryptoError):
    """No passphrase slot opens with the passphrase given."""


class WrongRecoveryKeyError(CryptoError):
    """A well-formed recovery key that does not open this study's recovery slot."""


class InvalidRecoveryKeyError(CryptoError):
    """Text that cannot be a recovery key (a typo: wrong length, character or checksum)."""


class KeySlotsMissingError(CryptoError):
    """The study has no key slot file (keyslots.json)."""


class KeySlotsDamagedError(CryptoError):
    """The key slot file, or the slot that was needed, cannot be read."""


class KeySlotsExistError(CryptoError):
    """Creating key slots where some already exist (the study is already encrypted)."""


class PassphraseSlotDamagedError(WrongPassphraseError, KeySlotsDamagedError):
    """No readable passphrase slot opens, and some passphrase slots cannot be read: the passphrase
    may be right and its slot damaged. Both a wrong passphrase and damage, for callers that count
    tries."""


class NoSuchSlotError(CryptoError):
    """A slot id that the key slot file does not have."""


class SlotRemovalRefusedError(CryptoError):
    """Removing a slot that must stay (the recovery slot, the last passphrase)."""


class LastPassphraseError(SlotRemovalRefusedError):
    """Removing the only readable passphrase slot left."""


class WeakPassphraseError(CryptoError):
    """A new passphrase that is empty or too short."""


class PassphraseUnavailableError(CryptoError):
    """No passphrase option, no $FIELDKIT_PASSPHRASE and no terminal to ask on."""


class EncryptedAudioError(AudioError):
    """An encrypted recording cannot be written or read (not one, wrong format, damaged)."""


class AudioAuthenticationError(EncryptedAudioError):
    """Part of an encrypted recording fails authentication: altered, damaged or another key.

    `chunk` is the index of the first chunk that failed (None for the header), `at_s` where in
    the recording it starts."""

    def __init__(
        self, message: str, hint: str = "", chunk: int | None = None, at_s: float = 0.0
    ) -> None:
        super().__init__(message, hint)
        self.chunk = chunk
        self.at_s = at_s
