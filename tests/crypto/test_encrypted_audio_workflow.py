"""An encrypted study from start to end with real speech, the real model and the passphrase in the
environment: record (--input), import a WAV and an MP3, transcribe (the worker gets the key over
its pipe), play a turn, review, send and receive the participant's copy, de-identify, export,
report. Then every file of the study folder is scanned: no SQLite or audio header, none of the
words spoken, none of the audio's samples — and nothing was ever written to the temp folder.

Also the review screen of the app (Pilot) playing an encrypted recording from memory."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.services import playback as playback_service
from fieldkit.services.demo import build_encrypted_demo_study
from fieldkit.services.playback import interview_audio, play
from fieldkit.services.study import Study, open_study
from fieldkit.store.repo import Interviews, Recordings
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen
from tests import speech
from tests.conftest import CliRun
from tests.encrypted import PASSPHRASE, SQLITE_HEADER, files_containing, study_files, use_fast_kdf

AUDIO_HEADERS = (b"RIFF", b"RF64", b"fLaC", b"ID3", b"OggS", b"\xff\xfb", b"\xff\xf3")
TURNS = [
    ("interviewer", "Tell me about the lighthouse where you worked on Tuesday."),
    ("participant", "I painted the lighthouse fence green and repaired the bicycle."),
    ("interviewer", "What did the orchestra play in the evening?"),
    ("participant", "They played a slow waltz while everybody danced in the garden."),
]
MONO_SENTENCE = "The museum opened a new exhibition about volcanoes and glaciers."
MP3_SENTENCE = "My grandmother baked chocolate biscuits every Saturday morning."


@pytest.fixture(autouse=True)
def passphrase_in_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The passphrase from the environment; a temp folder of our own, to see that nothing is
    ever written there."""
    use_fast_kdf(monkeypatch)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    return temp


def run(cli: CliRun, root: Path, *args: object) -> str:
    result = cli(*args, "--study", root)
    assert result.exit_code == 0, (args, result.stderr)
    return str(result.stdout)


def audio_headers_in(root: Path) -> list[str]:
    """Files of the study folder that start like plain audio, or hold a WAVE format chunk."""
    return [
        str(path.relative_to(root))
        for path in study_files(root)
        if path.read_bytes()[:4].startswith(AUDIO_HEADERS) or b"WAVEfmt " in path.read_bytes()
    ]


def long_words(text: str) -> set[str]:
    return {word for word in re.findall(r"[A-Za-z]{7,}", text)}


@pytest.mark.model
def test_an_encrypted_study_end_to_end_leaves_no_plain_speech_on_disk(
    tmp_path: Path,
    cli: CliRun,
    espeak: str,
    ffmpeg: str,
    sound_server: object,
    passphrase_in_env: Path,
) -> None:
    root = tmp_path / "enc"
    assert cli("init", root, "--encrypt").exit_code == 0
    config = root / "study.toml"
    config.write_text(config.read_text().replace("live_guard = true", "live_guard = false"))
    pids = []
    for role in ("PEER", "CLIN", "PEER"):
        added = run(cli, root, "participant", "add", "--site", "Site 1", "--role", role)
        pids.append(added.strip().splitlines()[-1])
        run(cli, root, "consent", pids[-1], "--date", "2026-03-14")
    sources = tmp_path / "sources"
    interview = sources / "interview.wav"
    speech.two_speaker_wav(TURNS, interview)
    mono = speech.mono_wav(MONO_SENTENCE, sources / "mono.wav")
    mp3 = sources / "saturday.mp3"
    spoken_mp3 = speech.mono_wav(MP3_SENTENCE, sources / "saturday.wav")
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-i", spoken_mp3, mp3], check=True)

    recorded = Path(run(cli, root, "record", pids[0], "--input", interview).splitlines()[-1])
    run(cli, root, "import-audio", pids[1], mono)
    run(cli, root, "import-audio", pids[2], mp3)
    assert sorted(p.suffix for p in (root / "audio").iterdir()) == [".fka"] * 3
    assert recorded.suffix == ".fka"

    run(cli, root, "transcribe", "--all")
    texts = {pid: run(cli, root, "transcript", "show", pid) for pid in pids}
    assert "lighthouse" in texts[pids[0]].lower() and "danced" in texts[pids[0]].lower()
    assert "museum" in texts[pids[1]].lower() and "volcanoes" in texts[pids[1]].lower()
    assert "chocolate" in texts[pids[2]].lower() and "saturday" in texts[pids[2]].lower()

    # Play the participant's first turn, as the review screen does: from memory only.
    before = set(study_files(root))
    study = open_study(root, passphrase=lambda: PASSPHRASE)
    [first] = Interviews(study.db).for_participant(pids[0])
    audio = interview_audio(study, first.id)
    playback = play(audio, 2.0, 4.0)
    assert playback.wait(timeout=20), "the turn never finished playing"
    study.close()
    assert set(study_files(root)) <= before

    outside = tmp_path / "outside"
    outside.mkdir()
    run(cli, root, "approval", "reviewed", pids[0])
    run(cli, root, "approval", "send", pids[0], "--out", outside / "copy.txt")
    run(cli, root, "approval", "receive", pids[0], outside / "copy.txt", "--yes")
    run(cli, root, "approval", "decide", pids[0], "approved")
    run(cli, root, "deidentify", pids[0], "--accept-all")
    exported = cli("export", "--format", "csv", outside / "export", pids[0], "--study", root)
    assert exported.exit_code == 0, exported.stderr
    assert "not protected by the study" in exported.stderr  # plain by nature, and it says so
    assert "lighthouse" in "".join(p.read_text() for p in (outside / "export").rglob("*.csv"))
    report = json.loads(run(cli, root, "report", "--json"))
    assert report["participants"]["interviewed"] == 3

    # Every file of the study folder: no plain database, no plain audio, no word that was said.
    assert files_containing(root, SQLITE_HEADER) == []
    assert audio_headers_in(root) == []
    spoken = " ".join([*(text for _, text in TURNS), MONO_SENTENCE, MP3_SENTENCE])
    words = long_words(spoken)
    assert len(words) >= 15
    for word in sorted(words):
        assert files_containing(root, word.encode()) == [], word
    for source in (interview, mono, spoken_mp3):  # nor a stretch of the samples themselves
        samples, _ = sf.read(source, dtype="int16")
        loud = int(np.argmax(np.abs(samples).reshape(len(samples), -1).max(axis=1)))
        stretch = samples[loud : loud + 64].tobytes()
        assert [p for p in study_files(root) if stretch in p.read_bytes()] == [], source.name
    assert no_audio_went_through(passphrase_in_env)


