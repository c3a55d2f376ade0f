"""Schedule model, loading and lint: every problem class with its exact line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.core.schedule import (
    GuardedTerm,
    Problem,
    Schedule,
    check_schedule,
    load_schedule,
    parse_schedule,
)
from fieldkit.errors import ScheduleError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "schedules" / "ccu-staff-commencement.yaml"
FIXTURES = REPO / "tests" / "data" / "schedules"


def problems_of(name: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in check_schedule(FIXTURES / name)]


# -- the shipped schedule -----------------------------------------------------------------


def test_shipped_schedule_loads_clean() -> None:
    assert check_schedule(SHIPPED) == []
    schedule = load_schedule(SHIPPED)
    assert schedule.id == "ccu-staff-commencement"
    assert [t.id for t in schedule.topics] == ["before-and-here", "expectations", "choosing"]
    assert schedule.target_minutes == 35
    assert sum(t.target_minutes or 0 for t in schedule.topics) == 35
    assert schedule.source == str(SHIPPED)


def test_shipped_schedule_guards_recovery_with_a_gated_probe() -> None:
    schedule = load_schedule(SHIPPED)
    recovery = schedule.term("recovery")
    assert {"recover", "recovered", "recovering", "recovery-oriented"} <= set(recovery.forms)
    assert "what does recovery mean to you" in recovery.follow_up
    gated = [
        probe
        for _, question in schedule.steps()
        for probe in question.probes
        if "recovery" in probe.requires
    ]
    assert gated, "at least one probe must be gated on recovery"


def test_steps_are_in_interview_order() -> None:
    schedule = load_schedule(SHIPPED)
    steps = schedule.steps()
    assert steps[0][0].id == "before-and-here"
    assert steps[0][1].id == "past-work"
    assert steps[-1][0].id == "choosing"
    assert len(steps) == sum(len(t.questions) for t in schedule.topics)


def test_term_raises_key_error_for_unknown_term() -> None:
    with pytest.raises(KeyError):
        load_schedule(SHIPPED).term("hope")


def test_minimal_fixture_parses_gates() -> None:
    schedule = load_schedule(FIXTURES / "minimal.yaml")
    question = schedule.topics[0].questions[0]
    assert [p.requires for p in question.probes] == [(), ("recovery",)]
    gated_question = schedule.topics[0].questions[1]
    assert gated_question.requires == ("recovery",)  # the single-name shorthand
    assert schedule.version == "1"
    term = schedule.term("recovery")
    assert term.line == 5


# -- every lint problem, with its line ----------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "unknown-key.yaml",
            [(9, "unknown key 'prboes' in question 'q1' (did you mean 'probes'?")],
        ),
        ("wrong-type.yaml", [(3, "target_minutes must be a positive number"), (11, "true/false")]),
        ("missing-key.yaml", [(9, "question 'q2' is missing the required key 'text'")]),
        ("empty-topic.yaml", [(11, "topic 't2' has no questions")]),
        (
            "duplicate-id.yaml",
            [
                (12, "duplicate id 'q1' (already used on line 6)"),
                (15, "duplicate id 't1' (already used on line 9)"),
            ],
        ),
        ("unknown-gate.yaml", [(15, "requires unknown guarded term 'recovry' (known: recovery)")]),
        (
            "ungated-term.yaml",
            [
                (16, "question 'q1' says 'recovery-oriented' (guarded term 'recovery')"),
                (19, "probe 'p1' says 'recover' (guarded term 'recovery') but is not gated"),
            ],
        ),
        ("syntax-error.yaml", [(5, "YAML syntax error")]),
        ("empty.yaml", [(1, "the schedule is empty")]),
        ("top-level-list.yaml", [(1, "the top level must be a mapping")]),
    ],
)
def test_each_problem_is_reported_on_its_line(
    fixture: str, expected: list[tuple[int, str]]
) -> None:
    found = problems_of(fixture)
    assert len(found) == len(expected), found
    for (line, message), (want_line, fragment) in zip(found, expected, strict=True):
        assert line == want_line, (line, message)
        assert fragment in message


def test_problem_str_is_file_line_message() -> None:
    problem = Problem("s.yaml", 7, "duplicate id 'q1'")
    assert str(problem) == "s.yaml:7: duplicate id 'q1'"
    path = FIXTURES / "empty-topic.yaml"
    assert [str(p) for p in check_schedule(path)] == [f"{path}:11: topic 't2' has no questions"]


def test_probe_under_a_gated_question_inherits_the_gate() -> None:
    # minimal.yaml's probe "inherits-gate" says "recovering" with no gate of its own.
    assert check_schedule(FIXTURES / "minimal.yaml") == []


def test_the_follow_up_may_use_its_term_and_discovery_is_not_recovery() -> None:
    found = problems_of("ungated-term.yaml")
    assert all("'fu'" not in message for _, message in found)
    assert all("p2" not in message for _, message in found)  # "discoveries" is not a use


def test_yaml_error_inside_a_simple_key_points_at_the_broken_line() -> None:
    text = "id: x\ntitle: y\ntopics\n  - id: t\n"
    _, problems = parse_schedule(text, "s.yaml")
    assert [p.line for p in problems] == [3]


def test_duplicate_key_and_missing_top_level_keys() -> None:
    text = "id: a\nid: b\n"
    schedule, problems = parse_schedule(text, "s.yaml")
    assert schedule is None
    assert [(p.line, p.message) for p in problems] == [
        (1, "the schedule is missing the required key 'title'"),
        (1, "the schedule is missing the required key 'topics'"),
        (2, "duplicate key 'id' in the schedule (first on line 1)"),
    ]


def test_aliases_are_refused_not_expanded() -> None:
    text = (
        "id: a\ntitle: t\ntopics:\n"
        "  - &t\n    id: t1\n    title: T\n    questions:\n      - id: q1\n        text: Q?\n"
        "  - *t\n"
    )
    _, problems = parse_schedule(text, "s.yaml")
    assert any(p.line == 4 and "aliases" in p.message for p in problems)


# -- never a traceback ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 4,  # binary, with NUL bytes
        b"id: caf\xe9\n",  # Latin-1, not UTF-8
        b"\x1b[31m: x\n",  # unprintable control character
        b"[" * 5000,  # nested too deeply
        b"id: [1, 2\n",
        b"!!python/object:os.system {}\n",
        b"topics: {a: 1}\nid: 3\ntitle: [x]\n",
        b"id: x\ntitle: y\ntopics:\n  - 5\n  - id: t\n    title: T\n    questions: [7, {}]\n",
        b"\xef\xbb\xbf",  # a BOM and nothing else
    ],
)
def test_check_never_raises_on_garbage(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(content)
    problems = check_schedule(path)
    assert problems, "garbage must produce at least one problem"
    assert all(isinstance(p, Problem) and p.line >= 1 for p in problems)
    assert all(str(p).startswith(f"{path}:") for p in problems)


def test_binary_and_encoding_problems_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"id: x\ntitle: caf\xe9\n")
    assert [(p.line, "UTF-8" in p.message) for p in check_schedule(path)] == [(2, True)]


def test_missing_file_and_folder_are_problems(tmp_path: Path) -> None:
    assert [p.message for p in check_schedule(tmp_path / "nope.yaml")] == ["no such file"]
    assert "folder" in check_schedule(tmp_path)[0].message


def test_load_schedule_raises_schedule_error_listing_problems() -> None:
    path = FIXTURES / "duplicate-id.yaml"
    with pytest.raises(ScheduleError) as caught:
        load_schedule(path)
    assert caught.value.problems == [str(p) for p in check_schedule(path)]
    assert len(caught.value.problems) == 2
    assert "fieldkit schedule check" in caught.value.hint


def test_parse_returns_a_schedule_only_when_clean() -> None:
    schedule, problems = parse_schedule(SHIPPED.read_text(encoding="utf-8"), "ccu")
    assert problems == []
    assert isinstance(schedule, Schedule)
    assert isinstance(schedule.guarded_terms[0], GuardedTerm)
    broken = SHIPPED.read_text(encoding="utf-8").replace("requires: [recovery]", "requires: []")
    schedule, problems = parse_schedule(broken, "ccu")
    assert schedule is None
    assert problems and all("not gated" in p.message for p in problems)


# -- the domain core stays light -------------------------------------------------------------


def test_importing_the_core_imports_no_heavy_library() -> None:
    code = (
        "import importlib, pkgutil, sys, fieldkit.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module(f'fieldkit.core.{m.name}')\n"
        "import fieldkit.core.schedule, fieldkit.core.guard, fieldkit.core.audit\n"
        "heavy = ['textual', 'sounddevice', 'soundfile', 'numpy', 'faster_whisper', 'sqlite3',\n"
        "         'sqlite_utils', 'ctranslate2']\n"
        "print(','.join(h for h in heavy if h in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == ""
