"""Fixtures for the encryption tests: cheap key derivation, a folder with key slots, umask 022."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.keys import Argon2Params, DataKey, NewStudyKeys, create_key_slots

# Real slots take ~0.5 s to open; tests that are not about the cost use the cheapest settings.
FAST_KDF = Argon2Params(iterations=1, memory_kib=1024, lanes=1)
PASSPHRASE = "correct horse battery"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual desktop umask: files would be 0644 unless fieldkit asks for less."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    folder.mkdir()
    return folder


@pytest.fixture
def keyed_study(study_dir: Path) -> NewStudyKeys:
    return create_key_slots(study_dir, PASSPHRASE, kdf=FAST_KDF)


@pytest.fixture
def data_key() -> DataKey:
    return DataKey.generate()
