"""Issue 9 item 15: a returned .txt copy saved as UTF-16 (Windows Notepad's "Unicode"), UTF-8
with a byte-order mark, or another Unicode form is read as text, not misdiagnosed as "not a
fieldkit participant's copy"."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from fieldkit.export.participant_copy import ReturnedCopyError, read_copy
from fieldkit.services.demo import build_demo_study
from tests.conftest import CliRun
from tests.services.test_participant_copy import LABELS, make_copy

EDITED = "I am well, thank you, café – ‘really’ well."

ENCODINGS = {
    "utf-16 le with BOM (Notepad)": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16 be with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16 le without BOM": lambda text: text.encode("utf-16-le"),
    "utf-32 with BOM": lambda text: text.encode("utf-32"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_returned_txt_in_any_unicode_form_reads(tmp_path: Path, encoding: str) -> None:
    path, paper = make_copy(tmp_path, "txt")
    text = path.read_text(encoding="utf-8").replace("I am well, thank you.", EDITED)
    path.write_bytes(ENCODINGS[encoding](text.replace("\n", "\r\n")))
    back = read_copy(path, LABELS)
    assert back.document_id == paper.document_id
    assert back.turns[1].text == EDITED


def test_a_damaged_utf16_file_says_so(tmp_path: Path) -> None:
    path, _ = make_copy(tmp_path, "txt")
    data = codecs.BOM_UTF16_LE + path.read_text(encoding="utf-8").encode("utf-16-le")
    path.write_bytes(data + b"\x00\xd8")  # cut inside a surrogate pair
    with pytest.raises(ReturnedCopyError, match="looks like UTF-16 text"):
        read_copy(path, LABELS)


def test_a_bom_alone_is_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "copy.txt"
    path.write_bytes(codecs.BOM_UTF16_LE)
    with pytest.raises(ReturnedCopyError, match="is empty"):
        read_copy(path, LABELS)


def test_receive_a_copy_saved_as_utf16_by_notepad(tmp_path: Path, cli: CliRun) -> None:
    root = tmp_path / "demo"
    build_demo_study(root, actor="tester", transcripts=True).close()
    pid = "INTSTA007-CLIN"  # reviewed in the demo
    sent = tmp_path / "copy.txt"
    assert cli("approval", "send", pid, "--out", sent, "--study", root).exit_code == 0
    text = sent.read_text(encoding="utf-8")
    turn = next(line for line in text.splitlines() if line.startswith(f"[00:11] {pid}:"))
    returned = tmp_path / "returned.txt"
    edited = text.replace(turn, turn + " Also the café – it matters.")
    returned.write_bytes(codecs.BOM_UTF16_LE + edited.replace("\n", "\r\n").encode("utf-16-le"))
    result = cli("approval", "receive", pid, returned, "--yes", "--study", root)
    assert result.exit_code == 0, result.output
    assert "stored as revision 2" in result.stdout
    shown = cli("transcript", "show", pid, "--json", "--study", root)
    assert "Also the café – it matters." in json.dumps(json.loads(shown.stdout), ensure_ascii=False)
