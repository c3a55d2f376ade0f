"""`fieldkit approval …` and `fieldkit transcript history` on a real SQLite study: the demo study,
whose transcripts are the shipped machine transcript of the demo interview in several states.

Demo states: INTSTA006-PEER needs review, INTSTA007-CLIN reviewed, INTSTA008-PEER sent 17 days
ago (overdue), INTSTA009-CLIN sent 4 days ago, INTSTA010-PEER approved with changes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from docx import Document

from fieldkit.config import load_config, write_config
from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import open_study
from tests.conftest import CliRun

NEEDS_REVIEW, REVIEWED, OVERDUE, SENT, APPROVED = (
    "INTSTA006-PEER",
    "INTSTA007-CLIN",
    "INTSTA008-PEER",
    "INTSTA009-CLIN",
    "INTSTA010-PEER",
)
DELETED = "It was busy and the doors were always locked."
ADDED = "I also like the garden here."


@pytest.fixture
def root(tmp_path: Path) -> Path:
    study = build_demo_study(tmp_path / "demo", actor="tester", transcripts=True)
    study.close()
    return tmp_path / "demo"


def status(cli: CliRun, root: Path) -> dict[str, dict[str, object]]:
    result = cli("approval", "status", "--json", "--study", root)
    assert result.exit_code == 0, result.output
    return {row["participant"]: row for row in json.loads(result.stdout)}


def transcript(cli: CliRun, root: Path, pid: str, *extra: str) -> dict:  # type: ignore[type-arg]
    result = cli("transcript", "show", pid, "--json", *extra, "--study", root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(root: Path) -> tuple[int, int]:
    study = open_study(root)
    try:
        return study.db["transcripts"].count, study.db["approval_moves"].count
    finally:
        study.close()


def refused(result: object, *words: str) -> None:
    """One `error:` line, non-zero exit, no traceback."""
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    for word in words:
        assert word in err, err


def send_docx(cli: CliRun, root: Path, pid: str, out: Path) -> None:
    result = cli("approval", "send", pid, "--out", out, "--study", root)
    assert result.exit_code == 0, result.output
    assert f"{pid} commencement: revision" in result.stdout and "reply by" in result.stdout


def edit_docx(source: Path, target: Path) -> None:
    """What a participant does in Word: delete a sentence, add one."""
    document = Document(str(source))
    for paragraph in document.paragraphs:
        if DELETED in paragraph.text:
            for run in paragraph.runs:
                run.text = run.text.replace(DELETED + " ", "")
        if "Riverton" in paragraph.text:
            paragraph.runs[-1].text += " " + ADDED
    document.save(str(target))


# -- status, sign-off --------------------------------------------------------------------------


def test_status_json_lists_every_transcript_overdue_first(root: Path, cli: CliRun) -> None:
    result = cli("approval", "status", "--json", "--study", root)
    rows = json.loads(result.stdout)
    assert rows[0]["participant"] == OVERDUE and rows[0]["overdue"] is True
    assert {"participant", "wave", "state", "since", "overdue"} <= set(rows[0])
    by_pid = {r["participant"]: r for r in rows}
    assert by_pid[NEEDS_REVIEW]["state"] == "needs review"
    assert by_pid[REVIEWED]["state"] == "reviewed"
    assert by_pid[SENT]["state"] == "sent to participant" and by_pid[SENT]["overdue"] is False
    assert by_pid[APPROVED]["state"] == "approved with changes"
    assert by_pid[APPROVED]["ready_for_analysis"] is True
    assert by_pid[OVERDUE]["days_waiting"] == 17
    assert not any(r["participant"].startswith("INTSTA00" + n) for r in rows for n in "12345")
    plain = cli("approval", "status", "--study", root).stdout
    assert "OVERDUE" in plain.splitlines()[1]


def test_reviewed_signs_off_once(root: Path, cli: CliRun) -> None:
    result = cli("approval", "reviewed", NEEDS_REVIEW, "--study", root)
    assert result.exit_code == 0 and "reviewed" in result.stdout
    assert status(cli, root)[NEEDS_REVIEW]["state"] == "reviewed"
    refused(cli("approval", "reviewed", NEEDS_REVIEW, "--study", root), "is already signed off")
    interviews = json.loads(cli("interviews", "--json", "--study", root).stdout)
    assert {r["participant"]: r["transcript_state"] for r in interviews}[NEEDS_REVIEW] == "reviewed"


def test_unknown_participant_and_no_transcript(root: Path, cli: CliRun) -> None:
    refused(cli("approval", "reviewed", "INTSTA099-PEER", "--study", root), "no participant")
    refused(cli("approval", "reviewed", "INTSTA001-PEER", "--study", root), "no interview")


# -- send → edit → receive → diff → revision ----------------------------------------------------


def test_send_edit_receive_stores_the_participants_revision(
    root: Path, cli: CliRun, tmp_path: Path
) -> None:
    sent, returned = tmp_path / "copy.docx", tmp_path / "returned.docx"
    before = transcript(cli, root, REVIEWED)
    send_docx(cli, root, REVIEWED, sent)
    assert status(cli, root)[REVIEWED]["state"] == "sent to participant"
    document = Document(str(sent))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Your interview transcript"
    assert any(t.startswith("Dear INTSTA007-CLIN,") for t in texts)
    assert any(t.startswith("[00:00] Interviewer: Thanks for talking") for t in texts)
    assert any(t.startswith("[00:11] INTSTA007-CLIN: Before this") for t in texts)
    assert "INTSTA007-CLIN | commencement | revision 1" in document.core_properties.identifier
    footer = document.sections[0].footer.paragraphs[0].text
    assert footer.startswith("Document ID: fieldkit participant copy | INTSTA007-CLIN")
    edit_docx(sent, returned)

    result = cli("approval", "receive", REVIEWED, returned, "--yes", "--study", root)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "9 words deleted, 6 added, in 2 turns" in out
    assert f"[-{DELETED}-]" in out and "{+here. " not in out
    assert "{+" + ADDED.split()[0] in out
    assert "stored as revision 2 (by INTSTA007-CLIN)" in out
    assert status(cli, root)[REVIEWED]["state"] == "returned"

    after = transcript(cli, root, REVIEWED)
    assert after["revision"] == 2 and after["kind"] == "participant"
    text = " ".join(s["text"] for s in after["segments"])
    assert DELETED not in text and ADDED in text
    # unchanged turns keep their speakers and times; unchanged words keep theirs
    assert len(after["segments"]) == len(before["segments"])
    for old, new in zip(before["segments"], after["segments"], strict=True):
        assert (old["speaker"], old["start"]) == (new["speaker"], new["start"])
        if old["text"] == new["text"]:
            assert old == new
    edited = after["segments"][1]
    kept = {(w["word"], w["start"]) for w in before["segments"][1]["words"]}
    assert {(w["word"], w["start"]) for w in edited["words"]} <= kept
    last = next(s for s in after["segments"] if ADDED in s["text"])
    typed = last["words"][-len(ADDED.split()) :]
    assert [w["word"] for w in typed] == ADDED.split()
    assert typed and all(w["probability"] == 1.0 for w in typed)
    assert all(last["start"] <= w["start"] <= last["end"] + 0.01 for w in typed)

    decided = cli("approval", "decide", REVIEWED, "approved-with-changes", "--study", root)
    assert decided.exit_code == 0 and "approved with changes" in decided.stdout
    assert status(cli, root)[REVIEWED]["ready_for_analysis"] is True
    history = cli("transcript", "history", REVIEWED, "--json", "--study", root)
    rows = json.loads(history.stdout)
    assert [(r["revision"], r["kind"], r["created_by"]) for r in rows] == [
        (0, "machine", "fieldkit"),
        (1, "review", "tester"),
        (2, "participant", REVIEWED),
    ]
    assert "returned: 9 words deleted, 6 added, in 2 turns" in rows[2]["summary"]
    machine = transcript(cli, root, REVIEWED, "--revision", "0")
    assert machine["kind"] == "machine" and "And I live," in json.dumps(machine)


def test_receive_declined_stores_nothing(root: Path, cli: CliRun, tmp_path: Path) -> None:
    sent, returned = tmp_path / "copy.docx", tmp_path / "returned.docx"
    send_docx(cli, root, REVIEWED, sent)
    edit_docx(sent, returned)
    before = counts(root)
    result = cli("approval", "receive", REVIEWED, returned, "--study", root, input="n\n")
    assert result.exit_code == 1 and "nothing stored" in result.stdout
    assert counts(root) == before
    assert status(cli, root)[REVIEWED]["state"] == "sent to participant"


def test_an_unchanged_copy_is_returned_without_a_new_revision(
    root: Path, cli: CliRun, tmp_path: Path
) -> None:
    sent = tmp_path / "copy.txt"
    assert cli("approval", "send", REVIEWED, "--out", sent, "--study", root).exit_code == 0
    result = cli("approval", "receive", REVIEWED, sent, "--yes", "--study", root)
    assert result.exit_code == 0, result.output
    assert f"{REVIEWED} commencement: no changes\n" in result.stdout
    assert "no changes: revision 1 stands" in result.stdout
    assert transcript(cli, root, REVIEWED)["revision"] == 1
    assert cli("approval", "decide", REVIEWED, "approved", "--study", root).exit_code == 0


def test_a_txt_copy_round_trips_with_a_turn_deleted_whole(
    root: Path, cli: CliRun, tmp_path: Path
) -> None:
    sent = tmp_path / "copy.txt"
    assert cli("approval", "send", REVIEWED, "--out", sent, "--study", root).exit_code == 0
    lines = sent.read_text(encoding="utf-8").splitlines()
    assert lines[-1].startswith("Document ID: fieldkit participant copy | INTSTA007-CLIN")
    # the participant removes a whole turn of theirs, and breaks a long line in two
    kept = [line for line in lines if not line.startswith("[01:04] INTSTA007-CLIN:")]
    index = next(i for i, line in enumerate(kept) if line.startswith("[01:18]"))
    cut = kept[index].index(" ", 40)
    kept[index : index + 1] = [kept[index][:cut], kept[index][cut + 1 :]]
    returned = tmp_path / "returned.txt"
    returned.write_text("\n".join(kept), encoding="utf-8")
    result = cli("approval", "receive", REVIEWED, returned, "--yes", "--study", root)
    assert result.exit_code == 0, result.output
    after = transcript(cli, root, REVIEWED)
    text = " ".join(s["text"] for s in after["segments"])
    assert "Diane" not in text and "I live in Riverton Just down the road" in text


# -- bad input: one line each, nothing stored --------------------------------------------------


@pytest.fixture
def out_for_review(root: Path, cli: CliRun, tmp_path: Path) -> Path:
    """REVIEWED's copy, sent (.docx)."""
    sent = tmp_path / "copy.docx"
    send_docx(cli, root, REVIEWED, sent)
    return sent


