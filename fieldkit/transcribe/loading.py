"""Loading a local CTranslate2 Whisper folder, once per process.

Only local folders are ever loaded, with the Hugging Face hub forced offline, so nothing is
downloaded at run time. faster_whisper is imported here, inside the functions, so importing this
module costs nothing.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit.errors import TranscriptionError
from fieldkit.transcribe.models import (
    BUNDLED_MODEL_NAME,
    CONVERT_HINT,
    bundled_model_dir,
    validate_model_dir,
)
from fieldkit.transcribe.options import DEFAULT_OPTIONS, EngineOptions, first_line

if TYPE_CHECKING:
    import ctranslate2
    import numpy as np
    from faster_whisper import WhisperModel


def load_model(model_dir: Path, options: EngineOptions = DEFAULT_OPTIONS) -> WhisperModel:
    """Load a local CTranslate2 Whisper folder; any failure becomes one TranscriptionError line."""
    model_dir = Path(model_dir)
    validate_model_dir(model_dir)
    # Belt and braces: a folder is never a hub name, but keep the hub offline regardless.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        return _model_class()(
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


# The batched pipeline encodes eight 30 s windows at once and aligns their words at once. The
# encoder's attention over 1500 frames takes ~60 MB per window, so those two steps set the
# engine's peak memory; run in pairs they need a quarter of it, at the same speed (the matrices
# are large either way). Decoding, which does gain from the batch, still sees all eight.
ENCODE_GROUP = 2


@functools.cache
def _model_class() -> type[WhisperModel]:
    """faster-whisper's WhisperModel, encoding and aligning a batch a few windows at a time."""
    import ctranslate2
    import numpy as np
    from faster_whisper import WhisperModel

    def group(view: ctranslate2.StorageView, first: int) -> ctranslate2.StorageView:
        rows = np.asarray(view)[first : first + ENCODE_GROUP]
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(rows))

    class GroupedWhisperModel(WhisperModel):
        def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
            if features.ndim != 3 or len(features) <= ENCODE_GROUP or self.model.device != "cpu":
                return super().encode(features)
            parts = [
                np.asarray(super(GroupedWhisperModel, self).encode(features[i : i + ENCODE_GROUP]))
                for i in range(0, len(features), ENCODE_GROUP)
            ]
            return ctranslate2.StorageView.from_array(np.concatenate(parts))

        def find_alignment(
            self,
            tokenizer: Any,
            text_tokens: list[Any],
            encoder_output: ctranslate2.StorageView,
            num_frames: Any,
            median_filter_width: int = 7,
        ) -> list[Any]:
            count = len(text_tokens)
            if count <= ENCODE_GROUP or self.model.device != "cpu":
                return super().find_alignment(
                    tokenizer, text_tokens, encoder_output, num_frames, median_filter_width
                )
            found: list[Any] = []
            for first in range(0, count, ENCODE_GROUP):
                frames = (
                    num_frames[first : first + ENCODE_GROUP]
                    if isinstance(num_frames, list)
                    else num_frames
                )
                found += super().find_alignment(
                    tokenizer,
                    text_tokens[first : first + ENCODE_GROUP],
                    group(encoder_output, first),
                    frames,
                    median_filter_width,
                )
            return found

    return GroupedWhisperModel


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
