"""Where a profile lives on disk.

A profile is one folder: the encrypted database, the key slots (wrapped keys,
never a plain key), the log files. `--profile DIR` or `HAVRE_PROFILE` choose it;
otherwise the per-user data folder of the platform.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROFILE_ENV = "HAVRE_PROFILE"


def default_profile_dir() -> Path:
    """The platform's per-user data folder (e.g. ~/.local/share/havre-desktop/profile)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("havre-desktop", "Ville du Havre")) / "profile"


def resolve_profile_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """Command-line value first, then the environment variable, then the default."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env_value = os.environ.get(PROFILE_ENV)
    if env_value:
        return Path(env_value).expanduser().resolve()
    return default_profile_dir()


@dataclass(frozen=True)
class ProfilePaths:
    """Names of the files inside one profile folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "havre.db"

    @property
    def keyslots(self) -> Path:
        return self.root / "keyslots.json"

    @property
    def profile_info(self) -> Path:
        return self.root / "profile.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def set_aside(self) -> Path:
        return self.root / "mis-de-cote"

    def database_companions(self) -> list[Path]:
        """The database and the SQLite files that belong with it."""
        db = self.database
        return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