def assert_nothing_stored(root: Path, cli: CliRun, before: tuple[int, int]) -> None:
    assert counts(root) == before
    assert status(cli, root)[REVIEWED]["state"] == "sent to participant"


def test_another_participants_copy_is_refused(
    root: Path, cli: CliRun, tmp_path: Path, out_for_review: Path
) -> None:
    before = counts(root)
    refused(
        cli("approval", "receive", SENT, out_for_review, "--yes", "--study", root),
        "is the copy sent to INTSTA007-CLIN, not to INTSTA009-CLIN",
    )
    assert_nothing_stored(root, cli, before)


def test_another_waves_copy_is_refused(root: Path, cli: CliRun, tmp_path: Path) -> None:
    from fieldkit.services import approval
    from fieldkit.services.demo import demo_interview_audio, demo_machine_transcript
    from fieldkit.services.recording import import_recording

    study = open_study(root, actor="tester")
    follow_up = import_recording(study, REVIEWED, demo_interview_audio(), wave="follow-up")
    from fieldkit.services.demo import _store_machine_transcript

    _store_machine_transcript(study, follow_up, demo_machine_transcript())
    approval.move(study, follow_up, approval.TranscriptState.REVIEWED)
    wrong = tmp_path / "follow-up.docx"
    approval.send_copy(study, REVIEWED, wrong, wave="follow-up")
    approval.send_copy(study, REVIEWED, tmp_path / "commencement.docx", wave="commencement")
    study.close()
    before = counts(root)
    result = cli(
        "approval", "receive", REVIEWED, wrong, "--wave", "commencement", "--yes", "--study", root
    )
    refused(result, "follow-up transcript, not the commencement one")
    assert counts(root) == before


