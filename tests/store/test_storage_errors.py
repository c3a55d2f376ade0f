"""A full disk says the disk is full (how much is free, and where); a read-only study says it is
read-only and how to fix it; a locked database says who holds it. Tested on a real 1 MB tmpfs
and a real read-only bind mount (both need root; skipped with the reason otherwise)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.errors import FieldkitError
from fieldkit.services.participants import add_participant, interview_queue
from fieldkit.services.study import Study, explain_failure, init_study, open_study
from fieldkit.storage import DiskFullError, ReadOnlyStudyError
from fieldkit.store import db as store_db
from tests.conftest import REPO_ROOT, CliRun
from tests.disks import fill_disk, small_disk

NOBODY = 65534


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


def _unmount(point: Path) -> None:
    if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", "1M") as disk:
        yield disk


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def add_args(root: Path) -> list[str]:
    return ["participant", "add", "--site", "Site 1", "--role", "PEER", "--study", str(root)]


# -- a full disk ---------------------------------------------------------------------------------


def fieldkit_process(*args: str) -> subprocess.CompletedProcess[str]:
    """`fieldkit ARGS` in its own process, as a user runs it (no connection of ours is open)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_full_disk_says_the_disk_is_full_on_the_command_line(tiny_disk: Path) -> None:
    root = tiny_disk / "study"
    assert fieldkit_process("init", str(root)).returncode == 0
    assert fieldkit_process(*add_args(root)).returncode == 0
    fill_disk(tiny_disk)
    for args in (["participant", "list", "--study", str(root)], add_args(root)):
        result = fieldkit_process(*args)
        assert result.returncode == 1
        line = one_error_line(result.stderr)
        assert f"the disk is full: 0 bytes free in {root}" in line
        assert "backup" not in line
    (tiny_disk / "filler.bin").unlink()  # room again: nothing was lost or half-written
    listed = fieldkit_process("participant", "list", "--study", str(root))
    assert listed.returncode == 0 and "INTSTA001-PEER" in listed.stdout
    assert "INTSTA002" not in listed.stdout


def test_a_disk_that_fills_while_the_study_is_open_is_explained(tiny_disk: Path) -> None:
    study = init_study(tiny_disk / "study", title="T", actor="tester")
    add_participant(study, "Site 1", "PEER")
    fill_disk(tiny_disk)
    with pytest.raises(sqlite3.OperationalError) as caught:
        add_participant(study, "Site 1", "PEER")
    explained = explain_failure(caught.value, study.root)
    assert isinstance(explained, DiskFullError)
    assert explained.one_line().startswith(f"the disk is full: 0 bytes free in {study.root}")
    assert [p.id for p in interview_queue(study)] == ["INTSTA001-PEER"]  # rolled back whole
    study.close()


def test_init_on_a_full_disk_says_so_and_leaves_nothing_behind(
    tiny_disk: Path, cli: CliRun
) -> None:
    fill_disk(tiny_disk)
    root = tiny_disk / "study"
    result = cli("init", root)
    assert result.exit_code == 1
    assert "the disk is full" in one_error_line(result.stderr)
    assert not root.exists()  # a second init, with room, starts afresh
    (tiny_disk / "filler.bin").unlink()
    assert cli("init", root).exit_code == 0


def test_a_full_disk_met_by_a_file_write_is_explained_too(tiny_disk: Path) -> None:
    study = init_study(tiny_disk / "study", title="T", actor="tester")
    fill_disk(tiny_disk)
    with pytest.raises(OSError) as caught:
        (study.paths.exports / "x.txt").parent.mkdir()
        (study.paths.exports / "x.txt").write_text("y" * 10000)
    explained = explain_failure(caught.value, study.root)
    assert isinstance(explained, DiskFullError)
    study.close()


# -- a read-only study ---------------------------------------------------------------------------


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A study whose folder is bind-mounted read-only over itself (a real EROFS)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    root = tmp_path / "study"
    init_study(root, title="T", actor="tester").close()
    add = _mount("--bind", str(root), str(root))
    if add.returncode:
        pytest.skip(f"cannot bind-mount here: {add.stderr.strip()}")
    try:
        remount = _mount("-o", "remount,ro,bind", str(root))
        if remount.returncode:
            pytest.skip(f"cannot remount read-only here: {remount.stderr.strip()}")
        yield root
    finally:
        _unmount(root)


