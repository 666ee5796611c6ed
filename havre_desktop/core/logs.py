"""One named logger per subsystem, a rotating log file in the profile.

Log records carry ids, counts and states, never personal data: no names,
addresses, phone numbers or notes. The tests search the log of a demo run for
every generated name.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "havre-profile-file"


def configure_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Send the `havre.*` loggers to ``log_dir/havre.log`` (5 × 1 MiB, rotated)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "havre.log"
    root = logging.getLogger("havre")
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    return path


def close_logging() -> None:
    root = logging.getLogger("havre")
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