def test_a_different_document_is_refused(
    root: Path, cli: CliRun, tmp_path: Path, out_for_review: Path
) -> None:
    before = counts(root)
    # a Word file with the same turns but not written by fieldkit
    plain = Document()
    for paragraph in Document(str(out_for_review)).paragraphs:
        plain.add_paragraph(paragraph.text)
    foreign = tmp_path / "foreign.docx"
    plain.save(str(foreign))
    refused(
        cli("approval", "receive", REVIEWED, foreign, "--yes", "--study", root),
        "not a fieldkit participant's copy",
    )
    # a copy whose document ID names a text that was never sent
    forged = tmp_path / "forged.docx"
    document = Document(str(out_for_review))
    identifier = document.core_properties.identifier
    document.core_properties.identifier = identifier[:-4] + "0000"
    document.sections[0].footer.paragraphs[0].text = "Document ID: " + identifier[:-4] + "0000"
    document.save(str(forged))
    refused(
        cli("approval", "receive", REVIEWED, forged, "--yes", "--study", root),
        "does not match the copy of INTSTA007-CLIN (commencement) that was sent",
    )
    assert_nothing_stored(root, cli, before)


def test_unreadable_files_are_refused(
    root: Path, cli: CliRun, tmp_path: Path, out_for_review: Path
) -> None:
    before = counts(root)
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    refused(cli("approval", "receive", REVIEWED, empty, "--study", root), "empty.docx is empty")
    empty_txt = tmp_path / "empty.txt"
    empty_txt.write_text("  \n\n", encoding="utf-8")
    refused(cli("approval", "receive", REVIEWED, empty_txt, "--study", root), "is empty")
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(out_for_review.read_bytes()[:3000])  # cut short in transit
    refused(
        cli("approval", "receive", REVIEWED, corrupt, "--study", root),
        "corrupt.docx is not a readable Word document",
    )
    not_word = tmp_path / "zip.docx"
    with zipfile.ZipFile(not_word, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    refused(cli("approval", "receive", REVIEWED, not_word, "--study", root), "not a readable Word")
    # an encrypted Office file is an OLE compound file holding an EncryptionInfo stream
    locked = tmp_path / "locked.docx"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    locked.write_bytes(ole + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 512)
    refused(
        cli("approval", "receive", REVIEWED, locked, "--study", root),
        "locked.docx is password-protected",
    )
    refused(
        cli("approval", "receive", REVIEWED, tmp_path / "missing.docx", "--study", root),
        "cannot read",
    )
    refused(
        cli("approval", "receive", REVIEWED, tmp_path / "copy.pdf", "--study", root),
        ".docx or .txt",
    )
    assert_nothing_stored(root, cli, before)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("[00:00] Interviewer:", "[00:00] Intervewer:"), "unknown speaker label 'Intervewer'"),
        (("[00:27] Interviewer:", "Interviewer:"), "a turn's start is damaged"),
        (("[00:27] Interviewer:", "[00:29] Interviewer:"), "does not match the copy sent"),
        (("[00:11] INTSTA007-CLIN:", "[00:11] Participant:"), "unknown speaker label"),
    ],
)
def test_mangled_speaker_labels_are_refused(
    root: Path,
    cli: CliRun,
    tmp_path: Path,
    change: tuple[str, str],
    words: str,
) -> None:
    sent = tmp_path / "copy.txt"
    assert cli("approval", "send", REVIEWED, "--out", sent, "--study", root).exit_code == 0
    before = counts(root)
    mangled = tmp_path / "mangled.txt"
    mangled.write_text(sent.read_text(encoding="utf-8").replace(*change, 1), encoding="utf-8")
    refused(cli("approval", "receive", REVIEWED, mangled, "--yes", "--study", root), words)
    assert_nothing_stored(root, cli, before)


