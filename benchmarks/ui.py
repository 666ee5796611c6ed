"""The desktop application on a large profile: first screen, search as you type, the journal.

Targets (issue 3), on a profile of 100,000 persons and 1,000,000 visits:

* from process start until the *Ma journée* rows are on screen takes <= 4x the time the
  same interpreter takes to show a bare PySide6 window (a QWidget with a QLabel);
* typing a search prefix on the Personnes page shows results within 50 ms (median), from
  the last key to the rows painted, any pause the page makes before searching included;
* scrolling the unfiltered visits journal down to its last (1,000,000th) row -- which the
  benchmark asserts it reached -- keeps the resident memory (RSS) <= 300 MB.

How each is measured:

* startup: ``python -m havre_desktop --profile DIR`` exactly as an agent starts it, on a
  real encrypted profile whose key the app takes from the keyring. Under
  ``HAVRE_EXIT_WHEN_READY=1`` the app prints a line once Ma journée's four lists are
  filled and painted (havre_desktop/app.py), then quits; the bare window prints the same
  after its first paint. Both print once a Paint event reached their content (Ma journée's
  first list after its rows arrived; the bare window's label) and that paint of the window
  finished -- before, both called repaint() on a window not yet exposed, which painted
  nothing, so the bare window was timed to "shown", not "painted". Both run offscreen
  (QT_QPA_PLATFORM=offscreen), and the time runs from just before the process is launched
  to the line read on its stdout; runs alternate (bare, app, app, bare...), median kept.
  The key is in a real Secret Service: the benchmark runs itself in a private D-Bus
  session with an unlocked gnome-keyring (`run_in_secret_service`), and the app reads the
  key from it as on an agent's computer (D-Bus round trips included). Only with
  ``--plaintext-keyring``, or without dbus-run-session/gnome-keyring-daemon, is the key in
  keyrings.alt's PlaintextKeyring, and the ratio then has no target. Both processes start
  in the repository holding this script (``python -m`` puts the current folder first on
  the path: started elsewhere, another copy of havre_desktop could be the one timed);
* search: in this process, the real MainWindow over the same profile (as
  tests/ui/conftest.py builds it); each prefix but its last letter is set in the search
  field, then the last letter is typed (a key event) and the time runs from that key until
  the first page of results is in the list and painted (the page's own delay included);
* scroll: the same window with sync attached as the application attaches it once Ma journée
  is shown (its own connection; httpx, pydantic and the protocol's models in the process),
  Visites page, period "Toute la période": once the journal
  holds all the visits, the view jumps through the whole range as a dragged scroll bar
  does, then goes down with Page Down and Ctrl+End; after each move it waits for the
  visible rows. The peak resident memory of this process (VmHWM), from its start to the
  last row shown, is what the target judges.

Also reported: how long building the profile takes, how long the journal takes to hold
every visit, what ``import keyring`` and the keyring's search for a backend cost (without
target; the start skips both when the key is in the Secret Service); and, with a target,
whether PySide6's ``Signal.emit()`` loses a reference to
True on each call -- PySide6 6.12.0 does, and on Python 3.11 the application then aborts
("bool_dealloc") after a few thousand signals, which scrolling the journal emits in
seconds. When it does, the benchmark pins True so that the other measures can finish.

Usage: ``python benchmarks/ui.py [--quick] [--check] [--profile DIR] [--startup-only]``
(see benchmarks/common.py; ``--startup-only`` times the start and nothing else). The
profile is built once in a temporary folder (in a separate process, so building it does
not count in the memory measured) and removed afterwards; ``--profile DIR`` keeps it in
DIR and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make `benchmarks` and `havre_desktop` importable from the repo root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import emit, finish, ms, parser, progress
from havre_desktop.app import READY_LINE
from havre_desktop.core.keys import INSECURE_KEYRING_ENV

REPO = Path(__file__).resolve().parent.parent
PLAINTEXT_KEYRING = "keyrings.alt.file.PlaintextKeyring"
SECRET_SERVICE_ENV = "HAVRE_BENCH_IN_SECRET_SERVICE"
# A (benchmark-only) password that creates and unlocks a fresh 'login' keyring in $HOME.
KEYRING_SESSION = (
    "set -e\n"
    "printf 'mot-de-passe-du-banc' | "
    "gnome-keyring-daemon --unlock --replace --components=secrets >/dev/null\n"
    'exec "$@"\n'
)
QUERY_SEED = 3003
START_TIMEOUT_S = 120


@dataclass(frozen=True)
class Sizes:
    persons: int
    visits: int
    organisations: int
    startup_runs: int  # timed runs of each process (after one untimed run of each)
    prefixes: int  # search prefixes timed
    jumps: int  # scroll-bar positions visited through the journal
    page_downs: int  # Page Down presses before Ctrl+End


FULL = Sizes(
    persons=100_000,
    visits=1_000_000,
    organisations=200,
    startup_runs=7,
    prefixes=30,
    jumps=400,
    page_downs=60,
)
QUICK = Sizes(
    persons=10_000,
    visits=100_000,
    organisations=40,
    startup_runs=5,
    prefixes=10,
    jumps=60,
    page_downs=20,
)


def in_secret_service() -> bool:
    """Whether this process runs in the benchmark's own D-Bus session with gnome-keyring."""
    return os.environ.get(SECRET_SERVICE_ENV) == "1"


