"""The REFI-QDA project (.qdpx) names who made it, colours its codes, declares each variable for
one kind of thing only, and writes each turn label first (issue 11, section 5: what QualCoder
4.0's import showed)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow

from .conftest import PROJECT_XSD
from .factory import approve, make_interview, sample_segments
from .layout import speaker_of, study_labels

Approved = tuple[Study, InterviewRow]
Q = "urn:QDA-XML:project:1.0"
NS = {"q": Q}


def tag(name: str) -> str:
    return f"{{{Q}}}{name}"


def read_project(path: Path) -> tuple[str, dict[str, str]]:
    """project.qde, and each source's text by its GUID."""
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde").decode("utf-8")
        texts = {
            name.removeprefix("Sources/").removesuffix(".txt"): archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("Sources/")
        }
    return xml, texts


@pytest.fixture
def two_people(deidentified: Approved, tmp_path: Path) -> tuple[Study, Path, list[str]]:
    """Two approved participants exported as one project (identified: the second one is not
    de-identified)."""
    study, first = deidentified
    second = make_interview(study, sample_segments(), role="CLIN")
    approve(study, second, tmp_path / "copies")
    [path] = export(study, "qdpx", tmp_path / "out", identified=True).files
    return study, path, [first.participant_id, second.participant_id]


def test_the_project_is_valid_refi_qda(two_people: tuple[Study, Path, list[str]]) -> None:
    if not PROJECT_XSD.is_file():
        pytest.skip(f"no REFI-QDA schema at {PROJECT_XSD} (../shared/testdata is absent)")
    import xmlschema

    _, path, _ = two_people
    xml, _ = read_project(path)
    xmlschema.XMLSchema(str(PROJECT_XSD)).validate(xml)


def test_codes_and_codings_belong_to_the_acting_user(
    two_people: tuple[Study, Path, list[str]],
) -> None:
    study, path, _ = two_people
    root = ET.fromstring(read_project(path)[0])
    [user] = root.findall("q:Users/q:User", NS)
    assert user.get("name") == study.actor == "tester"
    guid = user.get("guid")
    assert guid and root.get("creatingUserGUID") == guid  # the codebook's author
    made = [
        *root.iter(tag("TextSource")),
        *root.iter(tag("PlainTextSelection")),
        *root.iter(tag("Coding")),
    ]
    assert len(made) > 20
    assert {element.get("creatingUser") for element in made} == {guid}
    assert root[0].tag == tag("Users")  # before the codebook, as the schema orders it


def test_every_code_has_a_colour(two_people: tuple[Study, Path, list[str]]) -> None:
    _, path, _ = two_people
    root = ET.fromstring(read_project(path)[0])
    codes = list(root.iter(tag("Code")))
    colours = {code.get("name"): code.get("color") for code in codes}
    assert len(codes) >= 6
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c or "") for c in colours.values()), colours
    codable = [code.get("color") for code in codes if code.get("isCodable") == "true"]
    assert len(set(codable)) == len(codable)  # each code its own colour
    assert colours["Interviewer"] != colours["Participant"]


def test_each_variable_describes_cases_or_sources_not_both(
    two_people: tuple[Study, Path, list[str]],
) -> None:
    _, path, people = two_people
    root = ET.fromstring(read_project(path)[0])
    names = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
    assert len(set(names.values())) == len(names)  # one declaration per name

    def used_by(parent: str) -> set[str]:
        return {
            names[str(ref.get("targetGUID"))]
            for holder in root.iter(tag(parent))
            for ref in holder.findall("q:VariableValue/q:VariableRef", NS)
        }

    on_cases, on_sources = used_by("Case"), used_by("TextSource")
    assert on_cases == {"site", "role", "wave"}
    assert on_sources == {"interview wave"}
    assert not on_cases & on_sources  # QualCoder keeps one kind per variable name
    for source in root.iter(tag("TextSource")):
        [value] = source.findall("q:VariableValue/q:TextValue", NS)
        assert value.text == "commencement"
    assert [c.get("name") for c in root.findall("q:Cases/q:Case", NS)] == people


def test_source_lines_begin_with_the_speaker_label(
    two_people: tuple[Study, Path, list[str]],
) -> None:
    study, path, people = two_people
    xml, texts = read_project(path)
    labels = study_labels(people)
    topics = {t.title for t in study.schedule().topics}
    root = ET.fromstring(xml)
    for source in root.iter(tag("TextSource")):
        text = texts[str(source.get("guid"))]
        lines = text.splitlines()
        assert all(line in topics or speaker_of(line, labels) for line in lines), lines
        assert "Interviewer: [00:00:00] Thanks for coming in." in text
        # each speaker coding covers exactly one whole line
        for selection in source.findall("q:PlainTextSelection", NS):
            start = int(selection.get("startPosition", -1))
            end = int(selection.get("endPosition", -1))
            chosen = text[start:end]
            if selection.get("name", "").startswith("turn "):
                assert chosen in lines and speaker_of(chosen, labels)


def test_timestamps_none_reaches_the_project_text(deidentified: Approved, tmp_path: Path) -> None:
    study, _ = deidentified
    [path] = export(study, "qdpx", tmp_path / "out", timestamps="none").files
    [text] = read_project(path)[1].values()
    assert "\nInterviewer: Thanks for coming in." in text
    assert "[00:" not in text
