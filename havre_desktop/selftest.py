"""`havre-desktop --self-test`: check that this installation works, headless, and say so.

What an IT technician runs after installing the bundle on an agent's laptop (and what
the installer build runs on the bundle it made). In a throwaway folder it:

* creates a fresh profile: the database key in the system keyring when a secure one
  works (the key entry is removed afterwards), else under a generated passphrase;
* checks the file is encrypted, the migrations and reference data are in, and that the
  profile opens again with its key;
* writes a person and finds it with the full-text search;
* imports the sample catalogue and renders a reception handout (PDF, font embedded);
* starts Qt on the offscreen platform, opens that PDF with QtPdf (the print preview's
  engine), imports the window's modules, loads Qt's French translations and the icon.

One line per check, ✓ or ✗, in French; exit status 0 when all passed, 1 otherwise.
Nothing here touches the agent's real profile. Qt is imported by the Qt checks only.
"""

from __future__ import annotations

import importlib
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from havre_desktop import APP_NAME, __version__

OK = "✓"
FAILED = "✗"
ICON_FILE = "havre-ensemble.png"
REPORT_FILE = "havre-autotest.txt"
PERSON = {
    "family_name": "Autotest",
    "given_names": "Installation",
    "birth_date": "01/01/1940",
    "territory_id": "nord",
    "phone_1": "02 35 00 00 00",
}
HANDOUT_ACTIONS = 3
# The window and the print preview: importing them finds a module missing from a bundle.
UI_MODULES = ("havre_desktop.ui.main_window", "havre_desktop.ui.print_preview")


class CheckFailed(Exception):
    """A check found something wrong: the message says what, in French."""


@dataclass
class _Run:
    """What the checks share: the temp folder, the open profile, the handout."""

    root: Path
    out: TextIO
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    manager: Any = None
    store: Any = None
    ws: Any = None
    method: str = ""
    passphrase: str | None = None
    keyring_backend: Any = None
    pdf: bytes = b""

    def check(self, label: str, step: Callable[[_Run], str]) -> bool:
        """Run one check, print its line; False when it failed."""
        try:
            detail = step(self)
        except Exception as exc:  # every failure is reported, none is raised
            reason = str(exc) or type(exc).__name__
            if not isinstance(exc, CheckFailed):
                reason = f"{type(exc).__name__} : {reason}"
            self.failures.append(f"{label} : {reason}")
            print(f"{FAILED} {label} : {reason}", file=self.out, flush=True)
            return False
        self.passed += 1
        suffix = f" ({detail})" if detail else ""
        print(f"{OK} {label}{suffix}", file=self.out, flush=True)
        return True


# -- profile and database -------------------------------------------------------------------


def _create_profile(run: _Run) -> str:
    from havre_desktop.core.errors import KeyringUnavailableError
    from havre_desktop.core.keys import describe_backend, usable_keyring
    from havre_desktop.core.profile import ProfileManager
    from havre_desktop.core.workspace import Workspace

    try:
        run.keyring_backend = usable_keyring()
    except KeyringUnavailableError:
        run.keyring_backend = None
    run.manager = ProfileManager(run.root / "profil", run.keyring_backend)
    if run.keyring_backend is not None:
        created = run.manager.create()
        run.method = "trousseau"
        detail = f"clé dans le trousseau du système : {describe_backend(run.keyring_backend)}"
    else:
        run.passphrase = secrets.token_urlsafe(24)
        created = run.manager.create(run.passphrase)
        run.method = "mot de passe"
        detail = "pas de trousseau sécurisé : clé protégée par un mot de passe généré"
    run.store = created.store
    run.ws = Workspace(created.store)
    return detail


def _encrypted(run: _Run) -> str:
    from havre_desktop.core.store import SQLITE_HEADER

    path = run.manager.paths.database
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header == SQLITE_HEADER:
        raise CheckFailed("le fichier de la base est lisible en clair")
    version = run.store.scalar("PRAGMA cipher_version")
    if not version:
        raise CheckFailed("SQLCipher ne répond pas (PRAGMA cipher_version vide)")
    return f"SQLCipher {version}"


def _migrations(run: _Run) -> str:
    from havre_common.reference import load_reference_data
    from havre_desktop.core.store import latest_schema_version

    latest = latest_schema_version()
    current = run.store.schema_version()
    if current != latest:
        raise CheckFailed(f"schéma {current}, attendu {latest}")
    territories = int(run.store.scalar("SELECT count(*) FROM ref_territories"))
    expected = len(load_reference_data()["territories"])
    if territories != expected:
        raise CheckFailed(f"{territories} territoires en base, {expected} attendus")
    return f"schéma {current}, {territories} territoires"


