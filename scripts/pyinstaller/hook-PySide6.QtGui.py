"""PyInstaller hook for PySide6.QtGui: PyInstaller's own, less two plugins (build_installer.spec).

A hook in the spec's hookspath replaces PyInstaller's hook of the same name. It collects
what PyInstaller's does, but leaves out two plugins *before* their libraries are looked
for, so that what only they need never enters the bundle:

* the GTK 3 platform theme (qgtk3): it would bring the build machine's GTK, Cairo,
  Pango, ATK… (about 19 MB on Linux). Without it Qt draws its own style and, on a
  desktop with xdg-desktop-portal, still shows the system's file dialogs;
* the virtual keyboard input context (qtvirtualkeyboardplugin): it needs Qt Quick and
  QML, which the application does not use.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

LEFT_OUT_PLUGINS = ("qgtk3", "qtvirtualkeyboardplugin")


def _left_out(source: str) -> bool:
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0].removeprefix("lib")
    return stem in LEFT_OUT_PLUGINS


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [entry for entry in binaries if not _left_out(entry[0])]
