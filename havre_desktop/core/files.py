"""Files replaced whole: after a crash or a power cut, the old content or the new, never a mix.

The new content goes to a temporary file in the same folder (a rename is atomic only within
one file system), is flushed and fsynced, renamed over the old file, and then the folder is
fsynced so that the rename itself is on disk. Without the two fsyncs, a power cut soon after
a rename can leave an empty or truncated file under the old name on common file systems.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

PRIVATE_MODE = 0o600


def replace_file(path: Path, produce: Callable[[IO[bytes]], bool], *, private: bool = True) -> bool:
    """Write `path` through `produce`; nothing changes unless it returns True.

    A private file is owner-only (0600) whatever the umask: key slots, profile data.
    Otherwise the umask decides, as for any file the user saves (a PDF).
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partiel")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(partial, flags, PRIVATE_MODE if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            if private and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), PRIVATE_MODE)  # a umask can only remove bits
            complete = produce(handle)
            if complete:
                handle.flush()
                os.fsync(handle.fileno())
        if not complete:
            partial.unlink()
            return False
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return True


def write_file(path: Path, data: bytes, *, private: bool = True) -> None:
    """Replace `path` with `data` (see `replace_file`)."""

    def produce(handle: IO[bytes]) -> bool:
        handle.write(data)
        return True

    replace_file(path, produce, private=private)


def fsync_dir(path: Path) -> None:
    """Make a rename or a creation in the folder `path` durable (skipped where a folder cannot
    be opened: Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Folders that earlier versions left in the temporary folder, with batch letters in clear
# (names and addresses); the application now keeps letters in memory.
LEFTOVER_PATTERNS = ("havre-courriers-*",)


def wipe_leftovers(temp_dir: Path) -> int:
    """Delete what earlier versions left in `temp_dir` (this user's folders only); returns
    how many folders were removed. Run at every start."""
    import shutil

    removed = 0
    uid = os.getuid() if hasattr(os, "getuid") else None
    for pattern in LEFTOVER_PATTERNS:
        for folder in Path(temp_dir).glob(pattern):
            try:
                if not folder.is_dir() or folder.is_symlink():
                    continue
                if uid is not None and folder.stat().st_uid != uid:
                    continue
            except OSError:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
    return removed
