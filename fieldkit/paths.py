"""Every path fieldkit uses: the study folder layout and the user's config/cache folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fieldkit.errors import FieldkitError

STUDY_FILE = "study.toml"
DATABASE_FILE = "fieldkit.db"
STUDY_ENV = "FIELDKIT_STUDY"
APP_NAME = "fieldkit"


@dataclass(frozen=True)
class StudyPaths:
    """The layout of one study folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / STUDY_FILE

    @property
    def database(self) -> Path:
        return self.root / DATABASE_FILE

    @property
    def audio(self) -> Path:
        return self.root / "audio"

    @property
    def schedules(self) -> Path:
        return self.root / "schedules"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    def relative(self, path: Path) -> str:
        """A path as stored in the database: relative to the study when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path.resolve())

    def contains(self, path: Path) -> bool:
        """Whether `path` lies inside the study folder (symbolic links resolved)."""
        return path.resolve().is_relative_to(self.root.resolve())

    def inside(self, path: Path) -> Path:
        """`path` itself, if it lies inside the study folder; otherwise a FieldkitError.

        For a file whose name is built from names (participant IDs, waves): check the names with
        fieldkit.names.check_safe_name, then the path here before writing, so no name can lead
        a write outside the study."""
        try:
            path.resolve().relative_to(self.root.resolve())
        except ValueError:
            raise FieldkitError(
                f"refusing to write {path}: it is outside the study folder {self.root}",
                "names that become file names may hold only letters, digits, '-' and '_'",
            ) from None
        return path

    def absolute(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.root / path


def study_dir_from(option: str | os.PathLike[str] | None) -> Path:
    """--study DIR, else $FIELDKIT_STUDY, else the current folder."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(STUDY_ENV)
    if env:
        return Path(env).expanduser()
    return Path.cwd()


# platformdirs and importlib.resources are imported where they are used: every command imports
# this module, few need them.


def user_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def demo_root() -> Path:
    """Where `fieldkit demo` makes its throw-away studies."""
    return user_cache_dir() / "demo"


def shipped_schedule(name: str) -> Path:
    """A schedule shipped with fieldkit (the repo's schedules/, installed as package data)."""
    from importlib.resources import as_file, files

    resource = files("fieldkit.schedules").joinpath(name)
    with as_file(resource) as path:
        return Path(path)


def shipped_demo_audio(name: str) -> Path:
    """Demo audio shipped with fieldkit (the repo's audio/, installed as package data)."""
    from importlib.resources import as_file, files

    resource = files("fieldkit.demo_audio").joinpath(name)
    with as_file(resource) as path:
        return Path(path)
