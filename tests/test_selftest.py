"""`havre-desktop --self-test`, run as IT would run it: a child process, no screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from havre_desktop import KEYRING_SERVICE, __version__

ROOT = Path(__file__).resolve().parents[1]

PROFILE_LINES = [
    "✓ Profil neuf créé dans un dossier temporaire",
    "✓ Base de données chiffrée (SQLCipher ",
    "✓ Migrations et données de référence appliquées (schéma ",
    "✓ Profil rouvert avec sa clé",
    "✓ Personne enregistrée puis retrouvée par la recherche",
    "✓ Fiche d'accueil imprimable produite (catalogue d'exemple : ",
]
QT_LINES = [
    "✓ Qt démarre sans écran (PySide6 ",
    "✓ QtPdf ouvre et dessine la fiche, comme l'aperçu avant impression (",
    "✓ Modules de l'interface chargés (main_window, print_preview)",
    "✓ Traductions françaises de Qt (qtbase_fr)",
    "✓ Icône de l'application (havre-ensemble.png, 256 × 256)",
]
CLEANUP_LINES = ["✓ Entrée du trousseau supprimée", "✓ Dossier temporaire effacé"]


def _environment(tmp_path: Path, keyring_backend: str) -> dict[str, str]:
    """A private HOME and temp folder; no display and no platform chosen (headless on its own)."""
    env = dict(os.environ)
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "HAVRE_PROFILE"):
        env.pop(name, None)
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / ".local" / "share")
    env["TMPDIR"] = str(tmp_path / "tmp")
    env["PYTHON_KEYRING_BACKEND"] = keyring_backend
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    return env


def _self_test(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args] if args else [sys.executable, "-m", "havre_desktop", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def _has_line(lines: list[str], start: str) -> bool:
    return any(line.startswith(start) for line in lines)


def _leaves_nothing_behind(tmp_path: Path) -> None:
    assert list((tmp_path / "tmp").iterdir()) == []  # the throwaway profile is gone
    assert not (tmp_path / "home" / ".local" / "share" / "havre-desktop").exists()


def test_self_test_passes_headless_with_the_passphrase_fallback(tmp_path: Path) -> None:
    # The "fail" backend: no keyring at all, as on a machine without a secret service.
    env = _environment(tmp_path, "keyring.backends.fail.Keyring")
    result = _self_test(env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert lines[0] == f"Havre Ensemble {__version__} — autotest de l'installation"
    for start in PROFILE_LINES + QT_LINES + CLEANUP_LINES:
        assert _has_line(lines, start), f"missing {start!r} in:\n{result.stdout}"
    assert "mot de passe généré" in lines[1]
    assert "✓ Entrée du trousseau supprimée (aucune entrée créée)" in lines
    assert "Atkinson Hyperlegible intégrée" in result.stdout
    assert not any(line.startswith("✗") for line in lines)
    assert lines[-1] == "Autotest réussi : 13 vérifications."
    assert len(lines) == 15  # the title, one line per check, the verdict
    _leaves_nothing_behind(tmp_path)


def test_self_test_keeps_the_key_in_a_keyring_then_removes_it(tmp_path: Path) -> None:
    # An in-memory backend in the child: the keyring path, and the entry check after deleting.
    env = _environment(tmp_path, "tests.helpers.MemoryKeyring")
    result = _self_test(env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert "clé dans le trousseau du système : tests.helpers.MemoryKeyring" in lines[1]
    assert "✓ Profil rouvert avec sa clé (trousseau)" in lines
    assert "✓ Entrée du trousseau supprimée (clé d'essai retirée)" in lines
    assert lines[-1] == "Autotest réussi : 13 vérifications."
    _leaves_nothing_behind(tmp_path)


def test_a_failed_check_is_reported_with_a_non_zero_status(tmp_path: Path) -> None:
    env = _environment(tmp_path, "keyring.backends.fail.Keyring")
    broken = (
        "import sys\n"
        "from havre_desktop.printing import handouts\n"
        "handouts.reception_handout_for = lambda *args, **kwargs: b'pas un PDF'\n"
        "from havre_desktop.app import main\n"
        "sys.exit(main(['--self-test']))\n"
    )
    result = _self_test(env, "-c", broken)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result)
    reason = "Fiche d'accueil imprimable produite : le fichier produit n'est pas un PDF"
    assert f"✗ {reason}" in lines
    # The Qt checks still run; the one that needed the PDF says why it could not.
    assert _has_line(lines, "✓ Qt démarre sans écran")
    assert _has_line(lines, "✗ QtPdf ouvre et dessine la fiche, comme l'aperçu avant impression")
    assert "pas de PDF à ouvrir" in result.stdout
    # Cleaning up happens whatever failed.
    assert "✓ Dossier temporaire effacé" in lines
    assert lines[-1] == f"Autotest en échec : {reason}"
    _leaves_nothing_behind(tmp_path)


@pytest.mark.secret_service
def test_self_test_with_the_real_secret_service_leaves_no_key_behind(tmp_path: Path) -> None:
    env = _environment(tmp_path, "")
    env.pop("PYTHON_KEYRING_BACKEND")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    python = shlex.quote(sys.executable)
    script = (
        "set -e\n"
        "printf 'mot-de-passe-de-test' | "
        "gnome-keyring-daemon --unlock --replace --components=secrets >/dev/null\n"
        f"{python} -m havre_desktop --self-test > {tmp_path}/out.txt\n"
        f"secret-tool search --all service {KEYRING_SERVICE} > {tmp_path}/left.txt 2>&1 || true\n"
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = (tmp_path / "out.txt").read_text("utf-8")
    assert "clé dans le trousseau du système : keyring.backends.SecretService.Keyring" in out
    assert "✓ Entrée du trousseau supprimée (clé d'essai retirée)" in out
    assert out.splitlines()[-1] == "Autotest réussi : 13 vérifications."
    assert (tmp_path / "left.txt").read_text("utf-8").strip() == ""
