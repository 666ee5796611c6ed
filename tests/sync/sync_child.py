"""Child process of test_stateful: one sync of a desktop profile, until it ends or is killed.

Run from the project root as ``python -m tests.sync.sync_child``. The test closes its own
connection to the profile, starts this process on the same profile folder and the same test
keyring file (:class:`tests.helpers.FileKeyring`: the database key and the device's token,
as the system's keyring holds them for the application), and SIGKILLs it at a moment it
chooses from the lines below; then it opens the profile again and carries on.

Settings, one JSON object on the first line of stdin: ``root`` (profile folder), ``keyring``
(the keyring file), ``pull_limit``, ``push_batch``, ``faults`` (``[endpoint, fault, skip]``
rules for the fault-injecting transport, as in the test).

Protocol on stdout, one flushed line each:
  READY                      profile opened, the sync starts
  SEND <endpoint>            a request is about to leave
  RECV <endpoint>            its reply's headers arrived (the body is read next)
  STEP <phase> <done>        the engine's progress (before each push batch, once the previous
                             one is acknowledged; after each pulled page is applied)
  DONE <json>                the sync ended normally (its report)
  WIPED <n>                  the device was revoked: local data wiped, n edits discarded
  FAILED <error class>       the sync ended with an error
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import httpx

from havre_desktop.core.clock import Clock
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.engine import SyncEngine, SyncProgress
from havre_desktop.sync.errors import DeviceRevokedError, SyncError
from tests.helpers import FileKeyring
from tests.sync.faults import FaultPlan, FaultyTransport

MAX_SECONDS = 120.0  # a child never killed nor finished stops on its own
EXIT_TOO_LONG = 3

_lock = threading.Lock()


def say(line: str) -> None:
    with _lock:  # pull pages are fetched on a second thread
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Announcing(httpx.BaseTransport):
    """Tells the parent about each request and reply (its moments to kill)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        say(f"SEND {endpoint}")
        response = self.inner.handle_request(request)
        say(f"RECV {endpoint}")
        return response

    def close(self) -> None:
        self.inner.close()


def main() -> int:
    settings = json.loads(sys.stdin.readline())
    watchdog = threading.Timer(MAX_SECONDS, os._exit, (EXIT_TOO_LONG,))
    watchdog.daemon = True
    watchdog.start()
    keyring = FileKeyring(Path(settings["keyring"]))
    manager = ProfileManager(Path(settings["root"]), keyring)
    store = manager.unlock()
    ws = Workspace(store, clock=Clock())
    plan = FaultPlan()
    for endpoint, fault, skip in settings["faults"]:
        plan.add(endpoint, fault, skip=skip, delay_s=0.01)
    engine = SyncEngine(
        ws,
        profile_id=manager.profile_id,
        keyring=keyring,
        http_wrap=lambda inner: FaultyTransport(Announcing(inner), plan),
        device_label="poste de test",
        pull_limit=int(settings["pull_limit"]),
        push_batch=int(settings["push_batch"]),
    )

    def progress(step: SyncProgress) -> None:
        say(f"STEP {step.phase} {step.done}")

    say("READY")
    try:
        report = engine.sync(progress)
    except DeviceRevokedError as exc:
        say(f"WIPED {exc.discarded}")
    except SyncError as exc:
        say(f"FAILED {type(exc).__name__}")
    else:
        counts = {**report.counts(), "duplicates": report.duplicates, "pages": report.pages}
        counts["full_download"] = int(report.full_download)
        say("DONE " + json.dumps(counts))
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
