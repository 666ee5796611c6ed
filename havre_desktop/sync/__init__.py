"""Qt-free sync client: transport, outbox push, pull and apply, conflicts, remote wipe.

``SyncEngine`` is the entry point (see :mod:`havre_desktop.sync.engine`); ``protocol`` holds the
types shared with the server. Everything here logs to the ``havre.sync`` logger, never personal
data.

The names below load on first use: the server imports ``protocol`` alone (no encrypted store,
no HTTP client), and the desktop's first screen does not pay for httpx.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# httpx imports its command line (click, rich, pygments) whenever they are installed: about
# 8 MB of memory for something the desktop never runs. A None in sys.modules makes that one
# import fail, which httpx expects (its `main` then says to install httpx[cli]).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

_LAZY = {
    "SyncEngine": "havre_desktop.sync.engine",
    "SyncProgress": "havre_desktop.sync.engine",
    "SyncReport": "havre_desktop.sync.engine",
    "resolve_conflict": "havre_desktop.sync.engine",
    "SyncError": "havre_desktop.sync.errors",
    "ConflictView": "havre_desktop.sync.local",
    "RejectedEdit": "havre_desktop.sync.local",
    "SyncStatus": "havre_desktop.sync.local",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'havre_desktop.sync' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
