"""The participant's copy of a transcript: written as .docx (python-docx) or .txt, and read back
when the participant returns it.

A copy is a cover note, then one paragraph per speaker turn starting "[mm:ss] Label:", then a
document ID line (in the .docx also in its core properties) naming the participant, the wave, the
revision and a fingerprint of the turns sent, so a returned file can be matched to what was sent.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldkit.core.guard import format_clock
from fieldkit.errors import FieldkitError
from fieldkit.private import open_private, write_private_text

COPY_FORMATS = ("docx", "txt")
TRANSCRIPT_HEADING = "Transcript"
TXT_BEGIN = "=== Transcript ==="
TXT_END = "=== End of transcript ==="
ID_PREFIX = "fieldkit participant copy"
KEEP_ID = "(please leave this line as it is)"
KEEP_TURNS_HINT = (
    'each turn must keep its start as sent, e.g. "[00:12] Interviewer:"; '
    "ask the participant to fix it, or fix the label yourself and receive it again"
)
_ID_RE = re.compile(
    re.escape(ID_PREFIX)
    + r"\s*\|\s*(?P<participant>[^|]+?)\s*\|\s*(?P<wave>[^|]+?)\s*\|\s*revision\s+(?P<revision>\d+)"
    r"\s*\|\s*(?P<fingerprint>[0-9a-f]{8,64})"
)
_TURN_START = re.compile(r"^\s*\[\s*\d{1,2}:\d{2}")
_TURN = re.compile(
    r"^\s*\[\s*(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)\s*\]\s*(?P<label>[^:]{1,60}?)\s*:(?P<text>.*)$",
    re.DOTALL,
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")


class ReturnedCopyError(FieldkitError):
    """A returned participant's copy cannot be used: wrong file, unreadable, or mangled."""


@dataclass(frozen=True)
class DocumentId:
    participant: str
    wave: str
    revision: int
    fingerprint: str

    def encode(self) -> str:
        return (
            f"{ID_PREFIX} | {self.participant} | {self.wave} | revision {self.revision} "
            f"| {self.fingerprint}"
        )

    @classmethod
    def find(cls, text: str) -> DocumentId | None:
        match = _ID_RE.search(text)
        if match is None:
            return None
        return cls(
            participant=match["participant"],
            wave=match["wave"],
            revision=int(match["revision"]),
            fingerprint=match["fingerprint"],
        )


@dataclass(frozen=True)
class CopyTurn:
    start: float
    label: str
    text: str

    @property
    def clock(self) -> str:
        return format_clock(self.start)

    @property
    def heading(self) -> str:
        return f"[{self.clock}] {self.label}:"


@dataclass(frozen=True)
class ParticipantCopy:
    document_id: DocumentId
    title: str
    cover_note: str
    turns: tuple[CopyTurn, ...]


@dataclass(frozen=True)
class ReturnedTurn:
    clock: str
    label: str
    text: str
    paragraph: int  # 1-based, for messages


@dataclass(frozen=True)
class ReturnedDocument:
    document_id: DocumentId | None
    turns: tuple[ReturnedTurn, ...]


def fingerprint(participant: str, wave: str, revision: int, turns: Sequence[CopyTurn]) -> str:
    """What was sent, in 16 hex digits: the same turns give the same fingerprint in any format."""
    digest = hashlib.sha256(f"{participant}\n{wave}\n{revision}\n".encode())
    for turn in turns:
        digest.update(f"{turn.clock}\t{turn.label}\t{turn.text}\n".encode())
    return digest.hexdigest()[:16]


def copy_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in COPY_FORMATS:
        raise FieldkitError(
            f"{path.name}: a participant's copy is a .docx or .txt file",
            "name the file with one of those extensions",
        )
    return suffix


def cover_paragraphs(note: str) -> list[str]:
    """Blank lines separate paragraphs; a line break inside one is a space."""
    paragraphs = re.split(r"\n\s*\n", note.strip())
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


# -- writing ---------------------------------------------------------------------------------


def write_copy(copy: ParticipantCopy, path: Path) -> None:
    if copy_format(path) == "docx":
        _write_docx(copy, path)
    else:
        write_private_text(path, copy_as_text(copy))


def copy_as_text(copy: ParticipantCopy) -> str:
    lines = [copy.title, "=" * len(copy.title), ""]
    for paragraph in cover_paragraphs(copy.cover_note):
        lines += [paragraph, ""]
    lines += [TXT_BEGIN, ""]
    for turn in copy.turns:
        lines += [f"{turn.heading} {turn.text}", ""]
    lines += [TXT_END, "", f"Document ID: {copy.document_id.encode()} {KEEP_ID}", ""]
    return "\n".join(lines)


