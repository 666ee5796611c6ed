#!/usr/bin/env bash
# Installs the application in .venv and opens it on a throwaway demo profile (fake data).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
havre_install_system_packages runtime
havre_venv ""
exec "$HAVRE_VENV/bin/havre-desktop" --demo "$@"
