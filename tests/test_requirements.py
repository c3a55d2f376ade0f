"""A missing sound server, espeak-ng, ffmpeg or shared test data skips a newcomer's tests, and fails
them under FIELDKIT_REQUIRE_ALL=1 (CI): the helper in tests/requirements.py and its safety net."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import conftest, requirements, soundserver
from tests.requirements import REQUIRE_ALL_ENV, TESTDATA_ENV

Skipped = pytest.skip.Exception
Failed = pytest.fail.Exception


@pytest.fixture
def newcomer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ALL_ENV, raising=False)


@pytest.fixture
def ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ALL_ENV, "1")


@pytest.mark.parametrize(
    ("value", "required"),
    [("1", True), ("yes", True), ("", False), ("0", False), ("false", False), (None, False)],
)
def test_require_all_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, required: bool
) -> None:
    if value is None:
        monkeypatch.delenv(REQUIRE_ALL_ENV, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_ALL_ENV, value)
    assert requirements.require_all() is required


def test_a_newcomer_skips_with_the_reason(newcomer: None) -> None:
    with pytest.raises(Skipped, match="espeak-ng is not installed"):
        requirements.require_or_skip("espeak-ng is not installed")


def test_ci_fails_with_the_reason(ci: None) -> None:
    with pytest.raises(Failed, match=r"espeak-ng is not installed.*FIELDKIT_REQUIRE_ALL=1"):
        requirements.require_or_skip("espeak-ng is not installed")


def test_a_missing_tool_names_its_debian_package(
    monkeypatch: pytest.MonkeyPatch, newcomer: None
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(Skipped, match=re.escape("(apt-get install ffmpeg)")):
        requirements.require_tool("ffmpeg", "ffmpeg")


def test_shared_testdata_is_found_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: None
) -> None:
    (tmp_path / "jfk.flac").write_bytes(b"")
    monkeypatch.setenv(TESTDATA_ENV, str(tmp_path))
    assert requirements.require_shared_testdata("jfk.flac") == tmp_path
    with pytest.raises(Failed, match=r"lacks Project\.xsd"):
        requirements.require_shared_testdata("Project.xsd")
    monkeypatch.setenv(TESTDATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(Failed, match="shared test data is absent"):
        requirements.require_shared_testdata()


def test_no_pulseaudio_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(soundserver, "pulseaudio_available", lambda: False)
    monkeypatch.delenv(REQUIRE_ALL_ENV, raising=False)
    with pytest.raises(Skipped, match="pulseaudio"):
        conftest.start_sound_server_or_skip()
    monkeypatch.setenv(REQUIRE_ALL_ENV, "1")
    with pytest.raises(Failed, match="pulseaudio"):
        conftest.start_sound_server_or_skip()


def test_a_sound_server_that_will_not_start_skips_or_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> soundserver.SoundServer:
        raise RuntimeError("pulseaudio exited at start-up: no permission")

    monkeypatch.setattr(soundserver, "pulseaudio_available", lambda: True)
    monkeypatch.setattr(soundserver, "start_sound_server", broken)
    monkeypatch.delenv(REQUIRE_ALL_ENV, raising=False)
    with pytest.raises(Skipped, match="did not start: pulseaudio exited"):
        conftest.start_sound_server_or_skip()
    monkeypatch.setenv(REQUIRE_ALL_ENV, "1")
    with pytest.raises(Failed, match="did not start"):
        conftest.start_sound_server_or_skip()


SAMPLE_TESTS = """
    import pytest
    from tests.requirements import require_or_skip

    def test_helper():
        require_or_skip("`espeak-ng` is not installed (apt-get install espeak-ng)")

    @pytest.mark.skipif(True, reason="espeak-ng is not installed")
    def test_bare_skipif_naming_a_requirement():
        pass

    @pytest.mark.skipif(True, reason="root ignores file permissions")
    def test_unrelated_skip():
        pass

    def test_plain():
        pass
"""


def run_sample(tmp_path: Path, require_all: bool) -> tuple[int, str]:
    """Run the sample tests in a separate pytest with the requirements plugin loaded."""
    (tmp_path / "test_sample.py").write_text(textwrap.dedent(SAMPLE_TESTS), encoding="utf-8")
    env = dict(os.environ)
    env.pop(REQUIRE_ALL_ENV, None)
    if require_all:
        env[REQUIRE_ALL_ENV] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(conftest.REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    plugins = ["-p", "tests.requirements", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-q", "-rA", "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout


def test_a_plain_run_skips_and_passes(tmp_path: Path) -> None:
    code, out = run_sample(tmp_path, require_all=False)
    assert code == 0, out
    assert re.search(r"\b1 passed, 3 skipped\b", out), out


def test_under_require_all_every_requirement_skip_fails(tmp_path: Path) -> None:
    code, out = run_sample(tmp_path, require_all=True)
    assert code == 1, out
    # A skip mark acts at setup, so pytest reports that one as an error: either way, not a pass.
    assert re.search(r"\b1 failed, 1 passed, 1 skipped, 1 error\b", out), out
    assert "FAILED test_sample.py::test_helper" in out
    assert "ERROR test_sample.py::test_bare_skipif_naming_a_requirement" in out
    assert "SKIPPED" in out and "root ignores file permissions" in out