def _write_docx(copy: ParticipantCopy, path: Path) -> None:
    from docx import Document

    document = Document()
    properties = document.core_properties
    properties.identifier = copy.document_id.encode()
    properties.title = copy.title
    properties.subject = f"{copy.document_id.participant} · {copy.document_id.wave}"
    properties.author = "fieldkit"
    properties.comments = "Participant's copy of an interview transcript, for review."
    document.add_heading(copy.title, level=0)
    for text in cover_paragraphs(copy.cover_note):
        document.add_paragraph(text)
    document.add_heading(TRANSCRIPT_HEADING, level=1)
    for turn in copy.turns:
        paragraph = document.add_paragraph()
        paragraph.add_run(turn.heading + " ").bold = True
        paragraph.add_run(turn.text)
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = f"Document ID: {copy.document_id.encode()} {KEEP_ID}"
    with open_private(path, "wb") as out:
        document.save(out)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedCopy:
    """A returned file, read: its document ID and paragraphs, turns not yet parsed (so the
    caller can check it is the right document before judging its labels)."""

    path: Path
    document_id: DocumentId | None
    paragraphs: tuple[str, ...]


def open_copy(path: Path) -> OpenedCopy:
    """Read a returned copy. Raises ReturnedCopyError (one line) for anything unreadable."""
    fmt = copy_format(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReturnedCopyError(f"cannot read {path}: {exc.strerror}", "check the path") from None
    if not data.strip():
        raise ReturnedCopyError(f"{path.name} is empty", "ask the participant to send it again")
    if fmt == "docx":
        ids, paragraphs = _docx_content(path, data)
    else:
        text = _decode(data, path.name)
        if not text.strip():  # a byte-order mark and nothing else
            raise ReturnedCopyError(f"{path.name} is empty", "ask the participant to send it again")
        ids = [DocumentId.find(text)]
        paragraphs = _txt_paragraphs(text)
    found = {i for i in ids if i is not None}
    if len(found) > 1:
        raise ReturnedCopyError(
            f"{path.name} carries two different document IDs",
            "it mixes two copies; ask the participant to return the copy they were sent",
        )
    return OpenedCopy(path, next(iter(found), None), tuple(paragraphs))


def returned_turns(opened: OpenedCopy, labels: Collection[str]) -> tuple[ReturnedTurn, ...]:
    """The speaker turns of a returned copy; damaged labels are refused (one line)."""
    return _turns(opened.path, list(opened.paragraphs), labels)


def read_copy(path: Path, labels: Collection[str]) -> ReturnedDocument:
    opened = open_copy(path)
    return ReturnedDocument(opened.document_id, returned_turns(opened, labels))


# Byte-order marks, longest first (UTF-32's little-endian mark begins like UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes, name: str) -> str:
    """The text of a returned .txt, whatever the participant's editor saved: UTF-8 (with or
    without a byte-order mark), UTF-16 or UTF-32 with a mark (Windows Notepad's "Unicode"),
    UTF-16 without one, or cp1252 (Notepad on older Windows)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data, encoding, name)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return _strict(data, utf16, name)
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        kind = encoding.upper().removesuffix("-SIG")
        raise ReturnedCopyError(
            f"{name} looks like {kind} text but cannot be read as such (damaged?)",
            "ask the participant to save it again (as UTF-8, if their editor asks)",
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a mark shows as a zero byte beside almost every Latin letter."""
    if len(data) < 4 or len(data) % 2 or b"\x00" not in data:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _docx_content(path: Path, data: bytes) -> tuple[list[DocumentId | None], list[str]]:
    from docx import Document

    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_MARK in data:
            raise ReturnedCopyError(
                f"{path.name} is password-protected",
                "ask the participant to remove the password (or save an unprotected copy)",
            )
        raise ReturnedCopyError(
            f"{path.name} is an old Word (.doc) file, not .docx",
            "open it in Word and save it as .docx",
        )
    try:
        document = Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ReturnedCopyError(
            f"{path.name} is not a readable Word document ({type(exc).__name__})",
            "it may be damaged; ask the participant to send it again",
        ) from None
    except Exception as exc:  # python-docx raises a few XML and package errors of its own
        raise ReturnedCopyError(
            f"{path.name} is not a readable Word document ({type(exc).__name__})",
            "it may be damaged; ask the participant to send it again",
        ) from None
    paragraphs = [_paragraph_text(p._p) for p in document.paragraphs]
    footer_text = "\n".join(
        _paragraph_text(p._p) for section in document.sections for p in section.footer.paragraphs
    )
    ids = [
        DocumentId.find(document.core_properties.identifier or ""),
        DocumentId.find(footer_text),
        DocumentId.find("\n".join(paragraphs)),
    ]
    return ids, paragraphs


def _paragraph_text(paragraph: object) -> str:
    """The text as the participant sees it with tracked changes accepted: inserted runs count,
    deleted ones (w:delText, moved-from text) do not."""
    parts: list[str] = []
    for element in paragraph.iter():  # type: ignore[attr-defined]
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "t" and not _inside(element, "moveFrom"):
            parts.append(element.text or "")
        elif tag == "tab":
            parts.append("\t")
        elif tag in ("br", "cr"):
            parts.append(" ")
    return "".join(parts)


def _inside(element: object, tag: str) -> bool:
    parent = element.getparent()  # type: ignore[attr-defined]
    while parent is not None:
        if parent.tag.rsplit("}", 1)[-1] == tag:
            return True
        parent = parent.getparent()
    return False


def _txt_paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs; a line that starts a turn starts a paragraph too."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        boundary = not stripped or stripped in (TXT_BEGIN, TXT_END) or _TURN_START.match(line)
        if boundary and current:
            paragraphs.append(" ".join(current))
            current = []
        if stripped in (TXT_BEGIN, TXT_END):
            paragraphs.append(stripped)
        elif stripped:
            current.append(stripped)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _transcript_part(paragraphs: list[str]) -> list[tuple[int, str]]:
    """The paragraphs between the transcript heading (or the first turn) and its end."""
    numbered = list(enumerate(paragraphs, start=1))
    begin = next(
        (i for i, (_, p) in enumerate(numbered) if p.strip() in (TRANSCRIPT_HEADING, TXT_BEGIN)),
        None,
    )
    if begin is None:
        begin = next((i - 1 for i, (_, p) in enumerate(numbered) if _TURN_START.match(p)), None)
        if begin is None:
            return []
    part: list[tuple[int, str]] = []
    for number, paragraph in numbered[begin + 1 :]:
        if paragraph.strip() == TXT_END or paragraph.strip().startswith("Document ID:"):
            break
        if paragraph.strip():
            part.append((number, paragraph.strip()))
    return part


def _turns(path: Path, paragraphs: list[str], labels: Collection[str]) -> tuple[ReturnedTurn, ...]:
    known = {label.casefold(): label for label in labels}
    turns: list[ReturnedTurn] = []
    for number, paragraph in _transcript_part(paragraphs):
        match = _TURN.match(paragraph)
        if match:
            label = known.get(match["label"].strip().casefold())
            if label is None:
                raise ReturnedCopyError(
                    f"{path.name}, paragraph {number}: unknown speaker label "
                    f"{match['label'].strip()!r}",
                    KEEP_TURNS_HINT,
                )
            turns.append(ReturnedTurn(match["clock"], label, match["text"].strip(), number))
            continue
        if _TURN_START.match(paragraph) or _bare_label(paragraph, known):
            raise ReturnedCopyError(
                f"{path.name}, paragraph {number}: a turn's start is damaged", KEEP_TURNS_HINT
            )
        if not turns:
            raise ReturnedCopyError(
                f"{path.name}, paragraph {number}: text before the first turn's label",
                KEEP_TURNS_HINT,
            )
        # A paragraph the participant added inside a turn belongs to that turn.
        last = turns[-1]
        turns[-1] = ReturnedTurn(last.clock, last.label, f"{last.text} {paragraph}", last.paragraph)
    return tuple(turns)


def _bare_label(paragraph: str, known: dict[str, str]) -> bool:
    """A known label with its time stamp removed, e.g. "Interviewer: …"."""
    head, colon, _ = paragraph.partition(":")
    return bool(colon) and head.strip().casefold() in known


def match_turns(
    path: Path, sent: Sequence[CopyTurn], returned: Sequence[ReturnedTurn]
) -> list[str]:
    """The returned text of each sent turn ("" for a turn the participant deleted whole).

    Returned turns are matched to sent ones by time and label, in order; a turn that matches
    none (its time or label changed, or turns swapped) is a damaged label: refused."""
    texts = ["" for _ in sent]
    position = 0
    for turn in returned:
        index = next(
            (
                i
                for i in range(position, len(sent))
                if sent[i].clock == turn.clock and sent[i].label == turn.label
            ),
            None,
        )
        if index is None:
            raise ReturnedCopyError(
                f"{path.name}, paragraph {turn.paragraph}: the turn "
                f'"[{turn.clock}] {turn.label}:" does not match the copy sent',
                KEEP_TURNS_HINT,
            )
        texts[index] = turn.text
        position = index + 1
    return texts
