"""Storage adapter (sqlite-utils): opening, migrations and repositories. The only SQL lives here.

sqlite-utils is imported here, before any module of the package, with numpy (and pandas) hidden
from it: when they are installed it imports them only to map their number types to column types
(fieldkit creates its tables with Python types and stores Python numbers), and numpy alone would
add ~30 ms to every command that opens a study. Hiding it always, whether or not numpy is loaded
already, keeps sqlite-utils the same in every process."""

from __future__ import annotations

import sys


def _import_sqlite_utils_without_numpy() -> None:
    if "sqlite_utils" in sys.modules:
        return
    hidden = ("numpy", "pandas")
    loaded = {name: sys.modules[name] for name in hidden if name in sys.modules}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment] # importing it raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if name in loaded:
                sys.modules[name] = loaded[name]
            else:
                del sys.modules[name]


_import_sqlite_utils_without_numpy()
