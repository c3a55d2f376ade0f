"""Loading a local CTranslate2 Whisper folder, once per process.

Only local folders are ever loaded, with the Hugging Face hub forced offline, so nothing is
downloaded at run time. faster_whisper is imported here, inside the functions, so importing this
module costs nothing.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.errors import TranscriptionError
from fieldkit.transcribe.models import (
    BUNDLED_MODEL_NAME,
    CONVERT_HINT,
    bundled_model_dir,
    validate_model_dir,
)
from fieldkit.transcribe.options import DEFAULT_OPTIONS, EngineOptions, first_line

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


def load_model(model_dir: Path, options: EngineOptions = DEFAULT_OPTIONS) -> WhisperModel:
    """Load a local CTranslate2 Whisper folder; any failure becomes one TranscriptionError line."""
    model_dir = Path(model_dir)
    validate_model_dir(model_dir)
    # Belt and braces: a folder is never a hub name, but keep the hub offline regardless.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        from faster_whisper import WhisperModel

        return WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=options.compute_type,
            cpu_threads=options.cpu_threads,
            local_files_only=True,
        )
    except Exception as error:  # ctranslate2 raises bare RuntimeError/ValueError on bad files
        raise TranscriptionError(
            f"Model {model_dir} could not be loaded ({first_line(error)})",
            f"The model may be damaged. {CONVERT_HINT}",
        ) from None


@functools.lru_cache(maxsize=2)
def _cached(model_dir: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    options = EngineOptions(compute_type=compute_type, cpu_threads=cpu_threads)
    return load_model(Path(model_dir), options)


def cached_model(model_dir: Path, options: EngineOptions = DEFAULT_OPTIONS) -> WhisperModel:
    """Load once per process and folder (the worker and the live guard keep theirs warm)."""
    return _cached(str(Path(model_dir).resolve()), options.compute_type, options.cpu_threads)


def model_name(model_dir: Path) -> str:
    """The bundled folder (named just "model") is "tiny.en"; other folders go by their name."""
    model_dir = Path(model_dir)
    try:
        if model_dir.resolve() == bundled_model_dir().resolve():
            return BUNDLED_MODEL_NAME
    except TranscriptionError:
        pass
    return model_dir.name