def no_audio_went_through(temp: Path) -> bool:
    """Nothing fieldkit reads or decodes passed through the temp folder. onnxruntime (Whisper's
    voice detector) leaves a session id there (.ses: a time and a UUID, 51 bytes), audio or not."""
    leftovers = {path.name: path.stat().st_size for path in temp.iterdir()}
    return set(leftovers) <= {".ses"} and all(size < 100 for size in leftovers.values())


# -- the app ---------------------------------------------------------------------------------


@pytest.fixture
def encrypted_demo(tmp_path: Path) -> Iterator[Study]:
    """The encrypted demo with transcripts: its interviews imported, so encrypted (.fka)."""
    study, _recovery_key = build_encrypted_demo_study(
        lambda: PASSPHRASE, tmp_path / "demo", actor="reviewer", transcripts=True
    )
    yield study
    study.close()


async def wait_until(pilot: object, condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def test_the_review_screen_plays_an_encrypted_recording_from_memory(
    encrypted_demo: Study,
    sound_server: object,
    monkeypatch: pytest.MonkeyPatch,
    passphrase_in_env: Path,
) -> None:
    study = encrypted_demo
    [interview] = Interviews(study.db).for_participant("INTSTA006-PEER")
    [row] = Recordings(study.db).for_interview(interview.id)
    assert row.path.endswith(".fka")
    before = set(study_files(study.root))
    reads: list[tuple[float, float]] = []
    original = playback_service._read_recording

    def counting(path: Path, start: float, end: float, samplerate: int, **key: object) -> object:
        reads.append((start, end))
        assert key.get("key") is study.data_key  # decrypted with the study's key
        return original(path, start, end, samplerate, **key)  # type: ignore[arg-type]

    monkeypatch.setattr(playback_service, "_read_recording", counting)
    app = FieldkitApp(study)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = ReviewScreen(interview)
        app.push_screen(screen)
        await wait_until(pilot, lambda: app.screen is screen and bool(screen.word_places))
        await pilot.press("down", "down", "down", "down")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.playing and screen.shown_playing)
        heard = screen.playback.position if screen.playback else 0.0
        await pilot.press("space")
    assert reads and reads[0][0] == pytest.approx(32.95, abs=0.01)
    assert heard >= reads[0][0] - 0.01
    assert list(passphrase_in_env.iterdir()) == []
    assert set(study_files(study.root)) <= before


def test_a_copy_written_inside_an_encrypted_study_says_it_is_plain(
    encrypted_demo: Study, cli: CliRun
) -> None:
    root = encrypted_demo.root
    status = json.loads(run(cli, root, "approval", "status", "--json"))
    reviewed = next(row["participant"] for row in status if row["state"] == "reviewed")
    copy = root / "exports" / "copy.txt"
    result = cli("approval", "send", reviewed, "--out", copy, "--study", root)
    assert result.exit_code == 0, result.stderr
    assert f"note: {copy} is in the encrypted study's folder, but it is not encrypted" in (
        result.stderr
    )
