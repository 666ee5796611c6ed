"""Structured logs: one JSON object per line on stderr, ids and counts only, never personal data.

Nothing in the server logs a name, a phone number, a note or a request body; requests are logged
by route template (``/api/v1/admin/persons/{person_id}/erase``), never by their query string.

An exception is logged with its type and its traceback (frames and source lines, for every
exception of the chain), always: a 500 must be traceable in production. Exception *messages*
may quote data (a value that failed to parse) and are added only with
``HAVRE_SERVER_LOG_TRACEBACKS=1`` (development).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            data["error"] = type(error).__name__
            if os.environ.get("HAVRE_SERVER_LOG_TRACEBACKS") == "1":  # development only
                data["traceback"] = "".join(traceback.format_exception(error))
            else:
                data["traceback"] = frames(error)
        return json.dumps(data, ensure_ascii=False, default=str)


def frames(error: BaseException) -> str:
    """The traceback of ``error`` and of the exceptions that led to it, without their messages."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        suppressed = current.__suppress_context__
        current = current.__cause__ or (None if suppressed else current.__context__)
    parts: list[str] = []
    for item in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(f"{type(item).__module__}.{type(item).__qualname__}\n")
    return "".join(parts)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's access log prints full paths with query strings: replaced by our own.
    logging.getLogger("uvicorn.access").disabled = True