def test_a_study_on_a_read_only_mount_says_it_is_read_only(
    read_only_mount: Path, cli: CliRun
) -> None:
    for args in (
        ["participant", "list", "--study", str(read_only_mount)],
        add_args(read_only_mount),
    ):
        result = cli(*args)
        assert result.exit_code == 1
        line = one_error_line(result.stderr)
        assert f"the study folder {read_only_mount} is on a read-only disk or mount" in line
        assert "Remount it read-write" in line
        assert "backup" not in line


def _as_nobody(root: Path, action: str) -> str:
    """Run one study action in a child process that has dropped root (chmod binds it), and
    return what happened as one line."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                study = open_study(root, actor="nobody")
                if action == "add":
                    add_participant(study, "Site 1", "PEER")
                outcome = f"ok {len(interview_queue(study))}"
            except (FieldkitError, sqlite3.Error, OSError) as exc:
                explained = explain_failure(exc, root)
                outcome = (
                    f"{type(explained).__name__}: {explained.one_line() if explained else exc}"
                )
            os.write(write, outcome.encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        outcome = pipe.read()
    os.waitpid(pid, 0)
    return outcome


@pytest.fixture
def nobodys_study() -> Iterator[Path]:
    """A study nobody (uid 65534) can reach: tmp_path's parents are private to root."""
    if os.geteuid() != 0:
        pytest.skip("dropping to another user needs root (as a normal user, chmod alone binds)")
    base = Path(tempfile.mkdtemp(prefix="fieldkit-ro-"))
    try:
        base.chmod(0o755)
        root = base / "study"
        study = init_study(root, title="T", actor="tester")
        add_participant(study, "Site 1", "PEER")
        study.close()
        for path in (root, *root.rglob("*")):
            os.chown(path, NOBODY, NOBODY)
        yield root
    finally:
        shutil.rmtree(base)


def test_a_study_folder_without_write_permission_says_how_to_fix_it(nobodys_study: Path) -> None:
    nobodys_study.chmod(0o555)
    (nobodys_study / "fieldkit.db").chmod(0o444)
    outcome = _as_nobody(nobodys_study, "list")
    assert outcome.startswith("ReadOnlyStudyError: ")
    assert f"the study folder {nobodys_study} is read-only: you may not write in it" in outcome
    assert f"chmod -R u+w '{nobodys_study}'" in outcome
    nobodys_study.chmod(0o755)


def test_a_read_only_database_file_says_how_to_fix_it(nobodys_study: Path) -> None:
    database = nobodys_study / "fieldkit.db"
    database.chmod(0o444)
    assert _as_nobody(nobodys_study, "list") == "ok 1"  # reading still works
    outcome = _as_nobody(nobodys_study, "add")
    assert outcome.startswith("ReadOnlyStudyError: ")
    # SQLite made its -wal and -shm files read-only like the database: the fix names them all.
    files = [p for p in nobodys_study.iterdir() if p.name.startswith("fieldkit.db")]
    assert len(files) >= 2 and all(not p.stat().st_mode & 0o200 for p in files)
    assert f"in {nobodys_study} are read-only" in outcome
    assert all(f"'{p}'" in outcome for p in files)
    for path in files:  # what the message says to do
        path.chmod(0o644)
    assert _as_nobody(nobodys_study, "add") == "ok 2"


# -- a locked database ---------------------------------------------------------------------------


def test_a_database_held_by_another_writer_says_it_is_busy(
    study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.2)
    other = sqlite3.connect(study.paths.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another terminal in the middle of a change
    try:
        fresh = open_study(study.root)
        started = dt.datetime.now()
        with pytest.raises(sqlite3.OperationalError) as caught:
            add_participant(fresh, "Site 1", "PEER")
        assert (dt.datetime.now() - started).total_seconds() < 5
        explained = explain_failure(caught.value, study.root)
        assert explained is not None and "the study database is busy" in explained.one_line()
        fresh.close()
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_an_error_that_is_a_bug_is_not_dressed_up(study: Study) -> None:
    assert explain_failure(KeyError("x"), study.root) is None
    assert isinstance(
        explain_failure(OSError(errno.EROFS, "Read-only file system"), study.root),
        ReadOnlyStudyError,
    )
