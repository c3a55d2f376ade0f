"""A QDPX export is valid against the REFI-QDA schema (Project.xsd in the shared test data).

Without the shared test data this skips with the reason, and fails under FIELDKIT_REQUIRE_ALL=1
(CI), so the schema check can never be left out silently."""

from __future__ import annotations

import zipfile
from pathlib import Path

from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow
from tests.requirements import require_shared_testdata


def test_qdpx_project_validates_against_the_refi_qda_schema(
    deidentified: tuple[Study, InterviewRow], tmp_path: Path
) -> None:
    import xmlschema

    schema = require_shared_testdata("Project.xsd") / "Project.xsd"
    study, _ = deidentified
    [path] = export(study, "qdpx", tmp_path / "out").files
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde").decode("utf-8")
    xmlschema.XMLSchema(str(schema)).validate(xml)