def test_mangled_labels_in_a_docx_are_refused(
    root: Path, cli: CliRun, tmp_path: Path, out_for_review: Path
) -> None:
    document = Document(str(out_for_review))
    turn = next(p for p in document.paragraphs if p.text.startswith("[00:27] Interviewer:"))
    turn.runs[0].text = "[00:27] Interveiwer: "
    mangled = tmp_path / "mangled.docx"
    document.save(str(mangled))
    refused(
        cli("approval", "receive", REVIEWED, mangled, "--yes", "--study", root),
        "paragraph",
        "unknown speaker label 'Interveiwer'",
    )


# -- decisions ---------------------------------------------------------------------------------


def test_decisions_before_sending_are_refused(root: Path, cli: CliRun) -> None:
    before = counts(root)
    for pid in (NEEDS_REVIEW, REVIEWED):
        for decision in ("approved", "approved-with-changes", "withdrawn", "no-response"):
            result = cli("approval", "decide", pid, decision, "--yes", "--study", root)
            refused(result, "decisions come after the participant's copy is sent")
    assert counts(root) == before
    bad = cli("approval", "decide", SENT, "maybe", "--study", root)
    assert bad.exit_code == 2 and "maybe" in bad.output  # click's own usage error


def test_no_response_waits_for_the_deadline(root: Path, cli: CliRun) -> None:
    refused(cli("approval", "decide", SENT, "no-response", "--study", root), "has until")
    result = cli("approval", "decide", OVERDUE, "no-response", "--study", root)
    assert result.exit_code == 0 and "no response" in result.stdout
    rows = status(cli, root)
    assert rows[OVERDUE]["state"] == "no response" and rows[OVERDUE]["overdue"] is False
    assert rows[OVERDUE]["ready_for_analysis"] is False  # the default policy
    refused(
        cli("approval", "decide", OVERDUE, "approved", "--study", root), "closed with no response"
    )


