#!/usr/bin/env bash
# Installs everything the tests need, checks lint, format and types, runs the whole suite.
# Long runs: HAVRE_LONG_RUN=1 scripts/test.sh (200 crash kills, more hypothesis examples).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
havre_install_system_packages test
havre_venv dev
cd "$HAVRE_ROOT"

echo "== ruff (lint) ==" && "$HAVRE_VENV/bin/ruff" check .
echo "== ruff (format) ==" && "$HAVRE_VENV/bin/ruff" format --check .
echo "== mypy ==" && "$HAVRE_VENV/bin/mypy"

echo "== pytest =="
export QT_QPA_PLATFORM=offscreen
exec "$HAVRE_VENV/bin/pytest" "$@"
