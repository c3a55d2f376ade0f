"""Fixtures for export tests: an approved, de-identified study, and readers that pull every piece
of text out of whatever an export wrote (inside .docx and .qdpx zips too)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from fieldkit.services.deid import deidentify
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow
from tests.requirements import shared_testdata_dir

from .factory import add_identifiers, add_question, approve, make_interview, sample_segments

PROJECT_XSD = shared_testdata_dir() / "Project.xsd"


def all_text(path: Path) -> str:
    """Every character a file holds: zip members (docx, qdpx) decoded one by one."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()
            )
    return path.read_text(encoding="utf-8-sig")


def docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    props = document.core_properties
    meta = [props.title or "", props.author or "", props.comments or "", props.subject or ""]
    return "\n".join([*meta, *(p.text for p in document.paragraphs)])


@pytest.fixture
def approved(study: Study, tmp_path: Path) -> tuple[Study, InterviewRow]:
    """One approved interview with every identifier class, question markers and the list."""
    interview = make_interview(study, sample_segments(), duration_s=80.0)
    add_question(study, interview, 1.0, 0)
    add_question(study, interview, 31.0, 1)
    add_identifiers(study)
    approve(study, interview, tmp_path / "copies")
    return study, interview


@pytest.fixture
def deidentified(approved: tuple[Study, InterviewRow]) -> tuple[Study, InterviewRow]:
    study, interview = approved
    deidentify(study, interview.participant_id)
    return study, interview
