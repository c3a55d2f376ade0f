"""The conversion tests share one demo study, plain and encrypted, made once per session."""

from __future__ import annotations

import shutil

import pytest

from fieldkit.crypto import keys
from fieldkit.services.conversion import encrypt_study
from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import open_study
from tests.conversion.study import Templates, content
from tests.encrypted import FAST_KDF, PASSPHRASE


@pytest.fixture(scope="session")
def conversion_templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    base = tmp_path_factory.mktemp("conversion-templates")
    plain, encrypted = base / "plain", base / "encrypted"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keys, "_calibrated", FAST_KDF)
        build_demo_study(plain, transcripts=True).close()
        shutil.copytree(plain, encrypted)
        encrypt_study(open_study(encrypted), PASSPHRASE, lambda _recovery_key: None)
    return Templates(plain, encrypted, content(plain))
