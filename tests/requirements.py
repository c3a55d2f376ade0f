"""What the suite needs from the machine, and what a gap means.

Some tests need things pip does not install: the PulseAudio sound server, espeak-ng, ffmpeg, and
the shared real-speech test data beside the repository (../shared/testdata). A newcomer's plain
`pytest` skips those tests with the reason. CI sets FIELDKIT_REQUIRE_ALL=1 (see .ci/run): then the
same gap FAILS the test, so a broken install can never pass as a run of skips.

Every such skip goes through `require_or_skip`. As a safety net, this module is also a pytest
plugin (loaded by tests/conftest.py): under FIELDKIT_REQUIRE_ALL=1 a skip made some other way
(a bare `pytest.mark.skipif`) whose reason names one of these requirements fails too.

The shared test data is looked for at $FIELDKIT_TESTDATA if set (a git worktree elsewhere can point
at it), else at ../shared/testdata next to the repository, where CI has it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_ALL_ENV = "FIELDKIT_REQUIRE_ALL"
TESTDATA_ENV = "FIELDKIT_TESTDATA"
REPO_ROOT = Path(__file__).resolve().parent.parent

# A skip whose reason matches this names a requirement (the safety net above).
REQUIREMENT_WORDS = re.compile(
    r"pulseaudio|pactl|sound server|espeak|ffmpeg|shared/testdata|shared test data", re.IGNORECASE
)


def require_all() -> bool:
    """True when missing requirements must fail the run (FIELDKIT_REQUIRE_ALL=1, as in CI)."""
    value = os.environ.get(REQUIRE_ALL_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def require_or_skip(reason: str) -> NoReturn:
    """Skip the current test with `reason`, or fail it when FIELDKIT_REQUIRE_ALL is set."""
    if require_all():
        pytest.fail(f"{reason} [{REQUIRE_ALL_ENV}=1: a missing requirement fails]", pytrace=False)
    pytest.skip(reason)


def require_tool(command: str, debian_package: str) -> str:
    """The path of `command`, or skip/fail naming the Debian package that provides it."""
    path = shutil.which(command)
    if path is None:
        require_or_skip(f"`{command}` is not installed (apt-get install {debian_package})")
    return path


def shared_testdata_dir() -> Path:
    """Where the shared real-speech test data should be (it may be absent)."""
    override = os.environ.get(TESTDATA_ENV)
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "testdata"


def require_shared_testdata(*names: str) -> Path:
    """The shared test data folder, holding every file in `names`; else skip/fail."""
    folder = shared_testdata_dir()
    missing = [name for name in names if not (folder / name).is_file()]
    if not folder.is_dir():
        require_or_skip(
            f"the shared test data is absent ({folder}; a fresh clone has no ../shared/testdata; "
            f"set {TESTDATA_ENV} to its folder)"
        )
    if missing:
        require_or_skip(f"the shared test data at {folder} lacks {', '.join(missing)}")
    return folder


def is_requirement_skip(reason: str) -> bool:
    return REQUIREMENT_WORDS.search(reason) is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """The safety net: under FIELDKIT_REQUIRE_ALL a skip that names a requirement fails."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and require_all()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if is_requirement_skip(reason):
        report.outcome = "failed"
        report.longrepr = f"skipped, but {REQUIRE_ALL_ENV}=1 requires it: {reason}"
