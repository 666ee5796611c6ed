"""printing/ is Qt-free (architecture.md): importing all of it loads no PySide6."""

from __future__ import annotations

import subprocess
import sys


def test_printing_imports_no_qt() -> None:
    code = (
        "import sys\n"
        "import havre_desktop.printing.handouts, havre_desktop.printing.letters\n"
        "import havre_desktop.printing.record, havre_desktop.printing.report\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
