"""What a non-editable install of the desktop holds: every package of the source tree.

The test command runs an editable install, which maps the folders as they are: a package
missing from pyproject's list went unseen (``havre_desktop.ui.pages`` was, so ``pip install .``
gave an application without its pages)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_desktop_is_in_its_distribution() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "havre_desktop").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk <= listed, sorted(on_disk - listed)
    # The folders the distribution maps from elsewhere (db/, resources/) exist.
    for package, folder in config["tool"]["setuptools"]["package-dir"].items():
        assert (ROOT / folder).is_dir(), (package, folder)
