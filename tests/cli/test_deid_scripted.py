"""fieldkit deidentify without a terminal: y/n answers piped on standard input, and decisions
saved to a file (--save-decisions), edited, and applied again (--decisions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fieldkit.services.deid import start_review
from fieldkit.services.study import Study
from fieldkit.store.deid_repo import DeidKeys
from fieldkit.store.repo import InterviewRow, Transcripts
from tests.conftest import CliRun
from tests.export.factory import add_identifiers, approve, make_interview, sample_segments

# The twelve suggestions for sample_segments(), in transcript order.
FOUND = [
    "Riverton Community Health",
    "Diane",
    "Diane",
    "Mark Tan",
    "riverton",
    "0412 345 678",
    "+44 7700 900123",
    "diane.smith@example.com",
    "12 Smith Street",
    "3 March 1985",
    "Harbour Club",
    "DIANE",
]


def run(cli: CliRun, study: Study, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = cli(*args, "--study", str(study.root), "--as", "tester", input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def approved(study: Study, tmp_path: Path) -> InterviewRow:
    interview = make_interview(study, sample_segments())
    add_identifiers(study)
    approve(study, interview, tmp_path / "copies")
    return interview


def kinds(study: Study, interview: InterviewRow) -> list[str]:
    return [r.kind for r in Transcripts(study.db).for_interview(interview.id)]


def stored_decisions(study: Study, interview: InterviewRow) -> list[str]:
    return [i.decision for i in start_review(study, interview.participant_id).items]


def shown_text(cli: CliRun, study: Study, interview: InterviewRow) -> str:
    return run(cli, study, "transcript", "show", interview.participant_id)[1]


def assert_nothing_stored(study: Study, interview: InterviewRow) -> None:
    assert kinds(study, interview) == ["machine"]
    assert set(stored_decisions(study, interview)) == {"pending"}
    assert DeidKeys(study.db).for_interview(interview.id) == []


# -- y/n answers on standard input -----------------------------------------------------------


def test_piped_answers_decide_each_suggestion(
    cli: CliRun, study: Study, approved: InterviewRow
) -> None:
    # keep the first (Riverton Community Health) and the last (DIANE); the rest are replaced
    answers = "n\n" + "y\n" * 10 + "n\n"
    code, out, err = run(cli, study, "deidentify", approved.participant_id, input=answers)
    assert code == 0, err
    assert out.strip().endswith(
        "10 replaced (1 address, 1 date of birth, 1 email, 1 other, "
        "3 person, 2 phone, 1 place), 2 kept as said"
    )
    text = shown_text(cli, study, approved)
    assert "I started at Riverton Community Health in March. [PERSON 1]'s my manager." in text
    assert "swim at the [OTHER 1] with DIANE." in text
    assert kinds(study, approved) == ["machine", "deidentified"]


def test_yes_and_no_in_any_case_and_a_blank_last_line_are_answers(
    cli: CliRun, study: Study, approved: InterviewRow
) -> None:
    answers = "Y\nyes\n NO \n" + "n\n" * 9 + "\n"
    code, out, err = run(cli, study, "deidentify", approved.participant_id, input=answers)
    assert code == 0, err
    assert "2 replaced" in out and "10 kept as said" in out


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            "y\ny\ny\n",
            "12 suggestions for {pid} (commencement) need an answer, and standard input gave 3",
        ),
        (
            "y\n" * 13,
            "12 suggestions for {pid} (commencement) need an answer, and standard input gave 13",
        ),
        ("y\nmaybe\n" + "y\n" * 10, "answer 2 on standard input is 'maybe', not y or n"),
        ("y\n\n" + "y\n" * 10, "answer 2 on standard input is '', not y or n"),
        (
            "",
            "12 suggestions for {pid} (commencement) need a yes or no, and there is no "
            "terminal to ask on and no answer on standard input",
        ),
    ],
    ids=["too few", "too many", "not y or n", "blank line", "none"],
)
def test_wrong_answers_are_one_line_and_store_nothing(
    cli: CliRun, study: Study, approved: InterviewRow, answers: str, message: str
) -> None:
    code, out, err = run(cli, study, "deidentify", approved.participant_id, input=answers)
    assert code == 1 and out == ""
    assert err.startswith("error: " + message.format(pid=approved.participant_id))
    assert len(err.splitlines()) == 1 and "nothing was stored" in err
    assert_nothing_stored(study, approved)


def test_piped_answers_skip_suggestions_already_decided_in_the_app(
    cli: CliRun, study: Study, approved: InterviewRow
) -> None:
    from fieldkit.services.deid import decide

    review = start_review(study, approved.participant_id)
    for item in review.items[:10]:
        review = decide(study, review, item.id, accept=True)
    code, out, err = run(cli, study, "deidentify", approved.participant_id, input="n\nn\n")
    assert code == 0, err
    assert "10 replaced" in out and "2 kept as said" in out


# -- a decisions file ------------------------------------------------------------------------


def save(cli: CliRun, study: Study, interview: InterviewRow, path: Path) -> dict[str, Any]:
    code, out, err = run(
        cli, study, "deidentify", interview.participant_id, "--save-decisions", str(path)
    )
    assert code == 0, err
    assert out.startswith(f"wrote 12 suggestions for {interview.participant_id}")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")


def apply_file(
    cli: CliRun, study: Study, interview: InterviewRow, path: Path, *more: str, input: str = ""
) -> tuple[int, str, str]:
    return run(
        cli,
        study,
        "deidentify",
        interview.participant_id,
        "--decisions",
        str(path),
        *more,
        input=input,
    )


def test_saved_file_lists_every_suggestion_and_changes_nothing(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.json"
    document = save(cli, study, approved, path)
    assert document["fieldkit"] == "de-identification decisions" and document["version"] == 1
    assert (document["participant"], document["wave"], document["revision"]) == (
        approved.participant_id,
        "commencement",
        0,
    )
    entries = document["suggestions"]
    assert [e["text"] for e in entries] == FOUND
    assert entries[1] == {
        "at": "00:06",
        "segment": 1,
        "start": 49,
        "text": "Diane",
        "class": "person",
        "placeholder": "[PERSON 1]",
        "decision": "undecided",
        "context": "… at Riverton Community Health in March. «Diane»'s my manager.",
    }
    assert_nothing_stored(study, approved)
    # never over a file that may hold a reviewer's edits
    code, _, err = run(
        cli, study, "deidentify", approved.participant_id, "--save-decisions", str(path)
    )
    assert code == 1 and "already exists" in err
    assert json.loads(path.read_text(encoding="utf-8")) == document


def test_round_trip_with_keep_and_an_own_placeholder(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.json"
    document = save(cli, study, approved, path)
    for entry in document["suggestions"]:
        entry["decision"] = "replace"
        if entry["class"] == "person" and entry["text"].lower() == "diane":
            entry["placeholder"] = "[MANAGER]"  # every mention of her alike
    document["suggestions"][0]["decision"] = "keep"  # the organisation stays as said
    write(path, document)
    code, out, err = apply_file(cli, study, approved, path)
    assert code == 0, err
    assert "11 replaced" in out and "1 kept as said" in out
    text = shown_text(cli, study, approved)
    assert "I started at Riverton Community Health in March. [MANAGER]'s my manager." in text
    assert "[MANAGER] and [PERSON 2] showed me around [PLACE 1]" in text
    assert "swim at the [OTHER 1] with [MANAGER]." in text
    key = {k.placeholder: k.forms for k in DeidKeys(study.db).for_interview(approved.id)}
    assert key["[MANAGER]"] == ("Diane", "DIANE")
    # the decisions stay with the transcript: saved again, the file says what was decided
    again = save(cli, study, approved, tmp_path / "again.json")
    assert [e["decision"] for e in again["suggestions"]] == ["keep"] + ["replace"] * 11
    assert again["suggestions"][1]["placeholder"] == "[MANAGER]"


def test_undecided_entries_take_accept_all_or_piped_answers(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.json"
    document = save(cli, study, approved, path)
    document["suggestions"][0]["decision"] = "keep"
    document["suggestions"][11]["decision"] = "keep"
    write(path, document)
    # ten still undecided and nothing piped in: refused, nothing stored
    code, _, err = apply_file(cli, study, approved, path)
    assert code == 1 and "10 suggestions" in err and "need a yes or no" in err
    assert_nothing_stored(study, approved)
    # answers on standard input decide the undecided ones, in transcript order
    code, out, err = apply_file(cli, study, approved, path, input="y\n" * 9 + "n\n")
    assert code == 0, err
    assert "9 replaced" in out and "3 kept as said" in out
    assert "[OTHER 1]" not in shown_text(cli, study, approved)  # the tenth, Harbour Club, kept


def test_accept_all_after_the_file(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.json"
    document = save(cli, study, approved, path)
    document["suggestions"][11]["decision"] = "keep"
    write(path, document)
    code, out, err = apply_file(cli, study, approved, path, "--accept-all")
    assert code == 0, err
    assert "11 replaced" in out and "1 kept as said" in out


def test_a_file_that_no_longer_matches_says_which_and_changes_nothing(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.json"
    document = save(cli, study, approved, path)
    for entry in document["suggestions"]:
        entry["decision"] = "replace"
    write(path, document)
    run(cli, study, "identifiers", "remove", "Harbour Club")
    run(cli, study, "identifiers", "add", "first day", "--category", "other")
    code, out, err = apply_file(cli, study, approved, path)
    assert code == 1 and out == ""
    assert err == (
        f"error: {path} no longer matches the suggestions for {approved.participant_id} "
        "(commencement): 1 suggestion not in the file: 'first day' (other, 00:20); "
        "1 entry no longer suggested: 'Harbour Club' (other, 01:06). Nothing changed; add the "
        "new ones to the file and take out the others (fieldkit deidentify "
        f"{approved.participant_id} --save-decisions NEW_FILE lists today's suggestions)\n"
    )
    assert_nothing_stored(study, approved)


def test_an_entry_moved_in_the_text_is_a_mismatch(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.json"
    document = save(cli, study, approved, path)
    for entry in document["suggestions"]:
        entry["decision"] = "replace"
    document["suggestions"][3]["start"] = 11  # "Mark Tan" is at 10
    write(path, document)
    code, _, err = apply_file(cli, study, approved, path)
    assert code == 1
    assert "1 suggestion not in the file: 'Mark Tan' (person, 00:20)" in err
    assert "1 entry no longer suggested: 'Mark Tan' (person, 00:20)" in err
    assert_nothing_stored(study, approved)


def test_another_transcripts_file_is_refused(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    other = make_interview(study, sample_segments())
    approve(study, other, tmp_path / "copies")
    path = tmp_path / "decisions.json"
    save(cli, study, approved, path)
    code, _, err = apply_file(cli, study, other, path, "--accept-all")
    assert code == 1
    assert err.startswith(
        f"error: {path} holds decisions for {approved.participant_id} (commencement), not "
        f"{other.participant_id} (commencement)"
    )
    assert kinds(study, other) == ["machine"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not a de-identification decisions file (line 1, column 2"),
        ('{"a": 1}', 'is not a de-identification decisions file (it has no "fieldkit"'),
        (None, "no decisions file"),
    ],
    ids=["broken json", "other json", "missing"],
)
def test_a_file_that_is_not_a_decisions_file(
    cli: CliRun,
    study: Study,
    approved: InterviewRow,
    tmp_path: Path,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "decisions.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _, err = apply_file(cli, study, approved, path, "--accept-all")
    assert code == 1 and message in err and len(err.splitlines()) == 1
    assert_nothing_stored(study, approved)


def edited(
    cli: CliRun, study: Study, interview: InterviewRow, tmp_path: Path, **changes: dict[str, str]
) -> Path:
    """A saved file with every suggestion replaced and entry N changed as `changes["eN"]` says."""
    path = tmp_path / "decisions.json"
    document = save(cli, study, interview, path)
    for number, entry in enumerate(document["suggestions"]):
        entry["decision"] = "replace"
        entry.update(changes.get(f"e{number}", {}))
    write(path, document)
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"e1": {"decision": "later"}}, "has decision 'later'"),
        (
            {"e1": {"placeholder": "[MANAGER]"}},
            "'Diane' is replaced by both [MANAGER] and [PERSON 1]",
        ),
        (
            {"e3": {"placeholder": "[PERSON 1]"}},
            "[PERSON 1] stands for something else in this transcript",
        ),
        (
            {"e3": {"placeholder": "the boss"}},
            "placeholder 'the boss' for 'Mark Tan' is not a label in square brackets",
        ),
        ({"e3": {"placeholder": "[" + "A" * 41 + "]"}}, "is not a label"),
        (
            {"e3": {"placeholder": "[MR MARK TAN]"}},
            "placeholder '[MR MARK TAN]' still names 'Mark Tan'",
        ),
    ],
    ids=[
        "decision word",
        "two placeholders",
        "shared placeholder",
        "no brackets",
        "too long or odd",
        "gives it away",
    ],
)
def test_refused_decisions_store_nothing(
    cli: CliRun,
    study: Study,
    approved: InterviewRow,
    tmp_path: Path,
    changes: dict[str, dict[str, str]],
    message: str,
) -> None:
    path = edited(cli, study, approved, tmp_path, **changes)
    code, _, err = apply_file(cli, study, approved, path)
    assert code == 1 and message in err and len(err.splitlines()) == 1, err
    assert_nothing_stored(study, approved)


def test_an_own_placeholder_must_agree_with_the_key(
    cli: CliRun, study: Study, approved: InterviewRow, tmp_path: Path
) -> None:
    assert run(cli, study, "deidentify", approved.participant_id, "--accept-all")[0] == 0
    path = edited(cli, study, approved, tmp_path, e3={"placeholder": "[COLLEAGUE]"})
    code, _, err = apply_file(cli, study, approved, path)
    assert code == 1
    assert "'Mark Tan' was replaced by [PERSON 2] before in this transcript" in err
    assert kinds(study, approved) == ["machine", "deidentified"]


def test_save_decisions_goes_alone(cli: CliRun, study: Study, approved: InterviewRow) -> None:
    code, _, err = run(
        cli,
        study,
        "deidentify",
        approved.participant_id,
        "--save-decisions",
        "x.json",
        "--accept-all",
    )
    assert code == 1 and "--save-decisions only writes the suggestions" in err
    assert_nothing_stored(study, approved)
