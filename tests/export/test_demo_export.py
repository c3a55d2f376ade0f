"""The demo study end to end: its identifier list, de-identifying its approved transcript (the
committed machine transcript of the demo interview) and exporting it."""

from __future__ import annotations

from pathlib import Path

from fieldkit.services.deid import add_demo_identifiers, analysis_interviews, list_identifiers
from fieldkit.services.demo import build_demo_study
from tests.conftest import CliRun

from .conftest import all_text, docx_text


def test_demo_deidentify_and_export(cli: CliRun, tmp_path: Path) -> None:
    demo_study = build_demo_study(tmp_path / "demo", transcripts=True)
    add_demo_identifiers(demo_study)
    add_demo_identifiers(demo_study)  # twice: nothing doubled
    assert sorted(r.text for r in list_identifiers(demo_study)) == ["Diane", "Riverton"]
    [ready] = analysis_interviews(demo_study)
    pid = ready.participant_id
    study_args = ("--study", str(demo_study.root))
    result = cli("deidentify", pid, "--accept-all", *study_args)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "exports"
    for fmt in ("nvivo-docx", "qdpx", "nvivo-txt"):
        assert cli("export", "--format", fmt, out / fmt, *study_args).exit_code == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == 3
    for path in files:
        text = all_text(path) + (docx_text(path) if path.suffix == ".docx" else "")
        assert "riverton" not in text.lower() and "diane" not in text.lower()
        assert "[PLACE 1]" in text
    import docx

    [word_file] = (out / "nvivo-docx").iterdir()
    headings = [
        p.text for p in docx.Document(str(word_file)).paragraphs if p.style.name == "Heading 1"
    ]
    titles = {t.id: t.title for t in demo_study.schedule().topics}
    # the demo's markers: two questions of one topic, then two more topics
    assert headings == [titles["before-and-here"], titles["expectations"], titles["choosing"]]