def child_env(folder: Path) -> dict[str, str]:
    """The environment of every process of the benchmark (and of this one)."""
    env = dict(os.environ)
    env.update(
        {
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        }
    )
    if in_secret_service():
        # The agent's path: keyring looks through its backends and finds the Secret
        # Service (gnome-keyring, over D-Bus) that holds the key.
        env.pop("PYTHON_KEYRING_BACKEND", None)
        env.pop(INSECURE_KEYRING_ENV, None)
    else:
        env.update(
            {
                "PYTHON_KEYRING_BACKEND": PLAINTEXT_KEYRING,
                INSECURE_KEYRING_ENV: "1",  # the app refuses a plaintext keyring otherwise
                # PlaintextKeyring keeps its file under $XDG_DATA_HOME: the benchmark's own.
                "XDG_DATA_HOME": str(folder / "xdg"),
            }
        )
    env.pop("HAVRE_EXIT_AFTER_START", None)
    env.pop("HAVRE_PROFILE", None)
    # An installed application starts from compiled bytecode: let the untimed first run
    # write it (CI shells often set this variable, which recompiles every module each run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# -- the profile --------------------------------------------------------------------------


def build_profile(folder: Path, sizes: Sizes) -> dict[str, Any]:
    """A real profile (key in the keyring, owner agent) filled by seed_demo. Runs in a child."""
    from havre_desktop.core import applock
    from havre_desktop.core.demo import DemoSize, seed_demo
    from havre_desktop.core.keys import usable_keyring
    from havre_desktop.core.profile import ProfileManager
    from havre_desktop.core.workspace import Workspace

    start = time.perf_counter()
    # The backend the app chooses on a first run (and remembers in profile.json).
    created = ProfileManager(folder / "profile", usable_keyring()).create()
    ws = Workspace(created.store)
    counts = seed_demo(
        ws, DemoSize(persons=sizes.persons, organisations=sizes.organisations, visits=sizes.visits)
    )
    applock.set_pin(ws, "482916")  # as after the first run: the start asks for nothing
    created.store.close()
    return {"seconds": time.perf_counter() - start, "counts": counts}


