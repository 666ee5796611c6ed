"""Entry point `havre-desktop`: parse options, open the profile, show the window."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from havre_desktop import APP_NAME, __version__

log = logging.getLogger("havre.app")

READY_LINE = "havre-desktop: ready"  # printed under HAVRE_EXIT_WHEN_READY=1
GC_HELD_AT_MOST_MS = 2000  # the cycle collector waits for the first screen, this at most


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="havre-desktop",
        description="Havre Ensemble — l'outil hors ligne des services sociaux du Havre.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--profile",
        metavar="DOSSIER",
        help="dossier du profil (sinon $HAVRE_PROFILE, sinon le dossier de données par défaut)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="ouvre un profil jetable rempli de données fictives (effacé à la fermeture)",
    )
    parser.add_argument(
        "--demo-persons", type=int, default=1500, metavar="N", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--restaurer",
        metavar="FICHIER",
        help="restaure une sauvegarde chiffrée du profil (Paramètres > Sauvegarder le profil) "
        "dans un dossier de profil vide ; la phrase de récupération est demandée",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="vérifie l'installation sans écran (profil jetable, base, recherche, PDF, Qt) "
        "puis quitte ; code de sortie 0 si tout va bien",
    )
    return parser


def open_demo_workspace(root: Path, persons: int) -> object:
    """A throwaway encrypted profile whose key only lives in memory."""
    from havre_desktop.core.demo import DemoSize, seed_demo
    from havre_desktop.core.keys import new_database_key
    from havre_desktop.core.store import Store
    from havre_desktop.core.workspace import Workspace

    store = Store.create(root / "havre.db", new_database_key())
    ws = Workspace(store)
    seed_demo(ws, DemoSize(persons=persons, organisations=40, visits=persons * 8))
    store.set_setting("demo", "1")
    return ws


def _install_excepthook(log_path: Path) -> None:
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        # The log's formatter keeps the frames and the type, not the message (it may quote
        # personal data): see core/logs.py.
        log.error("unexpected error", exc_info=(kind, value, tb))
        try:
            from PySide6.QtWidgets import QApplication, QMessageBox

            if QApplication.instance() is not None:
                QMessageBox.critical(
                    None,
                    "Erreur inattendue",
                    "Une erreur inattendue s'est produite. Ce que vous avez enregistré est "
                    f"conservé. Le détail est dans le journal : {log_path}",
                )
        except Exception:  # the hook must never raise
            pass

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:  # headless check of an installation: never opens the real profile
        from havre_desktop.selftest import run_self_test

        return run_self_test()
    # Python's cycle collector would run dozens of times while the modules and the window
    # are created, each pass visiting every object made so far, to find next to nothing to
    # free: it waits until the first screen is painted (`_run_window`), or the end.
    gc.disable()
    try:
        return _start(args)
    finally:
        gc.enable()


def _start(args: argparse.Namespace) -> int:
    from havre_desktop.core.logs import configure_logging
    from havre_desktop.core.paths import ProfilePaths, resolve_profile_dir

    demo_root: Path | None = None
    if args.demo:
        demo_root = Path(tempfile.mkdtemp(prefix="havre-demo-"))
        root = demo_root
    else:
        root = resolve_profile_dir(args.profile)
    root.mkdir(parents=True, exist_ok=True)
    log_path = configure_logging(ProfilePaths(root).logs)
    _install_excepthook(log_path)
    log.info("starting %s %s (demo=%s)", APP_NAME, __version__, bool(args.demo))
    prefetch = None
    if demo_root is None:
        from havre_desktop.core.profile import KeyPrefetch

        prefetch = KeyPrefetch.start(root)  # the keyring answers while Qt loads
    from havre_desktop.core.files import wipe_leftovers

    wiped = wipe_leftovers(Path(tempfile.gettempdir()))
    if wiped:
        log.info("%d folders of letters left by an earlier version wiped", wiped)

    from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
    from PySide6.QtWidgets import QApplication

    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("Ville du Havre")
    app.setApplicationVersion(__version__)
    from importlib import resources

    from PySide6.QtGui import QIcon

    icon = resources.files("havre_desktop.resources").joinpath("havre-ensemble.png")
    if icon.is_file():
        QApplication.setWindowIcon(QIcon(str(icon)))  # static (app may be a QCoreApplication)
    qt_translator = QTranslator(app)
    if qt_translator.load(
        QLocale(), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    ):
        app.installTranslator(qt_translator)

    guard = None
    if demo_root is None:  # a demo profile is a new folder each time: nothing to share
        from havre_desktop.ui.instance import InstanceGuard

        guard = InstanceGuard(root)
        if not guard.acquire(listen=False):
            return _second_start(root)
        # A second start is answered once the first screen is painted (_run_window), or as
        # soon as a dialog (passphrase, recovery phrase, first lock code) waits for the
        # agent: its event loop runs this timer, stopped unfired when none opened.
        listen_soon = QTimer(app)
        listen_soon.setSingleShot(True)
        listen_soon.timeout.connect(guard.listen)
        listen_soon.start(0)
    try:
        if demo_root is not None:
            ws = open_demo_workspace(demo_root, args.demo_persons)
        else:
            from havre_desktop.core.errors import KeyringUnavailableError
            from havre_desktop.core.keys import usable_keyring
            from havre_desktop.core.profile import ProfileManager
            from havre_desktop.ui.startup import choose_pin_if_none, open_profile

            manager = ProfileManager(root, None)
            # While the key is read on its thread (D-Bus round trips to the keyring), load
            # the modules of the window: they are needed next, and loading them here turns
            # the wait into work.
            import havre_desktop.ui.main_window
            import havre_desktop.ui.worker  # noqa: F401

            fetched = prefetch.result() if prefetch is not None else None
            if fetched is not None:
                manager.use_prefetched(fetched)
            else:
                with contextlib.suppress(KeyringUnavailableError):  # else: passphrase fallback
                    manager.keyring_backend = usable_keyring(manager.remembered_backend)
            if args.restaurer:
                from havre_desktop.ui.startup import restore_profile

                opened = restore_profile(manager, Path(args.restaurer))
            else:
                opened = open_profile(manager)
            if opened is None:
                return 1
            ws = opened
            choose_pin_if_none(ws)
            listen_soon.stop()
            sync_source = (manager.profile_id, manager.keyring_backend)
            return _run_window(app, ws, str(root), sync_source, manager, guard)
        return _run_window(app, ws, "")
    finally:
        if guard is not None:  # held for the life of the window
            guard.release()
        if demo_root is not None:
            shutil.rmtree(demo_root, ignore_errors=True)


def _second_start(root: Path) -> int:
    """The profile is open in another process: bring its window forward and stop here."""
    from PySide6.QtWidgets import QMessageBox

    from havre_desktop.ui.instance import ALREADY_OPEN_LINE, ask_first_instance_to_raise

    if ask_first_instance_to_raise(root):
        log.info("profile already open in another process: its window was brought forward")
        print(ALREADY_OPEN_LINE, file=sys.stderr, flush=True)
        return 0
    log.warning("profile already open in another process, which does not answer")
    QMessageBox.warning(
        None,
        "Havre Ensemble est déjà ouvert",
        "Havre Ensemble est déjà ouvert sur ce profil, mais sa fenêtre ne répond pas. "
        "Attendez quelques instants ou fermez l'autre fenêtre, puis réessayez.",
    )
    return 1


def _run_window(
    app: object,
    ws: object,
    profile_folder: str = "",
    sync_source: tuple[str, Any] | None = None,
    profile: Any = None,
    guard: Any = None,
) -> int:
    from PySide6.QtWidgets import QApplication

    from havre_desktop.core.workspace import Workspace
    from havre_desktop.ui.context import load_context_data
    from havre_desktop.ui.main_window import MainWindow, build_context
    from havre_desktop.ui.worker import DatabaseService

    assert isinstance(app, QApplication) and isinstance(ws, Workspace)
    data = load_context_data(ws)  # before the worker owns the connection
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, data), profile_folder, profile)
    if guard is not None:  # a second start on this profile now raises this window
        guard.window = window
    window.show()
    controllers: list[Any] = []
    from PySide6.QtCore import QTimer

    def after_first_screen() -> None:
        gc.enable()  # held since the start (main)
        if guard is not None:
            guard.listen()
        # httpx, pydantic and the D-Bus connections load here, once Ma journée is shown.
        from havre_desktop.ui.lock import SessionLockMonitor

        window.lock.listen_to_session(SessionLockMonitor.for_desktop())
        if sync_source is not None:  # sync's own connection, opened here too (~4 ms)
            sync_store = ws.store.open_another()
            from havre_desktop.ui.sync_controller import start_sync

            controllers.append(start_sync(window, ws, sync_store, *sync_source))

    window.first_screen.painted.connect(lambda: QTimer.singleShot(0, after_first_screen))
    # The cycle collector runs again even if Ma journée cannot be read (no first screen).
    QTimer.singleShot(GC_HELD_AT_MOST_MS, gc.enable)
    if os.environ.get("HAVRE_EXIT_AFTER_START") == "1":  # smoke runs of the entry point
        QTimer.singleShot(0, app.quit)
    if os.environ.get("HAVRE_EXIT_WHEN_READY") == "1":  # benchmarks/ui.py times the start
        _exit_when_ready(app, window)
    elif os.environ.get("HAVRE_SAY_WHEN_READY") == "1":  # tests of a running instance
        _exit_when_ready(app, window, quit_after=False)
    code = app.exec()
    for controller in controllers:
        controller.shutdown()
    database.shutdown()
    return int(code)


def _exit_when_ready(app: object, window: object, *, quit_after: bool = True) -> None:
    """Once Ma journée's rows are painted, print READY_LINE on stdout and quit (or, with
    quit_after=False, carry on: tests of a running instance wait for that line).

    The startup benchmark reads that line: the time from launching the process to it is
    what a user waits for before the first screen is usable. "Painted" is seen, not
    assumed (`FirstScreen`: a paint event once the rows are in; a `repaint()` of a window
    the platform has not exposed yet paints nothing).
    """
    from PySide6.QtWidgets import QApplication

    from havre_desktop.ui.main_window import MainWindow

    assert isinstance(app, QApplication) and isinstance(window, MainWindow)

    def ready() -> None:
        print(READY_LINE, flush=True)
        if quit_after:
            app.quit()

    window.first_screen.painted.connect(ready)


if __name__ == "__main__":
    sys.exit(main())