def test_approved_by_phone_while_sent(root: Path, cli: CliRun) -> None:
    assert cli("approval", "decide", SENT, "approved", "--study", root).exit_code == 0
    refused(cli("approval", "decide", SENT, "approved-with-changes", "--study", root))


def set_policy(root: Path, **values: object) -> None:
    import dataclasses

    config = load_config(root / "study.toml")
    approval = dataclasses.replace(config.approval, **values)
    write_config(root / "study.toml", dataclasses.replace(config, approval=approval))


def test_withdrawal_keeps_the_data_by_default(root: Path, cli: CliRun) -> None:
    before = counts(root)
    result = cli("approval", "decide", SENT, "withdrawn", "--study", root)
    assert result.exit_code == 0 and "withdrawn" in result.stdout
    assert counts(root)[0] == before[0]
    assert status(cli, root)[SENT]["state"] == "withdrawn"


def test_withdrawal_with_the_delete_policy_deletes_everything(root: Path, cli: CliRun) -> None:
    set_policy(root, withdrawn_data="delete")
    study = open_study(root)
    [interview] = [i for i in study.db["interviews"].rows if i["participant_id"] == OVERDUE]
    audio = [
        root / r["path"]
        for r in study.db["recordings"].rows_where("interview_id = ?", [interview["id"]])
    ]
    texts = [
        s["text"]
        for s in study.db.query(
            "select s.text from segments s join transcripts t on t.id = s.transcript_id "
            "where t.interview_id = ?",
            [interview["id"]],
        )
    ]
    study.close()
    copies = root / "exports" / "participant-copies"
    assert audio and all(p.exists() for p in audio)
    assert any(OVERDUE in p.name for p in copies.iterdir())

    declined = cli("approval", "decide", OVERDUE, "withdrawn", "--study", root, input="n\n")
    assert declined.exit_code == 1 and all(p.exists() for p in audio)

    result = cli("approval", "decide", OVERDUE, "withdrawn", "--yes", "--study", root)
    assert result.exit_code == 0, result.output
    assert "deleted: 2 transcript revisions" in result.stdout
    assert "outside fieldkit's reach" in result.stderr
    assert not any(p.exists() for p in audio)
    assert not any(OVERDUE in p.name for p in copies.iterdir())
    assert any(SENT in p.name for p in copies.iterdir())  # others' copies stay
    study = open_study(root)
    iid = interview["id"]
    for table in ("transcripts", "jobs", "recordings"):
        assert study.db[table].count_where("interview_id = ?", [iid]) == 0
    assert (
        study.db["interview_events"].count_where("interview_id = ? and text is not null", [iid])
        == 0
    )
    assert study.db["interviews"].get(iid)["participant_id"] == OVERDUE  # the fact stays
    log = [e for e in study.db["audit_log"].rows if e["interview_id"] == iid]
    deletion = [e for e in log if e["action"] == "withdrawn interview data deleted"]
    assert len(deletion) == 1 and json.loads(deletion[0]["detail"])["words"] > 100
    dump = json.dumps(list(study.db["audit_log"].rows))
    assert not any(text in dump for text in texts if len(text) > 12)
    study.close()
    assert status(cli, root)[OVERDUE]["state"] == "withdrawn"
    refused(cli("transcript", "show", OVERDUE, "--study", root), "no transcript")