def ensure_profile(folder: Path, sizes: Sizes, quick: bool) -> None:
    marker = folder / "built.json"
    wanted = {"persons": sizes.persons, "visits": sizes.visits}
    if marker.exists():
        done = json.loads(marker.read_text("utf-8"))
        if done.get("sizes") == wanted:
            progress(f"reusing the profile built in {folder} (no build time reported)")
            return
        raise SystemExit(f"{folder} holds a profile of another size ({done.get('sizes')})")
    if (folder / "profile").exists():
        raise SystemExit(f"{folder}/profile exists but was not fully built: remove it")
    progress(f"building a profile of {sizes.persons} persons, {sizes.visits} visits in {folder}")
    command = [sys.executable, __file__, "--build-profile", str(folder)]
    if quick:
        command.append("--quick")
    output = subprocess.run(
        command, env=child_env(folder), check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    built = json.loads(output.strip().splitlines()[-1])
    size_mb = sum(p.stat().st_size for p in (folder / "profile").iterdir()) / 1e6
    emit(
        "ui.build_s",
        built["seconds"],
        "s",
        notes=f"{built['counts']['persons']} persons, {built['counts']['visits']} visits, "
        f"{size_mb:.0f} MB (seed_demo, in a separate process)",
        digits=1,
    )
    marker.write_text(json.dumps({"sizes": wanted}), "utf-8")


# -- startup ------------------------------------------------------------------------------

BARE_WINDOW = f"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

app = QApplication(sys.argv[:1])
window = QWidget()
label = QLabel("Havre Ensemble")
QVBoxLayout(window).addWidget(label)
window.resize(1200, 760)


def ready():
    print({READY_LINE!r}, flush=True)
    app.quit()


class PaintWatch(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            label.removeEventFilter(self)
            QTimer.singleShot(0, ready)  # once this paint of the window is done
        return False


watch = PaintWatch()
label.installEventFilter(watch)
window.show()
sys.exit(app.exec())
"""


def time_to_ready(command: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds from just before launching `command` to its READY_LINE on stdout."""
    with log.open("w") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=stderr, cwd=REPO
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # blocks until the child prints (or exits)
            elapsed = time.perf_counter() - start
            if line.decode(errors="replace").strip() != READY_LINE:
                process.kill()
                raise RuntimeError(
                    f"{command[1:]} printed {line!r} instead of the ready line; "
                    f"stderr: {log.read_text()[-2000:]}"
                )
            process.stdout.read()
            code = process.wait(timeout=START_TIMEOUT_S)
        except BaseException:
            process.kill()
            process.wait()
            raise
    if code != 0:
        raise RuntimeError(f"{command[1:]} exited with {code}: {log.read_text()[-2000:]}")
    return elapsed


def bench_startup(folder: Path, sizes: Sizes) -> None:
    env = child_env(folder)
    app_env = {**env, "HAVRE_EXIT_WHEN_READY": "1"}
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "bare": ([sys.executable, "-c", BARE_WINDOW], env),
        "app": (
            [sys.executable, "-m", "havre_desktop", "--profile", str(folder / "profile")],
            app_env,
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for round_ in range(sizes.startup_runs + 1):  # round 0 warms the page cache up
        for name in names if round_ % 2 == 0 else reversed(names):
            command, environment = commands[name]
            seconds = time_to_ready(command, environment, folder / f"{name}.stderr")
            progress(f"  run {round_} {name}: {seconds * 1000:.0f} ms")
            if round_:
                samples[name].append(seconds)
    bare, app = statistics.median(samples["bare"]), statistics.median(samples["app"])
    runs = f"median of {sizes.startup_runs} runs, alternated"
    emit(
        "ui.startup_bare_window_s",
        bare,
        "s",
        notes=f"{runs}; PySide6 QWidget + QLabel, offscreen; samples "
        + ", ".join(f"{s:.3f}" for s in samples["bare"]),
    )
    emit(
        "ui.startup_app_s",
        app,
        "s",
        notes=f"{runs}; python -m havre_desktop to Ma journée painted, key from "
        f"{keyring_used()}; samples " + ", ".join(f"{s:.3f}" for s in samples["app"]),
    )
    ratios = [a / b for a, b in zip(samples["app"], samples["bare"], strict=True)]
    emit(
        "ui.startup_ratio",
        statistics.median(ratios),
        "x",
        "<= 2.5" if in_secret_service() else None,
        notes="median of the ratios app / bare window of each round (the two starts of a "
        "round run one after the other, so a busy moment of the machine weighs on both); "
        "ratios "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + ("" if in_secret_service() else "; no target: the key was not in the Secret Service"),
    )


def keyring_used() -> str:
    if in_secret_service():
        return "the Secret Service (gnome-keyring over D-Bus), found as on an agent's computer"
    return f"{PLAINTEXT_KEYRING} (benchmark only, no Secret Service here)"


KEYRING_PROBE = """
import sys, time
start = time.perf_counter()
import keyring
imported = time.perf_counter()
from havre_desktop.core.keys import usable_keyring
from havre_desktop.core.profile import ProfileManager
remembered = ProfileManager(__import__("pathlib").Path(sys.argv[1]), None).remembered_backend
chosen = time.perf_counter()
found = usable_keyring(remembered)
print(imported - start, time.perf_counter() - chosen, type(found).__module__)
"""


def bench_keyring(folder: Path, sizes: Sizes) -> None:
    """What `import keyring` and choosing a backend cost, as the app does at start (no target).

    Under the Secret Service, keyring looks through its installed backends as on an agent's
    computer; otherwise it loads the one PYTHON_KEYRING_BACKEND names.
    """
    env = child_env(folder)
    samples: list[tuple[float, float]] = []
    found_backend = ""
    for _ in range(sizes.startup_runs):
        out = subprocess.run(
            [sys.executable, "-c", KEYRING_PROBE, str(folder / "profile")],
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ).stdout.split()
        samples.append((float(out[0]), float(out[1])))
        found_backend = out[2]
    emit(
        "ui.keyring_import_ms",
        statistics.median(i for i, _ in samples) * 1000,
        "ms",
        notes="import keyring: no longer part of the startup above when the key is in the "
        "Secret Service (read with jeepney, core/secret_service.py); still when keyring "
        "must take over (a locked keyring, another backend)",
    )
    emit(
        "ui.keyring_backend_ms",
        statistics.median(g for _, g in samples) * 1000,
        "ms",
        notes=f"usable_keyring() with the backend profile.json remembers, as the app starts: "
        f"{found_backend}",
    )


# -- in this process: the main window over the big profile ---------------------------------


def signal_emit_leak() -> float:
    """References to True that one `Signal.emit()` drops: 0 unless PySide6 has the bug.

    PySide6 6.12.0 drops one per emit; on Python 3.11, where True is an ordinary object,
    the process aborts ("bool_dealloc: deallocating True or False") once a few thousand
    signals were emitted -- scrolling the journal does that in seconds.
    """
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        fired = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.fired.emit()
    return (before - sys.getrefcount(True)) / 10


def check_signal_emit() -> None:
    import ctypes

    import PySide6

    leak = signal_emit_leak()
    emit(
        "ui.qt_signal_emit_leak",
        leak,
        "refs/emit",
        "<= 0",
        notes=f"PySide6 {PySide6.__version__}: references to True lost per Signal.emit()"
        + (
            "; the application aborts after a few thousand emits. This run pins True so "
            "that the measures below can finish"
            if leak > 0
            else ""
        ),
    )
    if leak > 0 and sys.version_info < (3, 12):  # from 3.12 on, True is immortal
        ctypes.c_ssize_t.from_address(id(True)).value += 1 << 40  # ob_refcnt comes first


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory of this process from /proc (VmHWM: its peak so far)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


class Session:
    """The application as `havre_desktop.app._run_window` builds it, without its event loop."""

    def __init__(self, folder: Path) -> None:
        from PySide6.QtWidgets import QApplication

        from havre_desktop.core.keys import usable_keyring
        from havre_desktop.core.profile import KeyPrefetch, ProfileManager
        from havre_desktop.core.workspace import Workspace
        from havre_desktop.ui.context import load_context_data
        from havre_desktop.ui.main_window import MainWindow, build_context
        from havre_desktop.ui.worker import DatabaseService

        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        manager = ProfileManager(folder / "profile", None)
        # As havre_desktop.app opens a profile: the key read ahead (in the Secret Service,
        # over D-Bus without importing keyring), keyring only when that cannot be done.
        fetched = KeyPrefetch.start(folder / "profile").result()
        if fetched is not None:
            manager.use_prefetched(fetched)
        else:
            manager.keyring_backend = usable_keyring(manager.remembered_backend)
        store = manager.unlock()
        self.ws = Workspace(store)
        data = load_context_data(self.ws)
        self.database = DatabaseService(self.ws)
        self.window = MainWindow(build_context(self.database, data), str(folder / "profile"))
        self.window.resize(1280, 800)
        self.window.show()
        self.settle(120)
        # As the application does once Ma journée is shown: sync attached, its own
        # connection, its code (httpx, pydantic, the protocol's models) in the process.
        from havre_desktop.ui.sync_controller import start_sync

        self.sync = start_sync(
            self.window, self.ws, store.open_another(), manager.profile_id,
            manager.keyring_backend,
        )  # fmt: skip
        self.settle(120)

    def wait(self, done: Callable[[], bool], timeout_s: float, what: str) -> None:
        from PySide6.QtCore import QEventLoop

        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if not done():
                time.sleep(0.001)

    def settle(self, timeout_s: float = 60) -> None:
        """Until the worker has answered everything asked so far."""
        self.wait(lambda: self.database.pending == 0, timeout_s, "the database worker")
        self.app.processEvents()

    def ask(self, job: Callable[[Any], Any]) -> Any:
        """Run `job(ws)` on the worker (the thread that owns the connection)."""
        result: list[Any] = []
        self.database.submit(job, result.append)
        self.wait(lambda: bool(result), 600, "a query")
        return result[0]

    def close(self) -> None:
        self.settle()
        self.sync.shutdown()
        self.database.shutdown()
        self.window.close()
        self.window.deleteLater()
        self.app.processEvents()


# -- search -------------------------------------------------------------------------------


def pick_prefixes(rows: list[tuple[str, str, str, str]], count: int) -> list[str]:
    """What agents type, drawn deterministically from the persons of the profile.

    `rows` are (family_name, given_names, address_line, phone_1). Mostly the first 3 to 5
    letters of a family name (common names come up as often as in the data), some given
    name and family name abbreviated, phone beginnings and two words of a street.
    """
    rng = random.Random(QUERY_SEED)

    def words(text: str) -> list[str]:
        return [w.lower() for w in re.findall(r"\w+", text or "")]

    def family() -> str:
        return words(rng.choice(rows)[0])[0][: rng.choice((3, 4, 4, 5))]

    def given_and_family() -> str:  # "jea lefe"
        row = rng.choice(rows)
        return f"{words(row[1])[0][:3]} {words(row[0])[0][:4]}"

    def phone() -> str:  # typed without spaces, 6 or 8 digits so far
        return re.sub(r"\D", "", rng.choice(rows)[3])[: rng.choice((6, 8))]

    def street() -> str:  # "14 rue de la Mare-Rouge, Bât. A" -> "mare rouge"
        address = words(rng.choice(rows)[2].split(",")[0])
        return " ".join([w for w in address if len(w) >= 3 and not w.isdigit()][-2:])

    makers: list[Callable[[], str]] = [family] * 5 + [given_and_family, phone, street]
    prefixes: list[str] = []
    while len(prefixes) < count:
        prefix = rng.choice(makers)()
        if len(prefix) >= 3 and prefix not in prefixes:
            prefixes.append(prefix)
    return prefixes


def bench_search(session: Session, sizes: Sizes) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    window = session.window
    page = window.persons_page
    window.go_to(page)
    session.settle()
    # Drawn from every 50th person: reading all 100,000 here would put some 25 MB of the
    # benchmark's own tuples into the peak memory that the scroll measure judges.
    rows = session.ask(
        lambda ws: ws.store.conn.execute(
            "SELECT family_name, given_names, address_line, phone_1 FROM contacts "
            "WHERE kind = 'person' AND seq % 50 = 0 ORDER BY seq"
        ).fetchall()
    )
    prefixes = pick_prefixes(rows, sizes.prefixes + 1)
    del rows

    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    page.model.loaded.connect(loop.quit)

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    def search(prefix: str) -> tuple[int, int]:
        page.search_field.setText(prefix[:-1])
        session.wait(
            lambda: page.model.search_text == prefix[:-1] and session.database.pending == 0,
            60,
            "the search of all but the last letter",
        )
        session.app.processEvents()
        start = time.perf_counter_ns()
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            key = QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, prefix[-1])
            QApplication.sendEvent(page.search_field, key)
        timer.start(10_000)
        while timer.isActive() and not (
            page.model.search_text == prefix and page.model.rowCount() > 0
        ):
            loop.exec()  # until a page of this search's results is in the list
        page.table.viewport().repaint()  # the results are painted, not only in the model
        elapsed = time.perf_counter_ns() - start
        if not timer.isActive():
            raise TimeoutError(f"no results for {prefix!r} after 10 s")
        timer.stop()
        return elapsed, page.model.rowCount()

    search(prefixes[0])  # warm-up: first use of the search path
    samples: list[int] = []
    for prefix in prefixes[1:]:
        elapsed, found = search(prefix)
        assert found > 0, (
            f"{prefix!r} found nobody (field {page.search_field.text()!r}, "
            f"model {page.model.search_text!r})"
        )
        assert page.model.search_text == prefix
        samples.append(elapsed)
        emit(f"ui.search_ms[{prefix}]", ms(elapsed), "ms", notes=f"{found} rows shown")
    page.model.loaded.disconnect(loop.quit)
    emit(
        "ui.search_median_ms",
        ms(statistics.median(samples)),
        "ms",
        "<= 50",
        notes=f"{len(samples)} prefixes; from the last key typed to the first page of "
        f"results painted (max {ms(max(samples)):.1f} ms)",
    )


# -- scroll -------------------------------------------------------------------------------


def bench_scroll(session: Session, sizes: Sizes) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    window = session.window
    page = window.visits_page
    assert page is not None, "the owner agent of the profile must see visits"
    window.go_to(page)
    session.settle()
    model, table = page.model, page.table
    expected = session.ask(
        lambda ws: ws.store.conn.execute(
            "SELECT count(*), (SELECT rowid FROM visits WHERE deleted = 0 "
            "ORDER BY occurred_at, rowid LIMIT 1) FROM visits WHERE deleted = 0"
        ).fetchone()
    )
    total, oldest_rowid = int(expected[0]), int(expected[1])
    rss_before = rss_mb()

    start = time.perf_counter()
    page.period.setCurrentIndex(page.period.findData(""))  # "Toute la période"
    session.wait(lambda: model.rowCount() == total, 600, f"{total} rows in the journal")
    session.settle()
    ids_s = time.perf_counter() - start
    rss_ids = rss_mb()
    emit(
        "ui.journal_all_rows_s",
        ids_s,
        "s",
        notes=f"{total} visits: from choosing 'Toute la période' to the journal holding them all",
        digits=2,
    )

    viewport = table.viewport()

    def visible_rows() -> tuple[int, int]:
        first = table.rowAt(0)
        last = table.rowAt(viewport.height() - 1)
        return first, (model.rowCount() - 1 if last < 0 else last)

    peak_seen = 0.0

    def show_and_wait() -> None:
        nonlocal peak_seen
        viewport.repaint()  # paints now: asks the model for the visible rows
        first, last = visible_rows()
        session.wait(
            lambda: model.is_loaded(first) and model.is_loaded(last), 60, f"rows {first}-{last}"
        )
        viewport.repaint()
        peak_seen = max(peak_seen, rss_mb())

    start = time.perf_counter()
    bar = table.verticalScrollBar()
    for step in range(sizes.jumps + 1):  # the scroll bar dragged from top to bottom
        bar.setValue(round(bar.maximum() * step / sizes.jumps))
        show_and_wait()
    first, _ = visible_rows()
    table.setFocus()
    table.setCurrentIndex(model.index(max(0, first - sizes.page_downs * 30), 0))
    keys = [(Qt.Key.Key_PageDown, Qt.KeyboardModifier.NoModifier)] * sizes.page_downs
    keys.append((Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier))
    for key, modifier in keys:
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(table, QKeyEvent(kind, key, modifier))
        show_and_wait()
    scroll_s = time.perf_counter() - start

    last_row = model.rowCount() - 1
    shown = model.row(last_row)
    assert last_row == total - 1, (last_row, total)
    assert shown is not None and int(shown["rowid"]) == oldest_rowid, "last row not loaded"
    assert table.currentIndex().row() == last_row, "Ctrl+End did not reach the last row"
    assert table.visualRect(model.index(last_row, 0)).intersects(viewport.rect()), (
        "the last row is not in view"
    )
    peak = rss_mb("VmHWM")
    emit(
        "ui.scroll_peak_rss_mb",
        peak,
        "MB",
        "<= 150",
        notes=f"peak RSS of this process (VmHWM) from its start to row {last_row + 1:,} on "
        f"screen; RSS {rss_before:.0f} MB before the journal, {rss_ids:.0f} MB with "
        f"all its ids, {peak_seen:.0f} MB at most while scrolling ({sizes.jumps} jumps, "
        f"{sizes.page_downs} Page Down, Ctrl+End in {scroll_s:.1f} s)",
        digits=1,
    )


# -- main ---------------------------------------------------------------------------------


def run_in_secret_service(folder: Path, args: argparse.Namespace) -> int:
    """Run this benchmark again in a private D-Bus session with an unlocked gnome-keyring.

    The key then lives in the Secret Service and the app finds it the way it does on an
    agent's computer (keyring's backend search, D-Bus round trips), which the start
    target includes. $HOME is the benchmark folder's, so `--profile DIR` keeps the keyring
    with the profile whose key it holds.
    """
    home = folder / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.update(
        {
            SECRET_SERVICE_ENV: "1",
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
        }
    )
    command = [sys.executable, str(Path(__file__).resolve()), "--profile", str(folder)]
    command += ["--quick"] * args.quick + ["--check"] * args.check
    command += ["--startup-only"] * args.startup_only
    progress("running in a private D-Bus session with gnome-keyring (the Secret Service)...")
    return subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", KEYRING_SESSION, "bash", *command],
        env=env,
        check=False,
    ).returncode


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="build the profile in DIR and keep it, or reuse the one built there before",
    )
    p.add_argument(
        "--plaintext-keyring",
        action="store_true",
        help="keep the key in keyrings.alt's plaintext file instead of a private gnome-keyring "
        "(the start ratio is then reported without target)",
    )
    p.add_argument(
        "--startup-only",
        action="store_true",
        help="time the start (bare window and application) only, not search and scrolling",
    )
    p.add_argument("--build-profile", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.build_profile is not None:  # the child that builds the profile
        print(json.dumps(build_profile(args.build_profile, sizes)), flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="havre-bench-ui-") as tmp:
        folder = (args.profile or Path(tmp)).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        if not in_secret_service() and not args.plaintext_keyring:
            if shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"):
                return run_in_secret_service(folder, args)
            progress("no dbus-run-session/gnome-keyring-daemon (scripts/bootstrap.sh installs")
            progress("them): the key goes to a plaintext keyring, the start ratio has no target")
        os.environ.update(child_env(folder))  # this process opens the profile too
        ensure_profile(folder, sizes, args.quick)
        progress("timing the start of a bare window and of the application...")
        bench_startup(folder, sizes)
        if args.startup_only:
            return finish(args)
        bench_keyring(folder, sizes)
        progress("opening the main window in this process...")
        check_signal_emit()
        session = Session(folder)
        try:
            progress("timing search as you type...")
            bench_search(session, sizes)
            progress("scrolling the whole visits journal...")
            bench_scroll(session, sizes)
        finally:
            session.close()
    return finish(args)


if __name__ == "__main__":
    sys.exit(main())
