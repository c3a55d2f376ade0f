"""Owner-only files: the helpers, and tightening a study whose files others could read.

A study made by an older fieldkit (or copied with loose modes) has its files 0644 and folders
0755; opening it — the command line, the app, `fieldkit init` on a folder that was there
already — takes group and other permissions off fieldkit's own files, says so once, and leaves
the user's other files alone.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit import private
from fieldkit.crypto.keys import SLOTS_FILE
from fieldkit.paths import StudyPaths
from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study, init_study, open_study
from tests.conftest import CliRun

NOTE = "so only you can read them"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loosen(root: Path) -> list[Path]:
    """What an older fieldkit left under umask 022: folders 0755, files 0644."""
    loosened = [root, root / "audio", root / "schedules", root / "study.toml", root / "fieldkit.db"]
    loosened += list((root / "schedules").iterdir())
    old_recording = root / "audio" / "INTSTA001-PEER_commencement.wav"
    old_recording.write_bytes(b"RIFF")
    logs = root / "logs"
    logs.mkdir()
    (logs / "transcribe.log").write_text("job 1 done\n")
    loosened += [old_recording, logs, logs / "transcribe.log"]
    for path in loosened:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return loosened


def users_own_files(root: Path) -> list[Path]:
    """Files a user keeps in the study folder: not fieldkit's, left as they are."""
    notes = root / "my-notes.txt"
    notes.write_text("call the site manager\n")
    papers = root / "papers"
    papers.mkdir()
    (papers / "protocol.pdf").write_bytes(b"%PDF")
    for path in (notes, papers, papers / "protocol.pdf"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return [notes, papers, papers / "protocol.pdf"]


@pytest.fixture
def loose_study(tmp_path: Path) -> tuple[Path, list[Path], list[Path]]:
    root = tmp_path / "study"
    init_study(root, title="Loose", actor="tester").close()
    return root, loosen(root), users_own_files(root)


def assert_private(paths: list[Path]) -> None:
    wrong = [
        f"{oct(mode(p))} {p.name}" for p in paths if mode(p) != (0o700 if p.is_dir() else 0o600)
    ]
    assert wrong == []


# -- tightening on start --------------------------------------------------------------------------


def test_a_command_tightens_the_study_and_says_so_once(
    cli: CliRun, loose_study: tuple[Path, list[Path], list[Path]]
) -> None:
    root, loosened, theirs = loose_study
    result = cli("participant", "list", "--study", root)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"note: tightened permissions on {len(loosened)} of fieldkit's files and folders in the "
        f"study {NOTE}\n"
    )
    assert_private(loosened)
    assert [mode(p) for p in theirs] == [0o644, 0o755, 0o644]
    again = cli("participant", "list", "--study", root)
    assert again.exit_code == 0 and again.stderr == ""


def test_the_database_companions_are_tightened_before_sqlite_opens(
    loose_study: tuple[Path, list[Path], list[Path]],
) -> None:
    root, _, _ = loose_study
    for companion in ("fieldkit.db-wal", "fieldkit.db-shm"):
        (root / companion).unlink(missing_ok=True)
    study = open_study(root)
    try:
        with study.transaction():  # SQLite makes -wal and -shm with the database file's mode
            study.audit("checked")
        companions = [root / "fieldkit.db-wal", root / "fieldkit.db-shm"]
        assert all(p.exists() for p in companions)
        assert_private([root / "fieldkit.db", *companions])
    finally:
        study.close()


def test_the_key_slots_file_is_fieldkits_own() -> None:
    assert SLOTS_FILE in private.STUDY_OWN_FILES


def test_init_on_an_existing_folder_makes_it_owner_only(tmp_path: Path, cli: CliRun) -> None:
    folder = tmp_path / "made-by-hand"
    folder.mkdir()
    folder.chmod(0o755)
    result = cli("init", folder)
    assert result.exit_code == 0, result.output
    assert (
        result.stderr
        == f"note: tightened permissions on 1 of fieldkit's files and folders in the study {NOTE}\n"
    )
    assert mode(folder) == 0o700