# -- history, init, policy ---------------------------------------------------------------------


def test_transcript_history_lists_revisions(root: Path, cli: CliRun) -> None:
    result = cli("transcript", "history", APPROVED, "--study", root)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"# {APPROVED} · commencement"
    assert "machine" in lines[1] and "review" in lines[2] and "participant" in lines[3]
    assert APPROVED in lines[3] and "returned:" in lines[3]
    refused(cli("transcript", "history", "INTSTA001-PEER", "--study", root), "no interview")


def test_init_writes_the_approval_policy(tmp_path: Path, cli: CliRun) -> None:
    assert cli("init", tmp_path / "s").exit_code == 0
    text = (tmp_path / "s" / "study.toml").read_text(encoding="utf-8")
    assert "[approval]" in text and "response_days = 14" in text
    assert 'withdrawn_data = "keep"' in text and "no_response_counts_as_approval = false" in text
    assert "{deadline}" in text
    config = load_config(tmp_path / "s" / "study.toml")
    assert config.approval.response_days == 14 and "approval" not in config.extra


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('withdrawn_data = "shred"', 'approval.withdrawn_data must be "keep" or "delete"'),
        ("response_days = 0", "approval.response_days must be between"),
        ('cover_note = "Dear {name}"', "unknown field name"),
        ('no_response_counts_as_approval = "yes"', "must be true or false"),
    ],
)
def test_a_bad_policy_is_one_line(tmp_path: Path, cli: CliRun, line: str, words: str) -> None:
    assert cli("init", tmp_path / "s").exit_code == 0
    path = tmp_path / "s" / "study.toml"
    key = line.split(" = ")[0]
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n{key} = ") + 1
    end = text.index("\n", start) if key != "cover_note" else text.index('"""', start + 15) + 3
    path.write_text(text[:start] + line + text[end:], encoding="utf-8")
    refused(cli("approval", "status", "--study", tmp_path / "s"), words)