def _reopen(run: _Run) -> str:
    from havre_desktop.core.workspace import Workspace

    run.store.close()
    run.store = None
    if run.passphrase is None:
        run.store = run.manager.unlock()
    else:
        run.store = run.manager.unlock_with_passphrase(run.passphrase)
    run.ws = Workspace(run.store)
    return run.method


def _person(run: _Run) -> str:
    from havre_desktop.core import agents, contacts, search

    agents.create_owner(
        run.ws,
        {
            "display_name": "Agent d'autotest",
            "role": "travailleur-social",
            "territory_ids": ["nord"],
            "work_phone": "02 35 00 00 01",
        },
    )
    person = contacts.create_person(run.ws, PERSON)
    found = search.search_persons(run.ws, "autotes instal")
    if [row["id"] for row in found] != [person["id"]]:
        raise CheckFailed(f"la recherche a trouvé {len(found)} fiche(s) au lieu d'une")
    by_phone = search.search_persons(run.ws, "0235000000")
    if [row["id"] for row in by_phone] != [person["id"]]:
        raise CheckFailed("la recherche par téléphone ne retrouve pas la fiche")
    return "par le nom et par le téléphone"


def _handout(run: _Run) -> str:
    from havre_desktop.core import catalogue
    from havre_desktop.printing import fonts, handouts

    sample = catalogue.load_sample_catalogue()
    facilities, actions = catalogue.import_catalogue(run.ws, sample, sample=True)
    chosen = [a["id"] for a in sample["actions"] if a.get("status") == "en-cours"]
    if len(chosen) < HANDOUT_ACTIONS:
        raise CheckFailed("le catalogue d'exemple n'a pas assez d'actions en cours")
    pdf = handouts.reception_handout_for(run.ws, chosen[:HANDOUT_ACTIONS])
    if not pdf.startswith(b"%PDF-"):
        raise CheckFailed("le fichier produit n'est pas un PDF")
    for name in (fonts.REGULAR, fonts.BOLD):
        if f"+{name}".encode("ascii") not in pdf:
            raise CheckFailed(f"la police {name} n'est pas dans le PDF")
    if b"/FontFile2" not in pdf:
        raise CheckFailed("la police n'est pas intégrée au PDF (pas de /FontFile2)")
    # The fallback fonts ship with the application (an installed bundle must carry them).
    for letter, script in (("\u0639", "l'arabe"), ("\u0416", "le cyrillique")):
        if fonts.covering_font(letter) is None:
            raise CheckFailed(f"la police de secours pour {script} est introuvable")
    run.pdf = pdf
    return (
        f"catalogue d'exemple : {actions} actions, {facilities} lieux ; "
        f"PDF de {len(run.pdf) / 1024:.0f} Ko, Atkinson Hyperlegible intégrée, "
        "polices de secours présentes (arabe, cyrillique)"
    )


# -- Qt ---------------------------------------------------------------------------------------


def _qt_starts(run: _Run) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication, QWidget

    # An explicit -platform argument wins over QT_QPA_PLATFORM: headless whatever is set.
    app = QApplication.instance() or QApplication([sys.argv[0], "-platform", "offscreen"])
    platform = QApplication.platformName()
    if platform != "offscreen":
        raise CheckFailed(f"plateforme {platform!r} au lieu de 'offscreen'")
    widget = QWidget()
    widget.resize(200, 100)
    widget.show()
    app.processEvents()
    visible = widget.isVisible()
    widget.close()
    widget.deleteLater()
    if not visible:
        raise CheckFailed("une fenêtre ne s'affiche pas")
    return f"PySide6 {pyside_version}, plateforme offscreen"


