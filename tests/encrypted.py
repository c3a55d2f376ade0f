"""Helpers for tests on encrypted studies: cheap key derivation, making one, scanning its files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldkit.crypto import keys
from fieldkit.crypto.keys import Argon2Params

# Real passphrase slots take ~0.5 s to open; tests not about the cost use the cheapest settings
# (stored in each slot, so any process opens them as cheaply).
FAST_KDF = Argon2Params(iterations=1, memory_kib=1024, lanes=1)
PASSPHRASE = "correct horse battery"
OTHER_PASSPHRASE = "a different stable lamp"
RECOVERY_KEY_LINE = re.compile(r"^\s+((?:[A-Z2-7]{4}-){8}[A-Z2-7]{4})$", re.MULTILINE)
SQLITE_HEADER = b"SQLite format 3\x00"


def use_fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """New passphrase slots made in this process use FAST_KDF (no calibration either)."""
    monkeypatch.setattr(keys, "_calibrated", FAST_KDF)


def recovery_key_in(output: str) -> str:
    found = RECOVERY_KEY_LINE.findall(output)
    assert len(found) == 1, output
    return str(found[0])


def study_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def files_containing(root: Path, needle: bytes) -> list[str]:
    """Every file of the study folder whose bytes hold `needle` (as UTF-8 or UTF-16 text)."""
    forms = {needle, needle.decode("utf-8").encode("utf-16-le")}
    return [
        str(path.relative_to(root))
        for path in study_files(root)
        if any(form in path.read_bytes() for form in forms)
    ]
