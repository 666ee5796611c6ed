#!/usr/bin/env bash
# Shared by run-demo.sh and test.sh: system packages (when root and missing) and the venv.
# Usage: source scripts/bootstrap.sh; havre_install_system_packages [runtime|test|installer]
set -euo pipefail

HAVRE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HAVRE_VENV="${HAVRE_VENV:-$HAVRE_ROOT/.venv}"
HAVRE_PYTHON="${HAVRE_PYTHON:-python3}"

# Debian packages: Qt's runtime libraries; for the tests also the Secret Service
# (gnome-keyring, secret-tool, a D-Bus session) and poppler for PDF checks.
RUNTIME_PACKAGES=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
                  libxcb-cursor0 fonts-dejavu-core)
TEST_PACKAGES=(dbus gnome-keyring libsecret-tools xvfb poppler-utils postgresql)
# Building the bundle: PyInstaller reads and strips binaries with binutils; the X11
# platform plugin's last two libraries go into the bundle when they are on the build machine.
INSTALLER_PACKAGES=(binutils libxcb-icccm4 libxcb-keysyms1)

_havre_missing_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    echo "${missing[@]:-}"
}

havre_install_system_packages() {
    local wanted=("${RUNTIME_PACKAGES[@]}")
    if [[ "${1:-runtime}" == "test" ]]; then
        wanted+=("${TEST_PACKAGES[@]}")
    elif [[ "${1:-runtime}" == "installer" ]]; then
        wanted+=("${INSTALLER_PACKAGES[@]}")
    fi
    command -v dpkg-query >/dev/null || return 0   # not a Debian system: nothing to do here
    local missing
    missing="$(_havre_missing_packages "${wanted[@]}")"
    [[ -z "${missing// /}" ]] && return 0
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "Paquets système manquants : $missing" >&2
        echo "Installez-les avec : sudo apt-get install -y $missing" >&2
        return 1
    fi
    echo "Installation des paquets système : $missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

havre_venv() {
    local extras="${1:-}"
    if [[ ! -x "$HAVRE_VENV/bin/python" ]]; then
        "$HAVRE_PYTHON" -m venv "$HAVRE_VENV"
    fi
    local stamp="$HAVRE_VENV/.installed-$extras"
    local newer=0 project
    for project in pyproject.toml common/pyproject.toml server/pyproject.toml; do
        [[ "$HAVRE_ROOT/$project" -nt "$stamp" ]] && newer=1
    done
    if [[ ! -f "$stamp" || "$newer" == 1 ]]; then
        "$HAVRE_VENV/bin/python" -m pip install -q --upgrade pip
        # Three distributions (README, "Layout"): the shared contract, the server (the tests
        # run a real one) and the desktop, installed together so that each finds the others.
        local wanted=(-e "$HAVRE_ROOT/common")
        if [[ -n "$extras" ]]; then
            wanted+=(-e "$HAVRE_ROOT/server" -e "$HAVRE_ROOT[$extras]")
        else
            wanted+=(-e "$HAVRE_ROOT")
        fi
        "$HAVRE_VENV/bin/python" -m pip install -q "${wanted[@]}"
        touch "$stamp"
    fi
}
