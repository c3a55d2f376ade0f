"""Helpers for the `fieldkit encrypt` / `fieldkit decrypt` tests: a real study to convert, what it
holds (to compare before and after), which state a folder is in, and a child process that runs
the command (with the cheap test KDF, and optionally a crash point)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from fieldkit.crypto import keys
from fieldkit.crypto.stream import is_encrypted_recording
from fieldkit.services.playback import interview_audio
from fieldkit.services.study import open_study
from fieldkit.store.db import has_plain_sqlite_header
from fieldkit.store.repo import Interviews, Participants, Recordings, Transcripts
from tests.encrypted import PASSPHRASE, SQLITE_HEADER, files_containing, study_files

REPO_ROOT = Path(__file__).resolve().parents[2]
AUDIO_HEADERS = (b"RIFF", b"RF64", b"fLaC", b"ID3", b"OggS", b"\xff\xfb", b"\xff\xf3")
# Words of the demo transcript.
SPOKEN = ("Riverton", "hospital ward", "symptoms", "Just down the road")
# The child: fieldkit's command line with the cheap test KDF (new slots open as cheaply).
_CHILD = (
    "import sys; from fieldkit.crypto import keys; from tests.encrypted import FAST_KDF; "
    "keys._calibrated = FAST_KDF; from fieldkit.cli import main; "
    "main(sys.argv[1:], prog_name='fieldkit')"
)

State = Literal["plain", "encrypted"]


@dataclass(frozen=True)
class Content:
    """What a study holds, as far as a conversion must keep it."""

    participants: tuple[tuple[str, str, str | None], ...]
    transcripts: tuple[tuple[int, int, str], ...]  # interview id, revision, text digest
    audio: tuple[tuple[int, str], ...]  # interview id, digest of its samples
    recordings: int


def content(root: Path, passphrase: str | None = None) -> Content:
    """Read everything through the services, as fieldkit itself would."""
    study = open_study(root, passphrase=(lambda: passphrase) if passphrase else None)
    try:
        people = tuple((p.id, p.status.value, p.consent_date) for p in Participants(study.db).all())
        texts = []
        audio = []
        for interview in Interviews(study.db).all():
            for transcript in Transcripts(study.db).for_interview(interview.id):
                segments = Transcripts(study.db).segments(transcript.id)
                text = "\n".join(s.text for s in segments)
                texts.append((interview.id, transcript.revision, _digest(text.encode())))
            if Recordings(study.db).for_interview(interview.id):
                sound = interview_audio(study, interview.id)
                samples = np.round(sound.read(0.0, sound.duration) * 32768).astype(np.int32)
                audio.append((interview.id, _digest(samples.tobytes())))
        recordings = len(list(study.db["recordings"].rows))
    finally:
        study.close()
    return Content(tuple(sorted(people)), tuple(sorted(texts)), tuple(sorted(audio)), recordings)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def state_of(root: Path) -> State:
    """Which study the folder is, checked to be wholly that one: key slots and database agree,
    every recording the database lists is there, and of the study's kind."""
    encrypted = keys.has_key_slots(root)  # what makes a study encrypted
    # Opened as every face opens it (an interrupted switch is completed first).
    study = open_study(root, passphrase=(lambda: PASSPHRASE) if encrypted else None)
    try:
        database = root / "fieldkit.db"
        assert has_plain_sqlite_header(database) != encrypted, "key slots and database disagree"
        for row in study.db["recordings"].rows:
            path = study.paths.absolute(row["path"])
            assert path.is_file(), f"{row['path']} is missing"
            assert is_encrypted_recording(path) == encrypted, f"{row['path']} is of the wrong kind"
    finally:
        study.close()
    return "encrypted" if encrypted else "plain"


def audio_headers_in(root: Path) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in study_files(root)
        if path.read_bytes()[:4].startswith(AUDIO_HEADERS) or b"WAVEfmt " in path.read_bytes()
    ]


def plain_leftovers(root: Path, words: tuple[str, ...] = SPOKEN) -> dict[str, list[str]]:
    """Where an encrypted study folder still holds something plain (exports/ left out: plain by
    nature, and listed by the command)."""
    inside = {
        "sqlite": files_containing(root, SQLITE_HEADER),
        "audio": audio_headers_in(root),
        **{word: files_containing(root, word.encode()) for word in words},
    }
    return {
        what: [f for f in found if not f.startswith("exports/")]
        for what, found in inside.items()
        if any(not f.startswith("exports/") for f in found)
    }


def child_env(crash_at: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["FIELDKIT_PASSPHRASE"] = PASSPHRASE
    env.pop("FIELDKIT_TEST_CRASH_AT", None)
    if crash_at is not None:
        env["FIELDKIT_TEST_CRASH_AT"] = crash_at
    return env


def child_command(*args: object) -> list[str]:
    return [sys.executable, "-c", _CHILD, *(str(a) for a in args)]


def run_child(*args: object, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """`fieldkit ARGS…` in a process of its own, stdin not a terminal."""
    return subprocess.run(
        child_command(*args),
        env=child_env(crash_at),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass(frozen=True)
class Templates:
    """The demo study with transcripts (five imported recordings), plain and encrypted, made
    once per session; tests convert copies."""

    plain: Path
    encrypted: Path
    content: Content

    def copy(self, kind: State, target: Path) -> Path:
        shutil.copytree(self.plain if kind == "plain" else self.encrypted, target)
        return target