def _qt_pdf(run: _Run) -> str:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView  # noqa: F401  (the preview's widget)
    from PySide6.QtPrintSupport import QPrinter  # noqa: F401  (printing goes through it)

    if not run.pdf:
        raise CheckFailed("pas de PDF à ouvrir (la vérification de la fiche a échoué)")
    buffer = QBuffer()
    buffer.setData(QByteArray(run.pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready:
        raise CheckFailed(f"QtPdf n'ouvre pas la fiche ({document.error()})")
    pages = document.pageCount()
    image = document.render(0, QSize(420, 595))
    document.close()
    if image.isNull():
        raise CheckFailed("QtPdf ne dessine pas la première page")
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    white = QColor("white").rgb()
    inked = sum(
        image.pixel(x, y) != white
        for x in range(0, image.width(), 4)
        for y in range(0, image.height(), 4)
    )
    if inked == 0:
        raise CheckFailed("la première page dessinée par QtPdf est blanche")
    return f"{pages} pages ; QtPdfWidgets et QtPrintSupport présents"


def _ui_modules(run: _Run) -> str:
    for module in UI_MODULES:
        importlib.import_module(module)
    return ", ".join(m.rsplit(".", 1)[-1] for m in UI_MODULES)


def _qt_translations(run: _Run) -> str:
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator()
    french = QLocale(QLocale.Language.French, QLocale.Country.France)
    if not translator.load(french, "qtbase", "_", folder):
        raise CheckFailed(f"qtbase_fr introuvable dans {folder}")
    return "qtbase_fr"


def _icon(run: _Run) -> str:
    from PySide6.QtGui import QImage

    data = resources.files("havre_desktop.resources").joinpath(ICON_FILE).read_bytes()
    image = QImage.fromData(data)
    if image.isNull():
        raise CheckFailed(f"{ICON_FILE} ne se lit pas")
    return f"{ICON_FILE}, {image.width()} × {image.height()}"


# -- cleaning up ----------------------------------------------------------------------------


def _remove_keyring_entry(run: _Run) -> str:
    from havre_desktop.core.keys import KeyringKeyStore

    if run.keyring_backend is None or run.manager is None or not run.manager.profile_id:
        return "aucune entrée créée"
    keystore = KeyringKeyStore(run.keyring_backend, run.manager.profile_id)
    keystore.delete()
    if keystore.load() is not None:
        raise CheckFailed("la clé d'essai est toujours dans le trousseau")
    return "clé d'essai retirée"


def _remove_folder(run: _Run) -> str:
    if run.store is not None:
        run.store.close()
        run.store = None
    shutil.rmtree(run.root, ignore_errors=True)
    if run.root.exists():
        raise CheckFailed(f"{run.root} n'a pas pu être effacé")
    return ""


PROFILE_CHECKS: list[tuple[str, Callable[[_Run], str]]] = [
    ("Profil neuf créé dans un dossier temporaire", _create_profile),
    ("Base de données chiffrée", _encrypted),
    ("Migrations et données de référence appliquées", _migrations),
    ("Profil rouvert avec sa clé", _reopen),
    ("Personne enregistrée puis retrouvée par la recherche", _person),
    ("Fiche d'accueil imprimable produite", _handout),
]
QT_CHECKS: list[tuple[str, Callable[[_Run], str]]] = [
    ("Qt démarre sans écran", _qt_starts),
    ("QtPdf ouvre et dessine la fiche, comme l'aperçu avant impression", _qt_pdf),
    ("Modules de l'interface chargés", _ui_modules),
    ("Traductions françaises de Qt", _qt_translations),
    ("Icône de l'application", _icon),
]
CLEANUP_CHECKS: list[tuple[str, Callable[[_Run], str]]] = [
    ("Entrée du trousseau supprimée", _remove_keyring_entry),
    ("Dossier temporaire effacé", _remove_folder),
]


def _output() -> TextIO:
    """Standard output, able to print ✓, ✗ and accents; a file when there is none.

    Redirected to a file on Windows, stdout uses the ANSI code page, which has no ✓:
    it is switched to UTF-8. A windowed build (no console) has no stdout at all: the
    report then goes to havre-autotest.txt in the temp folder.
    """
    stream = sys.stdout
    if stream is None:
        report = Path(tempfile.gettempdir()) / REPORT_FILE
        return report.open("w", encoding="utf-8")
    try:
        (OK + FAILED + "é").encode(stream.encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8")
    return stream


def run_self_test(out: TextIO | None = None) -> int:
    """Run every check, print one line each; 0 when all passed, 1 otherwise."""
    out = out or _output()
    print(f"{APP_NAME} {__version__} — autotest de l'installation", file=out, flush=True)
    run = _Run(Path(tempfile.mkdtemp(prefix="havre-autotest-")), out)
    try:
        # Each group stops at its first failure: the next checks need what it made.
        for label, step in PROFILE_CHECKS:
            if not run.check(label, step):
                break
        for label, step in QT_CHECKS:
            if not run.check(label, step):
                break
    finally:
        for label, step in CLEANUP_CHECKS:
            run.check(label, step)
    if run.failures:
        print(f"Autotest en échec : {run.failures[0]}", file=out, flush=True)
        return 1
    print(f"Autotest réussi : {run.passed} vérifications.", file=out, flush=True)
    return 0