def test_a_new_folder_needs_no_note(tmp_path: Path, cli: CliRun) -> None:
    result = cli("init", tmp_path / "new")
    assert result.exit_code == 0 and result.stderr == ""


def test_opening_the_app_from_the_command_line_leaves_the_note_to_the_app(
    cli: CliRun,
    loose_study: tuple[Path, list[Path], list[Path]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, loosened, _ = loose_study
    opened: list[Study] = []
    monkeypatch.setattr("fieldkit.cli.run_app", lambda study, input_file=None: opened.append(study))
    result = cli("--study", root)
    assert result.exit_code == 0, result.output
    assert NOTE not in result.stderr
    assert opened[0].permissions_tightened == len(loosened)  # the app shows it (tests/tui)
    opened[0].close()


def test_a_demo_study_is_owner_only_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    root = tmp_path / "demo"
    build_demo_study(root, transcripts=True).close()
    everything = [root, *root.rglob("*")]
    assert any(p.suffix == ".docx" for p in everything)  # participant copies in exports/
    assert_private(everything)


# -- the helpers ----------------------------------------------------------------------------------


def test_private_mkdir_changes_only_the_folders_it_makes(tmp_path: Path, umask_022: None) -> None:
    tmp_path.chmod(0o755)
    target = tmp_path / "a" / "b" / "c"
    private.private_mkdir(target, parents=True)
    assert [mode(tmp_path), mode(tmp_path / "a"), mode(tmp_path / "a" / "b"), mode(target)] == [
        0o755,
        0o700,
        0o700,
        0o700,
    ]
    private.private_mkdir(target, parents=True, exist_ok=True)
    with pytest.raises(FileExistsError):
        private.private_mkdir(target, parents=True)
    with pytest.raises(FileExistsError):
        private.private_mkdir(target)
    with pytest.raises(FileNotFoundError):
        private.private_mkdir(tmp_path / "x" / "y")


def test_private_files_are_0600_new_or_replaced(tmp_path: Path, umask_022: None) -> None:
    text = tmp_path / "a.txt"
    private.write_private_text(text, "one")
    assert mode(text) == 0o600
    text.chmod(0o644)
    private.write_private_text(text, "two")  # replacing a loose file makes it private too
    assert (text.read_text(), mode(text)) == ("two", 0o600)
    with pytest.raises(FileExistsError):
        private.write_private_bytes(text, b"three", exclusive=True)
    with private.open_private(tmp_path / "b.log", "ab") as log:
        log.write(b"x")
    empty = tmp_path / "c.db"
    private.create_private_file(empty)
    copied = tmp_path / "d.yaml"
    private.copy_private(text, copied)
    assert [mode(p) for p in (tmp_path / "b.log", empty, copied)] == [0o600] * 3
    with pytest.raises(ValueError):
        private.open_private(text, "r")


def test_tightening_skips_symbolic_links(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not the study's")
    elsewhere.chmod(0o644)
    root = tmp_path / "study"
    (root / "audio").mkdir(parents=True)
    (root / "audio" / "link.wav").symlink_to(elsewhere)
    (root / "exports").symlink_to(tmp_path)
    root.chmod(0o700)
    (root / "audio").chmod(0o700)
    assert private.tighten_study(StudyPaths(root)) == 0
    assert mode(elsewhere) == 0o644 and mode(tmp_path) == 0o755


def test_the_command_line_gives_the_umask_back(tmp_path: Path, cli: CliRun) -> None:
    seen: list[int] = []
    owner_only = private.owner_only_umask

    @contextlib.contextmanager
    def watching() -> Iterator[None]:
        with owner_only():
            seen.append(os.umask(0o077))
            yield

    previous = os.umask(0o022)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(private, "owner_only_umask", watching)
            assert cli("init", tmp_path / "s").exit_code == 0
        assert seen == [0o077]  # owner-only while the command ran …
        assert os.umask(0o022) == 0o022  # … and the test's own umask afterwards
    finally:
        os.umask(previous)
