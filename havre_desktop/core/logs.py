"""One named logger per subsystem, a rotating log file in the profile.

Log records carry ids, counts and states, never personal data: no names,
addresses, phone numbers or notes. The tests search the log of a demo run for
every generated name.

Tracebacks (the crash reports of this application: unexpected errors go to the log) keep
the frames (file, line, function) and the type of each exception, never its message nor
the source lines (file and line are enough for a known version): a message may quote the
data being handled (a validation error quotes the value refused, a KeyError its key, a
database error the row).
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path
from types import TracebackType

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "havre-profile-file"


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def traceback_without_messages(exc: BaseException) -> str:
    """The traceback of `exc` and of its causes, with exception types but no messages."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(
            f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
            for frame in traceback.extract_tb(current.__traceback__)
        )
        kind = type(current)
        parts.append(
            f"Traceback (most recent call last):\n{frames}"
            f"{kind.__module__}.{kind.__qualname__} (message not logged)"
        )
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nThe above exception led to the following one:\n\n".join(reversed(parts))


class NoDataFormatter(logging.Formatter):
    """Formats tracebacks without the exceptions' messages (see the module's docstring)."""

    def formatException(self, ei: ExcInfo) -> str:
        value = ei[1]
        return traceback_without_messages(value) if value is not None else ""


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
    handler.setFormatter(NoDataFormatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    return path


def close_logging() -> None:
    root = logging.getLogger("havre")
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
