"""The model loader's grouped encoder (issue 12): eight windows encoded two at a time give what
one batch of eight gives, with a quarter of the encoder's memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fieldkit.transcribe import loading

pytestmark = pytest.mark.model


def test_grouped_encoding_equals_one_batch(model_dir: Path, whisper_model: object) -> None:
    from faster_whisper import WhisperModel

    assert isinstance(whisper_model, loading._model_class())
    features = np.random.default_rng(0).normal(0, 1, (5, 80, 3000)).astype(np.float32)
    grouped = np.asarray(whisper_model.encode(features))  # type: ignore[attr-defined]
    whole = np.asarray(WhisperModel.encode(whisper_model, features))  # type: ignore[arg-type]
    assert grouped.shape == whole.shape == (5, 1500, 384)
    assert np.allclose(grouped, whole, atol=1e-2, rtol=1e-3)
