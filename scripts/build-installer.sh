#!/usr/bin/env bash
# Builds the desktop bundle (PyInstaller, build_installer.spec), runs the bundled executable's
# --self-test headless, prints the bundle's size. Works on a clean checkout: it installs the
# build's system packages (when root) and the venv with the `installer` extra.
#
#   scripts/build-installer.sh                       # -> dist/havre-desktop/
#   HAVRE_BUILD_DEBUG=1 scripts/build-installer.sh   # diagnostic build (console, traces)
#
# HAVRE_DIST_DIR and HAVRE_WORK_DIR move dist/ and build/; HAVRE_BUNDLE_MAX_MB (200) is the
# size above which the build fails. Not part of scripts/test.sh:
# `HAVRE_BUILD_INSTALLER=1 .venv/bin/pytest tests/test_installer.py` runs this script and
# checks what the bundle leaves out. Windows: docs/installer.md.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
havre_install_system_packages installer
havre_venv installer
cd "$HAVRE_ROOT"

dist="${HAVRE_DIST_DIR:-$HAVRE_ROOT/dist}"
work="${HAVRE_WORK_DIR:-$HAVRE_ROOT/build}"
max_mb="${HAVRE_BUNDLE_MAX_MB:-200}"
bundle="$dist/havre-desktop"

echo "== PyInstaller : build_installer.spec =="
started=$SECONDS
"$HAVRE_VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" build_installer.spec
echo "Bundle construit en $((SECONDS - started)) s : $bundle"

echo "== Autotest du bundle (plateforme offscreen) =="
QT_QPA_PLATFORM=offscreen "$bundle/havre-desktop" --self-test

bytes=$(du -sb "$bundle" | cut -f1)
mb=$(( (bytes + 999999) / 1000000 ))
mib=$(( (bytes + 1048575) / 1048576 ))
files=$(find "$bundle" -type f | wc -l)
echo "Taille du bundle décompressé : $mb Mo ($mib Mio, $bytes octets, $files fichiers)"
if (( mb > max_mb )); then
    echo "Le bundle dépasse $max_mb Mo." >&2
    exit 1
fi
