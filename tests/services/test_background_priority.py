"""The transcriber that works while an interview is recorded gives way to everything else: it runs
at idle priority (SCHED_IDLE), so capture and the live guard always come first. The test suite
sets FIELDKIT_BACKGROUND_PRIORITY=normal (see tests/conftest.py); this checks both settings in a
fresh process, as the recorder starts it."""

from __future__ import annotations

import os
import subprocess
import sys

from fieldkit.workers.while_recording import PRIORITY_ENV

SHOW_PRIORITY = (
    "import os; from fieldkit.workers.while_recording import give_way; "
    "said = give_way(); print(said, os.sched_getscheduler(0) == os.SCHED_IDLE, os.nice(0))"
)


def priority_in_child(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_PRIORITY], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_by_default_it_runs_only_on_cpu_time_nobody_else_wants() -> None:
    env = {key: value for key, value in os.environ.items() if key != PRIORITY_ENV}
    words = priority_in_child(env)
    assert words == ["idle", "True", "19"]


def test_the_test_suite_setting_keeps_the_ordinary_priority() -> None:
    words = priority_in_child({**os.environ, PRIORITY_ENV: "normal"})
    assert words[0] == "normal" and words[-2] == "False"
    assert int(words[-1]) == os.nice(0)
