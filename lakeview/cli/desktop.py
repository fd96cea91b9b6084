"""`lakeview install-desktop`: put LakeView in the application menu of a Linux desktop (for this user).

Installs `applications/lakeview.desktop` and the icons (`icons/hicolor/<size>/apps/lakeview.*`) under
`$XDG_DATA_HOME` (default `~/.local/share`), with Exec pointing at this installation's `lakeview-gui`.
`--uninstall` removes exactly those files. packaging/linux/lakeview.desktop is the same entry for
distribution packages (Exec found on PATH); a test keeps the two in step.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lakeview.cli.console import EXIT_OK, UserError, say
from lakeview.resources import ICONS

APP_ID = "lakeview"
GUI_SCRIPT = "lakeview-gui"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "install-desktop", help="add LakeView to this user's application menu (Linux)",
        description="Install a desktop entry and icons for the current user, so LakeView appears in the "
                    "application menu and opens by double-click. Files go under $XDG_DATA_HOME "
                    "(default ~/.local/share).")
    parser.add_argument("--uninstall", action="store_true", help="remove what install-desktop installed")
    parser.add_argument("--shortcut", action="store_true",
                        help="also put a launcher on the desktop ($XDG_DESKTOP_DIR, else ~/Desktop)")
    parser.set_defaults(run=run_install_desktop)


def run_install_desktop(args: argparse.Namespace) -> int:
    if sys.platform in ("win32", "darwin"):
        raise UserError("install-desktop is for Linux desktops; packaging/README.md explains the Start menu "
                        "shortcut (Windows) and the app bundle (macOS)")
    shortcut = desktop_dir() / f"{APP_ID}.desktop" if args.shortcut or args.uninstall else None
    if args.uninstall:
        removed = uninstall(data_home(), shortcut)
        say(f"removed {len(removed)} file(s)" + "".join(f"\n  {p}" for p in removed))
        return EXIT_OK
    written = install(data_home(), gui_command(), shortcut)
    say("LakeView is in your application menu (it may take a moment to appear). Installed:"
        + "".join(f"\n  {p}" for p in written))
    return EXIT_OK


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def desktop_dir() -> Path:
    configured = os.environ.get("XDG_DESKTOP_DIR")
    if configured:
        return Path(configured)
    if shutil.which("xdg-user-dir"):
        found = subprocess.run(["xdg-user-dir", "DESKTOP"], capture_output=True, text=True).stdout.strip()
        if found:
            return Path(found)
    return Path.home() / "Desktop"


def gui_command() -> Path:
    """The absolute path of this installation's `lakeview-gui` (the bundle's own executable when frozen)."""
    executable = Path(sys.executable).absolute()
    suffix = ".exe" if sys.platform == "win32" else ""
    if getattr(sys, "frozen", False):
        sibling = executable.with_name(GUI_SCRIPT + suffix)
        return sibling if sibling.is_file() else executable
    beside_python = executable.parent / (GUI_SCRIPT + suffix)
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which(GUI_SCRIPT)
    if on_path:
        return Path(on_path).absolute()
    raise UserError(f"cannot find the {GUI_SCRIPT} script next to {executable} or on PATH; is LakeView "
                    "installed (pip install .)?")


def exec_argument(program: str) -> str:
    """`program` as the Exec key wants it: quoted when it holds reserved characters, then escaped as a string."""
    if any(c in _RESERVED for c in program):
        program = '"' + "".join("\\" + c if c in '"`$\\' else c for c in program) + '"'
    return _string_value(program).replace("%", "%%")


def _string_value(text: str) -> str:
    return text.replace("\\", "\\\\")


def desktop_entry(program: str) -> str:
    """The text of lakeview.desktop launching `program` (a name on PATH or an absolute path)."""
    command = exec_argument(program)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=LakeView",
        "GenericName=Photo Classifier",
        "Comment=Teach your computer to recognise the places in your own photos",
        f"TryExec={_string_value(program)}",  # a path, not a command line: no quoting
        f"Exec={command}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "StartupNotify=true",
        "Categories=Graphics;Photography;",
        "Keywords=photos;classify;sort;label;lakes;machine learning;",
        "",
    ])


def installed_paths(home: Path) -> list[Path]:
    """Every file `install` writes under `home` (XDG_DATA_HOME)."""
    icons = home / "icons" / "hicolor"
    return ([home / "applications" / f"{APP_ID}.desktop", icons / "scalable" / "apps" / f"{APP_ID}.svg"]
            + [icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png" for size in ICON_SIZES])


def install(home: Path, program: Path, shortcut: Path | None = None) -> list[Path]:
    entry_path, svg_path, *png_paths = installed_paths(home)
    for size, target in zip(ICON_SIZES, png_paths):
        _copy(ICONS / f"{APP_ID}-{size}.png", target)
    _copy(ICONS / f"{APP_ID}.svg", svg_path)
    _write(entry_path, desktop_entry(str(program)))
    written = [entry_path, svg_path, *png_paths]
    if shortcut is not None:
        _write(shortcut, desktop_entry(str(program)))
        shortcut.chmod(0o755)  # desktops launch only executable (trusted) launchers
        if shutil.which("gio"):
            subprocess.run(["gio", "set", str(shortcut), "metadata::trusted", "true"], capture_output=True)
        written.append(shortcut)
    os.utime(home / "icons" / "hicolor")  # icon caches notice the new files by this folder's time
    return written


def uninstall(home: Path, shortcut: Path | None = None) -> list[Path]:
    removed = []
    for path in installed_paths(home) + ([shortcut] if shortcut is not None else []):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _write(target: Path, text: str) -> None:
    from lakeview.core.atomic import write_atomically

    write_atomically(target, text.encode("utf-8"))
